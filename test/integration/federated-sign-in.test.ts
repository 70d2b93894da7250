import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { guestUserPrincipalName } from '../../src/directory/users.ts';
import { startTestPortico, type TestPortico } from '../helpers/portico.ts';
import { federationTenantYaml } from '../helpers/federation-tenant.ts';
import { relyingParty } from '../helpers/relying-party.ts';
import { SignInSession } from '../helpers/sign-in.ts';
import {
  signInUpstream,
  startFacebookStandIn,
  startGoogleStandIn,
  startMicrosoftStandIn,
  startOidcStandIn,
  type FacebookStandIn,
  type GoogleStandIn,
  type MicrosoftStandIn,
  type OidcStandIn,
} from '../helpers/upstreams/index.ts';
import { freePort } from '../helpers/http.ts';

const ENTRA_TENANT = '6f0c2f0e-2b9a-4a8e-9a51-0f6f2a6c1b11';
const SELF_SERVICE = { id: 'contoso-portal', redirectUri: 'http://localhost:8090/callback' };

describe('guest sign-in through upstream IdPs', () => {
  let portico: TestPortico;
  let google: GoogleStandIn;
  let microsoft: MicrosoftStandIn;
  let northwind: OidcStandIn;
  let facebook: FacebookStandIn;

  before(async () => {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}/contoso/v2.0/federation`;
    google = await startGoogleStandIn({
      accounts: [{ id: 'g-bob', email: 'bob@gmail.com', emailVerified: true, name: 'Bob Gmail' }],
      clients: [{ clientId: 'portico-google', clientSecret: 'google-secret', redirectUris: [`${base}/google/callback`] }],
    });
    microsoft = await startMicrosoftStandIn({
      tenants: [{ id: ENTRA_TENANT, name: 'Adatum', domains: ['adatum.com'] }],
      accounts: [
        { id: 'm-alice', tenantId: ENTRA_TENANT, email: 'alice@adatum.com', emailDomainVerified: true, name: 'Alice Adatum' },
        { id: 'm-carl', tenantId: '9188040d-6c67-4c5b-b112-36a304b66dad', email: 'carl@outlook.com', name: 'Carl Outlook' },
      ],
      clients: [{ clientId: 'portico-microsoft', clientSecret: 'microsoft-secret', redirectUris: [`${base}/microsoft/callback`] }],
    });
    northwind = await startOidcStandIn({
      accounts: [
        { id: 'n-nina', email: 'nina@northwind.example', emailVerified: true, name: 'Nina Northwind' },
        { id: 'n-eve', email: 'victim@northwind.example', emailVerified: false, name: 'Not Verified' },
      ],
      clients: [{ clientId: 'portico-northwind', clientSecret: 'northwind-secret', redirectUris: [`${base}/northwind/callback`] }],
      claimsInIdToken: true,
    });
    facebook = await startFacebookStandIn({
      accounts: [{ id: '10001', email: 'fay@example.net', name: 'Fay Facebook' }],
      apps: [{ appId: '123456', appSecret: 'facebook-secret', redirectUris: [`${base}/facebook/callback`] }],
    });
    portico = await startTestPortico({
      backend: 'sqlite',
      port,
      tenantFiles: {
        contoso: federationTenantYaml({
          google: { issuer: google.issuer, clientId: 'portico-google', clientSecret: 'google-secret' },
          microsoft: { authority: microsoft.authority, clientId: 'portico-microsoft', clientSecret: 'microsoft-secret' },
          northwind: { issuer: northwind.issuer, clientId: 'portico-northwind', clientSecret: 'northwind-secret', timeoutSeconds: 2 },
          facebook: { authorizeUrl: facebook.urls.authorize, tokenUrl: facebook.urls.token, graphUrl: facebook.urls.graph, clientId: '123456', clientSecret: 'facebook-secret' },
          apps: [{ ...SELF_SERVICE, selfServiceSignUp: true }],
        }),
      },
    });
  });

  after(async () => {
    await portico?.dispose();
    await Promise.all([google?.stop(), microsoft?.stop(), northwind?.stop(), facebook?.stop()]);
  });

  async function session(app: { id: string; redirectUri: string; secret: string } = { id: 'contoso-web', redirectUri: 'http://localhost:8080/callback', secret: 'demo-web-secret' }) {
    return new SignInSession(await relyingParty(portico.issuer, app.id, app.secret), app.redirectUri);
  }
  const portal = () => session({ ...SELF_SERVICE, secret: 'test-app-secret' });

  /** Completes the upstream part with the stand-in, then follows Portico back to the app. */
  async function viaUpstream(s: SignInSession, who: { account?: string; email?: string; cancel?: boolean }) {
    assert.ok(!s.url.href.startsWith(portico.issuer.replace('/v2.0', '')) || s.url.pathname.includes('federation'), 'left Portico for the upstream');
    const callback = await signInUpstream({ start: s.url, until: `http://127.0.0.1:${portico.port}/contoso/v2.0/federation/`, browser: s.browser, ...who });
    return s.follow(callback);
  }

  it('sends gmail.com to Google and signs a self-service guest up: idp google.com', async () => {
    const s = await portal();
    await s.start();
    await s.submit('email', { email: 'bob@gmail.com' });
    assert.ok(s.url.href.startsWith(google.issuer), `redirected to Google, not ${s.url.href}`);
    await viaUpstream(s, { account: 'g-bob' });
    const claims = (await s.tokens()).claims()!;
    assert.equal(claims['user_type'], 'Guest');
    assert.equal(claims['idp'], 'google.com');
    assert.equal(claims['preferred_username'], 'bob_gmail.com#EXT#@contoso.example');
    assert.equal(claims['name'], 'Bob Gmail');
    assert.deepEqual(claims.amr, ['fed']);
    const user = await portico.portico.users.get('contoso', String(claims['oid']));
    assert.equal(user?.creationType, 'SelfServiceSignUp');
    assert.equal(user?.identities[0]?.issuer, google.issuer);
  });

  it('links an invited Entra guest on first sign-in: idp and home_tid from the Entra tenant', async () => {
    const invited = await portico.portico.users.create({
      tenantId: 'contoso',
      userType: 'Guest',
      userPrincipalName: guestUserPrincipalName('alice@adatum.com', 'contoso.example'),
      displayName: 'Alice',
      mail: 'alice@adatum.com',
      externalUserState: 'PendingAcceptance',
    });
    const s = await session();
    await s.start();
    await s.submit('email', { email: 'alice@adatum.com' });
    // adatum.com is claimed by no IdP: the redemption order offers Microsoft, Facebook and passcode.
    assert.match(s.page, /Choose how to sign in/);
    assert.match(s.page, /data-testid="idp-microsoft"/);
    assert.match(s.page, /data-testid="idp-facebook"/);
    assert.match(s.page, /data-testid="idp-email"/);
    await s.submit('choose', { idp: 'microsoft' });
    await viaUpstream(s, { account: 'm-alice' });
    assert.match(s.page, /data-testid="consent"/, 'the invited guest accepts first');
    await s.submit('consent', {});
    const claims = (await s.tokens()).claims()!;
    assert.equal(claims.sub, invited.id);
    assert.equal(claims['idp'], `https://sts.windows.net/${ENTRA_TENANT}/`);
    assert.equal(claims['home_tid'], ENTRA_TENANT);
    const user = await portico.portico.users.get('contoso', invited.id);
    assert.equal(user?.externalUserState, 'Accepted');
    assert.equal(user?.identities[0]?.issuerTenantId, ENTRA_TENANT);
  });

  it('signs in a Microsoft personal account with idp live.com, skipping the email step with idp=', async () => {
    const s = await portal();
    await s.start({ idp: 'microsoft', login_hint: 'carl@outlook.com' });
    await viaUpstream(s, { account: 'm-carl' });
    const claims = (await s.tokens()).claims()!;
    assert.equal(claims['idp'], 'live.com');
    assert.equal(claims['user_type'], 'Guest');
  });

  it('routes a partner domain to its own OIDC IdP, shows the partner organisation, and signs in', async () => {
    const s = await portal();
    await s.start({ domain_hint: 'northwind.example' });
    assert.ok(s.url.href.startsWith(northwind.issuer), 'domain_hint skipped the email step');
    await viaUpstream(s, { account: 'n-nina' });
    const claims = (await s.tokens()).claims()!;
    assert.equal(claims['idp'], northwind.issuer);
    assert.equal(claims['preferred_username'], 'nina_northwind.example#EXT#@contoso.example');
  });

  it('signs in with Facebook from the picker', async () => {
    const s = await portal();
    await s.start({ login_hint: 'fay@example.net' });
    assert.match(s.page, /data-testid="idp-facebook"/);
    await s.submit('choose', { idp: 'facebook' });
    await viaUpstream(s, { account: '10001' });
    const claims = (await s.tokens()).claims()!;
    assert.equal(claims['idp'], 'facebook.com');
    assert.equal(claims['email'], 'fay@example.net');
  });

  it('never links an unverified upstream email to an invited guest', async () => {
    const invited = await portico.portico.users.create({
      tenantId: 'contoso',
      userType: 'Guest',
      userPrincipalName: guestUserPrincipalName('victim@northwind.example', 'contoso.example'),
      displayName: 'Victim',
      mail: 'victim@northwind.example',
      externalUserState: 'PendingAcceptance',
    });
    const s = await session();
    await s.start({ login_hint: 'victim@northwind.example' });
    const response = await viaUpstream(s, { account: 'n-eve' });
    assert.equal(response.status, 403);
    assert.match(s.page, /data-testid="not-invited"/);
    const after = await portico.portico.users.get('contoso', invited.id);
    assert.deepEqual(after?.identities, [], 'nothing was linked');
    assert.equal(after?.externalUserState, 'PendingAcceptance');
  });

  it('ends a cancelled upstream sign-in on a clear page with a correlation id and another way, creating nobody', async () => {
    const before = (await portico.portico.users.list('contoso')).length;
    const s = await portal();
    await s.start({ login_hint: 'nina@northwind.example' });
    const response = await viaUpstream(s, { cancel: true });
    assert.equal(response.status, 400);
    assert.match(s.page, /data-testid="upstream-error-upstream_denied"/);
    assert.match(s.page, /cancelled or refused at Northwind/);
    assert.match(s.page, /Correlation id/);
    assert.match(s.page, /data-testid="try-another-way"/);
    assert.equal((await portico.portico.users.list('contoso')).length, before);
    await s.submit('restart', {});
    assert.match(s.page, /<input type="email"/);
  });

  it('gives up on an upstream that does not answer within its timeout', async () => {
    const s = await portal();
    await s.start({ login_hint: 'nina@northwind.example' });
    northwind.knobs.delayMs['token'] = 5_000;
    try {
      const started = Date.now();
      const response = await viaUpstream(s, { account: 'n-nina' });
      assert.equal(response.status, 504);
      assert.match(s.page, /data-testid="upstream-error-upstream_unavailable"/);
      assert.ok(Date.now() - started < 4_500, 'bounded by the connector timeout (2 s)');
    } finally {
      northwind.resetKnobs();
    }
  });

  it('refuses a callback replayed into another browser', async () => {
    const s = await portal();
    await s.start({ login_hint: 'nina@northwind.example' });
    const callback = await signInUpstream({ start: s.url, until: `http://127.0.0.1:${portico.port}/contoso/v2.0/federation/`, browser: s.browser, account: 'n-nina' });
    const other = await portal();
    await other.start();
    const replayed = await other.follow(callback);
    assert.equal(replayed.status, 400);
    assert.match(other.page, /This sign-in has expired/);
  });
});
