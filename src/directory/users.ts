import type { Clock } from '../shared/clock.ts';
import { newObjectId } from '../shared/ids.ts';
import type { DocumentStore } from '../storage/ports.ts';

export type UserType = 'Member' | 'Guest';

/** One way a user signs in, as in Microsoft Graph's objectIdentity. */
export interface ObjectIdentity {
  readonly signInType: 'federated' | 'emailAddress' | 'userPrincipalName';
  readonly issuer: string;
  readonly issuerAssignedId: string;
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
}

export interface NewUser {
  readonly tenantId: string;
  readonly userType: UserType;
  readonly userPrincipalName: string;
  readonly displayName: string;
  readonly mail?: string;
  readonly identities?: readonly ObjectIdentity[];
}

const COLLECTION = 'users';

/** The tenant's directory of users, keyed by object id with the UPN unique per tenant. */
export class UserDirectory {
  readonly #store: DocumentStore;
  readonly #clock: Clock;

  constructor(options: { store: DocumentStore; clock: Clock }) {
    this.#store = options.store;
    this.#clock = options.clock;
  }

  async create(input: NewUser): Promise<User> {
    const user: User = {
      id: newObjectId(),
      tenantId: input.tenantId,
      userType: input.userType,
      userPrincipalName: input.userPrincipalName,
      displayName: input.displayName,
      ...(input.mail === undefined ? {} : { mail: input.mail }),
      accountEnabled: true,
      identities: input.identities ?? [],
      createdDateTime: new Date(this.#clock.now()).toISOString(),
    };
    await this.#store.create(COLLECTION, user.id, user, {
      unique: { upn: upnKey(user.tenantId, user.userPrincipalName) },
      tags: [`tenant:${user.tenantId}`],
    });
    return user;
  }

  /** The user, only if it belongs to `tenantId`: an object id never crosses tenants. */
  async get(tenantId: string, id: string): Promise<User | undefined> {
    const record = await this.#store.get<User>(COLLECTION, id);
    return record && record.value.tenantId === tenantId ? record.value : undefined;
  }

  async findByUserPrincipalName(tenantId: string, upn: string): Promise<User | undefined> {
    return (await this.#store.findByUnique<User>(COLLECTION, 'upn', upnKey(tenantId, upn)))?.value;
  }
}

const upnKey = (tenantId: string, upn: string): string => `${tenantId}/${upn.toLowerCase()}`;
