import type { UpstreamIdentity } from '../connectors/types.ts';
import { guestUserPrincipalName, type ObjectIdentity, type User, type UserDirectory } from '../directory/users.ts';
import { AlreadyExistsError } from '../storage/errors.ts';

export type GuestResolution =
  | { readonly outcome: 'signed-in'; readonly user: User; readonly how: 'known-identity' | 'linked-to-invited-guest' | 'self-service-sign-up' }
  /** Nobody in the directory for this identity, and the app does not allow self-service sign-up. */
  | { readonly outcome: 'not-invited'; readonly email?: string }
  /** Self-service sign-up needs a verified email to name the guest, and the upstream gave none. */
  | { readonly outcome: 'no-verified-email' }
  | { readonly outcome: 'disabled'; readonly user: User }
  /**
   * The guest exists and already signs in with another identity: a second identity is not linked
   * by email, so an email passcode cannot bypass the IdP the guest redeemed with (offboarding at
   * the partner must end the guest's access).
   */
  | { readonly outcome: 'other-identity'; readonly user: User };

export function objectIdentityOf(identity: UpstreamIdentity): ObjectIdentity {
  return {
    signInType: identity.kind === 'email-otp' ? 'emailAddress' : 'federated',
    issuer: identity.issuer,
    issuerAssignedId: identity.subject,
    ...(identity.issuerTenantId ? { issuerTenantId: identity.issuerTenantId } : {}),
  };
}

/**
 * Maps an upstream identity to a user of the resource tenant:
 * 1. an identity already linked signs in as its user;
 * 2. otherwise a guest already in the directory (added by an admin or invited) who has never
 *    signed in and whose mail equals the identity's email is linked to it, but only when the
 *    upstream says the email is verified (an unverified email never links: that is how accounts
 *    get taken over);
 * 3. otherwise, when the app allows self-service sign-up, a new guest is created;
 * 4. otherwise the guest has not been invited.
 * Concurrent first sign-ins of one identity end with one user: the losers find the winner's link.
 */
export async function resolveGuest(input: {
  readonly directory: UserDirectory;
  readonly tenantId: string;
  readonly primaryDomain: string;
  readonly selfServiceSignUp: boolean;
  readonly identity: UpstreamIdentity;
}): Promise<GuestResolution> {
  const { directory, tenantId, identity } = input;
  const objectIdentity = objectIdentityOf(identity);

  const known = await directory.findByIdentity(tenantId, objectIdentity);
  if (known) return known.accountEnabled ? { outcome: 'signed-in', user: known, how: 'known-identity' } : { outcome: 'disabled', user: known };

  const verifiedEmail = identity.email && identity.emailVerified ? identity.email : undefined;
  if (verifiedEmail) {
    const invited = await directory.findByUserPrincipalName(tenantId, guestUserPrincipalName(verifiedEmail, input.primaryDomain));
    if (invited && invited.userType === 'Guest') {
      if (!invited.accountEnabled) return { outcome: 'disabled', user: invited };
      if (invited.identities.length > 0) return { outcome: 'other-identity', user: invited };
      const linked = await directory.linkIdentity(tenantId, invited.id, objectIdentity);
      if (!linked) return resolveAgain(input);
      return { outcome: 'signed-in', user: (await directory.get(tenantId, invited.id)) ?? invited, how: 'linked-to-invited-guest' };
    }
  }

  if (!input.selfServiceSignUp) return identity.email ? { outcome: 'not-invited', email: identity.email } : { outcome: 'not-invited' };
  if (!verifiedEmail) return { outcome: 'no-verified-email' };
  try {
    const user = await directory.create({
      tenantId,
      userType: 'Guest',
      userPrincipalName: guestUserPrincipalName(verifiedEmail, input.primaryDomain),
      displayName: identity.name ?? verifiedEmail,
      mail: verifiedEmail,
      identities: [objectIdentity],
      creationType: 'SelfServiceSignUp',
      externalUserState: 'Accepted',
      ...(identity.homeTenantId ? { homeTenantId: identity.homeTenantId } : {}),
    });
    return { outcome: 'signed-in', user, how: 'self-service-sign-up' };
  } catch (error) {
    if (error instanceof AlreadyExistsError) return resolveAgain(input);
    throw error;
  }
}

/** A concurrent sign-in won a race: what it made is now in the directory, so look again once. */
async function resolveAgain(input: Parameters<typeof resolveGuest>[0]): Promise<GuestResolution> {
  const user = await input.directory.findByIdentity(input.tenantId, objectIdentityOf(input.identity));
  if (user) return user.accountEnabled ? { outcome: 'signed-in', user, how: 'known-identity' } : { outcome: 'disabled', user };
  // The UPN is taken by a guest this identity cannot link to (another identity got there first).
  return input.identity.email ? { outcome: 'not-invited', email: input.identity.email } : { outcome: 'not-invited' };
}
