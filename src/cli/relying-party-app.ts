import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as client from 'openid-client';

export interface SignedIn {
  readonly idTokenClaims: Record<string, unknown>;
  readonly accessToken: string;
  readonly refreshToken?: string | undefined;
}

export interface RelyingPartyApp {
  /** Where a browser starts a sign-in (`/login`, optional `?login_hint=…&idp=…&domain_hint=…`). */
  readonly loginUrl: string;
  readonly redirectUri: string;
  /** Resolves with the tokens of the next completed sign-in. */
  nextSignIn(): Promise<SignedIn>;
  /** Every sign-in completed so far. */
  readonly signIns: readonly SignedIn[];
  stop(): Promise<void>;
}

/**
 * A small relying-party web app: it redirects the browser to Portico with PKCE, state and nonce,
 * redeems the code with openid-client on the callback, and shows the ID token's claims. It is
 * `portico demo-app` (to try a sign-in by hand) and the app the browser tests drive (redirect
 * hops are real requests there, which page.route() would not see).
 */
export async function startRelyingPartyApp(options: {
  issuer: string;
  clientId: string;
  clientSecret?: string;
  port: number;
  path?: string;
  host?: string;
}): Promise<RelyingPartyApp> {
  const redirectUri = `http://localhost:${options.port}${options.path ?? '/callback'}`;
  const config = await client.discovery(
    new URL(options.issuer),
    options.clientId,
    options.clientSecret ?? { token_endpoint_auth_method: 'none' },
    options.clientSecret ? client.ClientSecretBasic(options.clientSecret) : client.None(),
    options.issuer.startsWith('http:') ? { execute: [client.allowInsecureRequests] } : undefined,
  );
  // Without this openid-client does not verify the ID token's signature from the token endpoint.
  client.enableNonRepudiationChecks(config);
  const pending = new Map<string, { verifier: string; nonce: string }>();
  const signIns: SignedIn[] = [];
  let waiters: ((s: SignedIn) => void)[] = [];

  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', redirectUri);
    void (async () => {
      if (url.pathname === '/login') {
        const verifier = client.randomPKCECodeVerifier();
        const state = client.randomState();
        const nonce = client.randomNonce();
        pending.set(state, { verifier, nonce });
        const extra = Object.fromEntries([...url.searchParams].filter(([k]) => ['login_hint', 'idp', 'domain_hint', 'prompt'].includes(k)));
        const target = client.buildAuthorizationUrl(config, {
          redirect_uri: redirectUri,
          scope: 'openid profile email',
          code_challenge: await client.calculatePKCECodeChallenge(verifier),
          code_challenge_method: 'S256',
          state,
          nonce,
          ...extra,
        });
        res.writeHead(302, { location: target.href }).end();
        return;
      }
      if (url.pathname === (options.path ?? '/callback')) {
        const state = url.searchParams.get('state') ?? '';
        const expected = pending.get(state);
        if (!expected) {
          res.writeHead(400, { 'content-type': 'text/plain' }).end(`unknown state; error=${url.searchParams.get('error') ?? ''}`);
          return;
        }
        pending.delete(state);
        const tokens = await client.authorizationCodeGrant(config, url, {
          pkceCodeVerifier: expected.verifier,
          expectedState: state,
          expectedNonce: expected.nonce,
          idTokenExpected: true,
        });
        const signedIn: SignedIn = {
          idTokenClaims: { ...tokens.claims()! },
          accessToken: tokens.access_token,
          refreshToken: tokens.refresh_token,
        };
        signIns.push(signedIn);
        const current = waiters;
        waiters = [];
        for (const resolve of current) resolve(signedIn);
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(
          `<!doctype html><title>Signed in</title><h1>Signed in</h1><p>The ID token Portico issued says:</p><pre id="claims">${JSON.stringify(signedIn.idTokenClaims, null, 2).replace(/&/g, '&amp;').replace(/</g, '&lt;')}</pre><p><a href="/login">Sign in again</a></p>`,
        );
        return;
      }
      if (url.pathname === '/') {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(
          '<!doctype html><title>Demo app</title><h1>Demo app</h1><p>An app that signs people in with Portico.</p><p><a href="/login">Sign in</a></p>',
        );
        return;
      }
      res.writeHead(404).end();
    })().catch((error: unknown) => {
      res.writeHead(500, { 'content-type': 'text/plain' }).end(`relying party failed: ${error instanceof Error ? error.message : String(error)}`);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '127.0.0.1', resolve);
  });
  const port = (server.address() as AddressInfo).port;
  return {
    loginUrl: `http://localhost:${port}/login`,
    redirectUri,
    signIns,
    nextSignIn: () => new Promise((resolve) => waiters.push(resolve)),
    stop: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
