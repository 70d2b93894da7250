/**
 * Conditional access: every enabled policy that applies to the user and app must be satisfied
 * (policies combine with AND, as in Entra); `block` in any of them refuses; report-only policies
 * are evaluated and traced but never enforced.
 */
import type { ConditionalAccessPolicy, GuestsOrExternalUsers } from '../config/policy.ts';
import { organisationId } from './organisation.ts';
import type { Assurance, Control, ControlRequirement, Subject, TraceEntry } from './types.ts';

const layer = 'conditionalAccess';
const HOUR = 3600;

function externalTypeOf(subject: Subject): GuestsOrExternalUsers['guestOrExternalUserTypes'][number] | undefined {
  if (subject.external) return subject.userType === 'Guest' ? 'b2bCollaborationGuest' : 'b2bCollaborationMember';
  return subject.userType === 'Guest' ? 'internalGuest' : undefined;
}

function matchesExternal(condition: GuestsOrExternalUsers | undefined, subject: Subject): boolean {
  if (!condition) return false;
  const type = externalTypeOf(subject);
  if (!type || !condition.guestOrExternalUserTypes.includes(type)) return false;
  const { membershipKind, members } = condition.externalTenants;
  if (membershipKind === 'all') return true;
  const organisation = organisationId(subject.organisation);
  return organisation !== undefined && members.includes(organisation);
}

/** Why the policy applies to the user, or undefined when it does not. */
function userScope(policy: ConditionalAccessPolicy, subject: Subject): { applies: boolean; why: string } {
  const users = policy.conditions.users;
  const isExternalish = externalTypeOf(subject) !== undefined;
  const named = (ids: readonly string[]) => ids.find((id) => subject.userIds.includes(id));
  const inGroup = (ids: readonly string[]) => ids.find((id) => subject.groupIds.includes(id));

  const excludedBy =
    (users.excludeUsers.includes('GuestsOrExternalUsers') && isExternalish ? 'excludeUsers: GuestsOrExternalUsers' : undefined) ??
    (named(users.excludeUsers) ? `excludeUsers: ${named(users.excludeUsers)}` : undefined) ??
    (inGroup(users.excludeGroups) ? `excludeGroups: ${inGroup(users.excludeGroups)}` : undefined) ??
    (matchesExternal(users.excludeGuestsOrExternalUsers, subject) ? 'excludeGuestsOrExternalUsers' : undefined);
  if (excludedBy) return { applies: false, why: `user excluded (${excludedBy})` };

  if (users.includeUsers.includes('None')) return { applies: false, why: 'includeUsers: None' };
  const includedBy =
    (users.includeUsers.includes('All') ? 'includeUsers: All' : undefined) ??
    (users.includeUsers.includes('GuestsOrExternalUsers') && isExternalish ? 'includeUsers: GuestsOrExternalUsers' : undefined) ??
    (named(users.includeUsers) ? `includeUsers: ${named(users.includeUsers)}` : undefined) ??
    (inGroup(users.includeGroups) ? `includeGroups: ${inGroup(users.includeGroups)}` : undefined) ??
    (matchesExternal(users.includeGuestsOrExternalUsers, subject) ? 'includeGuestsOrExternalUsers' : undefined);
  return includedBy ? { applies: true, why: includedBy } : { applies: false, why: 'user not included' };
}

function appScope(policy: ConditionalAccessPolicy, appId: string): { applies: boolean; why: string } {
  const apps = policy.conditions.applications;
  if (apps.excludeApplications.includes(appId)) return { applies: false, why: `app '${appId}' excluded` };
  if (apps.includeApplications.includes('None')) return { applies: false, why: 'includeApplications: None' };
  if (apps.includeApplications.includes('All')) return { applies: true, why: 'all apps' };
  return apps.includeApplications.includes(appId) ? { applies: true, why: `app '${appId}'` } : { applies: false, why: `app '${appId}' not included` };
}

export const isSatisfied = (requirement: Pick<ControlRequirement, 'operator' | 'controls'>, assurance: Assurance): boolean =>
  requirement.operator === 'AND' ? requirement.controls.every((c) => assurance[c]) : requirement.controls.some((c) => assurance[c]);

const CONTROL_NAMES: Record<Control, string> = { mfa: 'multifactor authentication', compliantDevice: 'a compliant device', domainJoinedDevice: 'a hybrid-joined device' };
export const describeRequirement = (requirement: Pick<ControlRequirement, 'operator' | 'controls'>): string =>
  requirement.controls.map((c) => CONTROL_NAMES[c]).join(requirement.operator === 'AND' ? ' and ' : ' or ');

export interface ConditionalAccessResult {
  readonly trace: TraceEntry[];
  readonly unmet: ControlRequirement[];
  readonly signInFrequencySeconds?: number;
}

export function evaluateConditionalAccess(
  policies: readonly ConditionalAccessPolicy[],
  subject: Subject,
  appId: string,
  assurance: Assurance,
): ConditionalAccessResult {
  const trace: TraceEntry[] = [];
  const unmet: ControlRequirement[] = [];
  let signInFrequencySeconds: number | undefined;
  if (policies.length === 0) trace.push({ layer, rule: 'conditionalAccess', matched: false, effect: 'none', detail: 'no policies' });

  for (const policy of policies) {
    const rule = `conditionalAccess[${policy.id}]`;
    if (policy.state === 'disabled') {
      trace.push({ layer, rule, matched: false, effect: 'none', detail: 'disabled' });
      continue;
    }
    const users = userScope(policy, subject);
    const apps = appScope(policy, appId);
    if (!users.applies || !apps.applies) {
      trace.push({ layer, rule, matched: false, effect: 'none', detail: users.applies ? apps.why : users.why });
      continue;
    }
    const scope = `${users.why}; ${apps.why}`;
    const enforced = policy.state === 'enabled';
    const frequency = policy.sessionControls?.signInFrequency;
    if (enforced && frequency) {
      const seconds = frequency.value * (frequency.type === 'hours' ? HOUR : 24 * HOUR);
      signInFrequencySeconds = Math.min(signInFrequencySeconds ?? seconds, seconds);
    }
    if (!policy.grantControls) {
      const every = frequency ? `sign in again every ${frequency.value} ${frequency.type}` : 'no controls';
      trace.push({ layer, rule, matched: true, effect: enforced ? 'allow' : 'reportOnly', detail: `grants access; ${every} (${scope})` });
      continue;
    }
    const { builtInControls, operator } = policy.grantControls;
    if (builtInControls.includes('block')) {
      trace.push({ layer, rule, matched: true, effect: enforced ? 'deny' : 'reportOnly', detail: `${enforced ? 'blocks' : 'would block'} (${scope})` });
      continue;
    }
    const requirement: ControlRequirement = { policyId: policy.id, operator, controls: builtInControls as Control[] };
    const satisfied = isSatisfied(requirement, assurance);
    const wants = describeRequirement(requirement);
    trace.push({
      layer,
      rule,
      matched: true,
      effect: !enforced ? 'reportOnly' : satisfied ? 'allow' : 'require',
      detail: `${enforced ? 'requires' : 'would require'} ${wants}: ${satisfied ? 'satisfied' : 'not yet satisfied'} (${scope})`,
    });
    if (enforced && !satisfied) unmet.push(requirement);
  }
  return { trace, unmet, ...(signInFrequencySeconds !== undefined ? { signInFrequencySeconds } : {}) };
}
