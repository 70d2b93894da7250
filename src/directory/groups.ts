/**
 * The tenant's groups and their members (users only), in Microsoft Graph's terms. A membership
 * is its own record, tagged by group and by member, so "who is in this group" and "which groups
 * is this user in" are each one tag lookup: sign-in policy asks the second on every sign-in.
 */
import type { Clock } from '../shared/clock.ts';
import { PorticoError } from '../shared/errors.ts';
import { newObjectId } from '../shared/ids.ts';
import { AlreadyExistsError } from '../storage/errors.ts';
import type { DocumentStore } from '../storage/ports.ts';
import type { User, UserDirectory } from './users.ts';

export interface Group {
  readonly id: string;
  readonly tenantId: string;
  readonly displayName: string;
  readonly description?: string;
  readonly mailNickname: string;
  readonly securityEnabled: boolean;
  readonly createdDateTime: string;
}

export interface NewGroup {
  readonly tenantId: string;
  readonly displayName: string;
  readonly description?: string;
  readonly mailNickname?: string;
  readonly securityEnabled?: boolean;
}

export interface GroupChanges {
  readonly displayName?: string;
  /** null clears it. */
  readonly description?: string | null;
  readonly mailNickname?: string;
  readonly securityEnabled?: boolean;
}

interface Membership {
  readonly tenantId: string;
  readonly groupId: string;
  readonly userId: string;
  readonly createdDateTime: string;
}

export type GroupErrorCode = 'group_not_found' | 'user_not_found' | 'already_member' | 'not_member';

/** A membership change that cannot be made, with a message fit for the API caller. */
export class GroupError extends PorticoError {
  declare readonly code: GroupErrorCode;
  constructor(code: GroupErrorCode, message: string) {
    super(code, message, { status: code === 'already_member' ? 400 : 404 });
  }
}

const GROUPS = 'groups';
const MEMBERSHIPS = 'group-memberships';

const groupTag = (groupId: string): string => `group:${groupId}`;
const memberTag = (tenantId: string, userId: string): string => `member:${tenantId}/${userId}`;
const membershipId = (groupId: string, userId: string): string => `${groupId}/${userId}`;

/** Graph's default mailNickname: the display name without characters a mail alias cannot hold. */
const nicknameFrom = (displayName: string): string => displayName.replace(/[^A-Za-z0-9._-]/g, '').slice(0, 64) || 'group';

export class GroupDirectory {
  readonly #store: DocumentStore;
  readonly #clock: Clock;
  readonly #users: UserDirectory;

  constructor(options: { store: DocumentStore; clock: Clock; users: UserDirectory }) {
    this.#store = options.store;
    this.#clock = options.clock;
    this.#users = options.users;
  }

  async create(input: NewGroup): Promise<Group> {
    const group: Group = {
      id: newObjectId(),
      tenantId: input.tenantId,
      displayName: input.displayName,
      ...(input.description === undefined ? {} : { description: input.description }),
      mailNickname: input.mailNickname ?? nicknameFrom(input.displayName),
      securityEnabled: input.securityEnabled ?? true,
      createdDateTime: this.#now(),
    };
    await this.#store.create(GROUPS, group.id, group, { tags: [`tenant:${group.tenantId}`] });
    return group;
  }

  /** The group, only if it belongs to `tenantId`. */
  async get(tenantId: string, id: string): Promise<Group | undefined> {
    const record = await this.#store.get<Group>(GROUPS, id);
    return record && record.value.tenantId === tenantId ? record.value : undefined;
  }

  /** Oldest first, then by id: the order paging positions rely on. */
  async list(tenantId: string): Promise<Group[]> {
    const records = await this.#store.listByTag<Group>(GROUPS, `tenant:${tenantId}`);
    return records.map((r) => r.value).sort(byCreation);
  }

  async update(tenantId: string, id: string, changes: GroupChanges): Promise<Group | undefined> {
    if (!(await this.get(tenantId, id))) return undefined;
    return this.#store.update<Group>(GROUPS, id, (group) => {
      const { description: _description, ...rest } = group;
      const description = changes.description === undefined ? group.description : (changes.description ?? undefined);
      return {
        ...rest,
        ...(changes.displayName === undefined ? {} : { displayName: changes.displayName }),
        ...(changes.mailNickname === undefined ? {} : { mailNickname: changes.mailNickname }),
        ...(changes.securityEnabled === undefined ? {} : { securityEnabled: changes.securityEnabled }),
        ...(description === undefined ? {} : { description }),
      };
    });
  }

  /** Deletes the group and its memberships; false when it is not in the tenant. */
  async delete(tenantId: string, id: string): Promise<boolean> {
    if (!(await this.get(tenantId, id))) return false;
    const deleted = await this.#store.delete(GROUPS, id);
    await this.#store.deleteByTag(MEMBERSHIPS, groupTag(id));
    return deleted;
  }

  /** Throws GroupError when the group or user is not in the tenant, or the user is already a member. */
  async addMember(tenantId: string, groupId: string, userId: string): Promise<void> {
    if (!(await this.get(tenantId, groupId))) throw new GroupError('group_not_found', `Group '${groupId}' does not exist.`);
    if (!(await this.#users.get(tenantId, userId))) throw new GroupError('user_not_found', `Resource '${userId}' does not exist or one of its queried reference-property objects are not present.`);
    const membership: Membership = { tenantId, groupId, userId, createdDateTime: this.#now() };
    try {
      await this.#store.create(MEMBERSHIPS, membershipId(groupId, userId), membership, { tags: [groupTag(groupId), memberTag(tenantId, userId)] });
    } catch (error) {
      if (error instanceof AlreadyExistsError) throw new GroupError('already_member', 'One or more added object references already exist for the following modified properties: \'members\'.');
      throw error;
    }
  }

  async removeMember(tenantId: string, groupId: string, userId: string): Promise<void> {
    if (!(await this.get(tenantId, groupId))) throw new GroupError('group_not_found', `Group '${groupId}' does not exist.`);
    const record = await this.#store.get<Membership>(MEMBERSHIPS, membershipId(groupId, userId));
    if (!record || record.value.tenantId !== tenantId || !(await this.#store.delete(MEMBERSHIPS, membershipId(groupId, userId)))) {
      throw new GroupError('not_member', `'${userId}' is not a member of group '${groupId}'.`);
    }
  }

  /** The members that still exist, oldest user first. Throws GroupError when the group is not in the tenant. */
  async listMembers(tenantId: string, groupId: string): Promise<User[]> {
    if (!(await this.get(tenantId, groupId))) throw new GroupError('group_not_found', `Group '${groupId}' does not exist.`);
    const records = await this.#store.listByTag<Membership>(MEMBERSHIPS, groupTag(groupId));
    const users = await Promise.all(records.filter((r) => r.value.tenantId === tenantId).map((r) => this.#users.get(tenantId, r.value.userId)));
    return users.filter((user) => user !== undefined).sort(byCreation);
  }

  /** Ids of the groups `userId` is a direct member of: one tag lookup, for policy evaluation. */
  async groupIdsOf(tenantId: string, userId: string): Promise<string[]> {
    const records = await this.#store.listByTag<Membership>(MEMBERSHIPS, memberTag(tenantId, userId));
    return records.map((r) => r.value.groupId).sort();
  }

  /** The groups `userId` is a direct member of, oldest first. */
  async groupsOf(tenantId: string, userId: string): Promise<Group[]> {
    const groups = await Promise.all((await this.groupIdsOf(tenantId, userId)).map((id) => this.get(tenantId, id)));
    return groups.filter((group) => group !== undefined).sort(byCreation);
  }

  /** Drops every membership of a deleted user. */
  async removeUserEverywhere(tenantId: string, userId: string): Promise<number> {
    return this.#store.deleteByTag(MEMBERSHIPS, memberTag(tenantId, userId));
  }

  #now(): string {
    return new Date(this.#clock.now()).toISOString();
  }
}

const byCreation = (a: { createdDateTime: string; id: string }, b: { createdDateTime: string; id: string }): number =>
  a.createdDateTime.localeCompare(b.createdDateTime) || a.id.localeCompare(b.id);
