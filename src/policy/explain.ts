/**
 * "Why would this user be allowed or refused?": the answer `portico policy explain` prints and
 * `POST /graph/v1.0/policies/explain` returns. It looks the user up, works out what Portico would
 * know of their home organisation, and asks the same questions the enforcement points ask
 * (invitation, redemption, sign-in), so the answer is the decision Portico would take.
 */
import type { TenantConfig } from '../config/types.ts';
import type { ConnectorConfig } from '../connectors/registry.ts';
import { normaliseEmail } from '../shared/email.ts';
import { decideInvitation, decideRedemption, decideSignIn } from './decide.ts';
import { describeOrganisation } from './organisation.ts';
import { subjectOf } from './subject.ts';
import { trustedAssurance, type UpstreamClaims } from './trust.ts';
import type { Decision, HomeOrganisation, Inviter, Organisation, PolicySource } from './types.ts';

/** What explaining reads of a directory user (structural: policy code stays off the directory). */
export interface User {
  readonly id: string;
  readonly userType: 'Guest' | 'Member';
  readonly userPrincipalName: string;
  readonly mail?: string;
  readonly externalUserState?: string;
  readonly homeTenantId?: string;
  readonly identities: readonly { readonly issuer: string; readonly issuerTenantId?: string; readonly issuerAssignedId?: string }[];
}

export interface ExplainDeps {
  readonly policies: PolicySource;
  readonly tenant: TenantConfig;
  /** The user directory (src/directory/users.ts), with its guest UPN rule. */
  readonly users: {
    get(tenantId: string, id: string): Promise<User | undefined>;
    findByUserPrincipalName(tenantId: string, upn: string): Promise<User | undefined>;
  };
  readonly guestUserPrincipalName: (mail: string, primaryDomain: string) => string;
  /** Structural: the group directory's lookup, so policies naming groups see the user's groups. */
  readonly groups?: { groupIdsOf(tenantId: string, userId: string): Promise<string[]> };
  /** The issuer of each tenant of this Portico → its id: their members are recognised as such. */
  readonly porticoTenants?: ReadonlyMap<string, string>;
}

export interface ExplainQuestion {
  readonly tenantId: string;
  /** An email address or a user object id. */
  readonly user: string;
  readonly app?: string | undefined;
  /** A connector id of the tenant: the identity provider the user would sign in with. */
  readonly idp?: string | undefined;
  /** The identity provider says MFA was done. */
  readonly mfa?: boolean | undefined;
  /** The identity provider says the device is compliant or hybrid-joined. */
  readonly device?: 'compliant' | 'hybridJoined' | undefined;
  /** Who would invite; an admin (the CLI) unless told otherwise. */
  readonly inviter?: Inviter | undefined;
}

export interface Explanation {
  readonly tenantId: string;
  readonly user: {
    readonly found: boolean;
    readonly id?: string;
    readonly userType?: 'Guest' | 'Member';
    readonly externalUserState?: string;
    readonly email: string;
  };
  readonly organisation: Organisation & { readonly description: string };
  readonly invitation: Decision;
  /** Only for a pending invitation, or a user not in the directory yet. */
  readonly redemption?: Decision;
  /** Only when an app is given. */
  readonly signIn?: Decision;
}

/** A question Portico cannot answer as asked: an unknown tenant, app, identity provider or object id. */
export class ExplainError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ExplainError';
  }
}

const DEFAULT_INVITER: Inviter = { kind: 'admin', id: 'portico-cli' };

const knownList = (ids: readonly string[], what: string): string => (ids.length > 0 ? `known: ${ids.join(', ')}` : `the tenant has no ${what}`);

/** The organisation evidence a sign-in through `connector` carries, besides the email domain. */
function evidenceOf(connector: ConnectorConfig, porticoTenants: ReadonlyMap<string, string>): HomeOrganisation {
  const partner = connector.partner ? { partnerId: connector.partner } : {};
  switch (connector.kind) {
    case 'saml':
      return { ...partner, samlEntityId: connector.entityId };
    case 'oidc': {
      const porticoTenantId = porticoTenants.get(connector.issuer);
      return porticoTenantId ? { porticoTenantId } : { ...partner, oidcIssuer: connector.issuer };
    }
    case 'google':
      return { ...partner, oidcIssuer: connector.issuer };
    case 'microsoft':
      // Only a connector limited to one Entra tenant tells which tenant a user comes from.
      return { ...partner, ...(connector.allowedTenants?.length === 1 ? { entraTenantId: connector.allowedTenants[0]! } : {}) };
    default:
      return partner;
  }
}

/** What a user's stored identities and home tenant tell about their organisation. */
function evidenceOfUser(tenant: TenantConfig, user: User, porticoTenants: ReadonlyMap<string, string>): HomeOrganisation {
  const porticoTenantId = user.identities.map((i) => porticoTenants.get(i.issuer)).find((id) => id !== undefined);
  if (porticoTenantId) return { porticoTenantId };
  const partnerId = user.homeTenantId !== undefined && tenant.partners.some((p) => p.id === user.homeTenantId) ? user.homeTenantId : undefined;
  const entraTenantId = user.identities.find((i) => i.issuerTenantId !== undefined)?.issuerTenantId;
  const issuers = new Set(user.identities.map((i) => i.issuer));
  const saml = tenant.identityProviders.find((c) => c.kind === 'saml' && issuers.has(c.entityId));
  const oidc = tenant.identityProviders.find((c) => (c.kind === 'oidc' || c.kind === 'google') && issuers.has(c.issuer));
  return {
    ...(partnerId ? { partnerId } : {}),
    ...(entraTenantId ? { entraTenantId } : {}),
    ...(saml?.kind === 'saml' ? { samlEntityId: saml.entityId } : {}),
    ...(oidc && (oidc.kind === 'oidc' || oidc.kind === 'google') ? { oidcIssuer: oidc.issuer } : {}),
  };
}

async function findUser(deps: ExplainDeps, tenantId: string, who: string): Promise<{ user?: User; email: string }> {
  if (!who.includes('@')) {
    const user = await deps.users.get(tenantId, who);
    if (!user) throw new ExplainError(`no user with object id '${who}' in tenant '${tenantId}' (give an email address to ask about someone not yet invited)`);
    return { user, email: user.mail ?? user.userPrincipalName };
  }
  const email = normaliseEmail(who);
  if (!email) throw new ExplainError(`'${who}' is not a valid email address`);
  const primaryDomain = deps.tenant.domains[0]!;
  const user =
    (await deps.users.findByUserPrincipalName(tenantId, deps.guestUserPrincipalName(email, primaryDomain))) ??
    // Members sign in with their own address as UPN.
    (await deps.users.findByUserPrincipalName(tenantId, email));
  return { ...(user ? { user } : {}), email };
}

export async function explainAccess(deps: ExplainDeps, question: ExplainQuestion): Promise<Explanation> {
  const { tenant } = deps;
  const tenantId = question.tenantId;
  const policy = deps.policies.policyFor(tenantId);
  if (!policy || tenant.id !== tenantId) throw new ExplainError(`unknown tenant '${tenantId}'`);

  if (question.app !== undefined && !tenant.apps.some((a) => a.id === question.app)) {
    throw new ExplainError(`unknown app '${question.app}' (${knownList(tenant.apps.map((a) => a.id), 'apps')})`);
  }
  const connector = question.idp === undefined ? undefined : tenant.identityProviders.find((c) => c.id === question.idp);
  if (question.idp !== undefined && !connector) {
    throw new ExplainError(`unknown identity provider '${question.idp}' (${knownList(tenant.identityProviders.map((c) => c.id), 'identity providers')})`);
  }

  const { user, email } = await findUser(deps, tenantId, question.user);
  const userType = user?.userType ?? 'Guest';
  const emailDomain = email.slice(email.lastIndexOf('@') + 1);
  // As enforcement sees it: the evidence of the identities (a member whose address is in the
  // tenant's own domains is the tenant's own person; other members are external members).
  const porticoTenants = deps.porticoTenants ?? new Map<string, string>();
  const home: HomeOrganisation = {
    ...(user ? evidenceOfUser(tenant, user, porticoTenants) : {}),
    ...(connector ? evidenceOf(connector, porticoTenants) : {}),
    ...(email.includes('@') ? { emailDomain } : {}),
  };
  const groupIds = user && deps.groups ? await deps.groups.groupIdsOf(tenantId, user.id) : [];
  const resourceSubject = subjectOf(policy, { home, userType, userIds: [user?.id, email], groupIds, email });
  // A member of another tenant of this Portico is also their object id and groups there.
  const homeTenantId = resourceSubject.organisation.kind === 'tenant' ? resourceSubject.organisation.id : undefined;
  const homeIssuer = homeTenantId ? [...porticoTenants].find(([, id]) => id === homeTenantId)?.[0] : undefined;
  const homeUserId = homeIssuer ? user?.identities.find((i) => i.issuer === homeIssuer)?.issuerAssignedId : undefined;
  const homeGroupIds = homeTenantId && homeUserId && deps.groups ? await deps.groups.groupIdsOf(homeTenantId, homeUserId) : [];
  const subject = homeUserId
    ? { ...resourceSubject, userIds: [...resourceSubject.userIds, homeUserId], groupIds: [...resourceSubject.groupIds, ...homeGroupIds] }
    : resourceSubject;
  const homePolicy = homeTenantId ? deps.policies.policyFor(homeTenantId) : undefined;
  const outbound = homeTenantId && homePolicy
    ? { policy: homePolicy, subject: subjectOf(homePolicy, { home: { porticoTenantId: homeTenantId }, userType: 'Member', userIds: [homeUserId, email], groupIds: homeGroupIds, email }) }
    : undefined;
  const invitee = { ...subject, email };

  const pending = !user || user.externalUserState === 'PendingAcceptance';
  let signIn: Decision | undefined;
  if (question.app !== undefined) {
    const claims: UpstreamClaims = {
      kind: connector?.kind ?? 'unspecified',
      amr: question.mfa ? ['mfa'] : [],
      device: { compliant: question.device === 'compliant', hybridJoined: question.device === 'hybridJoined' },
    };
    const assurance = trustedAssurance(policy, subject.organisation, claims);
    const decision = decideSignIn({ policy, subject, appId: question.app, assurance, ...(outbound ? { home: outbound } : {}) });
    // The trust entries first: they say which claims were dropped before conditional access looked.
    signIn = { ...decision, trace: [...assurance.trace, ...decision.trace] };
  }

  return {
    tenantId,
    user: {
      found: user !== undefined,
      ...(user ? { id: user.id, userType: user.userType } : {}),
      ...(user?.externalUserState ? { externalUserState: user.externalUserState } : {}),
      email,
    },
    organisation: { ...subject.organisation, description: describeOrganisation(subject.organisation) },
    invitation: decideInvitation(policy, question.inviter ?? DEFAULT_INVITER, invitee),
    ...(pending ? { redemption: decideRedemption(policy, invitee) } : {}),
    ...(signIn ? { signIn } : {}),
  };
}
