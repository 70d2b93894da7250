import express, { Router, type Request, type Response } from 'express';
import { UpstreamError, type CodeConnector, type Connector, type UpstreamIdentity } from '../connectors/types.ts';
import { InvitationError } from '../directory/invitations.ts';
import type { TrustedDevice, User } from '../directory/users.ts';
import { requestIdOf } from '../http/express-app.ts';
import { automaticConsent, describeRequirement, homeOrganisationOf, redemptionOrderFor, resolveOrganisation, type Decision, type HomeOrganisation } from '../policy/index.ts';
import { ACR_MFA, ACR_SFA, requestsMfa } from '../shared/assurance.ts';
import { epochSeconds, systemClock } from '../shared/clock.ts';
import { normaliseEmail } from '../shared/email.ts';
import { html } from '../ui/html.ts';
import { renderPage } from '../ui/layout.ts';
import { format, messagesFor, type MessageKey } from '../ui/messages.ts';
import { codePage, emailPage, messagePage, pickerPage, redirectPage } from '../ui/sign-in-pages.ts';
import { decideAccess, homeOfIdentity, type AccessAnswer } from './access-policy.ts';
import { type PorticoMfaMethod, type SignInFlow } from './flow.ts';
import { resolveGuest } from './guest-resolution.ts';
import { discoverHomeRealm, emailDomain, type IdpGroup } from './home-realm.ts';
import { acceptRedemption, checkRedemptionIdentity, consentBody, REDEMPTION_CLIENT_ID } from './redemption.ts';
import { recordSignIn, redemptionRefused, refused, succeeded } from './sign-in-recording.ts';
import {
  actionBase,
  browserKeyFor,
  clearFlowCookie,
  clientIp,
  readFlowCookie,
  expired,
  flowForPost,
  interactionOrExpired,
  pageContext,
  setFlowCookie,
  t,
  tenantOr404,
  type InteractionDeps,
  type InteractionTenant,
} from './context.ts';
import { mfaStepRoutes, renderMfa } from './mfa-step.ts';

export type { InteractionDeps, InteractionTenant } from './context.ts';

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
      setFlowCookie(deps, res, target.tenant.id, details.uid, begun.browserKey);
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

  router.use(mfaStepRoutes(deps, renderStep));

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
    clearFlowCookie(deps, res, target.tenant.id);
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
    const cookie = readFlowCookie(req);
    const flow = cookie ? await deps.flows.getForBrowser(cookie.uid, cookie.key) : undefined;
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

async function finishSignIn(
  deps: InteractionDeps,
  target: InteractionTenant,
  req: Request,
  res: Response,
  flow: SignInFlow,
  identity: UpstreamIdentity,
): Promise<void> {
  const home = homeOf(deps, target, identity);
  if (flow.hints.redemption && deps.redemption) {
    const check = await checkRedemptionIdentity(
      { store: deps.redemption.store, invitations: deps.redemption.invitations, users: deps.users },
      { tenantId: target.tenant.id, redemption: flow.hints.redemption, identity, home },
    );
    if (check.outcome === 'refused') {
      deps.logger.info({ requestId: requestIdOf(req), tenant: target.tenant.id, idp: identity.idp, reason: check.page.testId }, 'redemption refused');
      await recordSignIn(deps.signInLog, target, req, flow, {
        identity,
        user: check.user,
        outcome: check.decision ? refused('policy-blocked', check.decision.denial?.rule) : redemptionRefused(check.page.testId),
        ...(check.decision ? { policyTrace: check.decision.trace } : {}),
      });
      res.status(403).type('html').send(
        messagePage(pageContext(target, req, flow), {
          title: t(target, check.page.title),
          body: t(target, check.page.body, check.page.values),
          testId: check.page.testId,
        }),
      );
      return;
    }
    await askConsent(deps, target, req, res, flow, check.user.id);
    return;
  }
  const app = target.tenant.apps.find((a) => a.id === flow.clientId);
  const resolution = await resolveGuest({
    directory: deps.users,
    tenantId: target.tenant.id,
    primaryDomain: target.tenant.domains[0]!,
    selfServiceSignUp: app?.selfServiceSignUp ?? false,
    identity,
  });
  const log = { requestId: requestIdOf(req), tenant: target.tenant.id, client: flow.clientId, idp: identity.idp, connector: identity.connectorId };
  if (resolution.outcome !== 'signed-in') {
    deps.logger.info({ ...log, outcome: resolution.outcome }, 'sign-in refused');
    await recordSignIn(deps.signInLog, target, req, flow, { identity, user: 'user' in resolution ? resolution.user : undefined, outcome: refused(resolution.outcome) });
    const ctx = pageContext(target, req, flow);
    const pages = {
      'not-invited': () => ({
        title: t(target, 'notInvitedTitle'),
        body: resolution.outcome === 'not-invited' && resolution.email ? t(target, 'notInvitedBody', { email: resolution.email }) : t(target, 'notInvitedBodyNoEmail'),
        testId: 'not-invited',
      }),
      'no-verified-email': () => ({ title: t(target, 'noVerifiedEmailTitle'), body: t(target, 'noVerifiedEmailBody'), testId: 'no-verified-email' }),
      disabled: () => ({ title: t(target, 'disabledTitle'), body: t(target, 'disabledBody'), testId: 'disabled', tryAnotherWay: false }),
      'other-identity': () => ({ title: t(target, 'otherIdentityTitle'), body: t(target, 'otherIdentityBody'), testId: 'other-identity' }),
    } as const;
    res.status(403).type('html').send(messagePage(ctx, pages[resolution.outcome]()));
    return;
  }
  const { user } = resolution;
  // Before consent too: an invited guest who may not use this app should not join for nothing.
  if (app?.assignmentRequired && !(await deps.assignments?.isAssigned(target.tenant.id, user.id, app.id))) {
    deps.logger.info({ ...log, user: user.id, outcome: 'not-assigned' }, 'sign-in refused');
    await recordSignIn(deps.signInLog, target, req, flow, { identity, user, outcome: refused('not-assigned') });
    res.status(403).type('html').send(
      messagePage(pageContext(target, req, flow), {
        title: t(target, 'notAssignedTitle'),
        body: t(target, 'notAssignedBody', { app: app.name }),
        testId: 'not-assigned',
        tryAnotherWay: false,
      }),
    );
    return;
  }
  const pending = user.userType === 'Guest' && user.externalUserState === 'PendingAcceptance' && deps.redemption;
  if (pending) {
    // Just-in-time redemption is a redemption: a domain blocked since the invitation refuses it.
    const decision = deps.redemption!.invitations.redemptionDecision(target.tenant.id, user, home);
    if (decision?.effect === 'deny') {
      await refuseByPolicy(deps, target, req, res, flow, identity, user, decision);
      return;
    }
  }
  const access = await accessFor(deps, target, flow, identity, user);
  if (access && !(await enforceAccess(deps, target, req, res, flow, identity, user, access))) return;
  if (pending) {
    // Just-in-time redemption: an invited guest opened an app directly; they accept first.
    await askConsent(deps, target, req, res, flow, user.id);
    return;
  }
  await completeSignIn(deps, target, req, res, flow, identity, user.id, resolution.how, access);
}

function homeOf(deps: InteractionDeps, target: InteractionTenant, identity: UpstreamIdentity): HomeOrganisation {
  return deps.access ? homeOfIdentity(deps.access, target.tenant, identity) : homeOrganisationOf(identity, {});
}

/** The policy's answer for this user, app and sign-in (with Portico's MFA once passed in this flow). */
async function accessFor(deps: InteractionDeps, target: InteractionTenant, flow: SignInFlow, identity: UpstreamIdentity, user: User): Promise<AccessAnswer | undefined> {
  if (!deps.access) return undefined;
  return decideAccess(deps.access, {
    tenantId: target.tenant.id,
    user,
    home: homeOf(deps, target, identity),
    appId: flow.clientId,
    claims: identity,
    porticoMfa: flow.porticoMfa === true,
    homeUserId: identity.subject,
  });
}

/**
 * Carries out the policy's answer: a denial or an unmeetable device requirement ends on a page
 * (and in the sign-in log with the trace); MFA that Portico can ask for starts its second-factor
 * step. True when the sign-in may go on.
 */
async function enforceAccess(
  deps: InteractionDeps,
  target: InteractionTenant,
  req: Request,
  res: Response,
  flow: SignInFlow,
  identity: UpstreamIdentity,
  user: User,
  access: AccessAnswer,
): Promise<boolean> {
  const { decision } = access;
  // Step-up: the app asked for MFA; Portico's own second factor gives it when the sign-in did not.
  const stepUp = flow.hints.mfa === true && !access.assurance.mfa;
  if (decision.effect === 'allow' && (!stepUp || !deps.authenticators)) return true;
  if (decision.effect === 'deny') {
    await refuseByPolicy(deps, target, req, res, flow, identity, user, decision);
    return false;
  }
  if ((decision.effect === 'allow' || access.mfaWouldSatisfy) && deps.authenticators) {
    await renderStep(deps, target, req, res, await deps.flows.requireMfa(flow.uid, user.id));
    return false;
  }
  // Only a trusted device claim could meet what is left: Portico cannot check devices itself.
  const requirement = decision.requirements.map((r) => describeRequirement(r)).join('; ');
  deps.logger.info({ requestId: requestIdOf(req), tenant: target.tenant.id, client: flow.clientId, user: user.id, requirement }, 'sign-in refused: device requirement');
  await recordSignIn(deps.signInLog, target, req, flow, {
    identity,
    user,
    outcome: refused('device-required', requirement),
    conditionalAccessStatus: 'failure',
    policyTrace: decision.trace,
  });
  res.status(403).type('html').send(
    messagePage(pageContext(target, req, flow), {
      title: t(target, 'deviceRequiredTitle'),
      body: t(target, 'deviceRequiredBody', { requirement }),
      testId: 'device-required',
      tryAnotherWay: false,
    }),
  );
  return false;
}

async function refuseByPolicy(
  deps: InteractionDeps,
  target: InteractionTenant,
  req: Request,
  res: Response,
  flow: SignInFlow,
  identity: UpstreamIdentity,
  user: User | undefined,
  decision: Decision,
): Promise<void> {
  deps.logger.info(
    { requestId: requestIdOf(req), tenant: target.tenant.id, client: flow.clientId, user: user?.id, rule: decision.denial?.rule },
    'sign-in refused by policy',
  );
  await recordSignIn(deps.signInLog, target, req, flow, {
    identity,
    user,
    outcome: refused('policy-blocked', decision.denial ? `${decision.denial.reason} (${decision.denial.rule})` : undefined),
    conditionalAccessStatus: decision.denial?.layer === 'conditionalAccess' ? 'failure' : 'notApplied',
    policyTrace: decision.trace,
  });
  res.status(403).type('html').send(
    messagePage(pageContext(target, req, flow), { title: t(target, 'policyBlockedTitle'), body: t(target, 'policyBlockedBody'), testId: 'policy-blocked', tryAnotherWay: false }),
  );
}

/**
 * The guest accepted the invitation (on the consent page, or automatically where the partner's
 * `automaticUserConsentSettings.inboundAllowed` says so): redeem it, checking policy once more,
 * and finish the sign-in.
 */
async function acceptInvitation(
  deps: InteractionDeps,
  target: InteractionTenant,
  req: Request,
  res: Response,
  flow: SignInFlow,
  identity: UpstreamIdentity,
  userId: string,
): Promise<void> {
  const correlationId = requestIdOf(req);
  const home = homeOf(deps, target, identity);
  const user = await deps.users.get(target.tenant.id, userId);
  if (flow.hints.redemption && deps.redemption) {
    const accepted = await acceptRedemption(
      { store: deps.redemption.store, invitations: deps.redemption.invitations, users: deps.users },
      { tenantId: target.tenant.id, redemption: flow.hints.redemption, userId, identity, home, correlationId },
    );
    if (!accepted.ok && accepted.reason === 'blocked_by_policy') {
      // The policy changed between the identity check and Accept: refuse with the trace.
      const decision = user ? deps.redemption.invitations.redemptionDecision(target.tenant.id, user, home) : undefined;
      await refuseByPolicy(deps, target, req, res, flow, identity, user, decision ?? { effect: 'deny', requirements: [], trace: [] });
      return;
    }
    if (!accepted.ok) {
      const reason = accepted.reason === 'other-user' || accepted.reason === 'blocked_by_policy' ? 'unknown' : accepted.reason;
      deps.logger.info({ requestId: correlationId, tenant: target.tenant.id, reason }, 'redemption refused');
      await recordSignIn(deps.signInLog, target, req, flow, { identity, user, outcome: redemptionRefused(`ticket-${accepted.reason}`) });
      res.status(410).type('html').send(
        messagePage(pageContext(target, req, flow), { title: t(target, 'ticketProblemTitle'), body: t(target, `ticket_${reason}`), testId: `ticket-${reason}`, tryAnotherWay: false }),
      );
      return;
    }
  } else if (deps.redemption) {
    try {
      await deps.redemption.invitations.acceptWithoutTicket(target.tenant.id, userId, { correlationId, home });
    } catch (error) {
      if (!(error instanceof InvitationError) || error.code !== 'blocked_by_policy' || !user) throw error;
      await refuseByPolicy(deps, target, req, res, flow, identity, user, deps.redemption.invitations.redemptionDecision(target.tenant.id, user, home)!);
      return;
    }
  }
  // Redemption (by link) is to Portico itself; a just-in-time one is to the app, whose policy was met before consent.
  const access = user && !flow.hints.redemption ? await accessFor(deps, target, flow, identity, user) : undefined;
  await completeSignIn(deps, target, req, res, flow, identity, userId, 'accepted invitation', access);
}

async function askConsent(deps: InteractionDeps, target: InteractionTenant, req: Request, res: Response, flow: SignInFlow, userId: string): Promise<void> {
  const asked = await deps.flows.askConsent(flow.uid, userId);
  if (asked.identity && consentsAutomatically(deps, target, asked.identity)) {
    deps.logger.info({ requestId: requestIdOf(req), tenant: target.tenant.id, user: userId }, 'invitation accepted automatically (automaticUserConsentSettings)');
    await acceptInvitation(deps, target, req, res, asked, asked.identity, userId);
    return;
  }
  await renderStep(deps, target, req, res, asked);
}

/** The guest's organisation has `automaticUserConsentSettings.inboundAllowed` here. */
function consentsAutomatically(deps: InteractionDeps, target: InteractionTenant, identity: UpstreamIdentity): boolean {
  const policy = deps.access?.policies.policyFor(target.tenant.id);
  return policy !== undefined && automaticConsent(policy, resolveOrganisation(policy, homeOf(deps, target, identity)));
}

/** RFC 8176 methods and the REFEDS assurance profiles: what the app learns of how the user signed in. */
function authenticationContext(identity: UpstreamIdentity, access: AccessAnswer | undefined, porticoMfa: PorticoMfaMethod | undefined): { amr: string[]; acr: string } {
  // An email passcode proves control of a mailbox: one factor, never MFA.
  const amr = new Set(identity.kind === 'email-otp' ? ['otp'] : ['fed']);
  const mfa = access ? access.assurance.mfa : porticoMfa !== undefined;
  // How Portico's own second factor was passed: `otp` (app or recovery code), `hwk` or `swk` (passkey).
  if (porticoMfa) amr.add(porticoMfa);
  if (mfa) amr.add('mfa');
  return { amr: [...amr], acr: mfa ? ACR_MFA : ACR_SFA };
}


async function completeSignIn(
  deps: InteractionDeps,
  target: InteractionTenant,
  req: Request,
  res: Response,
  flow: SignInFlow,
  identity: UpstreamIdentity,
  userId: string,
  how: string,
  access: AccessAnswer | undefined,
): Promise<void> {
  // The session's auth_time, set here so the trusted device claims stored with it match its tokens.
  const authTime = epochSeconds(deps.clock ?? systemClock);
  const device = access ? trustedDevice(access) : undefined;
  const user = await deps.users.recordSignIn(target.tenant.id, userId, {
    idp: identity.idp,
    accept: true,
    authTime,
    ...(device ? { device } : {}),
    ...(identity.homeTenantId ? { homeTenantId: identity.homeTenantId } : {}),
  });
  const log = { requestId: requestIdOf(req), tenant: target.tenant.id, client: flow.clientId, idp: identity.idp, connector: identity.connectorId };
  const { amr, acr } = authenticationContext(identity, access, flow.porticoMfa ? (flow.porticoMfaMethod ?? 'otp') : undefined);
  deps.logger.info({ ...log, user: user.id, how, amr }, 'sign-in completed');
  await recordSignIn(deps.signInLog, target, req, flow, {
    identity,
    user,
    outcome: succeeded(how),
    ...(access
      ? {
          policyTrace: access.decision.trace,
          // As in Entra: only an enforced policy that applied makes it `success`; report-only ones are traced, not applied.
          conditionalAccessStatus: access.decision.trace.some((e) => e.layer === 'conditionalAccess' && e.matched && e.effect !== 'reportOnly') ? 'success' : 'notApplied',
          mfa: access.assurance.mfa ? { source: access.assurance.mfaSource ?? 'portico' } : undefined,
        }
      : {}),
  });
  await deps.flows.end(flow.uid);
  clearFlowCookie(deps, res, target.tenant.id);
  await target.provider.interactionFinished(req, res, { login: { accountId: user.id, amr, acr, ts: authTime } }, { mergeWithLastSubmission: false });
}

function trustedDevice(access: AccessAnswer): TrustedDevice | undefined {
  const { compliantDevice, domainJoinedDevice } = access.assurance;
  if (!compliantDevice && !domainJoinedDevice) return undefined;
  return { ...(compliantDevice ? { compliant: true as const } : {}), ...(domainJoinedDevice ? { hybridJoined: true as const } : {}) };
}

async function renderStep(deps: InteractionDeps, target: InteractionTenant, req: Request, res: Response, flow: SignInFlow, status = 200): Promise<void> {
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

function testLoginForm(_req: Request, uid: string, tenantId: string): string {
  return html`<form method="post" action="/${tenantId}/v2.0/interaction/${uid}/test-login" data-testid="test-login">
<p><strong>Test-only login</strong> (this build is a test harness).</p>
<label for="user">User object id</label> <input id="user" name="user" required>
<button type="submit">Sign in</button>
</form>`.value;
}

function startContext(target: InteractionTenant, flow: SignInFlow, connector: Connector) {
  return {
    flowId: flow.uid,
    callbackUrl: target.signIn.callbackUrl(connector),
    ...(flow.email ? { loginHint: flow.email } : {}),
  };
}


