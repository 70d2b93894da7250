/**
 * The questions Portico asks at each enforcement point, each answered by combining the layers
 * that apply: any deny wins, then every unmet control is required, otherwise allow (the most
 * restrictive outcome of all layers).
 */
import { evaluateConditionalAccess } from './conditional-access.ts';
import { inboundEntries, outboundEntries } from './cross-tenant.ts';
import { domainEntry, inviterEntry } from './external-collaboration.ts';
import type { Assurance, ControlRequirement, Decision, Inviter, Subject, TenantPolicy, TraceEntry } from './types.ts';

export function combine(trace: readonly TraceEntry[], requirements: readonly ControlRequirement[] = [], extra: Partial<Decision> = {}): Decision {
  const denied = trace.find((entry) => entry.effect === 'deny');
  if (denied) return { ...extra, effect: 'deny', requirements: [], trace, denial: { layer: denied.layer, rule: denied.rule, reason: denied.detail } };
  return { ...extra, effect: requirements.length > 0 ? 'challenge' : 'allow', requirements, trace };
}

const domainOf = (email: string): string => email.slice(email.lastIndexOf('@') + 1).toLowerCase();

/**
 * May `inviter` invite `subject` (identified by the address being invited)? Who may invite, the
 * domain lists, and the inbound settings for the invitee's organisation.
 */
export function decideInvitation(policy: TenantPolicy, inviter: Inviter, subject: Subject & { readonly email: string }): Decision {
  return combine([inviterEntry(policy.externalCollaboration, inviter), domainEntry(policy.externalCollaboration, domainOf(subject.email)), ...inboundEntries(policy, subject)]);
}

/** May a pending invitation be redeemed now? Checked again at redemption: settings may have changed since. */
export function decideRedemption(policy: TenantPolicy, subject: Subject & { readonly email: string }): Decision {
  return combine([domainEntry(policy.externalCollaboration, domainOf(subject.email)), ...inboundEntries(policy, subject)]);
}

export interface SignInQuestion {
  readonly policy: TenantPolicy;
  readonly subject: Subject;
  readonly appId: string;
  readonly assurance: Assurance;
  /** For a member of another tenant of this Portico: that tenant's settings and its view of the user. */
  readonly home?: { readonly policy: TenantPolicy; readonly subject: Subject };
}

/**
 * May the user sign in to the app (and get or refresh its tokens)? Inbound cross-tenant access
 * for the user and the app, the home tenant's outbound settings, and conditional access. The
 * external collaboration domain lists are not consulted: a guest who redeemed before a domain
 * was blocked keeps access, as in Entra.
 */
export function decideSignIn(question: SignInQuestion): Decision {
  const { policy, subject, appId, assurance, home } = question;
  const conditionalAccess = evaluateConditionalAccess(policy.conditionalAccess, subject, appId, assurance);
  const trace = [
    ...inboundEntries(policy, subject, appId),
    ...(home ? outboundEntries(home.policy, home.subject, policy.tenantId, appId) : []),
    ...conditionalAccess.trace,
  ];
  return combine(trace, conditionalAccess.unmet, conditionalAccess.signInFrequencySeconds !== undefined ? { signInFrequencySeconds: conditionalAccess.signInFrequencySeconds } : {});
}
