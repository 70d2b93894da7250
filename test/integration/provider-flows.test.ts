import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as client from 'openid-client';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { startTestPortico, type TestPortico } from '../helpers/portico.ts';
import { codeFlow, relyingParty } from '../helpers/relying-party.ts';
import { redisAvailability } from '../helpers/redis.ts';

const WEB = { id: 'contoso-web', secret: 'demo-web-secret', redirectUri: 'http://localhost:8080/callback' };
const DAEMON = { id: 'contoso-daemon', secret: 'demo-daemon-secret' };
const SPA = { id: 'contoso-spa', redirectUri: 'http://localhost:5173/callback' };
const PAYROLL_API = 'api://contoso/payroll';

async function oauthError(promise: Promise<unknown>): Promise<{ error: string; status: number | undefined }> {
  try {
    await promise;
  } catch (error) {
    // openid-client reports a 401 as a WWW-Authenticate challenge whose parameters hold the error.
    const e = error as { error?: string; status?: number; cause?: { error?: string } | { parameters?: { error?: string } }[] };
    const challenge = Array.isArray(e.cause) ? e.cause[0]?.parameters?.error : undefined;
    return { error: e.error ?? challenge ?? (Array.isArray(e.cause) ? undefined : e.cause?.error) ?? String(error), status: e.status };
  }
  assert.fail('expected an OAuth error');
}

for (const backend of ['sqlite', 'redis'] as const) {
  describe(`OpenID provider on ${backend}`, async () => {
    const redis = backend === 'redis' ? await redisAvailability() : undefined;
    const skip = redis && !redis.available ? redis.reason : false;
    let portico: TestPortico;
    let userId: string;

    before(async () => {
      if (skip) return;
      portico = await startTestPortico({ backend });
      const user = await portico.portico.users.create({
        tenantId: 'contoso',
        userType: 'Member',
        userPrincipalName: `alice-${backend}@contoso.example`,
        displayName: 'Alice',
        mail: `alice-${backend}@contoso.example`,
      });
      userId = user.id;
    });
    after(async () => {
      if (!skip) await portico.dispose();
    });

    it('publishes discovery at the tenant issuer with secure defaults', { skip }, async () => {
      const response = await fetch(`${portico.issuer}/.well-known/openid-configuration`);
      assert.equal(response.status, 200);
      const metadata = (await response.json()) as Record<string, unknown>;
      assert.equal(metadata['issuer'], portico.issuer);
      assert.equal(metadata['token_endpoint'], `${portico.issuer}/token`);
      assert.equal(metadata['jwks_uri'], `${portico.issuer}/jwks`);
      assert.deepEqual(metadata['code_challenge_methods_supported'], ['S256']);
      assert.deepEqual(metadata['response_types_supported'], ['code']);
      assert.equal(metadata['authorization_response_iss_parameter_supported'], true);
      for (const endpoint of ['userinfo_endpoint', 'revocation_endpoint', 'introspection_endpoint', 'end_session_endpoint']) {
        assert.ok(String(metadata[endpoint]).startsWith(portico.issuer), endpoint);
      }
      assert.equal(response.headers.get('x-content-type-options'), 'nosniff');
      assert.match(response.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/);
      assert.ok(response.headers.get('x-request-id'));
    });

    it('issues ES256 JWT access tokens to a daemon by client_credentials, verifiable with the JWKS', { skip }, async () => {
      const config = await relyingParty(portico.issuer, DAEMON.id, DAEMON.secret);
      const tokens = await client.clientCredentialsGrant(config, { scope: 'payroll.read' });
      assert.equal(tokens.token_type.toLowerCase(), 'bearer');
      assert.equal(decodeProtectedHeader(tokens.access_token).alg, 'ES256');
      const jwks = createRemoteJWKSet(new URL(`${portico.issuer}/jwks`));
      const { payload, protectedHeader } = await jwtVerify(tokens.access_token, jwks, { issuer: portico.issuer, audience: PAYROLL_API });
      assert.equal(protectedHeader.typ, 'at+jwt');
      assert.equal(payload['client_id'], DAEMON.id);
      assert.equal(payload['tid'], 'contoso');
      assert.equal(payload['scope'], 'payroll.read');
    });

    it('refuses a daemon with a wrong secret and a resource it may not use', { skip }, async () => {
      const wrong = await relyingParty(portico.issuer, DAEMON.id, 'not-the-secret');
      assert.equal((await oauthError(client.clientCredentialsGrant(wrong))).error, 'invalid_client');
      const config = await relyingParty(portico.issuer, DAEMON.id, DAEMON.secret);
      assert.equal((await oauthError(client.clientCredentialsGrant(config, { resource: 'api://elsewhere/thing' }))).error, 'invalid_target');
    });

    it('runs the code flow with PKCE: ID token claims, userinfo, introspection and revocation', { skip }, async () => {
      const config = await relyingParty(portico.issuer, WEB.id, WEB.secret);
      const { tokens, callbackUrl } = await codeFlow(config, { userId, redirectUri: WEB.redirectUri });
      assert.equal(callbackUrl.searchParams.get('iss'), portico.issuer, 'RFC 9207 iss in the authorization response');
      const claims = tokens.claims()!;
      assert.equal(claims.iss, portico.issuer);
      assert.equal(claims.sub, userId);
      assert.equal(claims['tid'], 'contoso');
      assert.equal(claims['oid'], userId);
      assert.equal(claims['user_type'], 'Member');
      assert.equal(claims['preferred_username'], `alice-${backend}@contoso.example`);
      assert.equal(claims['email'], `alice-${backend}@contoso.example`);
      assert.equal(decodeProtectedHeader(tokens.id_token!).alg, 'RS256');
      assert.ok(tokens.refresh_token, 'a web app allowed refresh_token gets one');

      const userinfo = await client.fetchUserInfo(config, tokens.access_token, userId);
      assert.equal(userinfo['tid'], 'contoso');
      assert.equal(userinfo['name'], 'Alice');

      const active = await client.tokenIntrospection(config, tokens.refresh_token!);
      assert.equal(active.active, true);
      assert.equal(active.client_id, WEB.id);
      await client.tokenRevocation(config, tokens.refresh_token!);
      assert.equal((await client.tokenIntrospection(config, tokens.refresh_token!)).active, false);
    });

    it('rotates refresh tokens and revokes the grant when a rotated one is replayed', { skip }, async () => {
      const config = await relyingParty(portico.issuer, WEB.id, WEB.secret);
      const { tokens } = await codeFlow(config, { userId, redirectUri: WEB.redirectUri });
      const first = tokens.refresh_token!;
      const second = await client.refreshTokenGrant(config, first);
      assert.ok(second.refresh_token && second.refresh_token !== first, 'a new refresh token each time');
      assert.equal(second.claims()?.sub, userId);
      const replay = await oauthError(client.refreshTokenGrant(config, first));
      assert.equal(replay.error, 'invalid_grant');
      // The replay revoked the whole grant: the legitimate newest token is dead too.
      assert.equal((await oauthError(client.refreshTokenGrant(config, second.refresh_token!))).error, 'invalid_grant');
    });

    it('lets exactly one of two simultaneous uses of a refresh token win, and revokes the grant', { skip }, async () => {
      const config = await relyingParty(portico.issuer, WEB.id, WEB.secret);
      const { tokens } = await codeFlow(config, { userId, redirectUri: WEB.redirectUri });
      const results = await Promise.allSettled([0, 1, 2, 3].map(() => client.refreshTokenGrant(config, tokens.refresh_token!)));
      const winners = results.filter((r) => r.status === 'fulfilled');
      assert.ok(winners.length <= 1, `at most one concurrent refresh may succeed, ${winners.length} did`);
      for (const winner of winners) {
        const next = (winner as PromiseFulfilledResult<Awaited<ReturnType<typeof client.refreshTokenGrant>>>).value.refresh_token!;
        assert.equal((await oauthError(client.refreshTokenGrant(config, next))).error, 'invalid_grant');
      }
    });

    it('refuses a replayed authorization code and revokes what it issued', { skip }, async () => {
      const config = await relyingParty(portico.issuer, WEB.id, WEB.secret);
      const verifierFlow = await codeFlow(config, { userId, redirectUri: WEB.redirectUri });
      const code = verifierFlow.callbackUrl.searchParams.get('code')!;
      const response = await fetch(`${portico.issuer}/token`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: `Basic ${Buffer.from(`${WEB.id}:${WEB.secret}`).toString('base64')}`,
        },
        body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: WEB.redirectUri, code_verifier: verifierFlow.codeVerifier }),
      });
      assert.equal(response.status, 400);
      assert.equal(((await response.json()) as { error: string }).error, 'invalid_grant');
      assert.equal((await client.tokenIntrospection(config, verifierFlow.tokens.refresh_token!)).active, false);
    });

    it('requires PKCE and an exactly registered redirect_uri', { skip }, async () => {
      const base = `${portico.issuer}/auth?client_id=${WEB.id}&response_type=code&scope=openid&state=s1`;
      const noPkce = await fetch(`${base}&redirect_uri=${encodeURIComponent(WEB.redirectUri)}`, { redirect: 'manual' });
      assert.equal(noPkce.status, 303);
      const location = new URL(noPkce.headers.get('location')!);
      assert.equal(location.origin + location.pathname, WEB.redirectUri);
      assert.equal(location.searchParams.get('error'), 'invalid_request');
      assert.match(location.searchParams.get('error_description') ?? '', /PKCE/);

      const challenge = await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier());
      for (const redirect of [`${WEB.redirectUri}/extra`, 'http://localhost:8080/callback?x=1', 'http://localhost:8081/callback']) {
        const response = await fetch(`${base}&code_challenge=${challenge}&code_challenge_method=S256&redirect_uri=${encodeURIComponent(redirect)}`, { redirect: 'manual' });
        assert.equal(response.status, 400, `no redirect to an unregistered ${redirect}`);
        const page = await response.text();
        assert.match(page, /redirect_uri/);
        assert.match(page, /Correlation id/);
      }

      const plain = await fetch(`${base}&code_challenge=abcdefghijabcdefghijabcdefghijabcdefghij123&code_challenge_method=plain&redirect_uri=${encodeURIComponent(WEB.redirectUri)}`, { redirect: 'manual' });
      assert.equal(new URL(plain.headers.get('location')!).searchParams.get('error'), 'invalid_request');
    });

    it('lets a public SPA client use the code flow without a secret, with CORS only for its origin', { skip }, async () => {
      const config = await relyingParty(portico.issuer, SPA.id);
      const { tokens } = await codeFlow(config, { userId, redirectUri: SPA.redirectUri });
      assert.equal(tokens.claims()?.sub, userId);
      const allowed = await fetch(`${portico.issuer}/token`, {
        method: 'OPTIONS',
        headers: { origin: 'http://localhost:5173', 'access-control-request-method': 'POST' },
      });
      assert.equal(allowed.headers.get('access-control-allow-origin'), 'http://localhost:5173');
      const tokenFromElsewhere = await fetch(`${portico.issuer}/token`, {
        method: 'POST',
        headers: { origin: 'https://evil.example', 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token ?? 'x', client_id: SPA.id }),
      });
      assert.equal(tokenFromElsewhere.status, 400);
      assert.equal(tokenFromElsewhere.headers.get('access-control-allow-origin'), null);
      assert.equal(((await tokenFromElsewhere.json()) as { error: string }).error, 'invalid_request');
    });

    it('starts the login step on the identifier-first page, with a correlation id and a strict CSP', { skip }, async () => {
      const config = await relyingParty(portico.issuer, WEB.id, WEB.secret);
      const { CookieJar, locationOf } = await import('../helpers/http.ts');
      const browser = new CookieJar();
      const url = client.buildAuthorizationUrl(config, {
        redirect_uri: WEB.redirectUri,
        scope: 'openid',
        code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
        code_challenge_method: 'S256',
      });
      const interaction = locationOf(await browser.fetch(url), url.href);
      const page = await browser.fetch(interaction);
      assert.equal(page.status, 200);
      const body = await page.text();
      assert.match(body, /Sign in to Contoso/);
      assert.match(body, /<label for="email">Email address<\/label>/);
      assert.match(body, /Correlation id: <code data-testid="correlation-id">[A-Za-z0-9_-]+<\/code>/);
      assert.match(page.headers.get('content-security-policy') ?? '', /form-action 'self' http:\/\/localhost:8080/);
      const expired = await new (await import('../helpers/http.ts')).CookieJar().fetch(interaction);
      assert.equal(expired.status, 400);
      assert.match(await expired.text(), /This sign-in has expired/);
    });

    it('never writes secrets, codes or tokens into its logs', { skip }, async () => {
      const config = await relyingParty(portico.issuer, WEB.id, WEB.secret);
      const { tokens, callbackUrl } = await codeFlow(config, { userId, redirectUri: WEB.redirectUri });
      const daemon = await client.clientCredentialsGrant(await relyingParty(portico.issuer, DAEMON.id, DAEMON.secret));
      const text = portico.logs.text;
      assert.ok(portico.logs.lines.length > 5, 'requests are logged');
      for (const secret of [WEB.secret, DAEMON.secret, callbackUrl.searchParams.get('code')!, tokens.access_token, tokens.refresh_token!, tokens.id_token!, daemon.access_token]) {
        assert.ok(!text.includes(secret), 'a secret value reached the log');
      }
    });
  });
}
