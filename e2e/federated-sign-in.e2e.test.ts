/**
 * Guests signing in through their own IdPs in a real browser: from the app's /login through
 * Portico's pages and the upstream's pages, back to the app, which shows the ID token it received.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { acceptInvitation, chooseIdp, claimsAtApp, enterEmail, signInAtSamlIdp, signInAtStandIn } from './actions.ts';
import { suiteOptions, withPage } from './browser.ts';
import { startBrowserAndStack, type E2eStack } from './stack.ts';

const ENTRA_TENANT = '6f0c2f0e-2b9a-4a8e-9a51-0f6f2a6c1b11';
const CONSUMERS_TENANT = '9188040d-6c67-4c5b-b112-36a304b66dad';

describe('federated guest sign-in in a browser', { ...suiteOptions(), timeout: 90_000 }, () => {
  let browser: Browser;
  let stack: E2eStack;

  before(async () => {
    ({ browser, stack } = await startBrowserAndStack({
      google: { accounts: [{ id: 'g-bob', email: 'bob@gmail.com', emailVerified: true, name: 'Bob Gmail' }] },
      microsoft: {
        tenants: [{ id: ENTRA_TENANT, name: 'Adatum', domains: ['adatum.com'] }],
        accounts: [
          { id: 'm-alice', tenantId: ENTRA_TENANT, email: 'alice@adatum.com', emailDomainVerified: true, name: 'Alice Adatum' },
          { id: 'm-carl', tenantId: CONSUMERS_TENANT, email: 'carl@outlook.com', name: 'Carl Outlook' },
        ],
      },
      saml: { users: [{ email: 'fiona@fabrikam.com', name: 'Fiona Fabrikam' }] },
      northwind: { accounts: [{ id: 'n-nina', email: 'nina@northwind.example', emailVerified: true, name: 'Nina Northwind' }] },
      facebook: { accounts: [{ id: '10001', email: 'fay@example.net', name: 'Fay Facebook' }] },
    }));
  });
  after(async () => {
    await browser?.close();
    await stack?.stop();
  });

  it('sends a gmail.com address straight to Google and signs a self-service guest up', { timeout: 30_000 }, () =>
    withPage(browser, 'google self-service', async ({ page }) => {
      await page.goto(stack.portal.loginUrl);
      await enterEmail(page, 'bob@gmail.com');
      // No picker: the domain is Google's, so the next page is already Google's.
      await page.waitForURL((url) => url.href.startsWith(stack.google!.issuer));
      await signInAtStandIn(page, { account: 'g-bob' });
      const claims = await claimsAtApp(page, stack.portal);
      assert.equal(claims['user_type'], 'Guest');
      assert.equal(claims['idp'], 'google.com');
      assert.equal(claims['tid'], 'contoso');
      assert.equal(claims['preferred_username'], 'bob_gmail.com#EXT#@contoso.example');
      assert.equal(claims['name'], 'Bob Gmail');
      assert.deepEqual(claims['amr'], ['fed']);
      const user = await stack.portico.portico.users.get('contoso', String(claims['oid']));
      assert.equal(user?.creationType, 'SelfServiceSignUp', 'the first sign-in created the guest');
    }));

  it('signs in an invited Entra guest through the IdP picker: home_tid is the Entra tenant', { timeout: 30_000 }, () =>
    withPage(browser, 'microsoft entra invited', async ({ page }) => {
      const invited = await stack.invite('alice@adatum.com', 'Alice');
      await page.goto(stack.intranet.loginUrl);
      await enterEmail(page, 'alice@adatum.com');
      await chooseIdp(page, 'microsoft');
      await page.waitForURL((url) => url.href.startsWith(stack.microsoft!.authority.replace(/\/$/, '')));
      await signInAtStandIn(page, { account: 'm-alice' });
      await acceptInvitation(page);
      const claims = await claimsAtApp(page, stack.intranet);
      assert.equal(claims['sub'], invited.id);
      assert.equal(claims['user_type'], 'Guest');
      assert.equal(claims['tid'], 'contoso');
      assert.equal(claims['idp'], `https://sts.windows.net/${ENTRA_TENANT}/`);
      assert.equal(claims['home_tid'], ENTRA_TENANT);
      assert.equal(claims['preferred_username'], 'alice_adatum.com#EXT#@contoso.example');
      assert.deepEqual(claims['amr'], ['fed']);
      const user = await stack.portico.portico.users.get('contoso', invited.id);
      assert.equal(user?.externalUserState, 'Accepted', 'the invitation was redeemed');
    }));

  it('signs in a Microsoft personal account through the picker: idp live.com', { timeout: 30_000 }, () =>
    withPage(browser, 'microsoft personal', async ({ page }) => {
      await page.goto(stack.portal.loginUrl);
      await enterEmail(page, 'carl@outlook.com');
      await chooseIdp(page, 'microsoft');
      await signInAtStandIn(page, { account: 'm-carl' });
      const claims = await claimsAtApp(page, stack.portal);
      assert.equal(claims['idp'], 'live.com');
      assert.equal(claims['user_type'], 'Guest');
      assert.equal(claims['tid'], 'contoso');
      assert.equal(claims['preferred_username'], 'carl_outlook.com#EXT#@contoso.example');
      assert.deepEqual(claims['amr'], ['fed']);
    }));

  it('sends a fabrikam.com address to Fabrikam’s SAML IdP and back: idp is its entity id', { timeout: 30_000 }, () =>
    withPage(browser, 'saml fabrikam', async ({ page }) => {
      await page.goto(stack.portal.loginUrl);
      await enterEmail(page, 'fiona@fabrikam.com');
      await page.waitForURL((url) => url.href.startsWith(stack.samlSsoUrl!));
      const acsPost = page.waitForRequest((request) => request.method() === 'POST' && new URL(request.url()).pathname.endsWith('/federation/fabrikam-saml/acs'));
      await signInAtSamlIdp(page, { email: 'fiona@fabrikam.com' });
      // As from a real IdP: the Response comes cross-site, without Portico's SameSite=Lax cookies.
      assert.equal(await (await acsPost).headerValue('sec-fetch-site'), 'cross-site');
      const claims = await claimsAtApp(page, stack.portal);
      assert.equal(claims['idp'], stack.saml!.entityId);
      assert.equal(claims['user_type'], 'Guest');
      assert.equal(claims['tid'], 'contoso');
      assert.equal(claims['preferred_username'], 'fiona_fabrikam.com#EXT#@contoso.example');
      assert.equal(claims['name'], 'Fiona Fabrikam');
      assert.deepEqual(claims['amr'], ['fed']);
      assert.equal(stack.saml!.requests.length, 1, 'one AuthnRequest reached the IdP');
    }));

  it('sends a partner domain to the partner’s own OpenID Connect IdP: idp is its issuer', { timeout: 30_000 }, () =>
    withPage(browser, 'oidc northwind', async ({ page }) => {
      await page.goto(stack.portal.loginUrl);
      await enterEmail(page, 'nina@northwind.example');
      await page.waitForURL((url) => url.href.startsWith(stack.northwind!.issuer));
      await signInAtStandIn(page, { account: 'n-nina' });
      const claims = await claimsAtApp(page, stack.portal);
      assert.equal(claims['idp'], stack.northwind!.issuer);
      assert.equal(claims['user_type'], 'Guest');
      assert.equal(claims['tid'], 'contoso');
      assert.equal(claims['preferred_username'], 'nina_northwind.example#EXT#@contoso.example');
      assert.deepEqual(claims['amr'], ['fed']);
    }));

  it('signs in with Facebook chosen in the picker: idp facebook.com', { timeout: 30_000 }, () =>
    withPage(browser, 'facebook', async ({ page }) => {
      await page.goto(stack.portal.loginUrl);
      await enterEmail(page, 'fay@example.net');
      await chooseIdp(page, 'facebook');
      await page.waitForURL((url) => url.href.startsWith(new URL(stack.facebook!.urls.authorize).origin));
      await signInAtStandIn(page, { account: '10001' });
      const claims = await claimsAtApp(page, stack.portal);
      assert.equal(claims['idp'], 'facebook.com');
      assert.equal(claims['user_type'], 'Guest');
      assert.equal(claims['preferred_username'], 'fay_example.net#EXT#@contoso.example');
      assert.deepEqual(claims['amr'], ['fed']);
    }));

  it('stops someone not invited to an invitation-only app on a page saying so, with a correlation id', { timeout: 30_000 }, () =>
    withPage(browser, 'not invited', async ({ page }) => {
      const before = (await stack.portico.portico.users.list('contoso')).length;
      const signInsBefore = stack.intranet.signIns.length;
      await page.goto(stack.intranet.loginUrl);
      await enterEmail(page, 'mallory@gmail.com');
      await page.waitForURL((url) => url.href.startsWith(stack.google!.issuer));
      const refusal = page.waitForResponse((response) => new URL(response.url()).pathname.endsWith('/continue'));
      await signInAtStandIn(page, { email: 'mallory@gmail.com' });
      const response = await refusal;
      assert.equal(response.status(), 403);
      await assert.doesNotReject(page.getByTestId('not-invited').waitFor());
      assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), 'You have not been invited');
      assert.match(await page.locator('main').innerText(), /mallory@gmail\.com has not been invited to Contoso/);
      const correlation = page.getByTestId('correlation-id');
      assert.ok(await correlation.isVisible(), 'the correlation id is visible');
      assert.equal(await correlation.textContent(), response.headers()['x-request-id'], 'the id the logs carry');
      assert.ok(page.url().startsWith(stack.origin), 'still at Portico, not sent to the app');
      assert.equal(stack.intranet.signIns.length, signInsBefore, 'the app got no tokens');
      assert.equal((await stack.portico.portico.users.list('contoso')).length, before, 'nobody was created');

      // "Try another way" starts over at the email step of the same sign-in.
      await page.getByTestId('try-another-way').click();
      await page.getByRole('heading', { name: 'Sign in to Contoso' }).waitFor();
      assert.ok(await page.getByLabel('Email address').isEditable(), 'another address can be typed');
    }));
});
