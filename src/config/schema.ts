/**
 * The configuration schema: the single source of truth for what `portico.yaml` and
 * `tenants/<id>.yaml` may contain. `REFERENCE.md` is generated from the `.meta()` of every key,
 * so a key without a description is a documentation bug.
 *
 * Meta keys beyond `description` (read by `reference.ts` and `load.ts`):
 * - `env`: the environment variable that overrides the key;
 * - `secret`: the value must be written as `${env:NAME}` so it never sits in the file;
 * - `defaultText`: the default when it is computed from other keys (zod cannot express it), as
 *   Markdown.
 *
 * Rules that depend on several keys (an app's type decides whether it needs a secret, apps
 * reference apis by id, domains are unique across files, ...) live in `rules.ts`: they run on
 * the raw data even when zod rejects other parts of the file, so every problem shows at once.
 */
import { z } from 'zod';
import { brandingSchema } from './branding.ts';
import { HTTPS_ONLY, checked, domainProblem, isLoopbackHost, publicUrlProblem, slug } from './primitives.ts';
import { brokerAuditSchema, graphRoleSchema, graphScopeSchema, invitationsSchema, tenantAuditSchema } from './invitations.ts';
import { conditionalAccessPolicySchema, crossTenantAccessSchema, externalCollaborationSchema } from './policy.ts';
import { emailOneTimePasscodeSchema, identityProviderSchema, partnerSchema, signInSchema } from './sign-in.ts';

export { isLoopbackHost, publicUrlProblem, SLUG } from './primitives.ts';

// ---------------------------------------------------------------------------------------------
// Value checks shared by the schema, the cross-key rules and environment overrides. Each returns
// the problem in words, or undefined when the value is fine.

/** Drops the trailing slash (issuers are built by appending paths) and normalises host case. */
export function normalizePublicUrl(value: string): string {
  const url = new URL(value);
  return `${url.origin}${url.pathname}`.replace(/\/+$/, '');
}

export type AppTypeName = 'web' | 'spa' | 'native' | 'daemon';

/**
 * Redirect and post-logout redirect URIs. Exact strings only (no wildcards): the provider
 * compares them byte for byte, and a pattern is an open redirect waiting to happen.
 */
export function redirectUriProblem(value: string, appType: AppTypeName | undefined): string | undefined {
  if (value.includes('*')) return 'must not contain wildcards';
  if (!URL.canParse(value)) return 'must be an absolute URL';
  if (value.includes('#')) return 'must not contain a fragment (#...)';
  const url = new URL(value);
  if (url.protocol === 'https:') return undefined;
  if (url.protocol === 'http:') return isLoopbackHost(url.hostname) ? undefined : HTTPS_ONLY;
  if (appType === 'native') {
    // RFC 8252 §7.1: private-use schemes must be reverse-DNS names so apps cannot collide.
    return url.protocol.includes('.')
      ? undefined
      : 'must use https, http on a loopback host, or a reverse-DNS private-use scheme (like com.example.app:/callback)';
  }
  return HTTPS_ONLY;
}

export function originProblem(value: string): string | undefined {
  const shape = 'must be an origin like https://app.example.com (scheme://host[:port], no path)';
  if (!URL.canParse(value)) return shape;
  const url = new URL(value);
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return shape;
  if (url.origin !== value) return shape;
  if (url.protocol === 'http:' && !isLoopbackHost(url.hostname)) return HTTPS_ONLY;
  return undefined;
}

export function redisUrlProblem(value: string): string | undefined {
  if (!URL.canParse(value)) return 'must be a redis:// or rediss:// URL';
  const url = new URL(value);
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') return 'must be a redis:// or rediss:// URL';
  if (url.hostname === '') return 'must name a host';
  return undefined;
}

function clusterNodeProblem(value: string): string | undefined {
  if (value.startsWith('redis://') || value.startsWith('rediss://')) return redisUrlProblem(value);
  return /^[A-Za-z0-9.-]+:\d{1,5}$/.test(value) || /^\[[0-9A-Fa-f:.]+\]:\d{1,5}$/.test(value)
    ? undefined
    : 'must be host:port or a redis:// URL';
}

function apiIdentifierProblem(value: string): string | undefined {
  if (/\s/.test(value)) return 'must not contain whitespace';
  if (!URL.canParse(value)) return 'must be an absolute URI (like api://contoso/payroll or https://api.contoso.example)';
  if (value.includes('#')) return 'must not contain a fragment (#...)';
  return undefined;
}

function mailFromProblem(value: string): string | undefined {
  const address = '[^\\s@<>]+@[^\\s@<>]+';
  return new RegExp(`^(?:${address}|[^<>]*<${address}>)$`).test(value)
    ? undefined
    : 'must be an email address, optionally with a name (like Portico <no-reply@example.com>)';
}

// ---------------------------------------------------------------------------------------------
// Building blocks

const CLIENT_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

// RFC 6749 §3.3 scope-token: printable ASCII except space, '"' and '\'.
const scopeName = () =>
  z.string().regex(/^[\x21\x23-\x5B\x5D-\x7E]+$/, 'must be a scope name (no spaces, quotes or backslashes)');

const seconds = (fallback: number, description: string, max?: number) =>
  (max === undefined ? z.int().min(1) : z.int().min(1).max(max)).default(fallback).meta({ description });

const port = () => z.int().min(1).max(65535);

export const signingAlgSchema = z.enum(['RS256', 'ES256', 'EdDSA']);
export const appTypeSchema = z.enum(['web', 'spa', 'native', 'daemon']);
export const grantTypeSchema = z.enum(['authorization_code', 'refresh_token', 'client_credentials']);
export const logLevelSchema = z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace']);
export const storageBackendSchema = z.enum(['sqlite', 'redis', 'memory']);
export const redisModeSchema = z.enum(['standalone', 'cluster', 'sentinel']);

// Exported so environment overrides are checked by the very rules that check the file.
export const publicUrlSchema = checked(publicUrlProblem);
export const redisUrlSchema = checked(redisUrlProblem);
export const portSchema = port();

// ---------------------------------------------------------------------------------------------
// portico.yaml

export const brokerFileSchema = z.strictObject({
  port: portSchema.default(3000).meta({ description: 'TCP port the HTTP server listens on.', env: 'PORT' }),
  publicUrl: publicUrlSchema.optional().meta({
    description:
      'The URL browsers and clients use to reach Portico; every tenant issuer is built under it. Absolute http(s) URL without query or fragment; https unless the host is localhost, 127.0.0.1 or [::1]. A trailing slash is dropped.',
    env: 'PUBLIC_URL',
    defaultText: '`http://localhost:<port>`',
  }),
  dataDir: z.string().min(1).default('./data').meta({
    description:
      'Folder for local state (SQLite database, mail outbox). Relative paths are resolved against the working directory.',
    env: 'PORTICO_DATA',
  }),
  http: z
    .strictObject({
      trustProxy: z.boolean().default(false).meta({
        description:
          'Trust X-Forwarded-* headers. Turn on only behind a reverse proxy that sets them; otherwise clients could spoof their address and protocol.',
      }),
      shutdownGraceSeconds: z.int().min(0).default(10).meta({
        description: 'On SIGTERM, how long in-flight requests may finish before the process exits.',
      }),
    })
    .prefault({})
    .meta({ description: 'HTTP server behaviour.' }),
  storage: z
    .strictObject({
      backend: storageBackendSchema.default('sqlite').meta({
        description:
          'Where sessions, grants, keys and guests are stored. `sqlite` for a single instance, `redis` for several instances, `memory` for development and tests only (lost on restart, not shared).',
      }),
      sqlite: z
        .strictObject({
          path: z.string().min(1).optional().meta({
            description: 'SQLite database file. Relative paths are resolved against the working directory.',
            defaultText: '`<dataDir>/portico.db`',
          }),
        })
        .prefault({})
        .meta({ description: 'Settings for the `sqlite` backend.' }),
      redis: z
        .strictObject({
          url: redisUrlSchema.optional().meta({
            description:
              'redis:// or rediss:// URL of the server (required in `standalone` mode). Put a password in the environment: `${env:REDIS_URL}`.',
            env: 'REDIS_URL',
          }),
          mode: redisModeSchema.default('standalone').meta({ description: 'Redis deployment topology.' }),
          sentinels: z
            .array(
              z.strictObject({
                host: z.string().min(1).meta({ description: 'Sentinel host name or address.' }),
                port: port().default(26379).meta({ description: 'Sentinel port.' }),
              }),
            )
            .min(1)
            .optional()
            .meta({ description: 'Sentinel endpoints (required in `sentinel` mode).' }),
          sentinelName: z
            .string()
            .min(1)
            .optional()
            .meta({ description: 'Name of the monitored master (required in `sentinel` mode).' }),
          clusterNodes: z
            .array(checked(clusterNodeProblem))
            .min(1)
            .optional()
            .meta({ description: 'Seed nodes as host:port or redis:// URLs (required in `cluster` mode).' }),
          keyPrefix: z.string().default('portico:').meta({
            description: 'Prefix of every key Portico writes, so a Redis can be shared with other applications.',
          }),
          commandTimeoutMs: z.int().min(1).default(2000).meta({
            description: 'A command that takes longer fails, and the request fails closed (503).',
          }),
          connectTimeoutMs: z.int().min(1).default(2000).meta({ description: 'Timeout for establishing a connection.' }),
        })
        .prefault({})
        .meta({ description: 'Settings for the `redis` backend.' }),
    })
    .prefault({})
    .meta({ description: 'Persistent state.' }),
  mail: z
    .strictObject({
      transport: z.enum(['outbox', 'smtp']).default('outbox').meta({
        description:
          'How mail (guest invitations, one-time passcodes) is sent. `outbox` writes each message as a file into `outboxDir` instead of sending it (development).',
      }),
      from: checked(mailFromProblem)
        .default('Portico <no-reply@localhost>')
        .meta({ description: 'Sender of every message.' }),
      outboxDir: z.string().min(1).optional().meta({
        description: 'Folder for the `outbox` transport. Relative paths are resolved against the working directory.',
        defaultText: '`<dataDir>/outbox`',
      }),
      smtp: z
        .strictObject({
          host: z.string().min(1).meta({ description: 'SMTP server host.' }),
          port: port().default(587).meta({ description: 'SMTP server port.' }),
          secure: z.boolean().default(false).meta({
            description: 'Use TLS from the start (port 465). When false, STARTTLS is used if the server offers it.',
          }),
          user: z.string().min(1).optional().meta({ description: 'User name for SMTP authentication.' }),
          password: z.string().min(1).optional().meta({ description: 'Password for SMTP authentication.', secret: true }),
        })
        .optional()
        .meta({ description: 'SMTP server (required when `transport` is `smtp`).' }),
    })
    .prefault({})
    .meta({ description: 'Outgoing mail.' }),
  keys: z
    .strictObject({
      encryptionSecret: z.string().min(32).optional().meta({
        description:
          'Secret (at least 32 characters) that encrypts the signing keys at rest. Without it, private keys are stored unencrypted.',
        secret: true,
      }),
      idTokenSigningAlg: signingAlgSchema.default('RS256').meta({
        description: 'Default algorithm for ID tokens (RS256 is the one every client supports).',
      }),
      accessTokenSigningAlg: signingAlgSchema.default('ES256').meta({
        description: 'Default algorithm for access tokens (apis may override).',
      }),
      rotationCheckSeconds: z.int().min(1).default(30).meta({
        description: 'How often each instance looks for rotated signing keys in storage.',
      }),
    })
    .prefault({})
    .meta({ description: 'Token signing keys.' }),
  cookies: z
    .strictObject({
      secure: z
        .union([z.literal('auto'), z.boolean()], { error: 'must be one of: auto, true, false' })
        .default('auto')
        .meta({ description: 'Mark cookies Secure. `auto` means: when `publicUrl` is https.' }),
      sameSite: z.enum(['lax', 'none']).default('lax').meta({
        description:
          'SameSite attribute of session cookies. `none` is needed only when apps embed the login in a cross-site frame, and requires secure cookies.',
      }),
    })
    .prefault({})
    .meta({ description: 'Session and interaction cookies.' }),
  tokens: z
    .strictObject({
      authorizationCodeSeconds: seconds(60, 'Lifetime of an authorization code (at most 600).', 600),
      accessTokenSeconds: seconds(3600, 'Default lifetime of an access token (apis may override).'),
      idTokenSeconds: seconds(3600, 'Lifetime of an ID token.'),
      refreshTokenSeconds: seconds(14 * 24 * 3600, 'Lifetime of a refresh token (14 days).'),
      clientCredentialsSeconds: seconds(3600, 'Lifetime of an access token from the client credentials grant.'),
      sessionSeconds: seconds(14 * 24 * 3600, 'Lifetime of a sign-in session (14 days).'),
      interactionSeconds: seconds(600, 'Time a user has to complete a sign-in interaction.'),
    })
    .prefault({})
    .meta({ description: 'Token and session lifetimes, in seconds.' }),
  log: z
    .strictObject({
      level: logLevelSchema.default('info').meta({ description: 'Minimum level written to the log.', env: 'LOG_LEVEL' }),
    })
    .prefault({})
    .meta({ description: 'Logging.' }),
  audit: brokerAuditSchema.prefault({}).meta({ description: 'The directory audit log (`/graph/v1.0/auditLogs/directoryAudits`).' }),
  managementApi: z
    .strictObject({
      requestsPerMinute: z.int().min(1).default(1200).meta({
        description:
          'Requests each caller (an app by client credentials, or a signed-in user) may make to `/graph/v1.0` per minute and tenant, counted in the store so every instance counts together. Beyond it: 429 `TooManyRequests` with `Retry-After`.',
      }),
    })
    .prefault({})
    .meta({ description: 'The management API (`/graph/v1.0`).' }),
});

// ---------------------------------------------------------------------------------------------
// tenants/<id>.yaml

export const apiSchema = z.strictObject({
  id: slug().meta({ description: 'Short name apps use to refer to this api; unique within the tenant.' }),
  identifier: checked(apiIdentifierProblem).meta({
    description:
      'Resource indicator (RFC 8707) and access-token audience: an absolute URI such as api://contoso/payroll or https://payroll.contoso.example, without fragment; unique within the tenant.',
  }),
  name: z.string().min(1).optional().meta({ description: 'Human-readable name, shown on consent screens.' }),
  scopes: z.array(scopeName()).default([]).meta({ description: 'Scopes the api defines (e.g. payroll.read).' }),
  accessTokenSeconds: z.int().min(1).optional().meta({
    description: 'Lifetime of access tokens for this api.',
    defaultText: '`tokens.accessTokenSeconds`',
  }),
  signingAlg: signingAlgSchema.optional().meta({
    description: 'Algorithm of access tokens for this api.',
    defaultText: '`keys.accessTokenSigningAlg`',
  }),
});

export const appSchema = z.strictObject({
  id: z
    .string()
    .regex(CLIENT_ID, 'must be 1-128 letters, digits, dots, underscores or hyphens, starting with a letter or digit')
    .meta({ description: 'The client_id; unique within the tenant.' }),
  name: z.string().min(1).meta({ description: 'Human-readable name, shown on sign-in and consent screens.' }),
  type: appTypeSchema.meta({
    description:
      '`web`: server-side app with a secret. `spa`: browser app (public client, PKCE). `native`: desktop or mobile app (public client, PKCE). `daemon`: service without a user (client credentials).',
  }),
  secret: z.string().min(1).optional().meta({
    description:
      'Client secret: required for `web` and `daemon`, not allowed for `spa` and `native`. `${env:NAME:-default}` falls back to a demo-only default (start-up warns).',
    secret: true,
  }),
  redirectUris: z.array(z.string()).optional().meta({
    description:
      'Exact redirect URIs (required for web, spa and native; not allowed for daemon). https, or http on localhost/127.0.0.1/[::1]; native apps may also use a reverse-DNS private-use scheme (com.example.app:/callback). No fragments, no wildcards.',
  }),
  postLogoutRedirectUris: z
    .array(z.string())
    .default([])
    .meta({ description: 'Where the app may send users after logout; same rules as `redirectUris`.' }),
  grantTypes: z.array(grantTypeSchema).min(1).optional().meta({
    description:
      'OAuth grant types. `daemon` apps may only use client_credentials; `spa` and `native` may not use it; refresh_token requires authorization_code.',
    defaultText: 'daemon: `[client_credentials]`; others: `[authorization_code, refresh_token]`',
  }),
  apis: z.array(z.string()).default([]).meta({
    description: "Ids of this tenant's apis the app may get access tokens for.",
  }),
  scopes: z.array(scopeName()).default([]).meta({
    description: 'Scopes the app may request beyond openid, profile, email and offline_access.',
  }),
  corsOrigins: z.array(z.string()).optional().meta({
    description: 'Origins (scheme://host[:port]) allowed to call the token endpoint from a browser.',
    defaultText: 'spa: the origins of its `redirectUris`; others: `[]`',
  }),
  idTokenSigningAlg: signingAlgSchema.optional().meta({
    description: 'Algorithm of ID tokens for this app.',
    defaultText: '`keys.idTokenSigningAlg`',
  }),
  selfServiceSignUp: z.boolean().default(false).meta({
    description:
      'false: only guests already in the directory (invited, or members) may sign in to this app. true: the first sign-in of someone unknown creates the guest. Not allowed for daemon apps, which sign in no one.',
  }),
  assignmentRequired: z.boolean().default(false).meta({
    description:
      'Only guests assigned to the app — directly or through a group, via /users/{id}/appRoleAssignments — may sign in; others see a page saying they have not been given access. Not allowed for daemon apps, which sign in no one.',
  }),
  graphRoles: z.array(graphRoleSchema).default([]).meta({
    description:
      "App roles on the tenant's management API (`{publicUrl}/graph/v1.0`), carried as `roles` in the access tokens the app gets by client credentials with `resource={publicUrl}/graph`. Only for `daemon` apps and `web` apps that use client_credentials.",
  }),
  graphScopes: z.array(graphScopeSchema).default([]).meta({
    description:
      "Delegated scopes on the tenant's management API for the users signed in to this app: asked for with `resource={publicUrl}/graph` and `scope=openid User.Read …` (or `.default` for all of them) in the authorization request, carried as `scp` in the access token. The user acts as themselves: guests are limited further by `externalCollaboration.guestUserAccess`. Not for `daemon` apps, which sign in no one.",
  }),
});

export const tenantFileSchema = z.strictObject({
  id: slug().meta({ description: 'Tenant id: lowercase letters, digits and hyphens; must equal the file name.' }),
  displayName: z.string().min(1).meta({ description: 'Name shown to users on sign-in pages.' }),
  domains: z
    .array(checked(domainProblem))
    .min(1)
    .meta({
      description:
        "The tenant's DNS domains, lowercase, unique across all tenants. The first is the primary domain, used in guest user principal names.",
    }),
  branding: brandingSchema.optional().meta({ description: "The tenant's own branding of its sign-in pages." }),
  partners: z.array(partnerSchema).default([]).meta({
    description: 'Partner organisations whose people are guests here: how to recognise them, and their branding.',
  }),
  identityProviders: z.array(identityProviderSchema).default([]).meta({
    description:
      'Upstream identity providers guests sign in with, one entry per connector; `kind` decides the other keys (see the sections below). Ids and email domains must be unique within the tenant.',
  }),
  emailOneTimePasscode: emailOneTimePasscodeSchema.prefault({}).meta({ description: 'Email one-time passcodes for guests.' }),
  signIn: signInSchema.prefault({}).meta({ description: 'How guests sign in.' }),
  apis: z.array(apiSchema).default([]).meta({ description: 'Resource servers (apis) of the tenant.' }),
  apps: z.array(appSchema).default([]).meta({ description: 'OIDC clients (apps) of the tenant.' }),
  invitations: invitationsSchema.prefault({}).meta({ description: 'Guest invitations: how long links live, and the mails.' }),
  audit: tenantAuditSchema.prefault({}).meta({ description: "This tenant's directory audit log." }),
  crossTenantAccess: crossTenantAccessSchema.prefault({}).meta({
    description: 'Cross-tenant access settings: which partner organisations may collaborate, with whom and in which apps, and which of their claims are trusted. Applied live.',
  }),
  externalCollaboration: externalCollaborationSchema.prefault({}).meta({
    description: 'External collaboration settings: who may invite, which domains, what guests may read. Applied live.',
  }),
  conditionalAccess: z.array(conditionalAccessPolicySchema).default([]).meta({
    description: 'Conditional access policies, all of which apply together (the most restrictive wins). Applied live.',
  }),
});
