/**
 * Cross-tenant access settings: the partner's own entry where there is one, otherwise the
 * default, each part (users and groups, applications, trust) inherited separately so a partner
 * entry says only what differs. Nothing configured means Entra's defaults: collaboration allowed
 * for all users and apps, no partner claim trusted.
 */
import { ALL_APPLICATIONS, ALL_USERS, type ApplicationsSetting, type CrossTenantSettings, type InboundTrust, type UsersAndGroupsSetting } from '../config/policy.ts';
import { describeOrganisation } from './organisation.ts';
import type { Layer, Organisation, Subject, TenantPolicy, TraceEntry } from './types.ts';

const BUILT_IN = 'built-in default';

interface Sourced<T> {
  readonly value: T | undefined;
  /** The config path the value came from. */
  readonly rule: string;
}

/** The entry of `crossTenantAccess.partners` for an organisation, and its label in traces. */
function partnerEntry(policy: TenantPolicy, organisation: Organisation): { entry: CrossTenantSettings; rule: string } | undefined {
  const entries = policy.crossTenantAccess.partners;
  const index = entries.findIndex((entry) =>
    organisation.kind === 'partner' ? entry.partner === organisation.id : organisation.kind === 'tenant' ? entry.tenant === organisation.id : false,
  );
  if (index < 0) return undefined;
  const entry = entries[index]!;
  return { entry, rule: `crossTenantAccess.partners[${index}] (${entry.partner ?? entry.tenant})` };
}

function pick<T>(policy: TenantPolicy, organisation: Organisation, read: (settings: CrossTenantSettings) => T | undefined, key: string): Sourced<T> {
  const partner = partnerEntry(policy, organisation);
  const own = partner ? read(partner.entry) : undefined;
  if (partner && own !== undefined) return { value: own, rule: `${partner.rule}.${key}` };
  const fallback = read(policy.crossTenantAccess.default);
  return fallback !== undefined ? { value: fallback, rule: `crossTenantAccess.default.${key}` } : { value: undefined, rule: `${BUILT_IN} (${key})` };
}

function usersAndGroupsEntry(layer: Layer, setting: Sourced<UsersAndGroupsSetting>, subject: Subject): TraceEntry {
  if (!setting.value) return { layer, rule: setting.rule, matched: true, effect: 'allow', detail: 'all users may collaborate' };
  const hit = setting.value.targets.find(
    (t) => (t.targetType === 'user' && (t.target === ALL_USERS || subject.userIds.includes(t.target))) || (t.targetType === 'group' && subject.groupIds.includes(t.target)),
  );
  const named = hit ? (hit.target === ALL_USERS ? 'all users' : `${hit.targetType} '${hit.target}'`) : undefined;
  if (setting.value.accessType === 'allowed') {
    return hit
      ? { layer, rule: setting.rule, matched: true, effect: 'allow', detail: `allowed: ${named}` }
      : { layer, rule: setting.rule, matched: true, effect: 'deny', detail: 'the user is not among the allowed users and groups' };
  }
  return hit
    ? { layer, rule: setting.rule, matched: true, effect: 'deny', detail: `blocked: ${named}` }
    : { layer, rule: setting.rule, matched: true, effect: 'allow', detail: 'the user is not among the blocked users and groups' };
}

function applicationsEntry(layer: Layer, setting: Sourced<ApplicationsSetting>, appId: string): TraceEntry {
  if (!setting.value) return { layer, rule: setting.rule, matched: true, effect: 'allow', detail: 'all apps are open' };
  const hit = setting.value.targets.some((t) => t.target === ALL_APPLICATIONS || t.target === appId);
  const allowed = setting.value.accessType === 'allowed' ? hit : !hit;
  const verb = setting.value.accessType === 'allowed' ? 'allowed' : 'blocked';
  return {
    layer,
    rule: setting.rule,
    matched: true,
    effect: allowed ? 'allow' : 'deny',
    detail: hit ? `app '${appId}' is ${verb}` : `app '${appId}' is not among the ${verb} apps`,
  };
}

/** Who from `organisation` may come in; with `appId`, also whether that app is open to them. */
export function inboundEntries(policy: TenantPolicy, subject: Subject, appId?: string): TraceEntry[] {
  const layer = 'crossTenantAccess.inbound';
  const { organisation } = subject;
  if (organisation.kind === 'home') {
    return [{ layer, rule: 'crossTenantAccess', matched: false, effect: 'none', detail: 'a member of this tenant: cross-tenant settings do not apply' }];
  }
  const entries: TraceEntry[] = [
    { layer, rule: partnerEntry(policy, organisation)?.rule ?? 'crossTenantAccess.default', matched: true, effect: 'none', detail: `home organisation: ${describeOrganisation(organisation)}` },
    usersAndGroupsEntry(layer, pick(policy, organisation, (s) => s.b2bCollaborationInbound?.usersAndGroups, 'b2bCollaborationInbound.usersAndGroups'), subject),
  ];
  if (appId !== undefined) {
    entries.push(applicationsEntry(layer, pick(policy, organisation, (s) => s.b2bCollaborationInbound?.applications, 'b2bCollaborationInbound.applications'), appId));
  }
  return entries;
}

/**
 * The home tenant's say, for its own member going to `resourceTenantId` (both tenants of this
 * Portico): its outbound settings for that tenant must let the user and the app through.
 */
export function outboundEntries(homePolicy: TenantPolicy, homeSubject: Subject, resourceTenantId: string, appId: string): TraceEntry[] {
  const layer = 'crossTenantAccess.outbound';
  const resource: Organisation = { kind: 'tenant', id: resourceTenantId, via: `tenant '${resourceTenantId}'` };
  const at = (rule: string) => `${homePolicy.tenantId}: ${rule}`;
  const users = pick(homePolicy, resource, (s) => s.b2bCollaborationOutbound?.usersAndGroups, 'b2bCollaborationOutbound.usersAndGroups');
  const apps = pick(homePolicy, resource, (s) => s.b2bCollaborationOutbound?.applications, 'b2bCollaborationOutbound.applications');
  return [
    usersAndGroupsEntry(layer, { ...users, rule: at(users.rule) }, homeSubject),
    applicationsEntry(layer, { ...apps, rule: at(apps.rule) }, appId),
  ];
}

export interface EffectiveTrust {
  readonly trust: Required<InboundTrust>;
  readonly rule: string;
}

/** Which of the organisation's claims this tenant accepts; nothing for unknown organisations. */
export function inboundTrustFor(policy: TenantPolicy, organisation: Organisation): EffectiveTrust {
  const trust = pick(policy, organisation, (s) => s.inboundTrust, 'inboundTrust');
  const fallback = policy.crossTenantAccess.default.inboundTrust ?? {};
  const value = trust.value ?? {};
  return {
    rule: trust.rule,
    trust: {
      isMfaAccepted: value.isMfaAccepted ?? fallback.isMfaAccepted ?? false,
      isCompliantDeviceAccepted: value.isCompliantDeviceAccepted ?? fallback.isCompliantDeviceAccepted ?? false,
      isHybridAzureADJoinedDeviceAccepted: value.isHybridAzureADJoinedDeviceAccepted ?? fallback.isHybridAzureADJoinedDeviceAccepted ?? false,
    },
  };
}

/** Whether redeeming guests from the organisation skip the consent page. */
export function automaticConsent(policy: TenantPolicy, organisation: Organisation): boolean {
  return pick(policy, organisation, (s) => s.automaticUserConsentSettings?.inboundAllowed, 'automaticUserConsentSettings').value ?? false;
}

/** The redemption order for the organisation's guests, when its settings (or the default) give one. */
export function redemptionOrderFor(policy: TenantPolicy, organisation: Organisation): { order: NonNullable<CrossTenantSettings['redemptionOrder']>; rule: string } | undefined {
  const picked = pick(policy, organisation, (s) => s.redemptionOrder, 'redemptionOrder');
  return picked.value ? { order: picked.value, rule: picked.rule } : undefined;
}
