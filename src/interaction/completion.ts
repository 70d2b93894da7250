/**
 * The end of a sign-in, once the upstream has said who the guest is: map them to a user of the
 * tenant, check redemption, assignment and collaboration policy (asking for Portico's second
 * factor where that would meet it), take the invitation's consent, and resume the provider with
 * what the app may learn of how the user signed in.
 */
import type { Request, Response } from 'express';
import type { UpstreamIdentity } from '../connectors/types.ts';
import { InvitationError } from '../directory/invitations.ts';
import type { TrustedDevice, User } from '../directory/users.ts';
import { requestIdOf } from '../http/express-app.ts';
import { automaticConsent, describeRequirement, homeOrganisationOf, resolveOrganisation, type Decision, type HomeOrganisation } from '../policy/index.ts';
import { ACR_MFA, ACR_SFA } from '../shared/assurance.ts';
import { epochSeconds, systemClock } from '../shared/clock.ts';
import { messagePage } from '../ui/sign-in-pages.ts';
import { decideAccess, homeOfIdentity, type AccessAnswer } from './access-policy.ts';
import { clearFlowCookie, pageContext, t, type InteractionDeps, type InteractionTenant } from './context.ts';
import type { PorticoMfaMethod, SignInFlow } from './flow.ts';
import { resolveGuest } from './guest-resolution.ts';
import { acceptRedemption, checkRedemptionIdentity } from './redemption.ts';
import { renderStep } from './render-step.ts';
import { recordSignIn, redemptionRefused, refused, succeeded } from './sign-in-recording.ts';

export async function finishSignIn(
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
export async function acceptInvitation(
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
  clearFlowCookie(deps, req, res, target.tenant.id, flow.uid);
  await target.provider.interactionFinished(req, res, { login: { accountId: user.id, amr, acr, ts: authTime } }, { mergeWithLastSubmission: false });
}

function trustedDevice(access: AccessAnswer): TrustedDevice | undefined {
  const { compliantDevice, domainJoinedDevice } = access.assurance;
  if (!compliantDevice && !domainJoinedDevice) return undefined;
  return { ...(compliantDevice ? { compliant: true as const } : {}), ...(domainJoinedDevice ? { hybridJoined: true as const } : {}) };
}
