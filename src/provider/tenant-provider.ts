import Provider, { errors, interactionPolicy, type Configuration, type KoaContextWithOIDC, type ClientMetadata, type ResourceServer } from 'oidc-provider';
import type { BrokerConfig, TenantConfig, AppConfig, ApiConfig } from '../config/types.ts';
import type { User, UserDirectory } from '../directory/users.ts';
import type { DocumentStore } from '../storage/ports.ts';
import { html, raw } from '../ui/html.ts';
import { renderPage } from '../ui/layout.ts';
import type { Logger } from '../shared/logger.ts';
import { StoreUnavailableError } from '../shared/errors.ts';
import { StoreAdapter } from './store-adapter.ts';
import { ACR_MFA, ACR_VALUES, requestsMfa } from '../shared/assurance.ts';
import { REDEMPTION_CLIENT_ID } from '../interaction/redemption.ts';
import { providerJwks, type SigningAlg, type TenantKeySet } from './signing-keys.ts';
import { effectiveGraphScopes, offeredGraphScopes } from './graph-scopes.ts';

export interface TenantProviderDeps {
  readonly broker: BrokerConfig;
  readonly tenant: TenantConfig;
  readonly store: DocumentStore;
  readonly users: UserDirectory;
  readonly keys: TenantKeySet;
  readonly cookieKeys: readonly string[];
  readonly now: () => number;
  readonly logger: Logger;
  /**
   * Collaboration policy on refreshing the user's tokens for the app (`amr` as the refresh token
   * carries it): false refuses the refresh (invalid_grant), so the user must sign in again and
   * meet the policy in force now.
   */
  readonly mayRefresh?: (input: {
    readonly tenantId: string;
    readonly user: User;
    readonly appId: string;
    readonly amr: readonly string[];
    readonly authTime?: number | undefined;
  }) => Promise<boolean>;
  /**
   * Single sign-on into an app: false when the policy in force (inbound settings, conditional
   * access, sign-in frequency) does not let the session's sign-in through, so the user signs in
   * again and the interaction enforces the policy.
   */
  readonly maySkipSignIn?: TenantProviderDeps['mayRefresh'];
}

export const issuerFor = (publicUrl: string, tenantId: string): string => `${publicUrl}/${tenantId}/v2.0`;
/** Resource indicator and audience of every tenant's management API (`/graph/v1.0`). */
export const graphResourceFor = (publicUrl: string): string => `${publicUrl}/graph`;
export const tenantPathPrefix = (tenantId: string): string => `/${tenantId}/v2.0`;

/** Scopes every app may ask for, besides the scopes of the APIs it is allowed to call. */
const OIDC_SCOPES = ['openid', 'offline_access', 'profile', 'email'];

/** The algorithms a tenant needs keys for, given what its apps and APIs sign with. */
export function signingAlgsFor(broker: BrokerConfig, tenant: TenantConfig): SigningAlg[] {
  const algs = new Set<SigningAlg>(['RS256', 'ES256', broker.keys.idTokenSigningAlg, broker.keys.accessTokenSigningAlg]);
  for (const app of tenant.apps) if (app.idTokenSigningAlg) algs.add(app.idTokenSigningAlg);
  for (const api of tenant.apis) if (api.signingAlg) algs.add(api.signingAlg);
  return [...algs];
}

function clientMetadata(app: AppConfig, broker: BrokerConfig): ClientMetadata {
  const confidential = app.type === 'web' || app.type === 'daemon';
  const usesCode = app.grantTypes.includes('authorization_code');
  return {
    client_id: app.id,
    client_name: app.name,
    ...(confidential ? { client_secret: app.secret } : {}),
    token_endpoint_auth_method: confidential ? 'client_secret_basic' : 'none',
    grant_types: [...app.grantTypes],
    response_types: usesCode ? ['code'] : [],
    redirect_uris: [...app.redirectUris],
    post_logout_redirect_uris: [...app.postLogoutRedirectUris],
    application_type: app.type === 'native' ? 'native' : 'web',
    id_token_signed_response_alg: app.idTokenSigningAlg ?? broker.keys.idTokenSigningAlg,
    scope: [...OIDC_SCOPES, ...app.scopes].join(' '),
  };
}

/**
 * Portico's own app for redeem links: a public client whose only redirect URI is Portico's
 * redemption callback (the code is never redeemed; the sign-in itself is the point).
 */
function redemptionClient(issuer: string): ClientMetadata {
  return {
    client_id: REDEMPTION_CLIENT_ID,
    client_name: 'Invitation redemption',
    token_endpoint_auth_method: 'none',
    grant_types: ['authorization_code'],
    response_types: ['code'],
    redirect_uris: [`${issuer}/redeem/callback`],
    scope: 'openid',
  };
}

/** `form-action` must allow where forms and their redirects go: ourselves and the apps' own origins. */
export function formActionOrigins(tenant: TenantConfig): string[] {
  const origins = new Set<string>();
  for (const app of tenant.apps) {
    for (const uri of [...app.redirectUris, ...app.postLogoutRedirectUris]) {
      const url = new URL(uri);
      if (url.protocol === 'http:' || url.protocol === 'https:') origins.add(url.origin);
    }
  }
  return [...origins];
}

/** `auth_time` of the sign-in a token comes from: the code or refresh token used, else the session. */
function authTimeOf(ctx: KoaContextWithOIDC, token?: object): number | undefined {
  const fromToken = token && 'authTime' in token && typeof token.authTime === 'number' ? token.authTime : undefined;
  const entities = ctx.oidc?.entities as { AuthorizationCode?: { authTime?: number }; RefreshToken?: { authTime?: number } } | undefined;
  return fromToken ?? entities?.AuthorizationCode?.authTime ?? entities?.RefreshToken?.authTime ?? ctx.oidc?.session?.authTime();
}

/**
 * `device_compliant` / `device_hybrid_joined`: only the trusted device claims stored with the
 * sign-in this token comes from. A later sign-in replaces them, and older sessions then get none
 * (fewer claims, never claims of another device).
 */
function deviceClaims(user: User, authTime: number | undefined): Record<string, boolean> {
  const last = user.lastSignIn;
  if (!last?.device || authTime === undefined || last.authTime !== authTime) return {};
  return { ...(last.device.compliant ? { device_compliant: true } : {}), ...(last.device.hybridJoined ? { device_hybrid_joined: true } : {}) };
}

/**
 * The provider's own prompts, plus collaboration policy on single sign-on (a session whose sign-in
 * the policy in force does not let into this app, or older than its sign-in frequency, signs in
 * again) and step-up: `acr_values` naming the MFA profile asks for a new sign-in when the
 * session's was single-factor (an essential `acr` claim is already handled by the provider's own
 * `essential_acr` checks).
 */
function promptPolicy(tenantId: string, users: UserDirectory, maySkipSignIn: TenantProviderDeps['maySkipSignIn']) {
  const { Check } = interactionPolicy;
  const policy = interactionPolicy.base();
  const login = policy.get('login')!;
  if (maySkipSignIn) {
    login.checks.add(
      new Check('access_policy', 'the policy in force asks for a new sign-in for this app', 'login_required', async (ctx) => {
        const session = ctx.oidc.session;
        if (!session?.accountId || !ctx.oidc.client) return Check.NO_NEED_TO_PROMPT;
        const user = await users.get(tenantId, session.accountId);
        // A user gone since is the provider's own business (findAccount answers for it).
        if (!user) return Check.NO_NEED_TO_PROMPT;
        const allowed = await maySkipSignIn({ tenantId, user, appId: ctx.oidc.client.clientId, amr: session.amr ?? [], authTime: session.authTime() });
        return allowed ? Check.NO_NEED_TO_PROMPT : Check.REQUEST_PROMPT;
      }),
    );
  }
  login.checks.add(
    new interactionPolicy.Check('mfa_requested', 'the app asks for multifactor authentication', 'login_required', (ctx) => {
      const params = (ctx.oidc.params ?? {}) as Record<string, unknown>;
      return requestsMfa(params) && ctx.oidc.session?.acr !== ACR_MFA ? interactionPolicy.Check.REQUEST_PROMPT : interactionPolicy.Check.NO_NEED_TO_PROMPT;
    }),
  );
  return policy;
}

/** Adds to `grant` what the request asks for, limited to what the app is registered for. */
function grantRequested(
  ctx: KoaContextWithOIDC,
  grant: InstanceType<Provider['Grant']>,
  app: AppConfig | undefined,
  apisByIdentifier: ReadonlyMap<string, ApiConfig>,
  graphResource: string,
): void {
  if (!app) return;
  const params = ctx.oidc.params ?? {};
  const requested = String(params['scope'] ?? '').split(' ').filter(Boolean);
  const allowedScopes = new Set([...OIDC_SCOPES, ...app.scopes]);
  const oidcScopes = requested.filter((scope) => allowedScopes.has(scope));
  if (oidcScopes.length) grant.addOIDCScope(oidcScopes.join(' '));
  const claims = ctx.oidc.claims as { id_token?: Record<string, unknown>; userinfo?: Record<string, unknown> } | undefined;
  const claimNames = [...Object.keys(claims?.id_token ?? {}), ...Object.keys(claims?.userinfo ?? {})];
  if (claimNames.length) grant.addOIDCClaims(claimNames);
  const resourceParam = params['resource'];
  const resources = Array.isArray(resourceParam) ? resourceParam : resourceParam ? [String(resourceParam)] : [];
  for (const api of resources.flatMap((r) => apisByIdentifier.get(r) ?? [])) {
    if (!app.apis.includes(api.id)) continue;
    const scopes = requested.filter((scope) => api.scopes.includes(scope));
    grant.addResourceScope(api.identifier, scopes.join(' '));
  }
  // The management API's delegated scopes, within the app's `graphScopes` (`.default` included).
  if (resources.includes(graphResource)) {
    const offered = offeredGraphScopes(app.graphScopes);
    const scopes = requested.filter((scope) => offered.includes(scope));
    if (scopes.length) grant.addResourceScope(graphResource, scopes.join(' '));
  }
}

export function createTenantProvider(deps: TenantProviderDeps): Provider {
  const { broker, tenant, store, users } = deps;
  const issuer = issuerFor(broker.publicUrl, tenant.id);
  const prefix = tenantPathPrefix(tenant.id);
  const appsById = new Map(tenant.apps.map((app) => [app.id, app]));
  const apisByIdentifier = new Map(tenant.apis.map((api) => [api.identifier, api]));
  const apisById = new Map(tenant.apis.map((api) => [api.id, api]));
  const corsOrigins = new Map(tenant.apps.map((app) => [app.id, new Set(app.corsOrigins)]));
  const secure = broker.cookies.secure === 'auto' ? broker.publicUrl.startsWith('https:') : broker.cookies.secure;
  const cookieOptions = { httpOnly: true, secure, sameSite: broker.cookies.sameSite, signed: true } as const;

  const resourceServer = (api: ApiConfig): ResourceServer => ({
    scope: api.scopes.join(' '),
    audience: api.identifier,
    accessTokenTTL: api.accessTokenSeconds ?? broker.tokens.accessTokenSeconds,
    accessTokenFormat: 'jwt',
    jwt: { sign: { alg: api.signingAlg ?? broker.keys.accessTokenSigningAlg } },
  });

  const allowedApis = (clientId: string): ApiConfig[] =>
    (appsById.get(clientId)?.apis ?? []).flatMap((id) => apisById.get(id) ?? []);

  // The management API: app roles by client credentials; delegated scopes with a user's sign-in.
  const graphResource = graphResourceFor(broker.publicUrl);
  const graphRolesOf = (clientId: string | undefined): readonly string[] => (clientId ? (appsById.get(clientId)?.graphRoles ?? []) : []);
  const isClientCredentials = (ctx: KoaContextWithOIDC): boolean => ctx.oidc.params?.['grant_type'] === 'client_credentials';

  const configuration: Configuration = {
    adapter: (model: string) => new StoreAdapter(store, tenant.id, model),
    clients: [...tenant.apps.map((app) => clientMetadata(app, broker)), redemptionClient(issuer)],
    clientDefaults: {
      grant_types: ['authorization_code'],
      response_types: ['code'],
      id_token_signed_response_alg: broker.keys.idTokenSigningAlg,
      token_endpoint_auth_method: 'client_secret_basic',
    },
    jwks: providerJwks(deps.keys, deps.now()) as Configuration['jwks'],
    cookies: {
      keys: [...deps.cookieKeys],
      // The session cookie stays on the tenant's own paths: every tenant has its own session, so
      // signing in to one tenant must not replace the browser's session at another.
      long: { ...cookieOptions, path: prefix },
      short: cookieOptions,
      names: { session: '_portico_session', interaction: '_portico_interaction', resume: '_portico_resume' },
    },
    // Claims listed under `openid` reach every token that carries user claims.
    claims: {
      // Claims of the authentication itself, set from the sign-in (not from a scope).
      acr: null,
      amr: null,
      auth_time: null,
      sid: null,
      iss: null,
      // amr and acr ride on `openid` so every ID token says how the user signed in.
      openid: ['sub', 'amr', 'acr', 'auth_time', 'tid', 'oid', 'user_type', 'idp', 'home_tid', 'preferred_username', 'device_compliant', 'device_hybrid_joined'],
      profile: ['name'],
      email: ['email', 'email_verified'],
    },
    // The ID token carries the scope's claims even in the code flow: apps read tid/oid/user_type
    // from it without a userinfo round trip, as they do with Entra.
    conformIdTokenClaims: false,
    scopes: OIDC_SCOPES,
    responseTypes: ['code'],
    // Hints the sign-in flow uses to skip steps: domain_hint (as Entra), idp=<connector id>.
    extraParams: ['domain_hint', 'idp', 'redemption'],
    pkce: { required: () => true },
    enabledJWA: {
      idTokenSigningAlgValues: ['RS256', 'ES256', 'EdDSA'],
      userinfoSigningAlgValues: ['RS256', 'ES256', 'EdDSA'],
      introspectionSigningAlgValues: ['RS256', 'ES256', 'EdDSA'],
      authorizationSigningAlgValues: ['RS256', 'ES256', 'EdDSA'],
    },
    acrValues: [...ACR_VALUES],
    features: {
      devInteractions: { enabled: false },
      // Step-up: an app asks for MFA with `acr_values` or an essential `acr` claim.
      claimsParameter: { enabled: true },
      clientCredentials: { enabled: true },
      introspection: {
        enabled: true,
        // Only an app of this tenant may introspect, and only tokens issued to itself.
        allowedPolicy: async (_ctx, client, token) => token.clientId === client.clientId,
      },
      revocation: { enabled: true },
      userinfo: { enabled: true },
      jwtUserinfo: { enabled: false },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: async (ctx, form) => {
          ctx.type = 'html';
          ctx.body = renderPage({
            title: 'Sign out',
            body: html`<h1>Sign out of ${tenant.displayName}?</h1>
${raw(form)}
<p><button autofocus type="submit" form="op.logoutForm" value="yes" name="logout">Yes, sign me out</button>
<button class="secondary" type="submit" form="op.logoutForm">No, stay signed in</button></p>`,
          });
        },
        postLogoutSuccessSource: async (ctx) => {
          ctx.type = 'html';
          ctx.body = renderPage({
            title: 'Signed out',
            body: html`<h1>You are signed out</h1><p>You have signed out of ${tenant.displayName}. You can close this window.</p>`,
          });
        },
      },
      resourceIndicators: {
        enabled: true,
        // A daemon allowed exactly one API gets tokens for it without naming it. Sign-in flows
        // get tokens for an API only when they ask with `resource`, so that by default their
        // access token works at userinfo.
        // A daemon with app roles on the management API and no API of its own gets Graph tokens
        // by default; one that also has APIs must name the Graph resource.
        defaultResource: async (ctx) => {
          const clientId = ctx.oidc.client?.clientId;
          if (!clientId || !isClientCredentials(ctx)) return undefined!;
          const apis = allowedApis(clientId);
          if (apis.length === 1) return apis[0]!.identifier;
          return apis.length === 0 && graphRolesOf(clientId).length > 0 ? graphResource : undefined!;
        },
        useGrantedResource: async () => true,
        getResourceServerInfo: async (ctx, resourceIndicator, client) => {
          if (resourceIndicator === graphResource) {
            if (!isClientCredentials(ctx)) {
              // A signed-in user's token: the scopes are the app's `graphScopes` (and `.default`).
              const offered = offeredGraphScopes(appsById.get(client.clientId)?.graphScopes ?? []);
              if (offered.length === 0) throw new errors.InvalidTarget(`app ${client.clientId} may not request tokens for ${resourceIndicator}`);
              return {
                scope: offered.join(' '),
                audience: graphResource,
                accessTokenTTL: broker.tokens.accessTokenSeconds,
                accessTokenFormat: 'jwt',
                jwt: { sign: { alg: 'ES256' } },
              };
            }
            if (graphRolesOf(client.clientId).length === 0) {
              throw new errors.InvalidTarget(`app ${client.clientId} may not request tokens for ${resourceIndicator}`);
            }
            return {
              scope: '',
              audience: graphResource,
              accessTokenTTL: broker.tokens.clientCredentialsSeconds,
              accessTokenFormat: 'jwt',
              jwt: { sign: { alg: 'ES256' } },
            };
          }
          const api = apisByIdentifier.get(resourceIndicator);
          if (!api || !(appsById.get(client.clientId)?.apis ?? []).includes(api.id)) {
            throw new errors.InvalidTarget(`app ${client.clientId} may not request tokens for ${resourceIndicator}`);
          }
          return resourceServer(api);
        },
      },
    },
    extraTokenClaims: async (ctx, token) => {
      const claims: Record<string, unknown> = { tid: tenant.id };
      if (token.kind === 'ClientCredentials' && token.resourceServer?.audience === graphResource) {
        claims['roles'] = [...graphRolesOf(token.clientId)];
      }
      if (token.kind === 'AccessToken' && token.resourceServer?.audience === graphResource) {
        // Entra's claim for delegated permissions, with `.default` spelled out.
        const scope = (token as { scope?: string }).scope;
        claims['scp'] = effectiveGraphScopes(scope, appsById.get(token.clientId ?? '')?.graphScopes ?? []).join(' ');
      }
      if ('accountId' in token && typeof token.accountId === 'string') {
        // The account loaded for this request (findAccount) carries the user: no second read.
        const loaded = (ctx.oidc?.account as { user?: User } | undefined)?.user;
        const user = loaded?.id === token.accountId ? loaded : await users.get(tenant.id, token.accountId);
        if (user) {
          Object.assign(claims, { oid: user.id, user_type: user.userType });
          if (user.lastSignIn) claims['idp'] = user.lastSignIn.idp;
          if (user.homeTenantId) claims['home_tid'] = user.homeTenantId;
          Object.assign(claims, deviceClaims(user, authTimeOf(ctx)));
        }
      }
      return claims;
    },
    // Every app of the tenant is the tenant's own (first-party), so what it asks for within what it
    // is registered for is granted without a consent screen, saving the consent round trip.
    loadExistingGrant: async (ctx) => {
      const { oidc } = ctx;
      const accountId = oidc.session?.accountId;
      const clientId = oidc.client?.clientId;
      if (!accountId || !clientId || !oidc.session) return undefined;
      const grantId = oidc.result?.['consent']?.grantId ?? oidc.session.grantIdFor(clientId);
      const grant = (grantId ? await oidc.provider.Grant.find(grantId) : undefined) ?? new oidc.provider.Grant({ accountId, clientId });
      if (clientId === REDEMPTION_CLIENT_ID) grant.addOIDCScope('openid');
      else grantRequested(ctx, grant, appsById.get(clientId), apisByIdentifier, graphResource);
      await grant.save();
      return grant;
    },
    issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
    rotateRefreshToken: true,
    allowOmittingSingleRegisteredRedirectUri: false,
    clientBasedCORS: (_ctx, origin, client) => corsOrigins.get(client.clientId)?.has(origin) ?? false,
    findAccount: async (ctx, sub, token) => {
      const user = await users.get(tenant.id, sub);
      if (!user || !user.accountEnabled) return undefined;
      if (token?.kind === 'RefreshToken' && deps.mayRefresh) {
        const refresh = token as { clientId?: string; amr?: string[]; authTime?: number };
        const allowed = await deps.mayRefresh({
          tenantId: tenant.id,
          user,
          appId: refresh.clientId ?? ctx.oidc.client?.clientId ?? '',
          amr: refresh.amr ?? [],
          authTime: refresh.authTime,
        });
        if (!allowed) return undefined;
      }
      return {
        accountId: user.id,
        user,
        claims: async () => ({
          sub: user.id,
          tid: tenant.id,
          oid: user.id,
          user_type: user.userType,
          preferred_username: user.userPrincipalName,
          name: user.displayName,
          // Where the identity of the latest sign-in came from, and the guest's home organisation.
          ...(user.lastSignIn ? { idp: user.lastSignIn.idp } : {}),
          ...(user.homeTenantId ? { home_tid: user.homeTenantId } : {}),
          ...(user.mail ? { email: user.mail, email_verified: true } : {}),
          ...deviceClaims(user, authTimeOf(ctx, token)),
        }),
      };
    },
    interactions: {
      url: async (_ctx, interaction) => `${prefix}/interaction/${interaction.uid}`,
      policy: promptPolicy(tenant.id, users, deps.maySkipSignIn),
    },
    renderError: async (ctx, out, error) => {
      ctx.type = 'html';
      const requestId = String(ctx.get('x-request-id') || ctx.response.get('x-request-id') || '');
      ctx.body = renderPage({
        title: 'Sign-in error',
        correlationId: requestId || undefined,
        body: html`<h1>Something went wrong</h1>
<p>${tenant.displayName} could not complete this request.</p>
<p><strong>${out.error}</strong>${out.error_description ? html`: ${out.error_description}` : ''}</p>
<p>If this keeps happening, contact the app's administrator and quote the correlation id.</p>`,
      });
      void error;
    },
    ttl: {
      AuthorizationCode: broker.tokens.authorizationCodeSeconds,
      AccessToken: broker.tokens.accessTokenSeconds,
      ClientCredentials: broker.tokens.clientCredentialsSeconds,
      IdToken: broker.tokens.idTokenSeconds,
      RefreshToken: broker.tokens.refreshTokenSeconds,
      Session: broker.tokens.sessionSeconds,
      Interaction: broker.tokens.interactionSeconds,
      Grant: broker.tokens.refreshTokenSeconds,
    },
  };

  const provider = new Provider(issuer, configuration);
  provider.proxy = broker.http.trustProxy;
  observe(provider, tenant.id, deps.logger);
  return provider;
}

const requestIdOf = (ctx: KoaContextWithOIDC): string | undefined => {
  const value = ctx.response.get('x-request-id');
  return typeof value === 'string' && value ? value : undefined;
};

/**
 * Logs what an operator needs (server errors, grant revocations on replay) and turns a store
 * outage into 503 `temporarily_unavailable` rather than a generic 500: Portico fails closed.
 */
function observe(provider: Provider, tenantId: string, logger: Logger): void {
  const log = logger.child({ tenant: tenantId });
  provider.on('server_error', (ctx: KoaContextWithOIDC, error: Error) => {
    if (error instanceof StoreUnavailableError) {
      ctx.state['storeUnavailable'] = true;
      log.error({ requestId: requestIdOf(ctx), code: error.code, err: error.cause ?? error }, 'store unavailable');
    } else {
      log.error({ requestId: requestIdOf(ctx), err: error }, 'provider server error');
    }
  });
  provider.on('grant.revoked', (ctx: KoaContextWithOIDC, grantId: string) => {
    log.warn({ requestId: requestIdOf(ctx), grantId, client: ctx.oidc?.client?.clientId }, 'grant revoked');
  });
  provider.on('grant.error', (ctx: KoaContextWithOIDC, error: Error & { error?: string; error_description?: string }) => {
    log.info({ requestId: requestIdOf(ctx), client: ctx.oidc?.client?.clientId, error: error.error, reason: error.error_description }, 'token request refused');
  });
  provider.use(async (ctx, next) => {
    await next();
    if (ctx.state['storeUnavailable']) {
      ctx.status = 503;
      ctx.set('Retry-After', '5');
      if (ctx.body && typeof ctx.body === 'object' && 'error' in ctx.body) {
        ctx.body = { error: 'temporarily_unavailable', error_description: 'the service is temporarily unavailable, try again shortly' };
      }
    }
  });
}
