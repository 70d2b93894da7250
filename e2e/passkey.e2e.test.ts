/**
 * Passkeys in a browser. The portal requires MFA of guests, and Northwind's sign-in has none: its
 * guest is asked to set up a second factor and chooses a passkey, made by Chromium's virtual
 * authenticator (CDP WebAuthn domain, user verification on), so the real navigator.credentials
 * ceremony runs through Portico's passkey.js. The next sign-in asks for the passkey, not a code.
 * A browser without WebAuthn is told to use an authenticator app. Portico runs on `localhost`: a
 * passkey's RP ID must be a domain, and http://localhost is a secure context.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, CDPSession, Page } from 'playwright-core';
import { ACR_MFA } from '../src/shared/assurance.ts';
import { en as messages } from '../src/ui/messages.ts';
import { inlineScripting, unlabelledFields } from './a11y.ts';
import { claimsAtApp, enterEmail, saveRecoveryCodes, signInAtStandIn } from './actions.ts';
import { suiteOptions, withPage } from './browser.ts';
import { startBrowserAndStack, type E2eStack } from './stack.ts';

const POLICIES = `conditionalAccess:
  - id: guests-mfa
    displayName: Guests need MFA in the portal
    state: enabled
    conditions:
      users:
        includeUsers: [GuestsOrExternalUsers]
      applications:
        includeApplications: [portal]
    grantControls:
      operator: OR
      builtInControls: [mfa]
`;

/** A platform authenticator with user verification (a laptop's fingerprint reader, say). */
async function addVirtualAuthenticator(context: BrowserContext, page: Page): Promise<{ cdp: CDPSession; authenticatorId: string }> {
  const cdp = await context.newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
  });
  return { cdp, authenticatorId };
}

async function assertAccessible(page: Page): Promise<void> {
  assert.deepEqual(await unlabelledFields(page), [], `fields without a label on ${page.url()}`);
  assert.deepEqual(await inlineScripting(page), [], `inline script on ${page.url()}`);
}

describe('Passkeys in a browser', { ...suiteOptions(), timeout: 120_000 }, () => {
  let browser: Browser;
  let stack: E2eStack;

  before(async () => {
    ({ browser, stack } = await startBrowserAndStack({
      publicHost: 'localhost',
      northwind: {
        accounts: [
          { id: 'n-nora', email: 'nora@northwind.example', name: 'Nora Northwind', amr: ['pwd'] },
          { id: 'n-nils', email: 'nils@northwind.example', name: 'Nils Northwind', amr: ['pwd'] },
        ],
      },
      editTenantYaml: (yaml) => `${yaml}${POLICIES}`,
    }));
  });
  after(async () => {
    await browser?.close();
    await stack?.stop();
  });

  async function signInAtNorthwind(page: Page, account: string, email: string): Promise<void> {
    await page.goto(stack.portal.loginUrl);
    await enterEmail(page, email);
    await page.waitForURL((url) => url.href.startsWith(stack.northwind!.issuer));
    await signInAtStandIn(page, { account });
  }

  it('lets a guest set up a passkey instead of an app, then sign in with it: amr has mfa', { timeout: 60_000 }, () =>
    withPage(browser, 'passkey enrolment and sign-in', async ({ context, page }) => {
      const { cdp, authenticatorId } = await addVirtualAuthenticator(context, page);

      await signInAtNorthwind(page, 'n-nora', 'nora@northwind.example');
      await page.getByRole('heading', { name: messages.mfaEnrolTitle }).waitFor();
      const register = page.getByRole('button', { name: messages.passkeyRegister });
      await register.waitFor();
      assert.equal(await page.getByTestId('passkey-unsupported').isVisible(), false, 'the script hid the no-passkeys note');
      assert.ok(await page.getByTestId('totp-secret').isVisible(), 'the authenticator app stays the other choice');
      await assertAccessible(page);

      await register.click();
      const recoveryCodes = await saveRecoveryCodes(page);
      assert.equal(recoveryCodes.length, 10, 'the first method brings recovery codes');
      const claims = await claimsAtApp(page, stack.portal);
      assert.ok(Array.isArray(claims['amr']) && claims['amr'].includes('mfa'), `amr has mfa: ${JSON.stringify(claims['amr'])}`);
      assert.ok(claims['amr'].includes('hwk'), 'a key kept on its device (RFC 8176 hwk)');
      assert.ok(!claims['amr'].includes('otp'), 'no one-time code was used');
      assert.equal(claims['acr'], ACR_MFA);
      const oid = String(claims['oid']);

      const portico = stack.portico.portico;
      const [passkey] = await portico.passkeys.listPasskeys('contoso', oid);
      assert.ok(passkey, 'the passkey is kept');
      assert.equal(await portico.authenticators.hasMethod('contoso', oid), false, 'no app was set up');
      const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
      assert.equal(credentials.length, 1);
      assert.equal(credentials[0]!.rpId, 'localhost', 'bound to PUBLIC_URL’s host');

      // The next sign-in, as from a new browser session with the same authenticator.
      await context.clearCookies();
      const signInsBefore = stack.portal.signIns.length;
      await signInAtNorthwind(page, 'n-nora', 'nora@northwind.example');
      await page.getByRole('heading', { name: messages.passkeyChallengeTitle }).waitFor();
      assert.equal(await page.getByTestId('totp-code').count(), 0, 'no code field: the guest has no app');
      assert.equal(await page.getByTestId('totp-secret').count(), 0, 'no set-up page');
      assert.ok(await page.getByTestId('use-recovery-code').isVisible(), 'a recovery code can be used instead');
      await assertAccessible(page);
      await page.getByRole('button', { name: messages.passkeyAuthenticate }).click();
      const again = await claimsAtApp(page, stack.portal);
      assert.equal(again['oid'], oid);
      assert.ok(Array.isArray(again['amr']) && again['amr'].includes('mfa') && again['amr'].includes('hwk'), `amr: ${JSON.stringify(again['amr'])}`);
      assert.equal(stack.portal.signIns.length, signInsBefore + 1);
      const after = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
      assert.ok(after.credentials[0]!.signCount > credentials[0]!.signCount, 'the authenticator signed again');
    }));

  it('tells a browser without passkey support to use an authenticator app', { timeout: 30_000 }, () =>
    withPage(browser, 'no webauthn', async ({ context, page }) => {
      // As in a browser without WebAuthn: the page's script finds no PublicKeyCredential.
      await context.addInitScript('delete globalThis.PublicKeyCredential;');
      await signInAtNorthwind(page, 'n-nils', 'nils@northwind.example');
      await page.getByRole('heading', { name: messages.mfaEnrolTitle }).waitFor();
      const note = page.getByTestId('passkey-unsupported');
      assert.ok(await note.isVisible(), 'the page says passkeys cannot be used here');
      assert.equal(await note.innerText(), messages.passkeyUnsupported);
      assert.equal(await page.getByRole('button', { name: messages.passkeyRegister }).isVisible(), false, 'no passkey button');
      assert.ok(await page.getByTestId('totp-code').isVisible(), 'the authenticator app can be set up');
    }));
});
