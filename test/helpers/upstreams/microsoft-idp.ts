/**
 * A stand-in for the Microsoft identity platform: one oidc-provider per tenant at
 * `/{tid}/v2.0` (issuer `http://127.0.0.1:<port>/{tid}/v2.0`), the consumers tenant for personal
 * accounts among them, plus the multi-tenant front doors Entra has:
 *
 * - `/organizations/v2.0/.well-known/openid-configuration` and `/common/...`: discovery documents
 *   whose issuer is the template `http://127.0.0.1:<port>/{tenantid}/v2.0`, with authorize, token
 *   and keys endpoints under `/{organizations|common}/...`;
 * - authorize: home-realm discovery. A `login_hint` naming a known account goes straight to its
 *   tenant; otherwise a page asks which account (or email) and then hands over to that tenant's
 *   own sign-in page;
 * - token: finds the tenant that issued the code (each tenant has its own store) and passes the
 *   request on to it, so tokens come out with that tenant's issuer and `tid`;
 * - keys: the signing keys, shared by all tenants as Entra's are.
 *
 * `/consumers/v2.0/...` is the consumers tenant under another name, as on Entra.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { AccountBook, accountClaims, adHocId, type StandInAccount } from './accounts.ts';
import { listenOnLoopback, readBody, readForm, redirect, sendHtml, sendJson, sleep } from './http-server.ts';
import { SigningKeys } from './keys.ts';
import { loginPage } from './login-page.ts';
import { forward } from './mount.ts';
import { knobControls, type OidcStandIn } from './oidc-idp.ts';
import { createOidcCore, newHits, newKnobs, type ClientRegistration, type OidcCore, type OidcRoute } from './oidc-core.ts';

export const CONSUMERS_TENANT = '9188040d-6c67-4c5b-b112-36a304b66dad';

export interface MicrosoftTenant {
  readonly id: string;
  readonly name: string;
  /** Email domains of the tenant: a typed-in email of these domains signs in here. */
  readonly domains?: readonly string[];
}

export interface MicrosoftAccount extends StandInAccount {
  /** The tenant the account lives in (CONSUMERS_TENANT for personal accounts). */
  readonly tenantId: string;
  /** `oid`; derived from tenant and id when absent. */
  readonly oid?: string;
  /** `preferred_username`; the email when absent. */
  readonly username?: string;
  /** `xms_edov` (email domain owner verified); omitted when undefined. */
  readonly emailDomainVerified?: boolean;
}

export interface MicrosoftStandInOptions {
  /** Entra tenants besides the consumers tenant (which is always there). */
  readonly tenants?: readonly MicrosoftTenant[];
  readonly accounts?: readonly MicrosoftAccount[];
  /** Registered in every tenant, as a multi-tenant app is. */
  readonly clients?: readonly ClientRegistration[];
}

export interface MicrosoftStandIn extends Omit<OidcStandIn, 'accounts' | 'issuer'> {
  readonly accounts: AccountBook<MicrosoftAccount>;
  /** Pass as the connector's `authority`. */
  readonly authority: string;
  readonly tenants: readonly MicrosoftTenant[];
  tenantIssuer(tenantId: string): string;
}

const AUDIENCES = new Set(['organizations', 'common']);
const TENANT_PATH = /^\/([0-9a-f-]{36})\/v2\.0(\/.*)?$/;
const FRONT_DOOR = /^\/(organizations|common|consumers)\/(v2\.0\/\.well-known\/openid-configuration|oauth2\/v2\.0\/authorize(?:\/cancel)?|oauth2\/v2\.0\/token|discovery\/v2\.0\/keys)$/;

const uuidFrom = (text: string): string => {
  const hex = createHash('sha256').update(text).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
};

export async function startMicrosoftStandIn(options: MicrosoftStandInOptions = {}): Promise<MicrosoftStandIn> {
  const listening = await listenOnLoopback();
  const origin = listening.origin;
  const tenants: MicrosoftTenant[] = [{ id: CONSUMERS_TENANT, name: 'Microsoft personal accounts' }, ...(options.tenants ?? [])];
  const accounts = new AccountBook<MicrosoftAccount>(options.accounts ?? []);
  const keys = await SigningKeys.create();
  const knobs = newKnobs();
  const hits = newHits();
  const tenantIssuer = (tid: string) => `${origin}/${tid}/v2.0`;

  const claimsOf = (account: MicrosoftAccount): Record<string, unknown> => {
    // Entra sends no email_verified: whether to trust `email` is the relying party's call.
    const { email_verified: _dropped, ...standard } = accountClaims(account);
    const username = account.username ?? account.email;
    return {
      ...standard,
      tid: account.tenantId,
      oid: account.oid ?? uuidFrom(`${account.tenantId}/${account.id}`),
      ver: '2.0',
      ...(username !== undefined ? { preferred_username: username } : {}),
      ...(account.emailDomainVerified !== undefined ? { xms_edov: account.emailDomainVerified } : {}),
    };
  };

  const cores = new Map<string, OidcCore>();
  for (const tenant of tenants) {
    const core = createOidcCore<MicrosoftAccount>({
      issuer: tenantIssuer(tenant.id),
      mountPath: `/${tenant.id}/v2.0`,
      label: tenant.name,
      cookiePrefix: `ms${listening.port}_${tenant.id.slice(0, 8)}`,
      accounts,
      signsIn: (account) => account.tenantId === tenant.id,
      adHoc: (email) => ({ id: adHocId(email), tenantId: tenant.id, email }),
      claimsOf,
      openidClaims: ['tid', 'oid', 'ver', 'xms_edov'],
      profileClaims: ['preferred_username'],
      claimsInIdToken: true,
      keys,
      knobs,
      hits,
    });
    for (const client of options.clients ?? []) core.registerClient(client);
    cores.set(tenant.id, core);
  }

  const admits = (audience: string, account: MicrosoftAccount) =>
    audience === 'common' || (audience === 'organizations' ? account.tenantId !== CONSUMERS_TENANT : account.tenantId === CONSUMERS_TENANT);

  /** Applies the delay/failure knobs to a front-door endpoint; true when it answered already. */
  async function frontKnobs(route: OidcRoute, res: ServerResponse): Promise<boolean> {
    hits[route] += 1;
    const delay = knobs.delayMs[route];
    if (delay) await sleep(delay);
    const status = knobs.failWith[route];
    if (!status) return false;
    sendJson(res, status, { error: 'temporarily_unavailable', error_description: 'stand-in knob' });
    return true;
  }

  function multiTenantDiscovery(audience: string) {
    return {
      issuer: `${origin}/{tenantid}/v2.0`,
      authorization_endpoint: `${origin}/${audience}/oauth2/v2.0/authorize`,
      token_endpoint: `${origin}/${audience}/oauth2/v2.0/token`,
      jwks_uri: `${origin}/${audience}/discovery/v2.0/keys`,
      response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
      response_modes_supported: ['query', 'fragment', 'form_post'],
      subject_types_supported: ['pairwise'],
      id_token_signing_alg_values_supported: ['RS256'],
      scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
      token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
      claims_supported: ['sub', 'iss', 'aud', 'exp', 'iat', 'auth_time', 'acr', 'nonce', 'preferred_username', 'name', 'tid', 'ver', 'email', 'oid'],
      tenant_region_scope: null,
      cloud_instance_name: 'microsoftonline.com',
      ...knobs.discovery,
    };
  }

  /** Hands the browser to the account's tenant, keeping the relying party's request. */
  function toTenant(res: ServerResponse, query: string, account: MicrosoftAccount): void {
    const params = new URLSearchParams(query);
    params.set('login_hint', account.id);
    redirect(res, `${tenantIssuer(account.tenantId)}/auth?${params}`);
  }

  async function homeRealm(req: IncomingMessage, res: ServerResponse, audience: string, query: string): Promise<void> {
    if (req.method === 'POST') {
      const form = await readForm(req);
      const carried = form.get('query') ?? '';
      const email = form.get('email')?.trim();
      let account = email ? accounts.byEmail(email) : accounts.get(form.get('account') ?? '');
      if (!account && email) {
        const domain = email.split('@')[1]?.toLowerCase() ?? '';
        const tenant = tenants.find((t) => t.domains?.includes(domain)) ?? (audience !== 'organizations' ? tenants[0] : undefined);
        if (tenant) account = accounts.add({ id: adHocId(email), tenantId: tenant.id, email, emailDomainVerified: tenant.domains?.includes(domain) ?? false });
      }
      if (!account || !admits(audience, account)) return sendHtml(res, 400, '<!doctype html><title>Unknown account</title><h1>No such account here</h1>');
      return toTenant(res, carried, account);
    }
    if (await frontKnobs('authorization', res)) return;
    const hint = new URLSearchParams(query).get('login_hint');
    const hinted = hint ? (accounts.get(hint) ?? accounts.byEmail(hint)) : undefined;
    if (hinted && admits(audience, hinted)) return toTenant(res, query, hinted);
    sendHtml(
      res,
      200,
      loginPage({
        title: `Microsoft (${audience}): which account?`,
        note: 'Pick the account; its own organisation signs it in next.',
        action: `/${audience}/oauth2/v2.0/authorize`,
        abortAction: `/${audience}/oauth2/v2.0/authorize/cancel`,
        accounts: accounts.list().filter((account) => admits(audience, account)),
        hidden: { query },
      }),
    );
  }

  /** Cancel on the home-realm page: back to the relying party with access_denied, as Entra does. */
  async function cancel(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const params = new URLSearchParams((await readForm(req)).get('query') ?? '');
    const client = cores.get(CONSUMERS_TENANT)!.store.get(`Client:${params.get('client_id') ?? ''}`);
    const redirectUri = params.get('redirect_uri') ?? '';
    if (!client || !client.redirect_uris?.includes(redirectUri)) return sendHtml(res, 400, '<!doctype html><title>Bad request</title><h1>Unknown client or redirect URI</h1>');
    const back = new URL(redirectUri);
    back.searchParams.set('error', 'access_denied');
    back.searchParams.set('error_description', 'AADSTS65004: User declined to consent to access the app.');
    const state = params.get('state');
    if (state !== null) back.searchParams.set('state', state);
    redirect(res, back.href);
  }

  async function multiTenantToken(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (await frontKnobs('token', res)) return;
    const body = await readBody(req);
    const code = new URLSearchParams(body).get('code') ?? '';
    const tenant = [...cores].find(([, core]) => core.store.hasAuthorizationCode(code))?.[0];
    if (!tenant) return sendJson(res, 400, { error: 'invalid_grant', error_description: 'AADSTS70000: unknown code' });
    const headers: Record<string, string> = { 'content-type': String(req.headers['content-type'] ?? 'application/x-www-form-urlencoded') };
    if (req.headers.authorization) headers['authorization'] = req.headers.authorization;
    const answer = await fetch(`${tenantIssuer(tenant)}/token`, { method: 'POST', headers, body });
    res.statusCode = answer.status;
    for (const name of ['content-type', 'cache-control', 'pragma', 'www-authenticate']) {
      const value = answer.headers.get(name);
      if (value) res.setHeader(name, value);
    }
    res.end(Buffer.from(await answer.arrayBuffer()));
  }

  listening.handle(async (req, res) => {
    const url = new URL(req.url ?? '/', origin);
    const tenantMatch = TENANT_PATH.exec(url.pathname);
    const core = tenantMatch ? cores.get(tenantMatch[1]!) : undefined;
    if (core) return forward(core, req, res, `/${tenantMatch![1]}/v2.0`, `${tenantMatch![2] ?? '/'}${url.search}`);

    const front = FRONT_DOOR.exec(url.pathname);
    if (!front) {
      res.statusCode = 404;
      return void res.end();
    }
    const [, audience, endpoint] = front as unknown as [string, string, string];
    if (audience === 'consumers') {
      // Entra's consumers documents are the consumers tenant's own.
      const rest = endpoint.startsWith('v2.0/') ? endpoint.slice('v2.0'.length) : undefined;
      if (rest === undefined) {
        res.statusCode = 404;
        return void res.end();
      }
      return forward(cores.get(CONSUMERS_TENANT)!, req, res, `/${CONSUMERS_TENANT}/v2.0`, `${rest}${url.search}`);
    }
    if (!AUDIENCES.has(audience)) return;
    switch (endpoint) {
      case 'v2.0/.well-known/openid-configuration':
        if (await frontKnobs('discovery', res)) return;
        return sendJson(res, 200, multiTenantDiscovery(audience));
      case 'discovery/v2.0/keys':
        if (await frontKnobs('jwks', res)) return;
        return sendJson(res, 200, keys.publishedJwks());
      case 'oauth2/v2.0/authorize':
        return homeRealm(req, res, audience, url.search.slice(1));
      case 'oauth2/v2.0/authorize/cancel':
        return cancel(req, res);
      case 'oauth2/v2.0/token':
        return multiTenantToken(req, res);
    }
  });

  return {
    origin,
    authority: origin,
    tenants,
    accounts,
    knobs,
    hits,
    keys,
    tenantIssuer,
    registerClient: (client) => {
      for (const core of cores.values()) core.registerClient(client);
    },
    ...knobControls(knobs, keys),
    stop: () => listening.close(),
  };
}
