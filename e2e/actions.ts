/**
 * What a person does on each page of a sign-in, as reusable steps. Each step first waits for the
 * page it acts on (by its form, not by timing), so a journey that takes a wrong turn fails at the
 * step that did not find its page.
 */
import assert from 'node:assert/strict';
import type { Locator, Page } from 'playwright-core';
import type { RelyingPartyApp } from '../test/helpers/relying-party-app.ts';

/** Portico's email step: types the address and presses Next. */
export async function enterEmail(page: Page, email: string): Promise<void> {
  const form = page.locator('form[action$="/email"]');
  await form.getByLabel('Email address').fill(email);
  await form.getByRole('button', { name: 'Next' }).click();
}

/** Portico's IdP picker: presses "Sign in with …" of the IdP with this connector id. */
export async function chooseIdp(page: Page, id: string): Promise<void> {
  await page.getByRole('heading', { name: 'Choose how to sign in' }).waitFor();
  await page.getByTestId(`idp-${id}`).click();
}

/** Portico's passcode step: types the code and presses Sign in. */
export async function enterCode(page: Page, code: string): Promise<void> {
  const form = page.locator('form[action$="/code"]');
  await form.getByLabel('Code').fill(code);
  await form.getByRole('button', { name: 'Sign in' }).click();
}

/** The page where an invited guest accepts the invitation (just-in-time redemption or a redeem link). */
export async function acceptInvitation(page: Page): Promise<void> {
  await page.getByTestId('consent').waitFor();
  await page.getByTestId('accept').click();
}

/** The same page: declines the invitation. */
export async function declineInvitation(page: Page): Promise<void> {
  await page.getByTestId('consent').waitFor();
  await page.getByTestId('decline').click();
}

/**
 * A stand-in IdP's sign-in page (Google, Microsoft, generic OIDC): picks an account by id or types
 * an email, then presses Sign in.
 */
export async function signInAtStandIn(page: Page, who: { account: string } | { email: string }): Promise<void> {
  const form = page.locator('form[data-stand-in="login"]');
  await form.waitFor();
  if ('account' in who) await form.locator(`input[name="account"][value="${who.account}"]`).check();
  else await form.getByLabel('Or type an email').fill(who.email);
  await form.getByRole('button', { name: 'Sign in' }).click();
}

/** The test SAML IdP: signs in as `email` (with a second factor if asked), then presses Continue. */
export async function signInAtSamlIdp(page: Page, user: { email: string; mfa?: boolean }): Promise<void> {
  const form = page.locator('form[action="/sso/login"]');
  await form.getByLabel('Email address').fill(user.email);
  await form.getByLabel('Sign-in method').selectOption(user.mfa ? 'mfa' : 'pwd');
  await form.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Signed in' }).waitFor();
  await page.getByRole('button', { name: 'Continue' }).click();
}

/** Portico's authenticator set-up page: the key shown for typing by hand, without the spaces grouping it. */
export async function totpSecretOnPage(page: Page): Promise<string> {
  await page.getByRole('heading', { name: 'Set up your authenticator app' }).waitFor();
  const grouped = await page.getByTestId('totp-secret').textContent();
  assert.ok(grouped, 'the set-up page shows the key');
  return grouped.replace(/\s+/g, '');
}

/** Portico's second-factor code (set-up or sign-in page): types the code and submits its form. */
export async function enterTotpCode(page: Page, code: string): Promise<void> {
  const form = page.locator('form', { has: page.getByTestId('totp-code') });
  await form.getByLabel('Code from the app').fill(code);
  await form.locator('button[type="submit"]').click();
}

/** The recovery codes shown once after set-up: returns them and presses continue. */
export async function saveRecoveryCodes(page: Page): Promise<string[]> {
  const list = page.getByTestId('recovery-codes');
  await list.waitFor();
  const codes = (await list.locator('li').allTextContents()).map((code) => code.trim());
  await page.getByTestId('recovery-codes-continue').click();
  return codes;
}

/** Waits until the browser is back at the app and returns the ID token claims the app shows. */
export async function claimsAtApp(page: Page, app: RelyingPartyApp): Promise<Record<string, unknown>> {
  await page.waitForURL((url) => url.href.startsWith(app.redirectUri));
  const text = await page.locator('pre#claims').textContent();
  assert.ok(text, `the app shows the claims (page: ${(await page.content()).slice(0, 300)})`);
  return JSON.parse(text) as Record<string, unknown>;
}

/** A computed style property of the first element the locator finds. */
export async function computedStyle(locator: Locator, property: string): Promise<string> {
  return locator.first().evaluate(
    (element, name) => (globalThis as unknown as BrowserGlobals).getComputedStyle(element).getPropertyValue(name),
    property,
  );
}

/** The few browser globals the functions above use inside the page (this project has no DOM lib). */
interface BrowserGlobals {
  getComputedStyle(element: unknown): { getPropertyValue(name: string): string };
}
