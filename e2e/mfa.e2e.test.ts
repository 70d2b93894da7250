/**
 * MFA and device trust in a browser. The portal requires MFA of guests and the intranet a compliant
 * device. Fabrikam's SAML IdP says it did MFA, but Contoso does not trust Fabrikam's MFA, so its
 * guest enrols Portico's authenticator app (the test reads the key from the page and computes
 * codes as a phone would), signs in again with a code and cannot replay it. Northwind's MFA is
 * trusted: its guest passes without a prompt. Nobody's device claims are trusted: the intranet
 * ends on a page that says what is missing.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { promisify } from 'node:util';
import type { Browser, Page } from 'playwright-core';
import { TOTP_PERIOD_SECONDS, totpCodeAt, totpStepAt } from '../src/mfa/totp.ts';
import { ACR_MFA } from '../src/shared/assurance.ts';
import { en as messages } from '../src/ui/messages.ts';
import { inlineScripting, unlabelledFields } from './a11y.ts';
import { claimsAtApp, enterEmail, enterTotpCode, saveRecoveryCodes, signInAtSamlIdp, signInAtStandIn, totpSecretOnPage } from './actions.ts';
import { suiteOptions, withPage } from './browser.ts';
import { startBrowserAndStack, type E2eStack } from './stack.ts';

const OATHTOOL = '/usr/bin/oathtool';

/** Fabrikam's MFA counts for nothing here; Northwind's is trusted. Device claims are trusted from nobody. */
const POLICIES = `crossTenantAccess:
  partners:
    - partner: fabrikam
      inboundTrust:
        isMfaAccepted: false
    - partner: northwind
      inboundTrust:
        isMfaAccepted: true
conditionalAccess:
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
  - id: guests-compliant-device
    displayName: Guests need a compliant device in the intranet
    state: enabled
    conditions:
      users:
        includeUsers: [GuestsOrExternalUsers]
      applications:
        includeApplications: [intranet]
    grantControls:
      operator: OR
      builtInControls: [compliantDevice]
`;

/** The code Debian's oathtool (an implementation independent of otplib) gives for `secret` at `epochMs`. */
async function oathtoolCode(secret: string, epochMs: number): Promise<string> {
  const { stdout } = await promisify(execFile)(OATHTOOL, ['--totp', '-b', '--now', `@${Math.floor(epochMs / 1000)}`, secret]);
  return stdout.trim();
}

/**
 * The code of the first time step after `usedStep`, as the phone shows it: now if the clock has
 * already moved on, else at the start of the next step (at most one period away).
 */
async function codeAfterStep(secret: string, usedStep: number): Promise<{ code: string; step: number }> {
  const waitMs = (usedStep + 1) * TOTP_PERIOD_SECONDS * 1000 - Date.now();
  if (waitMs > 0) {
    assert.ok(waitMs <= TOTP_PERIOD_SECONDS * 1000, 'the next step is at most one period away');
    await delay(waitMs + 50);
  }
  const now = Date.now();
  return { code: await totpCodeAt(secret, now), step: totpStepAt(now) };
}

/** What the other browser suites check of every Portico page: labelled fields, no inline script. */
async function assertAccessible(page: Page): Promise<void> {
  assert.deepEqual(await unlabelledFields(page), [], `fields without a label on ${page.url()}`);
  assert.deepEqual(await inlineScripting(page), [], `inline script on ${page.url()}`);
  assert.equal(await page.locator('html').getAttribute('lang'), 'en');
  assert.ok((await page.title()).length > 0, 'the page has a title');
}

describe('MFA and device trust in a browser', { ...suiteOptions(), timeout: 120_000 }, () => {
  let browser: Browser;
  let stack: E2eStack;
  /** Fiona's authenticator: the key read from the set-up page and the last time step she used. */
  let fiona: { oid: string; secret: string; usedStep: number } | undefined;

  before(async () => {
    ({ browser, stack } = await startBrowserAndStack({
      saml: { users: [{ email: 'fiona@fabrikam.com', name: 'Fiona Fabrikam' }] },
      northwind: {
        accounts: [
          { id: 'n-nina', email: 'nina@northwind.example', name: 'Nina Northwind', amr: ['pwd', 'mfa'] },
          { id: 'n-ned', email: 'ned@northwind.example', name: 'Ned Northwind', amr: ['pwd', 'mfa'] },
        ],
      },
      editTenantYaml: (yaml) => `${yaml}${POLICIES}`,
    }));
  });
  after(async () => {
    await browser?.close();
    await stack?.stop();
  });

  /** Fiona at the portal, through Fabrikam's IdP, where she does MFA that Contoso does not trust. */
  async function fionaSignsInAtFabrikam(page: Page): Promise<void> {
    await page.goto(stack.portal.loginUrl);
    await enterEmail(page, 'fiona@fabrikam.com');
    await page.waitForURL((url) => url.href.startsWith(stack.samlSsoUrl!));
    await signInAtSamlIdp(page, { email: 'fiona@fabrikam.com', mfa: true });
  }

  it('asks a guest whose partner’s MFA is not trusted to set up an authenticator app: amr then has mfa', { timeout: 30_000 }, () =>
    withPage(browser, 'mfa enrolment', async ({ page }) => {
      await fionaSignsInAtFabrikam(page);
      const secret = await totpSecretOnPage(page);
      assert.match(secret, /^[A-Z2-7]{32}$/, 'a 160-bit base32 key');
      assert.match((await page.getByTestId('totp-secret').textContent()) ?? '', /^([A-Z2-7]{4} ){7}[A-Z2-7]{4}$/, 'shown in groups of four');
      assert.ok(await page.getByTestId('totp-qr').locator('svg').isVisible(), 'a QR code to scan');
      await assertAccessible(page);

      const at = Date.now();
      const code = await totpCodeAt(secret, at);
      assert.equal(await oathtoolCode(secret, at), code, 'oathtool computes the same code from the key on the page');
      await enterTotpCode(page, code);
      const recoveryCodes = await saveRecoveryCodes(page);
      assert.ok(recoveryCodes.length >= 8, `recovery codes are shown (${recoveryCodes.length})`);
      assert.equal(new Set(recoveryCodes).size, recoveryCodes.length, 'all different');

      const claims = await claimsAtApp(page, stack.portal);
      assert.equal(claims['idp'], stack.saml!.entityId);
      assert.ok(Array.isArray(claims['amr']) && claims['amr'].includes('mfa'), `amr has mfa: ${JSON.stringify(claims['amr'])}`);
      assert.ok(claims['amr'].includes('otp'), 'the second factor was Portico’s one-time code');
      assert.equal(claims['acr'], ACR_MFA);
      const oid = String(claims['oid']);
      assert.ok(await stack.portico.portico.authenticators.hasMethod('contoso', oid), 'the authenticator is kept');
      fiona = { oid, secret, usedStep: totpStepAt(at) };
    }));

  it('asks for a code at the next sign-in, accepts a new one, and refuses it when replayed', { timeout: 60_000 }, async () => {
    assert.ok(fiona, 'the enrolment test ran first');
    const enrolled = fiona;
    let used: { code: string; step: number } | undefined;

    await withPage(browser, 'mfa challenge', async ({ page }) => {
      await fionaSignsInAtFabrikam(page);
      await page.getByRole('heading', { name: messages.mfaChallengeTitle }).waitFor();
      assert.equal(await page.getByTestId('totp-secret').count(), 0, 'no key shown once set up');
      assert.ok(await page.getByTestId('use-recovery-code').isVisible(), 'a recovery code can be used instead');
      await assertAccessible(page);

      // The enrolment's code is spent: the phone's next one, waiting for it if need be.
      used = await codeAfterStep(enrolled.secret, enrolled.usedStep);
      await enterTotpCode(page, used.code);
      const claims = await claimsAtApp(page, stack.portal);
      assert.equal(claims['oid'], enrolled.oid);
      assert.ok(Array.isArray(claims['amr']) && claims['amr'].includes('mfa'), `amr has mfa: ${JSON.stringify(claims['amr'])}`);
      assert.equal(claims['acr'], ACR_MFA);
    });

    await withPage(browser, 'mfa replay', async ({ page }) => {
      const signInsBefore = stack.portal.signIns.length;
      await fionaSignsInAtFabrikam(page);
      await page.getByRole('heading', { name: messages.mfaChallengeTitle }).waitFor();
      // Still inside the ±1 step window, so it is refused as used, not as wrong.
      assert.ok(totpStepAt(Date.now()) - used!.step <= 1, 'the replay is within the window');
      const refusal = page.waitForResponse((response) => response.request().method() === 'POST' && new URL(response.url()).pathname.endsWith('/mfa'));
      await enterTotpCode(page, used!.code);
      assert.equal((await refusal).status(), 400);
      assert.equal(await page.getByRole('alert').innerText(), messages.mfa_replayed);
      await page.getByRole('heading', { name: messages.mfaChallengeTitle }).waitFor();
      assert.equal(await page.getByTestId('totp-code').getAttribute('aria-invalid'), 'true');
      assert.ok(page.url().startsWith(stack.origin), 'still at Portico');
      assert.equal(stack.portal.signIns.length, signInsBefore, 'the app got no tokens');
    });
  });

  it('lets a guest from a partner whose MFA is trusted in without a prompt: amr has mfa', { timeout: 30_000 }, () =>
    withPage(browser, 'trusted partner mfa', async ({ page }) => {
      await page.goto(stack.portal.loginUrl);
      await enterEmail(page, 'nina@northwind.example');
      await page.waitForURL((url) => url.href.startsWith(stack.northwind!.issuer));
      await signInAtStandIn(page, { account: 'n-nina' });
      const claims = await claimsAtApp(page, stack.portal);
      assert.equal(claims['idp'], stack.northwind!.issuer);
      assert.deepEqual(claims['amr'], ['fed', 'mfa'], 'the partner’s MFA, no Portico code');
      assert.equal(claims['acr'], ACR_MFA);
      const oid = String(claims['oid']);
      assert.equal(await stack.portico.portico.authenticators.pendingEnrolment('contoso', oid), undefined, 'no set-up page was shown');
      assert.equal(await stack.portico.portico.authenticators.hasMethod('contoso', oid), false);
    }));

  it('ends a sign-in needing a compliant device, with no trusted device claim, on a page that says so', { timeout: 30_000 }, () =>
    withPage(browser, 'device required', async ({ page }) => {
      await stack.invite('ned@northwind.example', 'Ned Northwind');
      const signInsBefore = stack.intranet.signIns.length;
      await page.goto(stack.intranet.loginUrl);
      await enterEmail(page, 'ned@northwind.example');
      await page.waitForURL((url) => url.href.startsWith(stack.northwind!.issuer));
      const refusal = page.waitForResponse((response) => new URL(response.url()).pathname.endsWith('/continue'));
      await signInAtStandIn(page, { account: 'n-ned' });
      const response = await refusal;
      assert.equal(response.status(), 403);

      await page.getByTestId('device-required').waitFor();
      assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), messages.deviceRequiredTitle);
      const text = await page.locator('main').innerText();
      assert.match(text, /only from a compliant device/, 'names what is missing');
      assert.match(text, /Ask your IT department or your contact at Contoso/, 'says whom to ask');
      const correlation = page.getByTestId('correlation-id');
      assert.ok(await correlation.isVisible(), 'the correlation id is visible');
      assert.equal(await correlation.textContent(), response.headers()['x-request-id'], 'the id the logs carry');
      assert.equal(await page.getByTestId('totp-code').count(), 0, 'no MFA prompt: a code cannot stand in for a device');
      assert.ok(page.url().startsWith(stack.origin), 'still at Portico');
      assert.equal(stack.intranet.signIns.length, signInsBefore, 'the app got no tokens');
    }));
});
