import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, beforeEach, describe, it } from 'node:test';
import { appSecretProof, facebookConnector } from '../../../../src/connectors/facebook/index.ts';
import type { RedirectConnector } from '../../../../src/connectors/types.ts';
import { startFacebookStandIn, type FacebookStandIn } from '../../../helpers/upstreams/index.ts';
import { asRedirect, callbackUrlFor, connectorDeps, contextFor, reachCallback, rejectsWith, signIn, withParams } from '../oidc/harness.ts';

const APP_ID = '987654321012345';
const APP_SECRET = 'fb-app-secret';

let fb: FacebookStandIn;
let serial = 0;

async function connector(extra: Record<string, unknown> = {}): Promise<RedirectConnector> {
  const id = `facebook-${(serial += 1)}`;
  fb.registerApp({ appId: APP_ID, appSecret: APP_SECRET, redirectUris: [callbackUrlFor(id)] });
  const config = facebookConnector.schema.parse({
    id,
    kind: 'facebook',
    clientId: APP_ID,
    clientSecret: APP_SECRET,
    authorizeUrl: fb.urls.authorize,
    tokenUrl: fb.urls.token,
    graphUrl: fb.urls.graph,
    ...extra,
  });
  return asRedirect(await facebookConnector.create(config, connectorDeps()));
}

describe('facebook connector', () => {
  before(async () => {
    fb = await startFacebookStandIn({
      accounts: [
        { id: '10160000000000001', email: 'Mia@Example.ORG', name: 'Mia Wong', givenName: 'Mia', familyName: 'Wong' },
        { id: '10160000000000002', name: 'Noor (signed up by phone)' },
      ],
    });
  });
  after(() => fb.stop());
  beforeEach(() => fb.resetKnobs());

  it('sends the login dialog request with state and PKCE S256', async () => {
    const f = await connector();
    const context = contextFor(f.id);
    const { redirectUrl, state } = await f.start(context);
    const url = new URL(redirectUrl);
    assert.equal(url.origin + url.pathname, fb.urls.authorize);
    assert.equal(url.searchParams.get('client_id'), APP_ID);
    assert.equal(url.searchParams.get('redirect_uri'), context.callbackUrl);
    assert.equal(url.searchParams.get('state'), state['state']);
    assert.equal(url.searchParams.get('scope'), 'email,public_profile');
    assert.equal(url.searchParams.get('code_challenge_method'), 'S256');
    assert.equal(url.searchParams.get('code_challenge'), createHash('sha256').update(String(state['codeVerifier'])).digest('base64url'));
    assert.equal(url.searchParams.get('nonce'), null);
  });

  it('signs in through code exchange and Graph /me, with an app-scoped id and a verified email', async () => {
    const f = await connector();
    assert.equal(f.group, 'social');
    assert.equal(f.displayName, 'Facebook');
    const identity = await signIn(f, { account: '10160000000000001' });
    assert.equal(identity.kind, 'facebook');
    assert.equal(identity.issuer, 'https://www.facebook.com');
    assert.equal(identity.idp, 'facebook.com');
    assert.equal(identity.subject, '10160000000000001');
    assert.equal(identity.email, 'Mia@example.org');
    assert.equal(identity.emailVerified, true);
    assert.equal(identity.givenName, 'Mia');
    assert.equal(identity.familyName, 'Wong');
    assert.deepEqual(identity.amr, []);
    assert.equal(fb.hits.me, 1);
  });

  it('handles an account without email: no email, not verified', async () => {
    const identity = await signIn(await connector(), { account: '10160000000000002' });
    assert.equal(identity.subject, '10160000000000002');
    assert.equal(identity.email, undefined);
    assert.equal(identity.emailVerified, false);
  });

  it('turns a cancelled dialog into upstream_denied', async () => {
    const f = await connector();
    const attempt = await reachCallback(f, { cancel: true });
    assert.equal(attempt.callback.searchParams.get('error_reason'), 'user_denied');
    await rejectsWith(f.handleCallback(attempt.callback, attempt.state, attempt.context), 'upstream_denied', /access_denied/);
  });

  it('refuses a state mismatch and a replayed code', async () => {
    const f = await connector();
    const attempt = await reachCallback(f, { account: '10160000000000001' });
    await rejectsWith(f.handleCallback(withParams(attempt.callback, { state: 'forged' }), attempt.state, attempt.context), 'invalid_response', /state mismatch/);
    await f.handleCallback(attempt.callback, attempt.state, attempt.context);
    await rejectsWith(f.handleCallback(attempt.callback, attempt.state, attempt.context), 'invalid_response', /token/);
  });

  it('is refused by the stand-in when the PKCE verifier is wrong', async () => {
    const f = await connector();
    const attempt = await reachCallback(f, { account: '10160000000000001' });
    await rejectsWith(f.handleCallback(attempt.callback, { ...attempt.state, codeVerifier: 'x'.repeat(43) }, attempt.context), 'invalid_response', /token/);
  });

  it('is refused by Graph when appsecret_proof does not match', async () => {
    const f = await connector();
    await signIn(f, { account: '10160000000000001' });
    const token = fb.issuedTokens().at(-1)!;
    const me = (proof: string) => fetch(`${fb.urls.graph}/me?fields=id,email&appsecret_proof=${proof}`, { headers: { authorization: `Bearer ${token}` } });
    const good = await me(appSecretProof(APP_SECRET, token));
    assert.equal(good.status, 200);
    assert.equal(((await good.json()) as { id: string }).id, '10160000000000001');
    const bad = await me(appSecretProof('another-secret', token));
    assert.equal(bad.status, 400);
    assert.match(JSON.stringify(await bad.json()), /Invalid appsecret_proof/);
    const missing = await fetch(`${fb.urls.graph}/me?fields=id`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(missing.status, 400);
    // The connector, when its proof no longer matches (the secret was reset at Facebook), fails closed.
    fb.knobs.proofSecret = 'reset-at-facebook';
    await rejectsWith(signIn(f, { account: '10160000000000001' }), 'invalid_response', /graph \/me: HTTP 400/);
  });

  it('refuses with the wrong app secret at the token endpoint', async () => {
    const f = await connector({ clientSecret: 'not-the-secret' });
    await rejectsWith(signIn(f, { account: '10160000000000001' }), 'invalid_response', /token/);
  });

  it('bounds a slow Graph call by the timeout', async () => {
    const f = await connector({ timeoutSeconds: 0.3 });
    const attempt = await reachCallback(f, { account: '10160000000000001' });
    fb.knobs.delayMs.me = 1500;
    const started = performance.now();
    await rejectsWith(f.handleCallback(attempt.callback, attempt.state, attempt.context), 'upstream_unavailable');
    assert.ok(performance.now() - started < 1000, `took ${performance.now() - started} ms`);
  });
});

describe('facebook connector: config schema', () => {
  it("defaults to Facebook's v19.0 endpoints and refuses a non-numeric app id", () => {
    const config = facebookConnector.schema.parse({ id: 'fb', kind: 'facebook', clientId: '123', clientSecret: 'x' });
    assert.equal(config.authorizeUrl, 'https://www.facebook.com/v19.0/dialog/oauth');
    assert.equal(config.tokenUrl, 'https://graph.facebook.com/v19.0/oauth/access_token');
    assert.equal(config.graphUrl, 'https://graph.facebook.com/v19.0');
    assert.equal(facebookConnector.schema.safeParse({ id: 'fb', kind: 'facebook', clientId: 'app', clientSecret: 'x' }).success, false);
  });
});
