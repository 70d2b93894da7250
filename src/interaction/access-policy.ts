/**
 * Collaboration policy at sign-in and at every token refresh: builds the question from what is
 * known (the upstream identity or the user's record, the app, what was trusted of the sign-in)
 * and asks the policy engine. The engine is pure; this is where the directory is read.
 */
import type { TenantConfig } from '../config/types.ts';
import type { UpstreamIdentity } from '../connectors/types.ts';
import type { User } from '../directory/users.ts';
import type { Logger } from '../shared/logger.ts';
import {
  decideSignIn,
  homeOrganisationOf,
  isSatisfied,
  policyNamesGroups,
  subjectOf,
  trustedAssurance,
  type Decision,
  type HomeOrganisation,
  type PolicySource,
  type TrustedAssurance,
  type UpstreamClaims,
} from '../policy/index.ts';

export interface AccessPolicyDeps {
  readonly policies: PolicySource;
  readonly groups?: { groupIdsOf(tenantId: string, userId: string): Promise<string[]> } | undefined;
  /** The issuer of each tenant of this Portico (`{publicUrl}/{tenant}/v2.0`) → its id. */
  readonly porticoTenants: ReadonlyMap<string, string>;
}

export function porticoTenantIssuers(publicUrl: string, tenantIds: readonly string[]): ReadonlyMap<string, string> {
  return new Map(tenantIds.map((id) => [`${publicUrl}/${id}/v2.0`, id]));
}

/** Where the guest comes from, by the identity just presented and the partner of its connector. */
export function homeOfIdentity(deps: AccessPolicyDeps, tenant: TenantConfig, identity: UpstreamIdentity): HomeOrganisation {
  const partnerId = tenant.identityProviders.find((entry) => entry.id === identity.connectorId)?.partner;
  return homeOrganisationOf(identity, { partnerId, porticoTenants: deps.porticoTenants });
}

/**
 * Where the guest comes from, by the user's record alone (a refresh has no fresh identity): the
 * first identity's issuer (its kind is not recorded, so it is offered as both SAML entity id and
 * OIDC issuer; partners list each in its own key) and the mail domain.
 */
export function homeOfUser(deps: AccessPolicyDeps, user: User): HomeOrganisation {
  const identity = user.identities[0];
  const domain = user.mail ? user.mail.slice(user.mail.lastIndexOf('@') + 1).toLowerCase() : undefined;
  const federated = identity?.signInType === 'federated' ? identity.issuer : undefined;
  const porticoTenantId = federated ? deps.porticoTenants.get(federated) : undefined;
  return {
    ...(porticoTenantId ? { porticoTenantId } : federated ? { samlEntityId: federated, oidcIssuer: federated } : {}),
    ...(identity?.issuerTenantId ? { entraTenantId: identity.issuerTenantId } : {}),
    ...(domain ? { emailDomain: domain } : {}),
  };
}

/**
 * The guest's object id in its home tenant (another tenant of this Portico): what that tenant's
 * issuer assigned to the identity the guest signs in with (a refresh has no fresh identity).
 */
function homeUserIdOf(deps: AccessPolicyDeps, user: User, homeTenantId: string): string | undefined {
  return user.identities.find((identity) => identity.signInType === 'federated' && deps.porticoTenants.get(identity.issuer) === homeTenantId)?.issuerAssignedId;
}

export interface AccessQuestion {
  readonly tenantId: string;
  readonly user: User;
  readonly home: HomeOrganisation;
  readonly appId: string;
  /** What the upstream said of the sign-in; only what inbound trust accepts counts. */
  readonly claims: UpstreamClaims;
  /** Portico's own second factor was passed in this sign-in. */
  readonly porticoMfa: boolean;
  /** The user's object id in its home tenant, when that is another tenant of this Portico (the upstream `sub`). */
  readonly homeUserId?: string | undefined;
}

export interface AccessAnswer {
  readonly decision: Decision;
  readonly assurance: TrustedAssurance;
  /** Some unmet requirement can be met by Portico's MFA (with the device claims as they are). */
  readonly mfaWouldSatisfy: boolean;
}

export async function decideAccess(deps: AccessPolicyDeps, question: AccessQuestion): Promise<AccessAnswer | undefined> {
  const policy = deps.policies.policyFor(question.tenantId);
  if (!policy) return undefined;
  const { user } = question;
  const resourceSubject = subjectOf(policy, {
    home: question.home,
    userType: user.userType,
    userIds: [user.id, user.mail],
    groupIds: policyNamesGroups(policy) ? ((await deps.groups?.groupIdsOf(question.tenantId, user.id)) ?? []) : [],
    email: user.mail,
  });
  const homeTenantId = resourceSubject.organisation.kind === 'tenant' ? resourceSubject.organisation.id : undefined;
  const homeUserId = homeTenantId ? (question.homeUserId ?? homeUserIdOf(deps, user, homeTenantId)) : undefined;
  const homePolicy = homeTenantId ? deps.policies.policyFor(homeTenantId) : undefined;
  // The home groups matter to this tenant's inbound targets and to the home tenant's outbound ones.
  const needHomeGroups = policyNamesGroups(policy) || (homePolicy !== undefined && policyNamesGroups(homePolicy));
  const homeGroupIds = homeTenantId && homeUserId && needHomeGroups ? ((await deps.groups?.groupIdsOf(homeTenantId, homeUserId)) ?? []) : [];
  // A guest from another tenant of this Portico is also its object id and groups there: inbound
  // targets name the partner's users and groups, as in Entra.
  const subject = homeUserId
    ? { ...resourceSubject, userIds: [...resourceSubject.userIds, homeUserId], groupIds: [...resourceSubject.groupIds, ...homeGroupIds] }
    : resourceSubject;
  const assurance = trustedAssurance(policy, subject.organisation, question.claims, question.porticoMfa);
  const home =
    homeTenantId && homePolicy
      ? {
          policy: homePolicy,
          subject: subjectOf(homePolicy, {
            home: { porticoTenantId: homeTenantId },
            userType: 'Member',
            userIds: [homeUserId, user.mail],
            groupIds: homeGroupIds,
            email: user.mail,
          }),
        }
      : undefined;
  const decided = decideSignIn({ policy, subject, appId: question.appId, assurance, ...(home ? { home } : {}) });
  const decision: Decision = { ...decided, trace: [...assurance.trace, ...decided.trace] };
  const withMfa = { ...assurance, mfa: true };
  const mfaWouldSatisfy = decision.effect === 'challenge' && decision.requirements.every((requirement) => isSatisfied(requirement, withMfa));
  return { decision, assurance, mfaWouldSatisfy };
}

export interface SessionQuestion {
  readonly tenantId: string;
  readonly user: User;
  readonly appId: string;
  /** `amr` of the session or token, as Portico issued it: `mfa` in it was verified or trusted at sign-in. */
  readonly amr: readonly string[];
  readonly authTime?: number | undefined;
}

/**
 * Whether an existing sign-in may go on without a new one, for a token refresh or single sign-on
 * into another app: the policy in force now must allow the user into the app with what that
 * sign-in proved (its MFA, and the trusted device claims stored with it, re-checked against the
 * trust settings in force), and the sign-in must be recent enough for every sign-in frequency
 * that applies. A challenge refuses too: meeting new requirements needs an interactive sign-in.
 */
export function sessionCheck(deps: AccessPolicyDeps, logger: Logger, nowSeconds: () => number, use: 'refresh' | 'single sign-on') {
  return async (input: SessionQuestion): Promise<boolean> => {
    const last = input.user.lastSignIn;
    const device = last?.device && input.authTime !== undefined && last.authTime === input.authTime ? last.device : undefined;
    const answer = await decideAccess(deps, {
      tenantId: input.tenantId,
      user: input.user,
      home: homeOfUser(deps, input.user),
      appId: input.appId,
      // MFA the partner did (in Portico's amr: `fed` + `mfa` without a Portico method) counts only
      // while the partner's MFA is still trusted; Portico's own second factor always does.
      claims: { kind: use, amr: upstreamMfaOnly(input.amr) ? ['mfa'] : [], ...(device ? { device } : {}) },
      porticoMfa: input.amr.includes('mfa') && !upstreamMfaOnly(input.amr),
    });
    if (!answer) return true;
    const { decision } = answer;
    if (decision.effect === 'allow' && !signInTooOld(decision.signInFrequencySeconds, input.authTime, nowSeconds())) return true;
    logger.info(
      {
        tenant: input.tenantId,
        client: input.appId,
        user: input.user.id,
        effect: decision.effect,
        rule: decision.denial?.rule ?? (decision.requirements.map((r) => r.policyId).join(',') || 'sign-in frequency'),
      },
      `${use} refused by policy`,
    );
    return false;
  };
}

/** Portico writes `otp` (authenticator app) or `hwk`/`swk` (passkey) beside `mfa` for its own factor. */
const upstreamMfaOnly = (amr: readonly string[]): boolean =>
  amr.includes('mfa') && amr.includes('fed') && !amr.some((method) => method === 'otp' || method === 'hwk' || method === 'swk');

const signInTooOld = (frequencySeconds: number | undefined, authTime: number | undefined, now: number): boolean =>
  frequencySeconds !== undefined && authTime !== undefined && now - authTime > frequencySeconds;
