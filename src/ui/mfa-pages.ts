/**
 * The second-factor pages: setting up an authenticator app, entering its code (or a recovery
 * code), and the recovery codes shown once. Each form posts to the action URL it is given, with
 * the CSRF field of the other sign-in pages. The only script is the first-party passkey.js, on
 * pages that offer a passkey; nothing inline, so the strict CSP holds.
 */
import { html, raw, type SafeHtml } from './html.ts';
import { renderPage } from './layout.ts';
import { format, type MessageKey } from './messages.ts';
import { passkeyForm, passkeyScript, type PasskeyCeremonyView } from './passkey-pages.ts';
import type { SignInPageContext } from './sign-in-pages.ts';

const t = (ctx: SignInPageContext, key: MessageKey, values: Record<string, string | number> = {}): string =>
  format(ctx.messages[key], { org: ctx.org, ...values });

const csrfField = (ctx: SignInPageContext): SafeHtml => html`<input type="hidden" name="csrf" value="${ctx.csrf}">`;

const page = (ctx: SignInPageContext, title: string, body: SafeHtml, head?: SafeHtml): string =>
  renderPage({ title, body, branding: ctx.branding, correlationId: ctx.correlationId, ...(head ? { head } : {}) });

/** `JBSWY3DP EHPK3PXP …`: groups of four are easier to copy by hand and to check. */
export const groupSecret = (secret: string): string => secret.match(/.{1,4}/g)?.join(' ') ?? '';

/** The 6-digit code field, its label, help and error tied together for screen readers. */
function codeField(ctx: SignInPageContext, error: string | undefined): SafeHtml {
  return html`<label for="code">${t(ctx, 'mfaCodeLabel')}</label>
<p class="help" id="code-help">${t(ctx, 'mfaCodeHelp')}</p>
${error ? html`<p class="error" id="code-error" role="alert">${error}</p>` : ''}
<input type="text" id="code" name="code" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9 ]*" maxlength="7" required autofocus
  aria-describedby="code-help${error ? ' code-error' : ''}"${error ? html` aria-invalid="true"` : ''} data-testid="totp-code">`;
}

export interface TotpEnrolmentView {
  /** Where the confirming code is posted (field `code`). */
  readonly action: string;
  /** The otpauth URI as SVG, from `qrCodeSvg`: trusted markup, inlined as it is. */
  readonly qrSvg: string;
  /** The base32 secret, shown for people who cannot scan. */
  readonly secret: string;
  /** The account name the app will show (UPN or email). */
  readonly account: string;
  /** A message already in the reader's language (e.g. `mfa_invalid_code`). */
  readonly error?: string | undefined;
  /** Offered as the other choice when passkeys are on: registration of the first passkey. */
  readonly passkey?: PasskeyCeremonyView | undefined;
}

export function totpEnrolmentPage(ctx: SignInPageContext, view: TotpEnrolmentView): string {
  return page(
    ctx,
    t(ctx, 'mfaEnrolTitle'),
    html`<h1>${t(ctx, 'mfaEnrolTitle')}</h1>
<p>${t(ctx, 'mfaEnrolIntro')}</p>
<div class="qr" role="img" aria-label="${t(ctx, 'mfaQrLabel')}" data-testid="totp-qr">${raw(view.qrSvg)}</div>
<p>${t(ctx, 'mfaSecretIntro')}</p>
<p><code class="secret" data-testid="totp-secret">${groupSecret(view.secret)}</code></p>
<p class="help">${t(ctx, 'mfaAccount', { account: view.account })}</p>
<p>${t(ctx, 'mfaEnrolCodeIntro')}</p>
<form method="post" action="${view.action}">
${csrfField(ctx)}
${codeField(ctx, view.error)}
<p><button type="submit">${t(ctx, 'mfaConfirm')}</button></p>
</form>
${
  view.passkey
    ? html`<section class="passkey" aria-labelledby="passkey-heading">
<h2 id="passkey-heading">${t(ctx, 'passkeyEnrolHeading')}</h2>
<p>${t(ctx, 'passkeyEnrolIntro')}</p>
${passkeyForm(ctx, view.passkey)}
</section>`
    : ''
}`,
    view.passkey ? passkeyScript() : undefined,
  );
}

export interface TotpChallengeView {
  /** Where the app's code is posted (field `code`); absent when the user has no app, only passkeys. */
  readonly action?: string | undefined;
  /** When the user has a passkey: the authentication ceremony, offered first. */
  readonly passkey?: PasskeyCeremonyView | undefined;
  /** Where a recovery code is posted (field `recoveryCode`). */
  readonly recoveryAction: string;
  /** A message about the app's code, already in the reader's language. */
  readonly error?: string | undefined;
  /** A message about a recovery code; opens the recovery code section. */
  readonly recoveryError?: string | undefined;
}

export function totpChallengePage(ctx: SignInPageContext, view: TotpChallengeView): string {
  const recoveryError = view.recoveryError;
  const title = view.passkey ? t(ctx, 'passkeyChallengeTitle') : t(ctx, 'mfaChallengeTitle');
  const codeForm = view.action
    ? html`<form method="post" action="${view.action}">
${csrfField(ctx)}
${codeField(ctx, recoveryError ? undefined : view.error)}
<p><button type="submit">${t(ctx, 'mfaVerify')}</button></p>
</form>`
    : '';
  return page(
    ctx,
    title,
    html`<h1>${title}</h1>
${
  view.passkey
    ? html`<p>${t(ctx, 'passkeyChallengeIntro')}</p>
${passkeyForm(ctx, view.passkey)}
${view.action ? html`<h2>${t(ctx, 'passkeyOrCode')}</h2>` : ''}`
    : html`<p>${t(ctx, 'mfaChallengeIntro')}</p>`
}
${codeForm}
<details class="recovery"${recoveryError ? html` open` : ''} data-testid="use-recovery-code">
<summary>${t(ctx, 'mfaUseRecoveryCode')}</summary>
<form method="post" action="${view.recoveryAction}">
${csrfField(ctx)}
<label for="recovery-code">${t(ctx, 'mfaRecoveryCodeLabel')}</label>
<p class="help" id="recovery-code-help">${t(ctx, 'mfaRecoveryCodeHelp')}</p>
${recoveryError ? html`<p class="error" id="recovery-code-error" role="alert">${recoveryError}</p>` : ''}
<input type="text" id="recovery-code" name="recoveryCode" autocomplete="off" autocapitalize="none" spellcheck="false" maxlength="16" required
  aria-describedby="recovery-code-help${recoveryError ? ' recovery-code-error' : ''}"${recoveryError ? html` aria-invalid="true" autofocus` : ''} data-testid="recovery-code">
<p><button type="submit" class="secondary">${t(ctx, 'mfaRecoveryCodeSubmit')}</button></p>
</form>
</details>`,
    view.passkey ? passkeyScript() : undefined,
  );
}

export interface RecoveryCodesView {
  /** Where "continue" is posted once the codes are saved. */
  readonly action: string;
  readonly codes: readonly string[];
}

export function recoveryCodesPage(ctx: SignInPageContext, view: RecoveryCodesView): string {
  return page(
    ctx,
    t(ctx, 'mfaRecoveryCodesTitle'),
    html`<h1>${t(ctx, 'mfaRecoveryCodesTitle')}</h1>
<p>${t(ctx, 'mfaRecoveryCodesIntro')}</p>
<p class="notice" role="status">${t(ctx, 'mfaRecoveryCodesWarning')}</p>
<h2 id="recovery-codes-label">${t(ctx, 'mfaRecoveryCodesListLabel')}</h2>
<ol class="recovery-codes" aria-labelledby="recovery-codes-label" data-testid="recovery-codes">
${view.codes.map((code) => html`<li><code>${code}</code></li>`)}
</ol>
<form method="post" action="${view.action}">
${csrfField(ctx)}
<p><button type="submit" data-testid="recovery-codes-continue">${t(ctx, 'mfaRecoveryCodesContinue')}</button></p>
</form>`,
  );
}
