/**
 * The passkey part of the second-factor pages: a form the first-party script /assets/passkey.js
 * drives. The ceremony's options travel in a data attribute (no inline script, so the strict CSP
 * holds); the script runs navigator.credentials.create/get, puts the credential (JSON, base64url
 * fields) into the hidden `credential` field and submits. Without JavaScript or WebAuthn the
 * button stays hidden and the page says to use an authenticator app.
 */
import { html, type SafeHtml } from './html.ts';
import { format, type MessageKey } from './messages.ts';
import type { SignInPageContext } from './sign-in-pages.ts';

export const PASSKEY_SCRIPT = '/assets/passkey.js';

export interface PasskeyCeremonyView {
  readonly ceremony: 'register' | 'authenticate';
  /** Where the credential is posted (field `credential`). */
  readonly action: string;
  /** The options from @simplewebauthn/server, as JSON for the browser. */
  readonly options: unknown;
  /** A message already in the reader's language (e.g. `passkey_failed`). */
  readonly error?: string | undefined;
}

const t = (ctx: SignInPageContext, key: MessageKey): string => format(ctx.messages[key], { org: ctx.org });

/** The script element for the page head: loaded from Portico's origin, run after parsing. */
export const passkeyScript = (): SafeHtml => html`<script src="${PASSKEY_SCRIPT}" defer></script>`;

/** The form that runs one ceremony, with its button, the error and the no-passkeys note. */
export function passkeyForm(ctx: SignInPageContext, view: PasskeyCeremonyView): SafeHtml {
  const label = view.ceremony === 'register' ? t(ctx, 'passkeyRegister') : t(ctx, 'passkeyAuthenticate');
  return html`<form method="post" action="${view.action}" data-passkey="${view.ceremony}" data-passkey-options="${JSON.stringify(view.options)}" data-testid="passkey-${view.ceremony}">
<input type="hidden" name="csrf" value="${ctx.csrf}">
<input type="hidden" name="credential" value="">
${view.error ? html`<p class="error" role="alert" data-testid="passkey-error">${view.error}</p>` : ''}
<p class="error" role="alert" hidden data-passkey-cancelled>${t(ctx, 'passkeyCancelled')}</p>
<p class="help" data-passkey-unsupported data-testid="passkey-unsupported">${t(ctx, 'passkeyUnsupported')}</p>
<p><button type="submit" hidden data-passkey-start>${label}</button></p>
</form>`;
}
