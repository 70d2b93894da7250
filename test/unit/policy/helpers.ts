/**
 * Tenant policies for the policy tests, written as in a tenant file and read through the real
 * schemas, so defaults (and what the loader would refuse) are as in production.
 */
import { conditionalAccessPolicySchema, crossTenantAccessSchema, externalCollaborationSchema } from '../../../src/config/policy.ts';
import { partnerSchema } from '../../../src/config/sign-in.ts';
import { subjectOf } from '../../../src/policy/subject.ts';
import type { HomeOrganisation, Subject, TenantPolicy } from '../../../src/policy/types.ts';

export const FABRIKAM_TID = '6f1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d';
export const FABRIKAM_ENTITY = 'https://idp.fabrikam.com/saml';
export const FABRIKAM_ISSUER = 'https://login.fabrikam.com';

export const PARTNERS = [
  { id: 'fabrikam', displayName: 'Fabrikam', domains: ['fabrikam.com'], entraTenantIds: [FABRIKAM_TID], samlEntityIds: [FABRIKAM_ENTITY], oidcIssuers: [FABRIKAM_ISSUER] },
  { id: 'tailspin', displayName: 'Tailspin', domains: ['tailspin.com'], samlEntityIds: ['https://sts.tailspin.com'] },
];

export interface PolicyFile {
  readonly tenantId?: string;
  readonly partners?: unknown[];
  readonly crossTenantAccess?: unknown;
  readonly externalCollaboration?: unknown;
  readonly conditionalAccess?: unknown[];
}

export function policy(file: PolicyFile = {}): TenantPolicy {
  return {
    tenantId: file.tenantId ?? 'contoso',
    partners: (file.partners ?? PARTNERS).map((p) => partnerSchema.parse(p)),
    crossTenantAccess: crossTenantAccessSchema.parse(file.crossTenantAccess ?? {}),
    externalCollaboration: externalCollaborationSchema.parse(file.externalCollaboration ?? {}),
    conditionalAccess: (file.conditionalAccess ?? []).map((p) => conditionalAccessPolicySchema.parse(p)),
  };
}

/** A conditional access policy in tenant-file form, with the keys a case leaves out filled in. */
export function caPolicy(id: string, overrides: { state?: string; users?: object; apps?: object; controls?: string[]; operator?: string; frequency?: object } = {}): unknown {
  return {
    id,
    displayName: id,
    state: overrides.state ?? 'enabled',
    conditions: { users: overrides.users ?? { includeUsers: ['All'] }, applications: overrides.apps ?? { includeApplications: ['All'] } },
    grantControls: { operator: overrides.operator ?? 'OR', builtInControls: overrides.controls ?? ['mfa'] },
    ...(overrides.frequency ? { sessionControls: { signInFrequency: overrides.frequency } } : {}),
  };
}

/** A guest from `email`'s domain (plus any stronger evidence), as the enforcement points build it. */
export function guest(tenantPolicy: TenantPolicy, email: string, options: { home?: HomeOrganisation; id?: string; groups?: string[]; userType?: 'Guest' | 'Member' } = {}): Subject & { email: string } {
  const subject = subjectOf(tenantPolicy, {
    home: { emailDomain: email.slice(email.indexOf('@') + 1), ...options.home },
    userType: options.userType ?? 'Guest',
    userIds: [options.id ?? 'guest-object-id', email],
    groupIds: options.groups ?? [],
    email,
  });
  return { ...subject, email };
}

/** A member of the tenant itself. */
export function member(tenantPolicy: TenantPolicy, id: string, groups: string[] = []): Subject {
  return subjectOf(tenantPolicy, { home: { porticoTenantId: tenantPolicy.tenantId }, userType: 'Member', userIds: [id], groupIds: groups });
}

export const users = (accessType: 'allowed' | 'blocked', ...targets: string[]) => ({
  accessType,
  targets: targets.map((t) => (t.startsWith('group:') ? { target: t.slice(6), targetType: 'group' } : { target: t, targetType: 'user' })),
});
export const apps = (accessType: 'allowed' | 'blocked', ...targets: string[]) => ({ accessType, targets: targets.map((target) => ({ target, targetType: 'application' })) });
