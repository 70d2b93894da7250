import type { Clock } from '../shared/clock.ts';
import { newObjectId } from '../shared/ids.ts';
import { AlreadyExistsError } from '../storage/errors.ts';
import type { DocumentStore } from '../storage/ports.ts';

export type UserType = 'Member' | 'Guest';
export type ExternalUserState = 'PendingAcceptance' | 'Accepted';
/** How the user came to be, as Graph's creationType: `Invitation`, `SelfServiceSignUp`, or null for members. */
export type CreationType = 'Invitation' | 'SelfServiceSignUp' | null;

/** One way a user signs in, as in Microsoft Graph's objectIdentity. */
export interface ObjectIdentity {
  readonly signInType: 'federated' | 'emailAddress' | 'userPrincipalName';
  /** `mail` for email passcodes, otherwise the IdP's issuer or entity id. */
  readonly issuer: string;
  readonly issuerAssignedId: string;
  /** The upstream tenant of the subject, where the issuer hosts several (Entra `tid`). */
  readonly issuerTenantId?: string;
}

export interface LastSignIn {
  readonly at: string;
  /** The `idp` of the identity used. */
  readonly idp: string;
  /** The session's `auth_time` (seconds): tokens of that session may carry `device`. */
  readonly authTime?: number;
  /** Device claims of that sign-in that the tenant trusts (untrusted ones are never stored). */
  readonly device?: TrustedDevice;
}

export interface TrustedDevice {
  readonly compliant?: true;
  readonly hybridJoined?: true;
}

export interface User {
  readonly id: string;
  readonly tenantId: string;
  readonly userType: UserType;
  readonly userPrincipalName: string;
  readonly displayName: string;
  readonly mail?: string;
  readonly accountEnabled: boolean;
  readonly identities: readonly ObjectIdentity[];
  readonly createdDateTime: string;
  readonly creationType?: CreationType;
  readonly externalUserState?: ExternalUserState;
  readonly externalUserStateChangeDateTime?: string;
  /** The guest's home organisation when known (a partner id, an Entra tenant id, an entity id). */
  readonly homeTenantId?: string;
  readonly lastSignIn?: LastSignIn;
}

export interface NewUser {
  readonly tenantId: string;
  readonly userType: UserType;
  readonly userPrincipalName: string;
  readonly displayName: string;
  readonly mail?: string;
  readonly identities?: readonly ObjectIdentity[];
  readonly creationType?: CreationType;
  readonly externalUserState?: ExternalUserState;
  readonly homeTenantId?: string;
}

const USERS = 'users';
/** identity key → user id: an identity belongs to at most one user of a tenant. */
const IDENTITY_LINKS = 'identity-links';

/**
 * Guest UPN as Entra builds it: `alice@fabrikam.com` in contoso becomes
 * `alice_fabrikam.com#EXT#@contoso.example`.
 */
export function guestUserPrincipalName(mail: string, primaryDomain: string): string {
  return `${mail.toLowerCase().replace('@', '_')}#EXT#@${primaryDomain}`;
}

/** Users are keyed on (issuer, issuer tenant, subject), never on an email. */
export function identityKey(tenantId: string, identity: ObjectIdentity): string {
  return JSON.stringify([tenantId, identity.issuer, identity.issuerTenantId ?? '', identity.issuerAssignedId]);
}

/** The tenant's directory of users, keyed by object id with the UPN unique per tenant. */
export class UserDirectory {
  readonly #store: DocumentStore;
  readonly #clock: Clock;

  constructor(options: { store: DocumentStore; clock: Clock }) {
    this.#store = options.store;
    this.#clock = options.clock;
  }

  /**
   * Creates the user and links its identities. Throws AlreadyExistsError (and leaves nothing
   * behind) when the UPN or one of the identities is taken.
   */
  async create(input: NewUser): Promise<User> {
    const now = new Date(this.#clock.now()).toISOString();
    const user: User = {
      id: newObjectId(),
      tenantId: input.tenantId,
      userType: input.userType,
      userPrincipalName: input.userPrincipalName,
      displayName: input.displayName,
      ...(input.mail === undefined ? {} : { mail: input.mail }),
      accountEnabled: true,
      identities: input.identities ?? [],
      createdDateTime: now,
      ...(input.creationType === undefined ? {} : { creationType: input.creationType }),
      ...(input.externalUserState === undefined
        ? {}
        : { externalUserState: input.externalUserState, externalUserStateChangeDateTime: now }),
      ...(input.homeTenantId === undefined ? {} : { homeTenantId: input.homeTenantId }),
    };
    await this.#store.create(USERS, user.id, user, {
      unique: { upn: upnKey(user.tenantId, user.userPrincipalName) },
      tags: [`tenant:${user.tenantId}`],
    });
    const linked: string[] = [];
    try {
      for (const identity of user.identities) {
        const key = identityKey(user.tenantId, identity);
        await this.#store.create(IDENTITY_LINKS, key, { userId: user.id });
        linked.push(key);
      }
    } catch (error) {
      await Promise.all([this.#store.delete(USERS, user.id), ...linked.map((key) => this.#store.delete(IDENTITY_LINKS, key))]);
      throw error;
    }
    return user;
  }

  /** The user, only if it belongs to `tenantId`: an object id never crosses tenants. */
  async get(tenantId: string, id: string): Promise<User | undefined> {
    const record = await this.#store.get<User>(USERS, id);
    return record && record.value.tenantId === tenantId ? record.value : undefined;
  }

  async findByUserPrincipalName(tenantId: string, upn: string): Promise<User | undefined> {
    return (await this.#store.findByUnique<User>(USERS, 'upn', upnKey(tenantId, upn)))?.value;
  }

  async findByIdentity(tenantId: string, identity: ObjectIdentity): Promise<User | undefined> {
    const link = await this.#store.get<{ userId: string }>(IDENTITY_LINKS, identityKey(tenantId, identity));
    return link ? this.get(tenantId, link.value.userId) : undefined;
  }

  async list(tenantId: string): Promise<User[]> {
    const records = await this.#store.listByTag<User>(USERS, `tenant:${tenantId}`);
    return records.map((r) => r.value).sort((a, b) => a.createdDateTime.localeCompare(b.createdDateTime) || a.id.localeCompare(b.id));
  }

  /**
   * Links `identity` to an existing user. False when the identity already belongs to someone
   * (including a concurrent sign-in that linked it first).
   */
  async linkIdentity(tenantId: string, userId: string, identity: ObjectIdentity): Promise<boolean> {
    const key = identityKey(tenantId, identity);
    try {
      await this.#store.create(IDENTITY_LINKS, key, { userId });
    } catch (error) {
      if (error instanceof AlreadyExistsError) return false;
      throw error;
    }
    try {
      await this.#store.update<User>(USERS, userId, (user) => ({ ...user, identities: [...user.identities, identity] }));
    } catch (error) {
      await this.#store.delete(IDENTITY_LINKS, key);
      throw error;
    }
    return true;
  }

  /** Records a sign-in; `accept` turns a pending guest into an accepted one (first sign-in). */
  async recordSignIn(
    tenantId: string,
    userId: string,
    change: { idp: string; accept: boolean; homeTenantId?: string; authTime?: number; device?: TrustedDevice },
  ): Promise<User> {
    const now = new Date(this.#clock.now()).toISOString();
    return this.#store.update<User>(USERS, userId, (user) => {
      if (user.tenantId !== tenantId) return user;
      const accepting = change.accept && user.externalUserState === 'PendingAcceptance';
      const device = change.device && (change.device.compliant || change.device.hybridJoined) ? { device: change.device } : {};
      return {
        ...user,
        lastSignIn: { at: now, idp: change.idp, ...(change.authTime === undefined ? {} : { authTime: change.authTime }), ...device },
        ...(change.homeTenantId && !user.homeTenantId ? { homeTenantId: change.homeTenantId } : {}),
        ...(accepting ? { externalUserState: 'Accepted' as const, externalUserStateChangeDateTime: now } : {}),
      };
    });
  }

  /** Changes what an administrator may change; undefined when the user is not in the tenant. */
  async update(tenantId: string, id: string, changes: { readonly displayName?: string; readonly accountEnabled?: boolean }): Promise<User | undefined> {
    if (!(await this.get(tenantId, id))) return undefined;
    return this.#store.update<User>(USERS, id, (user) => ({ ...user, ...changes }));
  }

  /** Marks a pending guest Accepted now (invitation redeemed); an accepted one is left as it is. */
  async accept(tenantId: string, id: string): Promise<User | undefined> {
    if (!(await this.get(tenantId, id))) return undefined;
    const now = new Date(this.#clock.now()).toISOString();
    return this.#store.update<User>(USERS, id, (user) =>
      user.externalUserState === 'Accepted' ? user : { ...user, externalUserState: 'Accepted', externalUserStateChangeDateTime: now },
    );
  }

  /**
   * Reset redemption: the same object (id, and with it groups and assignments) waits for a new
   * redemption, by a new identity and possibly at a new address. The identity links go first, so
   * that whatever happens next the old identity can no longer sign in as this user.
   * Throws AlreadyExistsError when another user has the new UPN.
   */
  async resetRedemption(tenantId: string, id: string, change: { readonly mail: string; readonly userPrincipalName: string }): Promise<User | undefined> {
    const user = await this.get(tenantId, id);
    if (!user) return undefined;
    await Promise.all(user.identities.map((identity) => this.#store.delete(IDENTITY_LINKS, identityKey(tenantId, identity))));
    const now = new Date(this.#clock.now()).toISOString();
    return this.#store.update<User>(
      USERS,
      id,
      (current) => {
        const { lastSignIn: _lastSignIn, homeTenantId: _homeTenantId, ...rest } = current;
        return {
          ...rest,
          mail: change.mail,
          userPrincipalName: change.userPrincipalName,
          identities: [],
          externalUserState: 'PendingAcceptance',
          externalUserStateChangeDateTime: now,
        };
      },
      { unique: { upn: upnKey(tenantId, change.userPrincipalName) } },
    );
  }

  /** Deletes the user and its identity links; false when it is not in the tenant. */
  async delete(tenantId: string, id: string): Promise<boolean> {
    const user = await this.get(tenantId, id);
    if (!user) return false;
    await Promise.all(user.identities.map((identity) => this.#store.delete(IDENTITY_LINKS, identityKey(tenantId, identity))));
    return this.#store.delete(USERS, id);
  }
}

const upnKey = (tenantId: string, upn: string): string => `${tenantId}/${upn.toLowerCase()}`;
