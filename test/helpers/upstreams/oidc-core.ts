/**
 * One oidc-provider 9 instance as a stand-in upstream IdP, without its own listener: the OIDC,
 * Google and Microsoft stand-ins mount one (or, for Microsoft, one per tenant) behind their
 * server. Adds what a test of a relying party needs: a sign-in page, accounts changeable at run
 * time, clients registered at run time, and knobs that make the IdP misbehave.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { decodeJwt } from 'jose';
import Provider, { interactionPolicy, type KoaContextWithOIDC } from 'oidc-provider';
import { adHocId, type AccountBook, type StandInAccount } from './accounts.ts';
import { readForm, sendHtml, sleep, escapeHtml } from './http-server.ts';
import type { IdTokenSigning, SigningKeys } from './keys.ts';
import { loginPage } from './login-page.ts';
import { StandInStore } from './memory-adapter.ts';

export type OidcRoute = 'discovery' | 'jwks' | 'authorization' | 'token' | 'userinfo';

/** Ways to make the stand-in misbehave; change them between steps of a test. */
export interface OidcKnobs {
  /** Wait this long before answering (for timeouts). */
  delayMs: Partial<Record<OidcRoute, number>>;
  /** Answer with this HTTP status (and a JSON error) instead. */
  failWith: Partial<Record<OidcRoute, number>>;
  idTokenSigning: IdTokenSigning;
  /** Claims set (or replaced) in the next ID tokens. */
  idTokenClaims: Record<string, unknown>;
  /** Claims removed from the next ID tokens. */
  removeIdTokenClaims: string[];
  /** Members set (or replaced) in the discovery document. */
  discovery: Record<string, unknown>;
}

export const newKnobs = (): OidcKnobs => ({
  delayMs: {},
  failWith: {},
  idTokenSigning: 'current',
  idTokenClaims: {},
  removeIdTokenClaims: [],
  discovery: {},
});

export type Hits = Record<OidcRoute, number>;
export const newHits = (): Hits => ({ discovery: 0, jwks: 0, authorization: 0, token: 0, userinfo: 0 });

export interface ClientRegistration {
  readonly clientId: string;
  readonly clientSecret: string;
  readonly redirectUris: readonly string[];
  readonly authMethod?: 'client_secret_basic' | 'client_secret_post';
}

export interface OidcCoreOptions<A extends StandInAccount> {
  readonly issuer: string;
  /** The path the issuer adds to its origin ('' or like `/{tid}/v2.0`). */
  readonly mountPath: string;
  readonly label: string;
  /** Cookie names are prefixed with it, so stand-ins and Portico in one cookie jar never collide. */
  readonly cookiePrefix: string;
  readonly accounts: AccountBook<A>;
  /** Which accounts may sign in here (the Microsoft stand-in's tenants share one book). */
  readonly signsIn?: (account: A) => boolean;
  /** The account made for an unknown typed-in email. */
  readonly adHoc: (email: string) => A;
  readonly claimsOf: (account: A) => Record<string, unknown>;
  /** Claim names released with the `openid` scope beyond `sub` (custom claims must be listed). */
  readonly openidClaims: readonly string[];
  readonly profileClaims: readonly string[];
  /** Put scope-granted claims in the ID token too (Google and Entra do; many IdPs keep them for userinfo). */
  readonly claimsInIdToken: boolean;
  readonly keys: SigningKeys;
  readonly knobs: OidcKnobs;
  readonly hits: Hits;
}

export interface OidcCore {
  readonly provider: Provider;
  readonly store: StandInStore;
  /** Serves a request whose `url` is already relative to the mount path. */
  handle(req: IncomingMessage, res: ServerResponse): Promise<void>;
  registerClient(client: ClientRegistration): void;
}

function routeOf(path: string): OidcRoute | undefined {
  switch (path) {
    case '/.well-known/openid-configuration':
      return 'discovery';
    case '/jwks':
      return 'jwks';
    case '/auth':
      return 'authorization';
    case '/token':
      return 'token';
    case '/me':
      return 'userinfo';
    default:
      return undefined;
  }
}

export function createOidcCore<A extends StandInAccount>(options: OidcCoreOptions<A>): OidcCore {
  const { knobs, hits, keys, accounts } = options;
  const store = new StandInStore();
  const signsIn = options.signsIn ?? (() => true);

  const policy = interactionPolicy.base();
  // A stand-in asks every time, so a person in a browser can switch accounts between sign-ins.
  policy.get('login')!.checks.push(
    new interactionPolicy.Check('stand_in_every_time', 'the stand-in always shows its sign-in page', (ctx) =>
      ctx.oidc.result?.['login'] ? interactionPolicy.Check.NO_NEED_TO_PROMPT : interactionPolicy.Check.REQUEST_PROMPT,
    ),
  );

  const provider = new Provider(options.issuer, {
    adapter: store.adapterFactory,
    findAccount: async (_ctx, id) => {
      const account = accounts.get(id);
      return account ? { accountId: id, claims: async () => ({ ...options.claimsOf(account), sub: id }) } : undefined;
    },
    claims: {
      // acr, amr and auth_time come from the login itself (interactionFinished), not the account.
      openid: ['sub', 'acr', 'amr', 'auth_time', ...options.openidClaims],
      email: ['email', 'email_verified'],
      profile: ['name', 'given_name', 'family_name', ...options.profileClaims],
    },
    conformIdTokenClaims: !options.claimsInIdToken,
    cookies: {
      keys: [randomBytes(32).toString('base64url')],
      names: {
        session: `${options.cookiePrefix}_session`,
        interaction: `${options.cookiePrefix}_interaction`,
        resume: `${options.cookiePrefix}_resume`,
      },
    },
    features: { devInteractions: { enabled: false } },
    interactions: { url: (_ctx, interaction) => `${options.mountPath}/interaction/${interaction.uid}`, policy },
    jwks: { keys: [keys.initial.privateJwk as never] },
    loadExistingGrant: async (ctx) => {
      const { oidc } = ctx;
      const accountId = oidc.session?.accountId;
      const clientId = oidc.client?.clientId;
      if (!accountId || !clientId) return undefined;
      // Every request is granted in full: consent is not what a stand-in is for.
      const grant = new oidc.provider.Grant({ accountId, clientId });
      grant.addOIDCScope([...oidc.requestParamScopes].join(' '));
      await grant.save();
      return grant;
    },
    pkce: { required: () => true },
    responseTypes: ['code'],
    ttl: { AccessToken: 600, AuthorizationCode: 60, Grant: 3600, IdToken: 600, Interaction: 600, Session: 3600 },
    routes: { authorization: '/auth', token: '/token', userinfo: '/me', jwks: '/jwks' },
    scopes: ['openid', 'email', 'profile', 'offline_access'],
    clientDefaults: {
      grant_types: ['authorization_code'],
      response_types: ['code'],
      id_token_signed_response_alg: 'RS256',
      token_endpoint_auth_method: 'client_secret_basic',
    },
    renderError: async (ctx, out) => {
      ctx.type = 'html';
      ctx.body = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Error</title></head><body><h1>${escapeHtml(String(out['error'] ?? 'error'))}</h1><p>${escapeHtml(String(out['error_description'] ?? ''))}</p></body></html>`;
    },
  });

  provider.use(async (ctx: KoaContextWithOIDC, next: () => Promise<void>) => {
    const route = routeOf(ctx.path);
    if (!route) return next();
    hits[route] += 1;
    const delay = knobs.delayMs[route];
    if (delay) {
      await sleep(delay);
      // The caller gave up meanwhile (that is what the delay tests): nobody is left to answer.
      if (ctx.req.destroyed) return undefined;
    }
    const status = knobs.failWith[route];
    if (status) {
      ctx.status = status;
      ctx.body = { error: status >= 500 ? 'temporarily_unavailable' : 'invalid_request', error_description: 'stand-in knob' };
      return undefined;
    }
    await next();
    const body = ctx.body as Record<string, unknown> | undefined;
    if (route === 'discovery' && body) Object.assign(body, knobs.discovery);
    if (route === 'jwks') ctx.body = keys.publishedJwks();
    if (route === 'token' && ctx.status === 200 && body && typeof body['id_token'] === 'string') {
      body['id_token'] = await rewriteIdToken(body['id_token']);
    }
    return undefined;
  });

  async function rewriteIdToken(token: string): Promise<string> {
    const untouched =
      knobs.idTokenSigning === 'current' &&
      keys.current === keys.initial &&
      Object.keys(knobs.idTokenClaims).length === 0 &&
      knobs.removeIdTokenClaims.length === 0;
    if (untouched) return token;
    const claims: Record<string, unknown> = { ...decodeJwt(token), ...knobs.idTokenClaims };
    for (const name of knobs.removeIdTokenClaims) delete claims[name];
    return keys.sign(claims, knobs.idTokenSigning);
  }

  const callback = provider.callback();
  const INTERACTION = /^\/interaction\/([A-Za-z0-9_-]+)(\/login|\/abort)?$/;

  async function interaction(req: IncomingMessage, res: ServerResponse, uid: string, action: string | undefined): Promise<void> {
    let details;
    try {
      details = await provider.interactionDetails(req, res);
    } catch {
      sendHtml(res, 400, '<!doctype html><title>Expired</title><h1>This sign-in has expired</h1>');
      return;
    }
    if (details.uid !== uid) {
      sendHtml(res, 400, '<!doctype html><title>Mismatch</title><h1>Interaction mismatch</h1>');
      return;
    }
    const base = `${options.mountPath}/interaction/${uid}`;
    if (action === undefined && req.method === 'GET') {
      const hint = typeof details.params['login_hint'] === 'string' ? details.params['login_hint'] : undefined;
      const selectable = accounts.list().filter(signsIn);
      const selected = hint ? selectable.find((a) => a.id === hint || a.email?.toLowerCase() === hint.toLowerCase())?.id : undefined;
      sendHtml(
        res,
        200,
        loginPage({
          title: `${options.label} sign-in`,
          note: `Client ${String(details.params['client_id'])} asks who you are.`,
          action: `${base}/login`,
          abortAction: `${base}/abort`,
          accounts: selectable,
          ...(selected ? { selected } : {}),
        }),
      );
      return;
    }
    if (req.method !== 'POST') {
      res.statusCode = 405;
      res.end();
      return;
    }
    const form = await readForm(req);
    if (action === '/abort') {
      await provider.interactionFinished(req, res, { error: 'access_denied', error_description: 'The person cancelled the sign-in.' }, { mergeWithLastSubmission: false });
      return;
    }
    const email = form.get('email')?.trim();
    const account = email
      ? (accounts.byEmail(email) ?? accounts.get(adHocId(email)) ?? accounts.add(options.adHoc(email)))
      : accounts.get(form.get('account') ?? '');
    if (!account || !signsIn(account)) {
      sendHtml(res, 400, '<!doctype html><title>Unknown account</title><h1>No such account here</h1>');
      return;
    }
    await provider.interactionFinished(
      req,
      res,
      { login: { accountId: account.id, ...(account.amr ? { amr: [...account.amr] } : {}), ...(account.acr ? { acr: account.acr } : {}) } },
      { mergeWithLastSubmission: false },
    );
  }

  return {
    provider,
    store,
    async handle(req, res) {
      const path = (req.url ?? '/').split('?', 1)[0]!;
      const match = INTERACTION.exec(path);
      if (match) return interaction(req, res, match[1]!, match[2]);
      await callback(req, res);
    },
    registerClient(client) {
      store.set(
        `Client:${client.clientId}`,
        {
          client_id: client.clientId,
          client_secret: client.clientSecret,
          redirect_uris: [...client.redirectUris],
          token_endpoint_auth_method: client.authMethod ?? 'client_secret_basic',
          grant_types: ['authorization_code'],
          response_types: ['code'],
        },
        undefined,
      );
    },
  };
}
