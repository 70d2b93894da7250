/**
 * The `oidc` connector against a real oidc-provider stand-in: the authorization request, the
 * authorization response checks (state, flow, callback URL, RFC 9207 iss, upstream errors) and
 * the identity that comes out.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { oidcConnector } from '../../../../src/connectors/oidc/index.ts';
import type { RedirectConnector } from '../../../../src/connectors/types.ts';
import { startOidcStandIn, type OidcStandIn } from '../../../helpers/upstreams/index.ts';
import { asRedirect, callbackUrlFor, connectorDeps, reachCallback, rejectsWith, signIn, withParams } from './harness.ts';

const ACCOUNTS = [
  {
    id: 'alice-0001',
    email: 'Alice.Smith@Fabrikam.EXAMPLE',
    name: 'Alice Smith',
    givenName: 'Alice',
    familyName: 'Smith',
    amr: ['pwd', 'mfa'],
    acr: 'urn:fabrikam:mfa',
    claims: { device_compliant: true, device_hybrid_joined: false, department: 'Finance' },
  },
  { id: 'bob-0002', email: 'bob@fabrikam.example', emailVerified: false, name: 'Bob' },
];

let idp: OidcStandIn;

async function connector(id: string, extra: Record<string, unknown> = {}): Promise<RedirectConnector> {
  idp.registerClient({
    clientId: `portico-${id}`,
    clientSecret: `secret-${id}`,
    redirectUris: [callbackUrlFor(id)],
    ...(extra['clientAuth'] === 'client_secret_post' ? { authMethod: 'client_secret_post' as const } : {}),
  });
  const config = oidcConnector.schema.parse({ id, kind: 'oidc', issuer: idp.issuer, clientId: `portico-${id}`, clientSecret: `secret-${id}`, ...extra });
  return asRedirect(await oidcConnector.create(config, connectorDeps()));
}

describe('oidc connector: sign-in', () => {
  before(async () => {
    idp = await startOidcStandIn({ accounts: ACCOUNTS, label: 'Fabrikam IdP' });
  });
  after(() => idp.stop());
  beforeEach(() => idp.resetKnobs());

  it('asks for the code flow with PKCE S256, state, nonce, login_hint and its own callback URL', async () => {
    const partner = await connector('fabrikam');
    const context = { flowId: 'flow-1', callbackUrl: callbackUrlFor('fabrikam'), loginHint: 'alice@fabrikam.example', locale: 'fr-CA' };
    const { redirectUrl, state } = await partner.start(context);
    const url = new URL(redirectUrl);
    assert.equal(url.origin + url.pathname, `${idp.issuer}/auth`);
    const q = url.searchParams;
    assert.equal(q.get('response_type'), 'code');
    assert.equal(q.get('client_id'), 'portico-fabrikam');
    assert.equal(q.get('redirect_uri'), callbackUrlFor('fabrikam'));
    assert.equal(q.get('scope'), 'openid email profile');
    assert.equal(q.get('code_challenge_method'), 'S256');
    assert.match(q.get('code_challenge') ?? '', /^[A-Za-z0-9_-]{43}$/);
    assert.equal(q.get('login_hint'), 'alice@fabrikam.example');
    assert.equal(q.get('ui_locales'), 'fr-CA');
    assert.equal(q.get('state'), state['state']);
    assert.equal(q.get('nonce'), state['nonce']);
    assert.equal(state['flowId'], 'flow-1');
    // Two starts never share state, nonce or verifier.
    const again = await partner.start(context);
    assert.notEqual(again.state['state'], state['state']);
    assert.notEqual(again.state['nonce'], state['nonce']);
    assert.notEqual(again.state['codeVerifier'], state['codeVerifier']);
  });

  it('returns the identity: issuer, subject, normalised verified email, names, amr/acr, device claims, userinfo merged', async () => {
    const partner = await connector('fabrikam-happy');
    const identity = await signIn(partner, { account: 'alice-0001' });
    assert.equal(identity.connectorId, 'fabrikam-happy');
    assert.equal(identity.kind, 'oidc');
    assert.equal(identity.issuer, idp.issuer);
    assert.equal(identity.subject, 'alice-0001');
    assert.equal(identity.idp, idp.issuer);
    assert.equal(identity.email, 'Alice.Smith@fabrikam.example');
    assert.equal(identity.emailVerified, true);
    assert.equal(identity.name, 'Alice Smith');
    assert.equal(identity.givenName, 'Alice');
    assert.equal(identity.familyName, 'Smith');
    assert.deepEqual(identity.amr, ['pwd', 'mfa']);
    assert.equal(identity.acr, 'urn:fabrikam:mfa');
    assert.deepEqual(identity.device, { compliant: true, hybridJoined: false });
    assert.equal(identity.rawClaims['department'], 'Finance');
    // The stand-in serves email and profile from userinfo only: they arrived, so userinfo was read.
    assert.equal(identity.rawClaims['email'], 'Alice.Smith@Fabrikam.EXAMPLE');
    for (const value of Object.values(identity.rawClaims)) {
      assert.ok(typeof value !== 'string' || !/^ey[A-Za-z0-9_-]+\./.test(value), 'no token in rawClaims');
    }
  });

  it('honours email_verified: false', async () => {
    const partner = await connector('fabrikam-unverified');
    const identity = await signIn(partner, { account: 'bob-0002' });
    assert.equal(identity.email, 'bob@fabrikam.example');
    assert.equal(identity.emailVerified, false);
  });

  it('uses the configured idp value and claim names', async () => {
    const partner = await connector('fabrikam-mapped', { idp: 'fabrikam.example', claims: { name: 'department', email: 'nope' } });
    const identity = await signIn(partner, { account: 'alice-0001' });
    assert.equal(identity.idp, 'fabrikam.example');
    assert.equal(identity.name, 'Finance');
    assert.equal(identity.email, undefined);
    assert.equal(identity.emailVerified, false);
  });

  it('refuses a token whose configured subject claim is missing', async () => {
    const partner = await connector('fabrikam-subject', { claims: { subject: 'employee_id' } });
    await rejectsWith(signIn(partner, { account: 'alice-0001' }), 'incomplete_identity');
  });

  it('authenticates to the token endpoint with client_secret_post when configured', async () => {
    const partner = await connector('fabrikam-post', { clientAuth: 'client_secret_post' });
    assert.equal((await signIn(partner, { account: 'alice-0001' })).subject, 'alice-0001');
  });

  it('turns the IdP error response (the person cancelled) into upstream_denied', async () => {
    const partner = await connector('fabrikam-cancel');
    const attempt = await reachCallback(partner, { cancel: true });
    assert.equal(attempt.callback.searchParams.get('error'), 'access_denied');
    await rejectsWith(partner.handleCallback(attempt.callback, attempt.state, attempt.context), 'upstream_denied', /access_denied/);
  });

  it('refuses a state that does not match, without exchanging the code', async () => {
    const partner = await connector('fabrikam-state');
    const attempt = await reachCallback(partner, { account: 'alice-0001' });
    const tokenCalls = idp.hits.token;
    await rejectsWith(partner.handleCallback(withParams(attempt.callback, { state: 'forged' }), attempt.state, attempt.context), 'invalid_response', /state mismatch/);
    await rejectsWith(partner.handleCallback(withParams(attempt.callback, { state: undefined }), attempt.state, attempt.context), 'invalid_response', /state mismatch/);
    assert.equal(idp.hits.token, tokenCalls);
    // The untouched response still works afterwards: nothing was consumed.
    assert.equal((await partner.handleCallback(attempt.callback, attempt.state, attempt.context)).subject, 'alice-0001');
  });

  it("refuses another flow's state and a response at another connector's callback URL", async () => {
    const partner = await connector('fabrikam-flow');
    const attempt = await reachCallback(partner, { account: 'alice-0001' });
    await rejectsWith(partner.handleCallback(attempt.callback, attempt.state, { ...attempt.context, flowId: 'another-flow' }), 'invalid_response', /another sign-in flow/);
    const elsewhere = new URL(attempt.callback.href.replace('/connectors/fabrikam-flow/', '/connectors/other/'));
    await rejectsWith(partner.handleCallback(elsewhere, attempt.state, attempt.context), 'invalid_response', /another callback URL/);
  });

  it('requires the advertised RFC 9207 iss parameter and refuses a wrong one', async () => {
    const partner = await connector('fabrikam-iss');
    const attempt = await reachCallback(partner, { account: 'alice-0001' });
    assert.equal(attempt.callback.searchParams.get('iss'), idp.issuer);
    await rejectsWith(partner.handleCallback(withParams(attempt.callback, { iss: undefined }), attempt.state, attempt.context), 'invalid_response', /iss parameter missing/);
    await rejectsWith(partner.handleCallback(withParams(attempt.callback, { iss: 'https://evil.example' }), attempt.state, attempt.context), 'invalid_response', /another issuer/);
  });

  it('refuses a wrong iss parameter even when the IdP does not advertise it, and accepts its absence then', async () => {
    idp.knobs.discovery['authorization_response_iss_parameter_supported'] = false;
    const partner = await connector('fabrikam-iss-unadvertised');
    const attempt = await reachCallback(partner, { account: 'alice-0001' });
    await rejectsWith(partner.handleCallback(withParams(attempt.callback, { iss: `${idp.issuer}/other` }), attempt.state, attempt.context), 'invalid_response', /another issuer/);
    const identity = await partner.handleCallback(withParams(attempt.callback, { iss: undefined }), attempt.state, attempt.context);
    assert.equal(identity.subject, 'alice-0001');
  });

  it('refuses a replayed authorization response (the code is single-use at the IdP)', async () => {
    const partner = await connector('fabrikam-replay');
    const attempt = await reachCallback(partner, { account: 'alice-0001' });
    await partner.handleCallback(attempt.callback, attempt.state, attempt.context);
    await rejectsWith(partner.handleCallback(attempt.callback, attempt.state, attempt.context), 'invalid_response', /invalid_grant/);
  });

  it('refuses an ID token issued for another nonce', async () => {
    const partner = await connector('fabrikam-nonce');
    idp.knobs.idTokenClaims['nonce'] = 'a-nonce-from-another-request';
    await rejectsWith(signIn(partner, { account: 'alice-0001' }), 'invalid_response', /nonce mismatch/);
    idp.knobs.idTokenClaims = {};
    idp.knobs.removeIdTokenClaims = ['nonce'];
    await rejectsWith(signIn(partner, { account: 'alice-0001' }), 'invalid_response', /nonce mismatch/);
  });

  it('keeps no token, code or verifier out of what it returns', async () => {
    const partner = await connector('fabrikam-leak');
    const attempt = await reachCallback(partner, { account: 'alice-0001' });
    const code = attempt.callback.searchParams.get('code')!;
    const identity = await partner.handleCallback(attempt.callback, attempt.state, attempt.context);
    const text = JSON.stringify(identity);
    assert.ok(!text.includes(code));
    assert.ok(!text.includes(String(attempt.state['codeVerifier'])));
  });
});
