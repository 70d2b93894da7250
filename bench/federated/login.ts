/**
 * One whole federated guest login as a relying party and a browser make it, timed per hop:
 *
 *   RP → GET {issuer}/auth (PKCE, state, nonce, login_hint, idp=northwind)        authorize
 *      → GET /interaction/{uid}: the hints skip the email page, off to the upstream   interaction
 *      → upstream /auth → POST its sign-in form → upstream resume (3 requests)         upstream
 *      → GET /federation/northwind/callback: code exchanged upstream, ID token checked callback
 *      → GET /interaction/{uid}/continue: guest resolved, sign-in recorded             continue
 *      → (first sign-in of an invited guest only: POST …/consent)                      consent
 *      → GET {issuer}/auth/{uid}: provider resume, redirect to the RP with a code      resume
 *   RP → POST {issuer}/token (client_secret_basic, code_verifier)                      token
 *
 * Each hop is timed at the client, from sending the request to the end of the answer. The
 * stand-in's sign-in page is not fetched: its form is posted directly (the page lists every
 * account the stand-in knows, which grows with the run), as test/helpers/upstreams/README.md
 * allows.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { RelyingPartyApp } from './config.ts';
import { Browser, type Answer } from './browser.ts';

export const PORTICO_HOPS = ['authorize', 'interaction', 'callback', 'continue', 'resume', 'token'] as const;
export type PorticoHop = (typeof PORTICO_HOPS)[number];
export type Hop = PorticoHop | 'consent' | 'upstream';

export interface LoginTarget {
  readonly porticoOrigin: string;
  readonly upstreamOrigin: string;
  readonly authorizationEndpoint: string;
  readonly tokenEndpoint: string;
  /** The connector id sent as `idp=`. */
  readonly idp: string;
}

export interface Guest {
  readonly app: RelyingPartyApp;
  /** The account at the upstream. */
  readonly accountId: string;
  readonly email: string;
  /** An invited guest's first sign-in: Portico asks them to accept the invitation. */
  readonly acceptsInvitation?: boolean;
}

export interface LoginTiming {
  readonly totalMs: number;
  readonly hops: Partial<Record<Hop, number>>;
  /** The guest's object id in the tenant (the ID token's `oid`). */
  readonly oid: string;
  /** For the one signature check the bench makes; never logged. */
  readonly idToken: string;
}

export class LoginError extends Error {
  readonly hop: Hop | 'rp';
  readonly reason: string;
  constructor(hop: Hop | 'rp', reason: string) {
    super(`${hop}: ${reason}`);
    this.hop = hop;
    this.reason = reason;
  }
}

const INTERACTION = /\/interaction\/[A-Za-z0-9_-]+$/;
const CONSENT_FORM = /action="([^"]*\/interaction\/[^"/]+\/consent)"/;
const CSRF = /name="csrf" value="([^"]+)"/;
/** What a refusal page says about itself (data-testid), never its text: enough to group errors. */
const TEST_ID = /data-testid="([a-z0-9-]+)"/;

const base64url = (bytes: number): string => randomBytes(bytes).toString('base64url');

function describe(answer: Answer): string {
  return `status ${answer.status}${answer.location ? ' (redirect)' : ''}${TEST_ID.exec(answer.body)?.[1] ? `, page ${TEST_ID.exec(answer.body)![1]}` : ''}`;
}

/** Which Portico hop a URL is, or undefined for the upstream. */
function porticoHop(url: URL, target: LoginTarget): PorticoHop | undefined {
  if (url.origin !== target.porticoOrigin) return undefined;
  const path = url.pathname;
  if (path.endsWith('/continue')) return 'continue';
  if (path.includes('/federation/')) return 'callback';
  if (INTERACTION.test(path)) return 'interaction';
  if (/\/auth\/[A-Za-z0-9_-]+$/.test(path)) return 'resume';
  throw new LoginError('rp', `unexpected redirect to Portico's ${path.replace(/[A-Za-z0-9_-]{20,}/g, '…')}`);
}

export async function federatedLogin(target: LoginTarget, guest: Guest): Promise<LoginTiming> {
  const browser = new Browser();
  const hops: Partial<Record<Hop, number>> = {};
  const timed = async (hop: Hop, url: URL, init?: Parameters<Browser['send']>[1]): Promise<Answer> => {
    const t0 = performance.now();
    const answer = await browser.send(url, init);
    hops[hop] = (hops[hop] ?? 0) + performance.now() - t0;
    return answer;
  };

  const verifier = base64url(32);
  const state = base64url(16);
  const nonce = base64url(16);
  const authorize = new URL(target.authorizationEndpoint);
  authorize.search = new URLSearchParams({
    client_id: guest.app.clientId,
    response_type: 'code',
    redirect_uri: guest.app.redirectUri,
    scope: 'openid profile email',
    state,
    nonce,
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
    login_hint: guest.email,
    idp: target.idp,
  }).toString();

  const started = performance.now();
  let current = authorize;
  let answer = await timed('authorize', current);
  let hop: Hop = 'authorize';
  let landed: URL | undefined;
  for (let step = 0; step < 12 && !landed; step += 1) {
    if (answer.status === 200 && hop === 'continue' && guest.acceptsInvitation) {
      const action = CONSENT_FORM.exec(answer.body)?.[1];
      const csrf = CSRF.exec(answer.body)?.[1];
      if (!action || !csrf) throw new LoginError(hop, `no consent form (${describe(answer)})`);
      current = new URL(action, current);
      hop = 'consent';
      answer = await timed(hop, current, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ csrf }).toString() });
      continue;
    }
    if (answer.status < 300 || answer.status >= 400 || !answer.location) throw new LoginError(hop, describe(answer));
    const next = new URL(answer.location, current);
    if (next.href.startsWith(guest.app.redirectUri)) {
      landed = next;
      break;
    }
    current = next;
    const portico = porticoHop(next, target);
    if (portico) {
      hop = portico;
      answer = await timed(hop, next);
    } else if (next.origin === target.upstreamOrigin && INTERACTION.test(next.pathname)) {
      // The stand-in's sign-in step, completed as its form would post it.
      hop = 'upstream';
      current = new URL(`${next.pathname}/login`, next);
      answer = await timed(hop, current, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `account=${encodeURIComponent(guest.accountId)}` });
    } else if (next.origin === target.upstreamOrigin) {
      hop = 'upstream';
      answer = await timed(hop, next);
    } else {
      throw new LoginError(hop, `redirect to an unexpected origin ${next.origin}`);
    }
  }
  if (!landed) throw new LoginError(hop, 'too many redirects');
  const error = landed.searchParams.get('error');
  if (error) throw new LoginError('resume', `the RP got error=${error}`);
  const code = landed.searchParams.get('code');
  if (!code || landed.searchParams.get('state') !== state) throw new LoginError('resume', 'the RP got no code or another state');

  const credentials = Buffer.from(`${encodeURIComponent(guest.app.clientId)}:${encodeURIComponent(guest.app.secret)}`).toString('base64');
  const tokenAnswer = await timed('token', new URL(target.tokenEndpoint), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${credentials}` },
    body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: guest.app.redirectUri, code_verifier: verifier }).toString(),
  });
  const totalMs = performance.now() - started;
  if (tokenAnswer.status !== 200) throw new LoginError('token', `status ${tokenAnswer.status}`);
  const tokens = JSON.parse(tokenAnswer.body) as { id_token?: string; access_token?: string; refresh_token?: string };
  if (!tokens.id_token || !tokens.access_token) throw new LoginError('token', 'no ID token or access token');
  // The RP's checks that tell a right login from a wrong one; the signature is Portico's cost to
  // make, not the bench's to check (bench/federated-login.ts verifies one with the JWKS up front).
  const claims = JSON.parse(Buffer.from(tokens.id_token.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
  if (claims['nonce'] !== nonce || claims['aud'] !== guest.app.clientId) throw new LoginError('token', 'ID token for another request');
  if (claims['user_type'] !== 'Guest' || claims['email'] !== guest.email) throw new LoginError('token', 'ID token for someone else');
  return { totalMs, hops, oid: String(claims['oid']), idToken: tokens.id_token };
}
