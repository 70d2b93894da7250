/**
 * The stand-ins' sign-in pages are also for people (browser tests, demos): plain labelled forms,
 * no scripts, and a typed-in email that signs in a new account.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { oidcConnector } from '../../../../src/connectors/oidc/index.ts';
import { microsoftConnector } from '../../../../src/connectors/microsoft/index.ts';
import { facebookConnector } from '../../../../src/connectors/facebook/index.ts';
import { CookieJar } from '../../../helpers/http.ts';
import {
  startFacebookStandIn,
  startMicrosoftStandIn,
  startOidcStandIn,
  standInForms,
  type FacebookStandIn,
  type MicrosoftStandIn,
  type OidcStandIn,
} from '../../../helpers/upstreams/index.ts';
import { asRedirect, callbackUrlFor, connectorDeps, contextFor, signIn } from './harness.ts';

/** Follows redirects from `start` to the first page and returns it. */
async function firstPage(start: string): Promise<Response> {
  const browser = new CookieJar();
  let url = new URL(start);
  let response = await browser.fetch(url);
  while (response.status >= 300 && response.status < 400) {
    url = new URL(response.headers.get('location')!, url);
    response = await browser.fetch(url);
  }
  return response;
}

function assertAccessiblePage(response: Response, html: string): void {
  assert.equal(response.status, 200);
  assert.match(response.headers.get('content-type') ?? '', /^text\/html/);
  assert.equal(response.headers.get('content-security-policy'), "default-src 'none'");
  assert.doesNotMatch(html, /<script|\son\w+=|style=/i);
  assert.match(html, /<html lang="en">/);
  const ids = [...html.matchAll(/<input [^>]*id="([^"]+)"/g)].map((m) => m[1]);
  assert.ok(ids.length > 0);
  for (const id of ids) assert.match(html, new RegExp(`<label for="${id}">`), `input ${id} has a label`);
  const forms = standInForms(html);
  assert.ok(forms.some((form) => form.kind === 'login'));
}

describe('stand-in sign-in pages', () => {
  let oidc: OidcStandIn;
  let ms: MicrosoftStandIn;
  let fb: FacebookStandIn;
  before(async () => {
    [oidc, ms, fb] = await Promise.all([
      startOidcStandIn({ accounts: [{ id: 'alice', email: 'alice@fabrikam.example', name: 'Alice <script>' }] }),
      startMicrosoftStandIn({ tenants: [{ id: 'a3f1c2d4-0000-4000-8000-00000000fab1', name: 'Fabrikam', domains: ['fabrikam.example'] }] }),
      startFacebookStandIn({ accounts: [{ id: '101', name: 'Mia' }] }),
    ]);
  });
  after(() => Promise.all([oidc.stop(), ms.stop(), fb.stop()]));

  async function oidcPartner() {
    oidc.registerClient({ clientId: 'portico', clientSecret: 's', redirectUris: [callbackUrlFor('pages-oidc')] });
    const config = oidcConnector.schema.parse({ id: 'pages-oidc', kind: 'oidc', issuer: oidc.issuer, clientId: 'portico', clientSecret: 's' });
    return asRedirect(await oidcConnector.create(config, connectorDeps()));
  }

  it('the OIDC stand-in shows labelled fields, escapes account names and runs no script', async () => {
    const connector = await oidcPartner();
    const page = await firstPage((await connector.start(contextFor(connector.id))).redirectUrl);
    const html = await page.text();
    assertAccessiblePage(page, html);
    assert.match(html, /Alice &#60;script&#62;/);
  });

  it('a typed-in unknown email signs in a new account', async () => {
    const connector = await oidcPartner();
    const identity = await signIn(connector, { email: 'new.person@partner.example' });
    assert.equal(identity.email, 'new.person@partner.example');
    assert.equal(identity.emailVerified, true);
    assert.equal(oidc.accounts.byEmail('new.person@partner.example')?.id, identity.subject);
    // The same email again is the same account.
    assert.equal((await signIn(connector, { email: 'New.Person@partner.example' })).subject, identity.subject);
  });

  it("Microsoft's account picker and tenant page, and a typed-in email routed by its domain", async () => {
    ms.registerClient({ clientId: 'portico', clientSecret: 's', redirectUris: [callbackUrlFor('pages-ms')] });
    const config = microsoftConnector.schema.parse({ id: 'pages-ms', kind: 'microsoft', audience: 'organizations', clientId: 'portico', clientSecret: 's', authority: ms.authority });
    const connector = asRedirect(await microsoftConnector.create(config, connectorDeps()));
    const page = await firstPage((await connector.start(contextFor(connector.id))).redirectUrl);
    const html = await page.text();
    assert.match(html, /No accounts yet/);
    assert.match(html, /<label for="email">/);
    assert.doesNotMatch(html, /<script/i);
    const identity = await signIn(connector, { email: 'oscar@fabrikam.example' });
    assert.equal(identity.issuerTenantId, 'a3f1c2d4-0000-4000-8000-00000000fab1');
    assert.equal(identity.email, 'oscar@fabrikam.example');
  });

  it("Facebook's login dialog", async () => {
    fb.registerApp({ appId: '123', appSecret: 'fb', redirectUris: [callbackUrlFor('pages-fb')] });
    const config = facebookConnector.schema.parse({ id: 'pages-fb', kind: 'facebook', clientId: '123', clientSecret: 'fb', authorizeUrl: fb.urls.authorize, tokenUrl: fb.urls.token, graphUrl: fb.urls.graph });
    const connector = asRedirect(await facebookConnector.create(config, connectorDeps()));
    const page = await firstPage((await connector.start(contextFor(connector.id))).redirectUrl);
    assertAccessiblePage(page, await page.text());
  });
});
