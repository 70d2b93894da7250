import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { googleConnector } from '../../../../src/connectors/google/index.ts';
import type { RedirectConnector } from '../../../../src/connectors/types.ts';
import { startGoogleStandIn, type GoogleStandIn } from '../../../helpers/upstreams/index.ts';
import { asRedirect, callbackUrlFor, connectorDeps, contextFor, rejectsWith, signIn } from '../oidc/harness.ts';

let google: GoogleStandIn;
let serial = 0;

async function connector(extra: Record<string, unknown> = {}): Promise<RedirectConnector> {
  const id = `google-${(serial += 1)}`;
  google.registerClient({ clientId: '1234-portico.apps.googleusercontent.com', clientSecret: 'GOCSPX-secret', redirectUris: [callbackUrlFor(id)] });
  const config = googleConnector.schema.parse({
    id,
    kind: 'google',
    clientId: '1234-portico.apps.googleusercontent.com',
    clientSecret: 'GOCSPX-secret',
    issuer: google.issuer,
    ...extra,
  });
  return asRedirect(await googleConnector.create(config, connectorDeps()));
}

describe('google connector', () => {
  before(async () => {
    google = await startGoogleStandIn({
      accounts: [
        { id: '104729134200000000001', email: 'dana@gmail.com', name: 'Dana Lee', givenName: 'Dana', familyName: 'Lee' },
        { id: '104729134200000000002', email: 'erin@northwind.example', name: 'Erin', hostedDomain: 'northwind.example' },
        { id: '104729134200000000003', email: 'frank@tailspin.example', name: 'Frank', hostedDomain: 'tailspin.example' },
        { id: '104729134200000000004', email: 'gus@gmail.com', emailVerified: false, name: 'Gus' },
      ],
    });
  });
  after(() => google.stop());
  beforeEach(() => google.resetKnobs());

  it('signs in a Google account as idp google.com, group social, with the default gmail domains', async () => {
    const g = await connector();
    assert.equal(g.displayName, 'Google');
    assert.equal(g.group, 'social');
    assert.deepEqual(g.domains, ['gmail.com', 'googlemail.com']);
    const identity = await signIn(g, { account: '104729134200000000001' });
    assert.equal(identity.kind, 'google');
    assert.equal(identity.idp, 'google.com');
    assert.equal(identity.issuer, google.issuer);
    assert.equal(identity.subject, '104729134200000000001');
    assert.equal(identity.email, 'dana@gmail.com');
    assert.equal(identity.emailVerified, true);
    assert.equal(identity.givenName, 'Dana');
    // Google's claims are in the ID token: no userinfo call needed.
    assert.equal(google.hits.userinfo, 0);
  });

  it("accepts the bare issuer spelling Google documents, keyed under the https issuer", async () => {
    const g = await connector();
    google.useBareIssuer();
    const identity = await signIn(g, { account: '104729134200000000001' });
    assert.equal(identity.rawClaims['iss'], google.bareIssuer);
    assert.equal(identity.issuer, google.issuer);
    assert.equal(identity.subject, '104729134200000000001');
  });

  it('refuses any third spelling of the issuer', async () => {
    const g = await connector();
    const host = google.bareIssuer;
    for (const iss of [`https://${host}`, `${google.issuer}/`, `//${host}`, host.toUpperCase().replace('127.0.0.1', 'LOCALHOST'), `accounts.google.com`]) {
      google.knobs.idTokenClaims = { iss };
      await rejectsWith(signIn(g, { account: '104729134200000000001' }), 'invalid_response', /unexpected iss/);
    }
  });

  it('honours email_verified: false', async () => {
    const identity = await signIn(await connector(), { account: '104729134200000000004' });
    assert.equal(identity.email, 'gus@gmail.com');
    assert.equal(identity.emailVerified, false);
  });

  it('admits only the hosted domains listed, and hints the single one on the request', async () => {
    const g = await connector({ hostedDomains: ['northwind.example'] });
    const { redirectUrl } = await g.start(contextFor(g.id));
    assert.equal(new URL(redirectUrl).searchParams.get('hd'), 'northwind.example');
    const identity = await signIn(g, { account: '104729134200000000002' });
    assert.equal(identity.rawClaims['hd'], 'northwind.example');
    await rejectsWith(signIn(g, { account: '104729134200000000003' }), 'invalid_response', /hd not in hostedDomains/);
    await rejectsWith(signIn(g, { account: '104729134200000000001' }), 'invalid_response', /hd absent/);
  });

  it('still verifies the signature of bare-issuer tokens', async () => {
    const g = await connector();
    google.useBareIssuer();
    google.knobs.idTokenSigning = 'wrong-key';
    await rejectsWith(signIn(g, { account: '104729134200000000001' }), 'invalid_response', /SIGNATURE/);
  });
});

describe('google connector: config schema', () => {
  const base = { id: 'google', kind: 'google', clientId: 'portico', clientSecret: 'x' };
  it("defaults to Google's real issuer and refuses an issuer with a path", () => {
    assert.equal(googleConnector.schema.parse(base).issuer, 'https://accounts.google.com');
    assert.equal(googleConnector.schema.safeParse({ ...base, issuer: 'https://accounts.google.com/o' }).success, false);
    assert.equal(googleConnector.schema.safeParse({ ...base, issuer: 'http://accounts.google.com' }).success, false);
    assert.equal(googleConnector.schema.safeParse({ ...base, hostedDomains: ['Northwind.Example'] }).success, false);
  });
});
