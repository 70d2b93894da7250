import express, { Router, type Request, type Response } from 'express';
import type Provider from 'oidc-provider';
import { errors } from 'oidc-provider';
import type { TenantConfig } from '../config/types.ts';
import type { UserDirectory } from '../directory/users.ts';
import { requestIdOf } from '../http/express-app.ts';
import type { Logger } from '../shared/logger.ts';
import { html } from '../ui/html.ts';
import { renderPage } from '../ui/layout.ts';

export interface InteractionTenant {
  readonly provider: Provider;
  readonly tenant: TenantConfig;
  readonly csp: string;
}

export interface InteractionDeps {
  readonly tenantFor: (tenantId: string) => InteractionTenant | undefined;
  readonly logger: Logger;
  /**
   * A sign-in step that takes a user id and signs that user in with no credential. Only the test
   * harness passes this (createPortico({ testLogin })); the server entry point never does, and no
   * config key or environment variable can turn it on.
   */
  readonly testLogin?: { readonly users: UserDirectory } | undefined;
}

/**
 * The sign-in flow's pages, between the provider's authorization endpoint and its resume. Until
 * upstream connectors exist the login step ends on a page that says no sign-in method is set up.
 */
export function interactionRoutes(deps: InteractionDeps): Router {
  const router = Router();
  const path = '/:tenant/v2.0/interaction/:uid';

  router.get(path, async (req, res) => {
    const target = tenantOr404(deps, req, res);
    if (!target) return;
    const details = await interactionOrExpired(target, req, res);
    if (!details) return;
    if (details.prompt.name === 'consent') {
      // Every app of the tenant is first-party: the grant was prepared by loadExistingGrant, and an
      // explicit prompt=consent is satisfied with it.
      if (!details.grantId) throw new Error('consent prompt without a prepared grant');
      await target.provider.interactionFinished(req, res, { consent: { grantId: details.grantId } }, { mergeWithLastSubmission: true });
      return;
    }
    res.status(200).type('html').send(
      renderPage({
        title: `Sign in to ${target.tenant.displayName}`,
        correlationId: requestIdOf(req),
        body: html`<h1>Sign in to ${target.tenant.displayName}</h1>
<p>No sign-in method is configured for ${target.tenant.displayName} yet, so nobody can sign in here.</p>
<p>If you are the administrator, add an identity provider to the tenant's configuration.</p>
${deps.testLogin ? testLoginForm(req) : ''}`,
      }),
    );
  });

  if (deps.testLogin) {
    const { users } = deps.testLogin;
    router.post(`${path}/test-login`, express.urlencoded({ extended: false, limit: '4kb' }), async (req, res) => {
      const target = tenantOr404(deps, req, res);
      if (!target) return;
      const details = await interactionOrExpired(target, req, res);
      if (!details) return;
      const userId = typeof req.body?.user === 'string' ? req.body.user : '';
      const user = await users.get(target.tenant.id, userId);
      if (!user) {
        res.status(400).type('text').send('test login: no such user in this tenant');
        return;
      }
      await target.provider.interactionFinished(req, res, { login: { accountId: user.id, amr: ['test'] } }, { mergeWithLastSubmission: false });
    });
  }

  return router;
}

function testLoginForm(req: Request) {
  return html`<form method="post" action="${req.path}/test-login" data-testid="test-login">
<p><strong>Test-only login</strong> (this build is a test harness).</p>
<label for="user">User object id</label> <input id="user" name="user" required>
<button type="submit">Sign in</button>
</form>`;
}

function tenantOr404(deps: InteractionDeps, req: Request, res: Response): InteractionTenant | undefined {
  const target = deps.tenantFor(String(req.params['tenant']));
  if (!target) {
    res.status(404).type('html').send(
      renderPage({ title: 'Not found', correlationId: requestIdOf(req), body: html`<h1>Unknown organisation</h1><p>There is no such organisation here.</p>` }),
    );
    return undefined;
  }
  res.setHeader('Content-Security-Policy', target.csp);
  return target;
}

async function interactionOrExpired(target: InteractionTenant, req: Request, res: Response) {
  try {
    const details = await target.provider.interactionDetails(req, res);
    if (details.uid !== req.params['uid']) throw new errors.SessionNotFound('interaction mismatch');
    return details;
  } catch (error) {
    if (!(error instanceof errors.SessionNotFound)) throw error;
    res.status(400).type('html').send(
      renderPage({
        title: 'Sign-in expired',
        correlationId: requestIdOf(req),
        body: html`<h1>This sign-in has expired</h1>
<p>It took too long, or this browser does not keep cookies for ${target.tenant.displayName}. Go back to the app and start again.</p>`,
      }),
    );
    return undefined;
  }
}
