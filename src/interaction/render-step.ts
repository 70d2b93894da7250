/** Renders the page of the flow's current step: the one a GET shows, and a post at the wrong step gets. */
import type { Request, Response } from 'express';
import { html } from '../ui/html.ts';
import { renderPage } from '../ui/layout.ts';
import { format } from '../ui/messages.ts';
import { codePage, emailPage, pickerPage } from '../ui/sign-in-pages.ts';
import { pageContext, type InteractionDeps, type InteractionTenant } from './context.ts';
import type { SignInFlow } from './flow.ts';
import { renderMfa } from './mfa-page.ts';
import { consentBody } from './redemption.ts';

export async function renderStep(deps: InteractionDeps, target: InteractionTenant, req: Request, res: Response, flow: SignInFlow, status = 200): Promise<void> {
  const ctx = pageContext(target, req, flow);
  if (flow.step === 'mfa') {
    await renderMfa(deps, target, req, res, flow, {}, status);
    return;
  }
  if (flow.step === 'consent') {
    const links = deps.redemption?.consentLinks(target.tenant.id) ?? {};
    const inviter = flow.consentUserId ? await deps.redemption?.inviterOf?.(target.tenant.id, flow.consentUserId) : undefined;
    res.status(status).type('html').send(
      renderPage({
        title: format(ctx.messages.consentTitle, { org: target.tenant.displayName }),
        branding: ctx.branding,
        correlationId: ctx.correlationId,
        body: consentBody({ org: target.tenant.displayName, inviter, ...links }, ctx.actionBase, ctx.csrf),
      }),
    );
    return;
  }
  if (flow.step === 'choose' && flow.candidates) {
    const idps = flow.candidates.flatMap((id) => {
      const connector = target.signIn.connector(id);
      return connector ? [{ id, displayName: connector.displayName }] : [];
    });
    res.status(status).type('html').send(pickerPage(ctx, { email: flow.email, idps }));
    return;
  }
  const connector = flow.connectorId ? target.signIn.connector(flow.connectorId) : undefined;
  if (flow.step === 'code' && flow.email && connector?.capability === 'code') {
    res.status(status).type('html').send(codePage(ctx, { email: flow.email, minutes: target.signIn.codeLifetimeMinutes(connector.id) }));
    return;
  }
  let body = emailPage(ctx, { email: flow.email ?? flow.hints.loginHint });
  if (deps.testLogin) body = body.replace('</main>', `${testLoginForm(req, flow.uid, target.tenant.id)}</main>`);
  res.status(status).type('html').send(body);
}

export function testLoginForm(_req: Request, uid: string, tenantId: string): string {
  return html`<form method="post" action="/${tenantId}/v2.0/interaction/${uid}/test-login" data-testid="test-login">
<p><strong>Test-only login</strong> (this build is a test harness).</p>
<label for="user">User object id</label> <input id="user" name="user" required>
<button type="submit">Sign in</button>
</form>`.value;
}
