/**
 * The sign-in flow's HTTP routes: the interaction page, identifier-first discovery, the IdP
 * picker, the passcode step, upstream callbacks and the SAML ACS, consent and decline. What
 * happens once the upstream has answered is in completion.ts; the second factor in mfa-step.ts.
 */
import express, { Router, type Request, type Response } from 'express';
import { UpstreamError, type CodeConnector, type Connector, type UpstreamIdentity } from '../connectors/types.ts';
import { requestIdOf } from '../http/express-app.ts';
import { redemptionOrderFor, resolveOrganisation } from '../policy/index.ts';
import { requestsMfa } from '../shared/assurance.ts';
import { normaliseEmail } from '../shared/email.ts';
import { html } from '../ui/html.ts';
import { renderPage } from '../ui/layout.ts';
import { format, messagesFor, type MessageKey } from '../ui/messages.ts';
import { codePage, emailPage, messagePage, redirectPage } from '../ui/sign-in-pages.ts';
import { acceptInvitation, finishSignIn } from './completion.ts';
import {
  actionBase,
  browserKeyFor,
  clearFlowCookie,
  clientIp,
  expired,
  flowForPost,
  interactionOrExpired,
  pageContext,
  readFlowCookie,
  setFlowCookie,
  t,
  tenantOr404,
  type InteractionDeps,
  type InteractionTenant,
} from './context.ts';
import type { SignInFlow } from './flow.ts';
import { discoverHomeRealm, emailDomain, type IdpGroup } from './home-realm.ts';
import { mfaStepRoutes } from './mfa-step.ts';
import { REDEMPTION_CLIENT_ID } from './redemption.ts';
import { renderStep, testLoginForm } from './render-step.ts';
import { recordSignIn, refused } from './sign-in-recording.ts';


/** SAML responses are posted whole; anything larger than this is refused before parsing. */
const MAX_ACS_BODY = '512kb';

/**
 * The sign-in flow's pages and upstream callbacks, between the provider's authorization endpoint
 * and its resume: identifier-first home-realm discovery, the IdP picker, the upstream round trip
 * or the email passcode, then the mapping to a guest of the tenant.
 */
export function interactionRoutes(deps: InteractionDeps): Router {
  const router = Router();
  const base = '/:tenant/v2.0/interaction/:uid';
  const form = express.urlencoded({ extended: false, limit: '8kb', parameterLimit: 20 });

  router.get(base, async (req, res) => {
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
    if (target.signIn.summaries.length === 0) {
      res.status(200).type('html').send(
        renderPage({
          title: t(target, 'noMethodsTitle'),
          correlationId: requestIdOf(req),
          branding: target.signIn.brandingFor(undefined),
          body: html`<h1 data-testid="no-methods">${t(target, 'noMethodsTitle')}</h1><p>${t(target, 'noMethodsConfigured')}</p>`,
        }) + (deps.testLogin ? testLoginForm(req, details.uid, target.tenant.id) : ''),
      );
      return;
    }
    let flow = await deps.flows.getForBrowser(details.uid, browserKeyFor(req, details.uid));
    if (!flow) {
      const params = details.params as Record<string, unknown>;
      const hints = {
        ...(typeof params['login_hint'] === 'string' ? { loginHint: params['login_hint'] } : {}),
        ...(typeof params['domain_hint'] === 'string' ? { domainHint: params['domain_hint'] } : {}),
        ...(typeof params['idp'] === 'string' ? { idp: params['idp'] } : {}),
        // Only Portico's own redemption app may start a redemption.
        ...(typeof params['redemption'] === 'string' && params['client_id'] === REDEMPTION_CLIENT_ID ? { redemption: params['redemption'] } : {}),
        ...(requestsMfa(params) ? { mfa: true } : {}),
      };
      const begun = await deps.flows.begin({ uid: details.uid, tenantId: target.tenant.id, clientId: String(params['client_id']), hints });
      setFlowCookie(deps, req, res, target.tenant.id, details.uid, begun.browserKey);
      flow = begun.flow;
      const hintedEmail = hints.loginHint ? normaliseEmail(hints.loginHint) : undefined;
      if (hintedEmail || hints.domainHint || hints.idp) {
        // Hints skip the steps they answer: an email, a domain or the IdP itself.
        if (hintedEmail) flow = await deps.flows.identify(flow.uid, { email: hintedEmail, partnerId: target.signIn.partnerForDomain(emailDomain(hintedEmail))?.id });
        await discoverAndProceed(deps, target, req, res, flow, { email: hintedEmail, domainHint: hints.domainHint, idpHint: hints.idp });
        return;
      }
    }
    await renderStep(deps, target, req, res, flow);
  });

  router.post(`${base}/email`, form, async (req, res) => {
    const context = await flowForPost(deps, req, res);
    if (!context) return;
    const { target, flow } = context;
    const email = normaliseEmail(typeof req.body.email === 'string' ? req.body.email : '');
    if (!email) {
      res.status(400).type('html').send(emailPage(pageContext(target, req, flow), { email: String(req.body.email ?? '').slice(0, 320), error: 'emailInvalid' }));
      return;
    }
    const identified = await deps.flows.identify(flow.uid, { email, partnerId: target.signIn.partnerForDomain(emailDomain(email))?.id });
    await discoverAndProceed(deps, target, req, res, identified, { email });
  });

  router.post(`${base}/choose`, form, async (req, res) => {
    const context = await flowForPost(deps, req, res);
    if (!context) return;
    const { target, flow } = context;
    const chosen = typeof req.body.idp === 'string' ? req.body.idp : '';
    if (flow.step !== 'choose' || !flow.candidates?.includes(chosen)) {
      await renderStep(deps, target, req, res, flow, 400);
      return;
    }
    await startConnector(deps, target, req, res, flow, target.signIn.connector(chosen)!);
  });

  router.post(`${base}/code`, form, async (req, res) => {
    const waiting = await codeStepForPost(deps, req, res);
    if (!waiting) return;
    const { target, flow, connector, email } = waiting;
    const code = typeof req.body.code === 'string' ? req.body.code.replace(/\s+/g, '') : '';
    try {
      const identity = await connector.verify({ flowId: flow.uid, email, code, clientIp: clientIp(req) });
      await deps.flows.identified(flow.uid, identity);
      res.redirect(303, `${actionBase(target, flow)}/continue`);
    } catch (error) {
      if (!(error instanceof UpstreamError)) throw error;
      deps.logger.info({ requestId: requestIdOf(req), tenant: target.tenant.id, connector: connector.id, code: error.code }, 'passcode refused');
      await recordSignIn(deps.signInLog, target, req, flow, { connector, outcome: refused(error.code) });
      const messages = messagesFor();
      const message = error.code in messages ? format(messages[error.code as MessageKey], { seconds: 60 }) : messages.invalid_code;
      res.status(400).type('html').send(codePage(pageContext(target, req, flow), { email, minutes: target.signIn.codeLifetimeMinutes(connector.id), error: message }));
    }
  });

  router.post(`${base}/resend`, form, async (req, res) => {
    const waiting = await codeStepForPost(deps, req, res);
    if (!waiting) return;
    const { target, flow, connector, email } = waiting;
    const sent = await sendCode(deps, target, req, flow, connector, email);
    const ctx = pageContext(target, req, flow);
    const view =
      sent.status === 'sent'
        ? { notice: ctx.messages.codeResent }
        : { error: format(ctx.messages.throttled, { seconds: sent.retryAfterSeconds }) };
    res.status(sent.status === 'sent' ? 200 : 429).type('html').send(codePage(ctx, { email, minutes: target.signIn.codeLifetimeMinutes(connector.id), ...view }));
  });

  router.post(`${base}/restart`, form, async (req, res) => {
    const context = await flowForPost(deps, req, res);
    if (!context) return;
    await deps.flows.restart(context.flow.uid);
    res.redirect(303, actionBase(context.target, context.flow));
  });

  router.get(`${base}/continue`, async (req, res) => {
    const target = tenantOr404(deps, req, res);
    if (!target) return;
    const details = await interactionOrExpired(target, req, res);
    if (!details) return;
    const flow = await deps.flows.getForBrowser(details.uid, browserKeyFor(req, details.uid));
    if (!flow || flow.step !== 'identified' || !flow.identity) {
      // Not this browser's flow (a response replayed into another browser), or a step skipped.
      expired(res, req, target, 400);
      return;
    }
    await finishSignIn(deps, target, req, res, flow, flow.identity);
  });

  router.post(`${base}/consent`, form, async (req, res) => {
    const context = await flowForPost(deps, req, res);
    if (!context) return;
    const { target, flow } = context;
    if (flow.step !== 'consent' || !flow.identity || !flow.consentUserId) {
      await renderStep(deps, target, req, res, flow, 400);
      return;
    }
    await acceptInvitation(deps, target, req, res, flow, flow.identity, flow.consentUserId);
  });

  router.use(mfaStepRoutes(deps));

  router.post(`${base}/decline`, form, async (req, res) => {
    const context = await flowForPost(deps, req, res);
    if (!context) return;
    const { target, flow } = context;
    if (flow.step !== 'consent') {
      await renderStep(deps, target, req, res, flow, 400);
      return;
    }
    deps.logger.info({ requestId: requestIdOf(req), tenant: target.tenant.id, client: flow.clientId }, 'invitation declined');
    const user = flow.consentUserId ? await deps.users.get(target.tenant.id, flow.consentUserId) : undefined;
    await recordSignIn(deps.signInLog, target, req, flow, { identity: flow.identity, user, outcome: refused('declined') });
    await deps.flows.end(flow.uid);
    clearFlowCookie(deps, req, res, target.tenant.id, flow.uid);
    await target.provider.interactionFinished(
      req,
      res,
      { error: 'access_denied', error_description: 'the guest declined the invitation' },
      { mergeWithLastSubmission: false },
    );
  });

  if (deps.testLogin) {
    const { users } = deps.testLogin;
    router.post(`${base}/test-login`, form, async (req, res) => {
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

  // Upstream IdPs send the browser back here: one callback URL per connector (mix-up defence).
  const federation = '/:tenant/v2.0/federation/:connector';
  router.get(`${federation}/callback`, async (req, res) => {
    const target = tenantOr404(deps, req, res);
    if (!target) return;
    const connector = target.signIn.connector(String(req.params['connector']));
    const flow = await upstreamFlowOf(deps, req, String(req.params['connector']));
    if (!connector || connector.capability !== 'redirect' || !flow || flow.step !== 'upstream' || flow.connectorId !== connector.id) {
      expired(res, req, target, 400);
      return;
    }
    const callbackUrl = new URL(req.originalUrl, target.signIn.tenantBaseUrl);
    await completeUpstream(deps, target, req, res, flow, connector, () =>
      connector.handleCallback(callbackUrl, flow.connectorState ?? {}, startContext(target, flow, connector)),
    );
  });

  router.post(`${federation}/acs`, express.urlencoded({ extended: false, limit: MAX_ACS_BODY, parameterLimit: 5 }), async (req, res) => {
    const target = tenantOr404(deps, req, res);
    if (!target) return;
    const connector = target.signIn.connector(String(req.params['connector']));
    const relayState = typeof req.body?.RelayState === 'string' ? req.body.RelayState : '';
    const samlResponse = typeof req.body?.SAMLResponse === 'string' ? req.body.SAMLResponse : '';
    // The IdP posts cross-site, so the (SameSite=Lax) flow cookie is not sent here: the flow is
    // found by RelayState and the response is bound to it by InResponseTo; the browser check
    // happens on /continue, a top-level GET where the cookie is sent.
    const flow = relayState ? await deps.flows.get(relayState) : undefined;
    if (!connector || connector.capability !== 'saml-post' || !flow || flow.tenantId !== target.tenant.id || flow.step !== 'upstream' || flow.connectorId !== connector.id || !samlResponse) {
      expired(res, req, target, 400);
      return;
    }
    await completeUpstream(deps, target, req, res, flow, connector, () =>
      connector.handlePost({ SAMLResponse: samlResponse, RelayState: relayState }, flow.connectorState ?? {}, startContext(target, flow, connector)),
    );
  });

  router.get(`${federation}/metadata`, (req, res) => {
    const target = tenantOr404(deps, req, res);
    if (!target) return;
    const connector = target.signIn.connector(String(req.params['connector']));
    if (!connector || connector.capability !== 'saml-post') {
      res.status(404).type('text').send('no SAML connector with this id');
      return;
    }
    res.type('application/samlmetadata+xml').send(connector.metadata());
  });

  return router;
}

/**
 * A form post to the passcode step: the flow (after the browser and CSRF checks), its passcode
 * connector and address; answers the request itself when the flow is not waiting for a code.
 */
/**
 * The browser's flow an upstream is answering: among its flows waiting for this connector, the
 * one whose `state` the answer carries (several tabs may wait for the same IdP), or the only one
 * (the connector then checks the state itself and refuses a wrong one).
 */
async function upstreamFlowOf(deps: InteractionDeps, req: Request, connectorId: string): Promise<SignInFlow | undefined> {
  const flows = await Promise.all(readFlowCookie(req).map(({ uid, key }) => deps.flows.getForBrowser(uid, key)));
  const waiting = flows.filter((flow): flow is SignInFlow => flow?.step === 'upstream' && flow.connectorId === connectorId);
  const state = typeof req.query['state'] === 'string' ? req.query['state'] : undefined;
  return waiting.find((flow) => state !== undefined && flow.connectorState?.['state'] === state) ?? (waiting.length === 1 ? waiting[0] : undefined);
}

async function codeStepForPost(
  deps: InteractionDeps,
  req: Request,
  res: Response,
): Promise<{ target: InteractionTenant; flow: SignInFlow; connector: CodeConnector; email: string } | undefined> {
  const context = await flowForPost(deps, req, res);
  if (!context) return undefined;
  const { target, flow } = context;
  const connector = flow.connectorId ? target.signIn.connector(flow.connectorId) : undefined;
  if (flow.step !== 'code' || !connector || connector.capability !== 'code' || !flow.email) {
    await renderStep(deps, target, req, res, flow, 400);
    return undefined;
  }
  return { target, flow, connector, email: flow.email };
}

async function discoverAndProceed(
  deps: InteractionDeps,
  target: InteractionTenant,
  req: Request,
  res: Response,
  flow: SignInFlow,
  input: { email?: string | undefined; domainHint?: string | undefined; idpHint?: string | undefined },
): Promise<void> {
  const discovery = discoverHomeRealm({ idps: target.signIn.summaries, redemptionOrder: redemptionOrderOf(deps, target, input.email), ...input });
  deps.logger.debug({ requestId: requestIdOf(req), tenant: target.tenant.id, trace: discovery.trace }, 'home-realm discovery');
  const [only, ...others] = discovery.candidates;
  if (!only) {
    res.status(200).type('html').send(
      messagePage(pageContext(target, req, flow), { title: t(target, 'noMethodsTitle'), body: t(target, 'noMethodsBody'), testId: 'no-methods' }),
    );
    return;
  }
  if (others.length > 0) {
    await deps.flows.offer(flow.uid, discovery.candidates);
    res.redirect(303, actionBase(target, flow));
    return;
  }
  await startConnector(deps, target, req, res, flow, target.signIn.connector(only)!);
}

/** The partner's own redemption order (read live from cross-tenant access), else the tenant's. */
function redemptionOrderOf(deps: InteractionDeps, target: InteractionTenant, email: string | undefined): readonly IdpGroup[] {
  const policy = deps.access?.policies.policyFor(target.tenant.id);
  if (!policy || !email) return target.tenant.signIn.redemptionOrder;
  const partnerOrder = redemptionOrderFor(policy, resolveOrganisation(policy, { emailDomain: emailDomain(email) }));
  return partnerOrder?.order ?? target.tenant.signIn.redemptionOrder;
}

async function startConnector(
  deps: InteractionDeps,
  target: InteractionTenant,
  req: Request,
  res: Response,
  flow: SignInFlow,
  connector: Connector,
): Promise<void> {
  const partnerId = target.signIn.partnerOfConnector(connector.id) ?? flow.partnerId;
  if (connector.capability === 'code') {
    if (!flow.email) {
      // A passcode needs an address: ask for it (an idp hint can land here first).
      await deps.flows.restart(flow.uid);
      res.redirect(303, actionBase(target, flow));
      return;
    }
    const sent = await sendCode(deps, target, req, flow, connector, flow.email);
    const waiting = await deps.flows.awaitCode(flow.uid, { connectorId: connector.id, email: flow.email });
    if (sent.status === 'throttled') {
      res.status(429).type('html').send(
        codePage(pageContext(target, req, waiting), {
          email: flow.email,
          minutes: target.signIn.codeLifetimeMinutes(connector.id),
          error: format(messagesFor().throttled, { seconds: sent.retryAfterSeconds }),
        }),
      );
      return;
    }
    res.redirect(303, actionBase(target, flow));
    return;
  }
  try {
    const started = await connector.start(startContext(target, flow, connector));
    await deps.flows.startUpstream(flow.uid, { connectorId: connector.id, state: started.state, partnerId });
    if (req.method === 'POST') {
      // Browsers apply CSP form-action to every redirect that follows a form post, and the IdP's
      // sign-in page may be on any host (discovery or SAML metadata decide). A page that moves
      // on by itself starts a new navigation instead, so form-action can stay 'self' + the apps.
      res.status(200).type('html').send(redirectPage(pageContext(target, req, flow), started.redirectUrl, connector.displayName));
      return;
    }
    res.redirect(303, started.redirectUrl);
  } catch (error) {
    if (!(error instanceof UpstreamError)) throw error;
    await upstreamFailed(deps, target, req, res, flow, connector, error);
  }
}

async function sendCode(deps: InteractionDeps, target: InteractionTenant, req: Request, flow: SignInFlow, connector: CodeConnector, email: string) {
  const result = await connector.send({ flowId: flow.uid, email, clientIp: clientIp(req), tenantDisplayName: target.tenant.displayName });
  deps.logger.info({ requestId: requestIdOf(req), tenant: target.tenant.id, connector: connector.id, status: result.status }, 'passcode requested');
  return result;
}

async function completeUpstream(
  deps: InteractionDeps,
  target: InteractionTenant,
  req: Request,
  res: Response,
  flow: SignInFlow,
  connector: Connector,
  complete: () => Promise<UpstreamIdentity>,
): Promise<void> {
  let identity: UpstreamIdentity;
  try {
    identity = await complete();
  } catch (error) {
    if (!(error instanceof UpstreamError)) throw error;
    await upstreamFailed(deps, target, req, res, flow, connector, error);
    return;
  }
  await deps.flows.identified(flow.uid, identity);
  res.redirect(303, `${actionBase(target, flow)}/continue`);
}

async function upstreamFailed(
  deps: InteractionDeps,
  target: InteractionTenant,
  req: Request,
  res: Response,
  flow: SignInFlow,
  connector: Connector,
  error: UpstreamError,
): Promise<void> {
  deps.logger.warn(
    { requestId: requestIdOf(req), tenant: target.tenant.id, connector: connector.id, code: error.code, reason: error.message },
    'upstream sign-in failed',
  );
  await recordSignIn(deps.signInLog, target, req, flow, { connector, outcome: refused(error.code) });
  const messages = messagesFor();
  const key = (error.code in messages ? error.code : 'invalid_response') as MessageKey;
  res.status(error.code === 'upstream_unavailable' ? 504 : 400).type('html').send(
    messagePage(pageContext(target, req, flow), {
      title: messages.upstreamErrorTitle,
      body: format(messages[key], { idp: connector.displayName, seconds: 60 }),
      testId: `upstream-error-${error.code}`,
    }),
  );
}

function startContext(target: InteractionTenant, flow: SignInFlow, connector: Connector) {
  return {
    flowId: flow.uid,
    callbackUrl: target.signIn.callbackUrl(connector),
    ...(flow.email ? { loginHint: flow.email } : {}),
  };
}


