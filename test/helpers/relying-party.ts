import * as client from 'openid-client';
import { CookieJar, locationOf } from './http.ts';

/** An openid-client 6 relying party configured as a careful app would be. */
export async function relyingParty(issuer: string, clientId: string, secret?: string): Promise<client.Configuration> {
  const config = await client.discovery(
    new URL(issuer),
    clientId,
    secret ?? { token_endpoint_auth_method: 'none' },
    secret ? client.ClientSecretBasic(secret) : client.None(),
    { execute: [client.allowInsecureRequests] },
  );
  // Without this openid-client does not verify the ID token's signature from the token endpoint.
  client.enableNonRepudiationChecks(config);
  return config;
}

export interface CodeFlowResult {
  readonly tokens: Awaited<ReturnType<typeof client.authorizationCodeGrant>>;
  readonly callbackUrl: URL;
  readonly browser: CookieJar;
  readonly codeVerifier: string;
}

/**
 * The authorization code flow with PKCE, state and nonce, signing in through the test-only login
 * step as `userId`. Returns the tokens the relying party ends up with.
 */
export async function codeFlow(
  config: client.Configuration,
  options: { userId: string; redirectUri: string; scope?: string; extra?: Record<string, string>; browser?: CookieJar },
): Promise<CodeFlowResult> {
  const browser = options.browser ?? new CookieJar();
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const authorizationUrl = client.buildAuthorizationUrl(config, {
    redirect_uri: options.redirectUri,
    scope: options.scope ?? 'openid profile email',
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    nonce,
    ...options.extra,
  });
  let response = await browser.fetch(authorizationUrl);
  let location = locationOf(response, authorizationUrl.href);
  if (location.pathname.includes('/interaction/')) {
    const page = await browser.fetch(location);
    if (page.status !== 200) throw new Error(`interaction page answered ${page.status}: ${await page.text()}`);
    response = await browser.fetch(new URL(`${location.pathname}/test-login`, location), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ user: options.userId }),
    });
    location = locationOf(response, location.href);
    // The provider resumes the authorization, then redirects to the app.
    while (!location.href.startsWith(options.redirectUri)) {
      response = await browser.fetch(location);
      location = locationOf(response, location.href);
    }
  }
  const tokens = await client.authorizationCodeGrant(config, location, {
    pkceCodeVerifier: verifier,
    expectedState: state,
    expectedNonce: nonce,
    idTokenExpected: true,
  });
  return { tokens, callbackUrl: location, browser, codeVerifier: verifier };
}
