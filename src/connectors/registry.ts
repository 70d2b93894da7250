import type { z } from 'zod';
import type { Clock } from '../shared/clock.ts';
import type { Logger } from '../shared/logger.ts';
import type { Connector, ConnectorKind, Mailer, OneTimeIdStore, PasscodeStore, UpstreamFetch } from './types.ts';
import { emailOtpConnector } from './email-otp/index.ts';
import { facebookConnector } from './facebook/index.ts';
import { googleConnector } from './google/index.ts';
import { microsoftConnector } from './microsoft/index.ts';
import { oidcConnector } from './oidc/index.ts';
import { samlConnector } from './saml/index.ts';

/** What the composition root hands every connector factory; each takes only what it uses. */
export interface ConnectorDeps {
  readonly tenantId: string;
  readonly tenantDisplayName: string;
  /** The config folder, for files a connector's config names by relative path (SAML metadata). */
  readonly configDir: string;
  /** `{PUBLIC_URL}/{tenant}/v2.0`: connectors build their callback and metadata URLs under it. */
  readonly tenantBaseUrl: string;
  readonly clock: Clock;
  readonly logger: Logger;
  /** fetch bounded by the connector's timeout; never follows redirects to non-https hosts. */
  readonly fetch: UpstreamFetch;
  readonly oneTimeIds: OneTimeIdStore;
  readonly passcodes: PasscodeStore;
  readonly mailer: Mailer;
}

export interface ConnectorModule<K extends ConnectorKind, S extends z.ZodType = z.ZodType> {
  readonly kind: K;
  /** The kind's entry schema in a tenant file (`identityProviders[]`). */
  readonly schema: S;
  create(config: z.output<S>, deps: ConnectorDeps): Promise<Connector & { readonly kind: K }>;
}

/**
 * Every kind, typed so that a kind added to ConnectorKind without a module here is a compile
 * error. Adding a kind: one folder, one line here, one member of ConnectorKind.
 */
export const connectorModules = {
  oidc: oidcConnector,
  google: googleConnector,
  microsoft: microsoftConnector,
  facebook: facebookConnector,
  saml: samlConnector,
  'email-otp': emailOtpConnector,
} as const satisfies { readonly [K in ConnectorKind]: ConnectorModule<K> };

export type ConnectorConfig = { [K in ConnectorKind]: z.output<(typeof connectorModules)[K]['schema']> }[ConnectorKind];
