/**
 * Bearer tokens of the management API: ES256 JWT access tokens (`typ: at+jwt`) from a tenant's
 * own token endpoint, with the Graph resource as audience: an app's own (`roles`, by client
 * credentials) or a signed-in user's (`scp`, delegated scopes). The tenant is the token's issuer;
 * the signature is checked in-process against the public half of that tenant's published keys,
 * read from the key store as the providers read them (no HTTP round trip to our own JWKS).
 */
import { createPublicKey, type JsonWebKey } from 'node:crypto';
import { createLocalJWKSet, decodeJwt, errors as joseErrors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import type { AppConfig, GraphRole, GraphScope, TenantConfig } from '../config/types.ts';
import type { Actor } from '../directory/audit.ts';
import type { User, UserDirectory } from '../directory/users.ts';
import { effectiveGraphScopes } from '../provider/graph-scopes.ts';
import { graphResourceFor, issuerFor } from '../provider/tenant-provider.ts';
import { providerJwks, type TenantKeySet } from '../provider/signing-keys.ts';
import type { Clock } from '../shared/clock.ts';
import { GraphError } from './errors.ts';

/** Who is calling, established from a verified token. */
export interface GraphCaller {
  readonly tenant: TenantConfig;
  readonly app: AppConfig;
  /** The token's roles that the app still holds in the config in force; none for a user's token. */
  readonly roles: ReadonlySet<GraphRole>;
  readonly actor: Actor;
  /** Set for a signed-in user's token: who, as the directory has them now, and the delegated scopes. */
  readonly delegated?: DelegatedCaller;
}

export interface DelegatedCaller {
  readonly user: User;
  /** The token's `scp` that the app is still configured with. */
  readonly scopes: ReadonlySet<GraphScope>;
}

export interface KeySource {
  load(tenantId: string): Promise<TenantKeySet | undefined>;
  version(tenantId: string): Promise<number | undefined>;
}

export interface AccessTokenVerifierDeps {
  readonly publicUrl: string;
  readonly tenants: readonly TenantConfig[];
  readonly keys: KeySource;
  readonly clock: Clock;
  /** How often a tenant's key set version is checked (a rotation elsewhere shows up within it). */
  readonly refreshSeconds: number;
  /** Signed-in users behind delegated tokens; without it such tokens are refused. */
  readonly users?: UserDirectory;
}

const MAX_TOKEN_LENGTH = 8192;
const ALGORITHMS = ['ES256', 'RS256', 'EdDSA'];
/** An unknown kid triggers at most one key reload per tenant in this window. */
const FORCED_RELOAD_MS = 5000;
const CLOCK_TOLERANCE_SECONDS = 30;

const unauthorized = (message: string): GraphError => new GraphError(401, 'InvalidAuthenticationToken', message);

interface CachedKeys {
  readonly version: number;
  readonly jwks: JWTVerifyGetKey;
  checkedAt: number;
  forcedAt: number;
}

/** The public keys a tenant's provider publishes (current, next, and previous keys not yet retired). */
function publicJwks(set: TenantKeySet, now: number): { keys: JsonWebKey[] } {
  return {
    keys: providerJwks(set, now).keys.map((jwk) => ({
      ...createPublicKey({ key: jwk, format: 'jwk' }).export({ format: 'jwk' }),
      kid: jwk.kid,
      alg: jwk.alg,
      use: 'sig',
    })),
  };
}

export class AccessTokenVerifier {
  readonly #deps: AccessTokenVerifierDeps;
  readonly #tenants: ReadonlyMap<string, TenantConfig>;
  readonly #cache = new Map<string, CachedKeys>();
  readonly #issuerPrefix: string;
  readonly #audience: string;

  constructor(deps: AccessTokenVerifierDeps) {
    this.#deps = deps;
    this.#tenants = new Map(deps.tenants.map((tenant) => [tenant.id, tenant]));
    this.#issuerPrefix = `${deps.publicUrl}/`;
    this.#audience = graphResourceFor(deps.publicUrl);
  }

  /** The caller behind an `Authorization` header; throws a 401 GraphError for anything wrong. */
  async verify(authorization: string | undefined): Promise<GraphCaller> {
    const match = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/i.exec(authorization?.trim() ?? '');
    if (!match) throw unauthorized('Access token is empty.');
    const token = match[1]!;
    if (token.length > MAX_TOKEN_LENGTH) throw unauthorized('Access token validation failure.');
    const tenant = this.#tenantOf(token);
    const payload = await this.#verified(token, tenant);

    const clientId = payload['client_id'];
    const app = typeof clientId === 'string' ? tenant.apps.find((candidate) => candidate.id === clientId) : undefined;
    // A token that names no app of this tenant (or was not issued for the tenant) is no caller.
    if (!app || payload['tid'] !== tenant.id) throw unauthorized('Access token validation failure.');
    if (payload['scp'] !== undefined) return this.#delegatedCaller(tenant, app, payload);
    const claimed = Array.isArray(payload['roles']) ? payload['roles'].filter((role): role is string => typeof role === 'string') : [];
    // Roles removed from the app's config stop working at once, not when its tokens expire.
    const roles = new Set(app.graphRoles.filter((role) => claimed.includes(role)));
    return { tenant, app, roles, actor: { kind: 'app', appId: app.id, displayName: app.name } };
  }

  /** A user's token: the user must still exist and be enabled; scopes dropped from config stop at once. */
  async #delegatedCaller(tenant: TenantConfig, app: AppConfig, payload: JWTPayload): Promise<GraphCaller> {
    const oid = payload['oid'];
    if (typeof payload['scp'] !== 'string' || typeof oid !== 'string' || payload.sub !== oid || !this.#deps.users) {
      throw unauthorized('Access token validation failure.');
    }
    const user = await this.#deps.users.get(tenant.id, oid);
    if (!user || !user.accountEnabled) throw unauthorized('Access token validation failure. The signed-in user does not exist or is disabled.');
    const scopes = new Set(effectiveGraphScopes(payload['scp'], app.graphScopes));
    return {
      tenant,
      app,
      roles: new Set(),
      actor: { kind: 'user', id: user.id, displayName: user.displayName, userPrincipalName: user.userPrincipalName },
      delegated: { user, scopes },
    };
  }

  #tenantOf(token: string): TenantConfig {
    let issuer: unknown;
    try {
      issuer = decodeJwt(token).iss;
    } catch {
      throw unauthorized('Access token validation failure.');
    }
    if (typeof issuer !== 'string' || !issuer.startsWith(this.#issuerPrefix) || !issuer.endsWith('/v2.0')) {
      throw unauthorized('Access token validation failure. Invalid issuer.');
    }
    const tenant = this.#tenants.get(issuer.slice(this.#issuerPrefix.length, -'/v2.0'.length));
    if (!tenant) throw unauthorized('Access token validation failure. Invalid issuer.');
    return tenant;
  }

  async #verified(token: string, tenant: TenantConfig): Promise<JWTPayload> {
    const options = {
      issuer: issuerFor(this.#deps.publicUrl, tenant.id),
      audience: this.#audience,
      typ: 'at+jwt',
      algorithms: ALGORITHMS,
      requiredClaims: ['exp', 'iat'],
      clockTolerance: CLOCK_TOLERANCE_SECONDS,
      currentDate: new Date(this.#deps.clock.now()),
    };
    try {
      return (await jwtVerify(token, await this.#keys(tenant.id, false), options)).payload;
    } catch (error) {
      if (error instanceof joseErrors.JWKSNoMatchingKey) {
        // Signed with a key this instance has not seen yet (rotated elsewhere): look once more.
        try {
          return (await jwtVerify(token, await this.#keys(tenant.id, true), options)).payload;
        } catch (retry) {
          throw this.#refusal(retry);
        }
      }
      throw this.#refusal(error);
    }
  }

  #refusal(error: unknown): GraphError {
    if (error instanceof GraphError) return error;
    if (error instanceof joseErrors.JWTExpired) return unauthorized('Access token has expired or is not yet valid.');
    if (error instanceof joseErrors.JWTClaimValidationFailed) {
      if (error.claim === 'aud') return unauthorized('Access token validation failure. Invalid audience.');
      if (error.claim === 'nbf' || error.claim === 'iat') return unauthorized('Access token has expired or is not yet valid.');
    }
    if (error instanceof joseErrors.JOSEError) return unauthorized('Access token validation failure.');
    throw error;
  }

  async #keys(tenantId: string, force: boolean): Promise<JWTVerifyGetKey> {
    const now = this.#deps.clock.now();
    const cached = this.#cache.get(tenantId);
    const due = !cached || now - cached.checkedAt >= this.#deps.refreshSeconds * 1000 || (force && now - cached.forcedAt >= FORCED_RELOAD_MS);
    if (cached && !due) return cached.jwks;
    const version = await this.#deps.keys.version(tenantId);
    if (cached && version === cached.version) {
      cached.checkedAt = now;
      if (force) cached.forcedAt = now;
      return cached.jwks;
    }
    const set = await this.#deps.keys.load(tenantId);
    if (!set) throw unauthorized('Access token validation failure.');
    const fresh: CachedKeys = {
      version: set.version,
      jwks: createLocalJWKSet(publicJwks(set, now) as Parameters<typeof createLocalJWKSet>[0]),
      checkedAt: now,
      forcedAt: force ? now : 0,
    };
    this.#cache.set(tenantId, fresh);
    return fresh.jwks;
  }
}
