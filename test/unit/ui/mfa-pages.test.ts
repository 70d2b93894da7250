import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { qrCodeSvg } from '../../../src/mfa/qr.ts';
import { generateRecoveryCodes } from '../../../src/mfa/recovery-codes.ts';
import { totpUri } from '../../../src/mfa/totp.ts';
import { messagesFor } from '../../../src/ui/messages.ts';
import { groupSecret, recoveryCodesPage, totpChallengePage, totpEnrolmentPage } from '../../../src/ui/mfa-pages.ts';
import type { SignInPageContext } from '../../../src/ui/sign-in-pages.ts';

const ctx: SignInPageContext = {
  messages: messagesFor(),
  org: 'Contoso',
  actionBase: '/contoso/v2.0/interaction/uid-1',
  csrf: 'csrf-token-1',
  correlationId: 'corr-1',
};
const SECRET = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXQ';

/** Every `<label for>` names an element that exists, and every input a person fills has a label. */
function assertLabelled(page: string): void {
  const ids = new Set([...page.matchAll(/\sid="([^"]+)"/g)].map((m) => m[1]));
  const labelled = [...page.matchAll(/<label for="([^"]+)">[^<]+<\/label>/g)].map((m) => m[1]);
  for (const target of labelled) assert.ok(ids.has(target), `label for missing #${target}`);
  for (const input of page.matchAll(/<input (?![^>]*type="hidden")[^>]*\sid="([^"]+)"/g)) assert.ok(labelled.includes(input[1]), `input #${input[1]} has no label`);
  for (const described of page.matchAll(/aria-describedby="([^"]+)"/g)) {
    for (const id of described[1]!.split(' ')) assert.ok(ids.has(id), `aria-describedby names missing #${id}`);
  }
}

const csrfFields = (page: string): number => [...page.matchAll(/<input type="hidden" name="csrf" value="csrf-token-1">/g)].length;
const forms = (page: string): string[] => [...page.matchAll(/<form method="post" action="([^"]+)"/g)].map((m) => m[1]!);

describe('second-factor pages', () => {
  it('enrolment: the QR code inline, the key in groups of four, a labelled code field posting with CSRF', async () => {
    const qrSvg = await qrCodeSvg(totpUri({ secret: SECRET, tenantDisplayName: 'Contoso', account: 'alice@adatum.com' }));
    const page = totpEnrolmentPage(ctx, { action: '/contoso/v2.0/interaction/uid-1/mfa/enrol', qrSvg, secret: SECRET, account: 'alice<x>@adatum.com' });
    assert.match(page, /<div class="qr" role="img" aria-label="QR code to scan with your authenticator app" data-testid="totp-qr"><svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    assert.match(page, /<code class="secret" data-testid="totp-secret">JBSW Y3DP EHPK 3PXP JBSW Y3DP EHPK 3PXQ<\/code>/);
    assert.match(page, /Account: alice&#60;x&#62;@adatum.com/, 'the account is escaped');
    assert.deepEqual(forms(page), ['/contoso/v2.0/interaction/uid-1/mfa/enrol']);
    assert.equal(csrfFields(page), 1);
    assert.match(page, /<label for="code">Code from the app<\/label>/);
    assert.match(page, /name="code" inputmode="numeric" autocomplete="one-time-code"/);
    assert.match(page, /<button type="submit">Confirm<\/button>/);
    assert.match(page, /data-testid="correlation-id">corr-1/);
    assert.doesNotMatch(page, /<script|style=|<style|aria-invalid/);
    assertLabelled(page);
  });

  it('enrolment with an error: announced and tied to the field', () => {
    const page = totpEnrolmentPage(ctx, { action: '/a', qrSvg: '<svg></svg>', secret: SECRET, account: 'a@b.example', error: messagesFor().mfa_invalid_code });
    assert.match(page, /<p class="error" id="code-error" role="alert">That code is not right/);
    assert.match(page, /aria-describedby="code-help code-error" aria-invalid="true"/);
    assertLabelled(page);
  });

  it('challenge: a code field, and a recovery code form behind "use a recovery code", both with CSRF', () => {
    const page = totpChallengePage(ctx, { action: '/mfa/verify', recoveryAction: '/mfa/recovery' });
    assert.deepEqual(forms(page), ['/mfa/verify', '/mfa/recovery']);
    assert.equal(csrfFields(page), 2);
    assert.match(page, /<h1>Enter your code<\/h1>/);
    assert.match(page, /Open the authenticator app you set up for Contoso/);
    assert.match(page, /<details class="recovery" data-testid="use-recovery-code">\s*<summary>Use a recovery code<\/summary>/);
    assert.match(page, /<label for="recovery-code">Recovery code<\/label>/);
    assert.match(page, /name="recoveryCode"/);
    assert.doesNotMatch(page, /<script|style=|<style|role="alert"/);
    assertLabelled(page);
  });

  it('challenge with a wrong recovery code: the section opens with the error on its field', () => {
    const page = totpChallengePage(ctx, { action: '/v', recoveryAction: '/r', recoveryError: messagesFor().mfa_invalid_recovery_code });
    assert.match(page, /<details class="recovery" open data-testid="use-recovery-code">/);
    assert.match(page, /id="recovery-code-error" role="alert">That recovery code is not right/);
    assert.match(page, /aria-describedby="recovery-code-help recovery-code-error" aria-invalid="true" autofocus/);
    assert.equal([...page.matchAll(/aria-invalid/g)].length, 1, 'only the recovery field is marked');
    assertLabelled(page);
  });

  it('recovery codes: all ten listed under a heading, and a continue button posting with CSRF', () => {
    const codes = generateRecoveryCodes();
    const page = recoveryCodesPage(ctx, { action: '/mfa/done', codes });
    for (const code of codes) assert.ok(page.includes(`<li><code>${code}</code></li>`), code);
    assert.match(page, /<ol class="recovery-codes" aria-labelledby="recovery-codes-label" data-testid="recovery-codes">/);
    assert.match(page, /<h2 id="recovery-codes-label">Your recovery codes<\/h2>/);
    assert.match(page, /the only time they are shown/);
    assert.deepEqual(forms(page), ['/mfa/done']);
    assert.equal(csrfFields(page), 1);
    assert.match(page, /data-testid="recovery-codes-continue">I have saved them, continue<\/button>/);
  });

  it('groups a key in fours', () => {
    assert.equal(groupSecret('ABCDEFGHIJ'), 'ABCD EFGH IJ');
    assert.equal(groupSecret(''), '');
  });
});
