/**
 * A stand-in for Facebook Login and the Graph API (a small node:http server, as Facebook is
 * OAuth 2.0 without OpenID Connect):
 * - GET `/v19.0/dialog/oauth`: the login dialog (client and redirect URI checked, PKCE S256
 *   recorded), with Cancel answering `error=access_denied&error_reason=user_denied`;
 * - `/v19.0/oauth/access_token`: code exchange, checking the app secret, the redirect URI, the
 *   PKCE verifier and that the code is used once;
 * - GET `/v19.0/me`: the person, requiring `appsecret_proof` = HMAC-SHA256(app secret, token) as
 *   an app with "Require App Secret" does; `email` only for accounts that have one.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { AccountBook, type StandInAccount } from './accounts.ts';
import { listenOnLoopback, readBody, readForm, redirect, sendHtml, sendJson, sleep } from './http-server.ts';
import { loginPage } from './login-page.ts';

export type FacebookRoute = 'dialog' | 'token' | 'me';

export interface FacebookApp {
  readonly appId: string;
  readonly appSecret: string;
  readonly redirectUris: readonly string[];
}

export interface FacebookKnobs {
  delayMs: Partial<Record<FacebookRoute, number>>;
  failWith: Partial<Record<FacebookRoute, number>>;
  /** Check proofs against this secret instead of the app's (as if the secret was reset at Facebook). */
  proofSecret: string | undefined;
}

export interface FacebookStandIn {
  readonly origin: string;
  /** Pass as the connector's authorizeUrl, tokenUrl and graphUrl. */
  readonly urls: { readonly authorize: string; readonly token: string; readonly graph: string };
  /** Account `id` is the app-scoped user id; `email` is returned only when set. */
  readonly accounts: AccountBook;
  readonly knobs: FacebookKnobs;
  readonly hits: Record<FacebookRoute, number>;
  registerApp(app: FacebookApp): void;
  /** Access tokens issued so far, for tests that call Graph themselves. */
  issuedTokens(): string[];
  resetKnobs(): void;
  stop(): Promise<void>;
}

interface PendingLogin {
  readonly app: FacebookApp;
  readonly redirectUri: string;
  readonly state: string | null;
  readonly codeChallenge: string | null;
  readonly expiresAt: number;
}

interface IssuedCode extends Omit<PendingLogin, 'state'> {
  readonly accountId: string;
}

const VERSION = '/v19.0';
const newKnobs = (): FacebookKnobs => ({ delayMs: {}, failWith: {}, proofSecret: undefined });

function graphError(res: ServerResponse, status: number, message: string, type = 'OAuthException', code = 100): void {
  sendJson(res, status, { error: { message, type, code, fbtrace_id: randomBytes(8).toString('base64url') } });
}

const same = (a: string, b: string): boolean => {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
};

export async function startFacebookStandIn(options: { accounts?: readonly StandInAccount[]; apps?: readonly FacebookApp[] } = {}): Promise<FacebookStandIn> {
  const listening = await listenOnLoopback();
  const origin = listening.origin;
  const apps = new Map<string, FacebookApp>();
  for (const app of options.apps ?? []) apps.set(app.appId, app);
  const accounts = new AccountBook(options.accounts ?? []);
  const knobs = newKnobs();
  const hits: Record<FacebookRoute, number> = { dialog: 0, token: 0, me: 0 };
  const pending = new Map<string, PendingLogin>();
  const codes = new Map<string, IssuedCode>();
  const tokens = new Map<string, { appId: string; accountId: string }>();

  async function knobbed(route: FacebookRoute, res: ServerResponse): Promise<boolean> {
    hits[route] += 1;
    const delay = knobs.delayMs[route];
    if (delay) await sleep(delay);
    const status = knobs.failWith[route];
    if (!status) return false;
    graphError(res, status, 'An unexpected error has occurred. Please retry your request later.', 'OAuthException', 2);
    return true;
  }

  function back(res: ServerResponse, login: PendingLogin, params: Record<string, string>): void {
    const url = new URL(login.redirectUri);
    for (const [key, value] of Object.entries(params)) url.searchParams.set(key, value);
    if (login.state !== null) url.searchParams.set('state', login.state);
    // Facebook appends this fragment to every redirect back.
    url.hash = '_=_';
    redirect(res, url.href);
  }

  async function dialog(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    if (await knobbed('dialog', res)) return;
    const q = url.searchParams;
    const app = apps.get(q.get('client_id') ?? '');
    const redirectUri = q.get('redirect_uri') ?? '';
    if (!app || !app.redirectUris.includes(redirectUri)) {
      return sendHtml(res, 400, '<!doctype html><title>Error</title><h1>URL blocked: this redirect failed because the redirect URI is not whitelisted</h1>');
    }
    const method = q.get('code_challenge_method');
    if (q.get('code_challenge') !== null && method !== 'S256') return sendHtml(res, 400, '<!doctype html><title>Error</title><h1>Unsupported code_challenge_method</h1>');
    const id = randomBytes(16).toString('base64url');
    pending.set(id, { app, redirectUri, state: q.get('state'), codeChallenge: q.get('code_challenge'), expiresAt: Date.now() + 600_000 });
    sendHtml(
      res,
      200,
      loginPage({
        title: 'Facebook login',
        note: `App ${app.appId} asks for ${q.get('scope') ?? 'public_profile'}.`,
        action: `${VERSION}/dialog/oauth/login`,
        abortAction: `${VERSION}/dialog/oauth/cancel`,
        accounts: accounts.list(),
        hidden: { request: id },
      }),
    );
  }

  async function dialogAnswer(req: IncomingMessage, res: ServerResponse, cancel: boolean): Promise<void> {
    const form = await readForm(req);
    const id = form.get('request') ?? '';
    const login = pending.get(id);
    pending.delete(id);
    if (!login || login.expiresAt < Date.now()) return sendHtml(res, 400, '<!doctype html><title>Expired</title><h1>This login has expired</h1>');
    if (cancel) return back(res, login, { error: 'access_denied', error_code: '200', error_description: 'Permissions error', error_reason: 'user_denied' });
    const email = form.get('email')?.trim();
    let account = email ? accounts.byEmail(email) : accounts.get(form.get('account') ?? '');
    if (!account && email) {
      account = accounts.add({ id: BigInt(`0x${createHash('sha256').update(email.toLowerCase()).digest('hex').slice(0, 13)}`).toString(), email });
    }
    if (!account) return sendHtml(res, 400, '<!doctype html><title>Unknown account</title><h1>No such account here</h1>');
    const code = randomBytes(24).toString('base64url');
    codes.set(code, { app: login.app, redirectUri: login.redirectUri, codeChallenge: login.codeChallenge, expiresAt: Date.now() + 600_000, accountId: account.id });
    back(res, login, { code });
  }

  async function accessToken(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    if (await knobbed('token', res)) return;
    const params = req.method === 'POST' ? new URLSearchParams(await readBody(req)) : url.searchParams;
    let clientId = params.get('client_id');
    let clientSecret = params.get('client_secret');
    const basic = /^Basic (.+)$/i.exec(req.headers.authorization ?? '');
    if (basic) {
      const [id, secret] = Buffer.from(basic[1]!, 'base64').toString().split(':').map((part) => decodeURIComponent(part.replace(/\+/g, ' ')));
      clientId = id ?? null;
      clientSecret = secret ?? null;
    }
    const app = apps.get(clientId ?? '');
    if (!app || !clientSecret || !same(clientSecret, app.appSecret)) return graphError(res, 400, 'Error validating client secret.', 'OAuthException', 1);
    const code = params.get('code') ?? '';
    const issued = codes.get(code);
    codes.delete(code);
    if (!issued || issued.expiresAt < Date.now() || issued.app.appId !== app.appId) {
      return graphError(res, 400, 'This authorization code has expired or has been used.', 'OAuthException', 100);
    }
    if (params.get('redirect_uri') !== issued.redirectUri) return graphError(res, 400, 'Error validating verification code. Please make sure your redirect_uri is identical to the one you used in the OAuth dialog request', 'OAuthException', 100);
    if (issued.codeChallenge !== null) {
      const verifier = params.get('code_verifier') ?? '';
      const challenge = createHash('sha256').update(verifier).digest('base64url');
      if (!verifier || !same(challenge, issued.codeChallenge)) return graphError(res, 400, 'Invalid code verifier.', 'OAuthException', 100);
    }
    const token = `EAA${randomBytes(32).toString('base64url')}`;
    tokens.set(token, { appId: app.appId, accountId: issued.accountId });
    sendJson(res, 200, { access_token: token, token_type: 'bearer', expires_in: 5183944 });
  }

  async function me(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    if (await knobbed('me', res)) return;
    const bearer = /^Bearer (.+)$/i.exec(req.headers.authorization ?? '')?.[1];
    const token = bearer ?? url.searchParams.get('access_token') ?? '';
    const grant = tokens.get(token);
    if (!grant) return graphError(res, 400, 'Invalid OAuth access token - Cannot parse access token', 'OAuthException', 190);
    const app = apps.get(grant.appId)!;
    const expected = createHmac('sha256', knobs.proofSecret ?? app.appSecret).update(token).digest('hex');
    const proof = url.searchParams.get('appsecret_proof');
    if (!proof || !same(proof, expected)) return graphError(res, 400, 'Invalid appsecret_proof provided in the API argument', 'GraphMethodException', 100);
    const account = accounts.get(grant.accountId);
    if (!account) return graphError(res, 400, 'Unsupported get request.', 'GraphMethodException', 100);
    const fields = new Set((url.searchParams.get('fields') ?? 'id,name').split(','));
    const all: Record<string, unknown> = {
      id: account.id,
      ...(account.name !== undefined ? { name: account.name } : {}),
      ...(account.email !== undefined ? { email: account.email } : {}),
      ...(account.givenName !== undefined ? { first_name: account.givenName } : {}),
      ...(account.familyName !== undefined ? { last_name: account.familyName } : {}),
      ...account.claims,
    };
    sendJson(res, 200, Object.fromEntries(Object.entries(all).filter(([key]) => key === 'id' || fields.has(key))));
  }

  listening.handle(async (req, res) => {
    const url = new URL(req.url ?? '/', origin);
    switch (`${req.method} ${url.pathname}`) {
      case `GET ${VERSION}/dialog/oauth`:
        return dialog(req, res, url);
      case `POST ${VERSION}/dialog/oauth/login`:
        return dialogAnswer(req, res, false);
      case `POST ${VERSION}/dialog/oauth/cancel`:
        return dialogAnswer(req, res, true);
      case `GET ${VERSION}/oauth/access_token`:
      case `POST ${VERSION}/oauth/access_token`:
        return accessToken(req, res, url);
      case `GET ${VERSION}/me`:
        return me(req, res, url);
      default:
        res.statusCode = 404;
        res.end();
    }
  });

  return {
    origin,
    urls: { authorize: `${origin}${VERSION}/dialog/oauth`, token: `${origin}${VERSION}/oauth/access_token`, graph: `${origin}${VERSION}` },
    accounts,
    knobs,
    hits,
    registerApp: (app) => {
      apps.set(app.appId, app);
    },
    issuedTokens: () => [...tokens.keys()],
    resetKnobs: () => {
      Object.assign(knobs, newKnobs());
    },
    stop: () => listening.close(),
  };
}
