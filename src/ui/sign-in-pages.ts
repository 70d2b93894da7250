import { html, type SafeHtml } from './html.ts';
import { renderPage, type PageBranding } from './layout.ts';
import { format, type MessageKey, type Messages } from './messages.ts';

/** What every sign-in page needs: where its forms post, the CSRF token, the look. */
export interface SignInPageContext {
  readonly messages: Messages;
  readonly org: string;
  /** `/{tenant}/v2.0/interaction/{uid}`: forms post to sub-paths of it. */
  readonly actionBase: string;
  readonly csrf: string;
  readonly branding?: PageBranding | undefined;
  readonly correlationId?: string | undefined;
}

const t = (ctx: SignInPageContext, key: MessageKey, values: Record<string, string | number> = {}): string =>
  format(ctx.messages[key], { org: ctx.org, ...values });

const csrfField = (ctx: SignInPageContext): SafeHtml => html`<input type="hidden" name="csrf" value="${ctx.csrf}">`;

const page = (ctx: SignInPageContext, title: string, body: SafeHtml): string =>
  renderPage({ title, body, branding: ctx.branding, correlationId: ctx.correlationId });

const tryAnotherWay = (ctx: SignInPageContext): SafeHtml =>
  html`<form method="post" action="${ctx.actionBase}/restart">${csrfField(ctx)}<button type="submit" class="secondary" data-testid="try-another-way">${t(ctx, 'tryAnotherWay')}</button></form>`;

export function emailPage(ctx: SignInPageContext, view: { email?: string | undefined; error?: MessageKey | undefined }): string {
  const error = view.error ? t(ctx, view.error) : undefined;
  return page(
    ctx,
    t(ctx, 'signInTitle'),
    html`<h1>${t(ctx, 'signInTitle')}</h1>
<p>${t(ctx, 'signInIntro')}</p>
<form method="post" action="${ctx.actionBase}/email" novalidate>
${csrfField(ctx)}
<label for="email">${t(ctx, 'emailLabel')}</label>
<p class="help" id="email-help">${t(ctx, 'emailHelp')}</p>
${error ? html`<p class="error" id="email-error" role="alert">${error}</p>` : ''}
<input type="email" id="email" name="email" autocomplete="username email" required autofocus
  value="${view.email ?? ''}" aria-describedby="email-help${error ? ' email-error' : ''}"${error ? html` aria-invalid="true"` : ''}>
<p><button type="submit">${t(ctx, 'next')}</button></p>
</form>`,
  );
}

export function pickerPage(ctx: SignInPageContext, view: { email?: string | undefined; idps: readonly { id: string; displayName: string }[] }): string {
  return page(
    ctx,
    t(ctx, 'chooseTitle'),
    html`<h1>${t(ctx, 'chooseTitle')}</h1>
<p>${view.email ? t(ctx, 'chooseIntro', { email: view.email }) : t(ctx, 'chooseIntroNoEmail')}</p>
<form method="post" action="${ctx.actionBase}/choose">
${csrfField(ctx)}
<ul class="idp-list">
${view.idps.map((idp) => html`<li><button type="submit" name="idp" value="${idp.id}" data-testid="idp-${idp.id}">${t(ctx, 'signInWith', { idp: idp.displayName })}</button></li>`)}
</ul>
</form>
${tryAnotherWay(ctx)}`,
  );
}

export function codePage(
  ctx: SignInPageContext,
  view: { email: string; minutes: number; error?: string | undefined; notice?: string | undefined },
): string {
  return page(
    ctx,
    t(ctx, 'codeTitle'),
    html`<h1>${t(ctx, 'codeTitle')}</h1>
<p>${t(ctx, 'codeIntro', { email: view.email, minutes: view.minutes })}</p>
${view.notice ? html`<p class="notice" role="status">${view.notice}</p>` : ''}
<form method="post" action="${ctx.actionBase}/code">
${csrfField(ctx)}
<label for="code">${t(ctx, 'codeLabel')}</label>
<p class="help" id="code-help">${t(ctx, 'codeHelp')}</p>
${view.error ? html`<p class="error" id="code-error" role="alert">${view.error}</p>` : ''}
<input type="text" id="code" name="code" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9]*" maxlength="8" required autofocus
  aria-describedby="code-help${view.error ? ' code-error' : ''}"${view.error ? html` aria-invalid="true"` : ''}>
<p><button type="submit">${t(ctx, 'verify')}</button></p>
</form>
<div class="actions">
<form method="post" action="${ctx.actionBase}/resend">${csrfField(ctx)}<button type="submit" class="link">${t(ctx, 'resend')}</button></form>
${tryAnotherWay(ctx)}
</div>`,
  );
}

/** Sends the browser on to an upstream IdP: a refresh after 0 s, and a link for anyone it does not move. */
export function redirectPage(ctx: SignInPageContext, url: string, idp: string): string {
  const title = t(ctx, 'continueTo', { idp });
  return renderPage({
    title,
    branding: ctx.branding,
    head: html`<meta http-equiv="refresh" content="0;url=${url}">`,
    body: html`<h1>${title}</h1><p><a href="${url}" data-testid="continue-upstream">${title}</a></p>`,
  });
}

/** A dead end with an explanation (not invited, disabled, upstream failure…) and a way back. */
export function messagePage(
  ctx: SignInPageContext,
  view: { title: string; body: string; tryAnotherWay?: boolean; testId: string },
): string {
  return page(
    ctx,
    view.title,
    html`<h1 data-testid="${view.testId}">${view.title}</h1>
<p>${view.body}</p>
${view.tryAnotherWay === false ? '' : tryAnotherWay(ctx)}`,
  );
}
