/**
 * An invited guest whose domain has no IdP of its own signs in with a passcode sent by mail: the
 * code arrives at a real SMTP server and is typed into the page, as a person would.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { passcodeIn } from '../test/helpers/sign-in.ts';
import { acceptInvitation, claimsAtApp, enterCode, enterEmail } from './actions.ts';
import { suiteOptions, withPage } from './browser.ts';
import { startBrowserAndStack, type E2eStack } from './stack.ts';

describe('email one-time passcode sign-in in a browser', { ...suiteOptions(), timeout: 60_000 }, () => {
  let browser: Browser;
  let stack: E2eStack;

  before(async () => {
    // Google claims only gmail.com: adatum.com goes straight to the passcode.
    ({ browser, stack } = await startBrowserAndStack({ google: { accounts: [] }, smtp: true }));
  });
  after(async () => {
    await browser?.close();
    await stack?.stop();
  });

  it('signs in an invited guest with the code from the mail: amr otp, idp mail', { timeout: 30_000 }, () =>
    withPage(browser, 'email passcode', async ({ page }) => {
      const invited = await stack.invite('dana@adatum.com', 'Dana Adatum');
      await page.goto(stack.intranet.loginUrl);
      await enterEmail(page, 'Dana@Adatum.com');
      await page.getByRole('heading', { name: 'Enter your code' }).waitFor();
      assert.match(await page.locator('main').innerText(), /We sent a code to dana@adatum\.com/i);
      const mail = await stack.smtp!.nextMessageTo('dana@adatum.com');
      const code = passcodeIn(mail.parsed.text ?? '');

      // A mistyped code first: the page says so and lets the person try again.
      await enterCode(page, code === '00000000' ? '11111111' : '00000000');
      assert.match(await page.getByRole('alert').innerText(), /That code is not right/);
      await enterCode(page, code);
      // Invited and never signed in: accepting the invitation comes first.
      assert.match(await page.locator('main').innerText(), /Contoso invites you/);
      await acceptInvitation(page);

      const claims = await claimsAtApp(page, stack.intranet);
      assert.equal(claims['sub'], invited.id);
      assert.equal(claims['user_type'], 'Guest');
      assert.equal(claims['tid'], 'contoso');
      assert.equal(claims['idp'], 'mail');
      assert.equal(claims['preferred_username'], 'dana_adatum.com#EXT#@contoso.example');
      assert.deepEqual(claims['amr'], ['otp']);
      const user = await stack.portico.portico.users.get('contoso', invited.id);
      assert.equal(user?.externalUserState, 'Accepted');
    }));
});
