/**
 * An accessibility smoke test of the sign-in pages: the whole passcode sign-in with the keyboard
 * alone, every field named by a label, errors announced, and no script a strict CSP forbids.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import type { Browser, Page } from 'playwright-core';
import { passcodeIn } from '../test/helpers/sign-in.ts';
import { focusedElement, inlineScripting, resetFocus, unlabelledFields } from './a11y.ts';
import { claimsAtApp, computedStyle } from './actions.ts';
import { suiteOptions, withPage } from './browser.ts';
import { startBrowserAndStack, type E2eStack } from './stack.ts';

describe('accessibility of the sign-in pages', { ...suiteOptions(), timeout: 60_000 }, () => {
  let browser: Browser;
  let stack: E2eStack;

  before(async () => {
    // Microsoft takes any domain: an adatum.com address gets the picker (Microsoft or a passcode).
    ({ browser, stack } = await startBrowserAndStack({ microsoft: { tenants: [], accounts: [] }, smtp: true }));
  });
  after(async () => {
    await browser?.close();
    await stack?.stop();
  });

  /** What every Portico page must be: labelled fields, no inline script, a language and a title. */
  async function checkPage(page: Page): Promise<void> {
    assert.deepEqual(await unlabelledFields(page), [], `fields without a label on ${page.url()}`);
    assert.deepEqual(await inlineScripting(page), [], `inline script on ${page.url()}`);
    assert.equal(await page.locator('html').getAttribute('lang'), 'en');
    assert.ok((await page.title()).length > 0, 'the page has a title');
  }

  /** Presses Tab until `id` has focus; returns how many presses it took. */
  async function tabTo(page: Page, id: string, limit = 8): Promise<number> {
    for (let presses = 1; presses <= limit; presses += 1) {
      await page.keyboard.press('Tab');
      if ((await focusedElement(page)) === id) return presses;
    }
    assert.fail(`Tab never reached #${id} (focus ended on ${await focusedElement(page)})`);
  }

  it('completes a passcode sign-in with the keyboard alone', { timeout: 30_000 }, () =>
    withPage(browser, 'keyboard only', async ({ page }) => {
      await stack.invite('erin@adatum.com', 'Erin');
      await page.goto(stack.intranet.loginUrl);
      await page.getByRole('heading', { name: 'Sign in to Contoso' }).waitFor();
      await checkPage(page);
      assert.equal(await focusedElement(page), 'email', 'the email field has focus on arrival');

      // From the top of the page, the field is the first stop, and the focus is visible.
      await resetFocus(page);
      assert.equal(await tabTo(page, 'email'), 1, 'nothing comes before the email field');
      assert.equal(await computedStyle(page.locator('#email'), 'outline-style'), 'solid', 'a visible focus ring');
      await page.keyboard.type('erin@adatum.com');
      await page.keyboard.press('Enter');

      await page.getByRole('heading', { name: 'Choose how to sign in' }).waitFor();
      await checkPage(page);
      // The picker's choices are buttons in reading order: Microsoft, then the passcode.
      await resetFocus(page);
      assert.equal(await tabTo(page, 'idp-microsoft'), 1);
      await page.keyboard.press('Tab');
      assert.equal(await focusedElement(page), 'idp-email');
      assert.equal(await computedStyle(page.getByTestId('idp-email'), 'outline-style'), 'solid', 'a visible focus ring');
      await page.keyboard.press('Enter');

      await page.getByRole('heading', { name: 'Enter your code' }).waitFor();
      await checkPage(page);
      assert.equal(await focusedElement(page), 'code', 'the code field has focus on arrival');
      const code = passcodeIn((await stack.smtp!.nextMessageTo('erin@adatum.com')).parsed.text ?? '');
      await page.keyboard.type(code);
      await page.keyboard.press('Enter');

      // Accepting the invitation by keyboard: Accept is the first control of the page.
      await page.getByTestId('consent').waitFor();
      await checkPage(page);
      await resetFocus(page);
      assert.equal(await tabTo(page, 'accept'), 1);
      await page.keyboard.press('Enter');

      const claims = await claimsAtApp(page, stack.intranet);
      assert.deepEqual(claims['amr'], ['otp']);
      assert.equal(claims['preferred_username'], 'erin_adatum.com#EXT#@contoso.example');
    }));

  it('names every field by its label and announces a mistake next to the field', { timeout: 20_000 }, () =>
    withPage(browser, 'labels and errors', async ({ page }) => {
      await page.goto(stack.portal.loginUrl);
      const email = page.getByLabel('Email address');
      assert.equal(await email.getAttribute('type'), 'email');
      assert.equal(await email.getAttribute('autocomplete'), 'username email');
      await email.press('Enter');

      const alert = page.getByRole('alert');
      assert.equal(await alert.innerText(), 'Enter an email address like name@example.com.');
      const field = page.getByLabel('Email address');
      assert.equal(await field.getAttribute('aria-invalid'), 'true');
      const describedBy = (await field.getAttribute('aria-describedby'))?.split(' ') ?? [];
      assert.ok(describedBy.includes((await alert.getAttribute('id')) ?? '(none)'), 'the error is tied to the field');
      await checkPage(page);
    }));

  it("refuses inline script under Portico's CSP, and the check notices it", { timeout: 20_000 }, () =>
    withPage(
      browser,
      'csp detector',
      async ({ page, cspViolations }) => {
        const response = await page.goto(stack.portal.loginUrl);
        await page.getByRole('heading', { name: 'Sign in to Contoso' }).waitFor();
        assert.ok(response, 'the navigation has a response');
        assert.ok(response.url().startsWith(stack.origin), "the response is Portico's page");
        assert.match(response.headers()['content-security-policy'] ?? '', /script-src 'self'(;|$)/, 'only scripts from Portico itself');
        assert.equal(cspViolations.length, 0, 'the page itself breaks nothing');

        // What an injected inline script would meet: it must not run, and the violation must be seen.
        const ran = await page.evaluate(() => {
          const g = globalThis as unknown as { document: { createElement(t: string): { textContent: string }; body: { append(n: unknown): void } }; __ran?: boolean };
          const script = g.document.createElement('script');
          script.textContent = 'globalThis.__ran = true;';
          g.document.body.append(script);
          return g.__ran === true;
        });
        assert.equal(ran, false, 'the inline script did not run');
        // The console message and the securitypolicyviolation event (dispatched as a task) both report it.
        for (let waited = 0; waited < 3_000 && !cspViolations.some((v) => v.directive === 'script-src-elem'); waited += 50) await delay(50);
        assert.ok(
          cspViolations.some((v) => v.directive === 'script-src-elem' && v.blocked === 'inline'),
          `the violation event was recorded (got ${JSON.stringify(cspViolations)})`,
        );
        assert.ok(cspViolations.some((v) => v.directive === 'console' && /Content Security Policy/.test(v.blocked)), 'and the console message');
      },
      { allowCspViolations: true },
    ));
});
