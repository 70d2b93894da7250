/** Builds the policy view of tenants, users and upstream identities. */
import type { TenantConfig } from '../config/types.ts';
import type { UpstreamIdentity } from '../connectors/types.ts';
import { resolveOrganisation } from './organisation.ts';
import type { HomeOrganisation, PolicySource, Subject, TenantPolicy } from './types.ts';

export function policyOf(tenant: TenantConfig): TenantPolicy {
  return {
    tenantId: tenant.id,
    domains: tenant.domains,
    partners: tenant.partners,
    crossTenantAccess: tenant.crossTenantAccess,
    externalCollaboration: tenant.externalCollaboration,
    conditionalAccess: tenant.conditionalAccess,
  };
}

/** A fixed set of tenant policies (tests, the CLI, and the start of a live source). */
export function staticPolicySource(tenants: readonly TenantConfig[]): PolicySource {
  const policies = new Map(tenants.map((tenant) => [tenant.id, policyOf(tenant)]));
  return { policyFor: (tenantId) => policies.get(tenantId) };
}

const emailDomainOf = (email: string | undefined): string | undefined => (email ? email.slice(email.lastIndexOf('@') + 1).toLowerCase() : undefined);

/**
 * Where an upstream identity comes from. `porticoTenants` maps the issuers of this Portico's own
 * tenants (`{publicUrl}/{tenant}/v2.0`) to tenant ids: a guest signed in by one of them is a
 * member of that tenant.
 */
export function homeOrganisationOf(
  identity: Pick<UpstreamIdentity, 'kind' | 'issuer' | 'homeTenantId' | 'issuerTenantId' | 'email' | 'emailVerified'>,
  options: { readonly partnerId?: string | undefined; readonly porticoTenants?: ReadonlyMap<string, string> },
): HomeOrganisation {
  const porticoTenantId = options.porticoTenants?.get(identity.issuer);
  // An unverified address names no organisation: claiming one must not buy a partner's trust.
  const emailDomain = identity.emailVerified ? emailDomainOf(identity.email) : undefined;
  return {
    ...(options.partnerId ? { partnerId: options.partnerId } : {}),
    ...(porticoTenantId ? { porticoTenantId } : {}),
    ...(identity.kind === 'microsoft' && identity.issuerTenantId ? { entraTenantId: identity.issuerTenantId } : {}),
    ...(identity.kind === 'saml' ? { samlEntityId: identity.issuer } : {}),
    ...(identity.kind === 'oidc' || identity.kind === 'google' ? { oidcIssuer: identity.issuer } : {}),
    ...(emailDomain ? { emailDomain } : {}),
  };
}

/** A subject for `policy`, from what is known of the user. */
export function subjectOf(
  policy: TenantPolicy,
  input: {
    readonly home: HomeOrganisation;
    readonly userType: 'Guest' | 'Member';
    readonly userIds: readonly (string | undefined)[];
    readonly groupIds?: readonly string[];
    readonly email?: string | undefined;
  },
): Subject {
  const organisation = resolveOrganisation(policy, input.home);
  return {
    userIds: input.userIds.filter((id): id is string => id !== undefined),
    groupIds: input.groupIds ?? [],
    userType: input.userType,
    external: organisation.kind !== 'home',
    ...(input.email ? { email: input.email } : {}),
    organisation,
  };
}

/**
 * Whether any rule of the policy names a group: only then must a decision know the user's groups
 * (a directory read on every sign-in and refresh that most tenants can skip).
 */
export function policyNamesGroups(policy: TenantPolicy): boolean {
  const settings = [policy.crossTenantAccess.default, ...policy.crossTenantAccess.partners];
  const inTargets = settings.some((s) =>
    [s.b2bCollaborationInbound?.usersAndGroups, s.b2bCollaborationOutbound?.usersAndGroups].some((ug) => ug?.targets.some((t) => t.targetType === 'group')),
  );
  return inTargets || policy.conditionalAccess.some((p) => p.conditions.users.includeGroups.length > 0 || p.conditions.users.excludeGroups.length > 0);
}
