/**
 * The typed configuration the rest of Portico consumes. Derived from the zod schemas so the
 * two cannot drift; the overrides are the values the loader computes (env overrides, defaults
 * that depend on other keys, absolute paths), which the file itself may leave out.
 */
import type { z } from 'zod';
import type { ConnectorConfig } from '../connectors/registry.ts';
import type { brandingSchema } from './branding.ts';
import type { graphRoleSchema, graphScopeSchema } from './invitations.ts';
import type { connectorGroupSchema, partnerSchema } from './sign-in.ts';
import type {
  apiSchema,
  appSchema,
  appTypeSchema,
  brokerFileSchema,
  grantTypeSchema,
  logLevelSchema,
  signingAlgSchema,
  tenantFileSchema,
} from './schema.ts';

export type SigningAlg = z.output<typeof signingAlgSchema>;
export type AppType = z.output<typeof appTypeSchema>;
export type GrantType = z.output<typeof grantTypeSchema>;
export type LogLevel = z.output<typeof logLevelSchema>;
/** An app role on the management API (`apps[].graphRoles`). */
export type GraphRole = z.output<typeof graphRoleSchema>;
/** A delegated scope on the management API (`apps[].graphScopes`). */
export type GraphScope = z.output<typeof graphScopeSchema>;

/** `portico.yaml` as written (after `${env:...}` substitution and zod defaults). */
export type BrokerFile = z.output<typeof brokerFileSchema>;
/** A tenant file as written (after `${env:...}` substitution and zod defaults). */
export type TenantFile = z.output<typeof tenantFileSchema>;

type StorageFile = BrokerFile['storage'];
type MailFile = BrokerFile['mail'];

export interface BrokerConfig extends Omit<BrokerFile, 'publicUrl' | 'storage' | 'mail'> {
  /** Env PUBLIC_URL, else the file, else `http://localhost:${port}`; never a trailing slash. */
  publicUrl: string;
  /** Absolute. */
  dataDir: string;
  storage: Omit<StorageFile, 'sqlite'> & {
    /** `path` is absolute. */
    sqlite: { path: string };
  };
  mail: Omit<MailFile, 'outboxDir'> & {
    /** Absolute. */
    outboxDir: string;
  };
}

export type ApiConfig = z.output<typeof apiSchema>;

/** Sign-in page branding (the tenant's, or a partner's); colours are `#rrggbb`. */
export type Branding = z.output<typeof brandingSchema>;
/** A partner organisation whose people are guests of the tenant. */
export type PartnerConfig = z.output<typeof partnerSchema>;
/** `federation` (SAML, OIDC), `social` (Google, Microsoft, Facebook), `emailOtp`. */
export type RedemptionGroup = z.output<typeof connectorGroupSchema>;

type AppFile = z.output<typeof appSchema>;

export interface AppConfig extends Omit<AppFile, 'redirectUris' | 'grantTypes' | 'corsOrigins'> {
  /** True when `secret` came from the `:-default` of `${env:NAME:-default}` (start-up warns). */
  secretIsDemoDefault: boolean;
  /** Empty for daemon apps. */
  redirectUris: string[];
  grantTypes: GrantType[];
  corsOrigins: string[];
}

export interface TenantConfig extends Omit<TenantFile, 'apps' | 'identityProviders' | 'signIn' | 'emailOneTimePasscode' | 'branding' | 'partners'> {
  /** The file as shown in messages, relative to the working directory when inside it. */
  file: string;
  apps: AppConfig[];
  /**
   * In file order; when email passcodes are on and no entry has kind `email-otp`, the implicit
   * one (id `email`, the kind's defaults) comes last.
   */
  identityProviders: ConnectorConfig[];
  signIn: { redemptionOrder: RedemptionGroup[] };
  emailOneTimePasscode: { enabled: boolean };
  branding?: Branding;
  partners: PartnerConfig[];
}

export interface PorticoConfig {
  /** Absolute path of the config folder. */
  sourceDir: string;
  /** sha256 hex over the sorted file names and contents read: identifies the config in force. */
  hash: string;
  broker: BrokerConfig;
  /** Sorted by id. */
  tenants: TenantConfig[];
}

export interface LoadedConfig {
  config: PorticoConfig;
  /** Things that work but deserve attention (demo-only secrets, in-memory storage). */
  warnings: string[];
}
