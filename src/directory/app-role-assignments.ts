/**
 * Who is assigned to which app of the tenant, as Microsoft Graph's appRoleAssignment. Apps define
 * no roles of their own, so every assignment is to the default access role. An app with
 * `assignmentRequired` signs in only users assigned to it directly or through a group.
 *
 * One assignment per (principal, app): a unique index on the pair refuses a second, and lets
 * `isAssigned` answer with a keyed lookup per principal instead of a scan of the app's assignments.
 */
import type { Clock } from '../shared/clock.ts';
import { PorticoError } from '../shared/errors.ts';
import { newObjectId } from '../shared/ids.ts';
import { AlreadyExistsError } from '../storage/errors.ts';
import type { DocumentStore } from '../storage/ports.ts';
import type { GroupDirectory } from './groups.ts';

/** Graph's id of the default access role, for apps that declare no app roles. */
export const DEFAULT_ACCESS_ROLE_ID = '00000000-0000-0000-0000-000000000000';

export type PrincipalType = 'User' | 'Group';

export interface AppRoleAssignment {
  readonly id: string;
  readonly tenantId: string;
  readonly principalId: string;
  readonly principalType: PrincipalType;
  /** As when assigned; the API shows the principal's current name. */
  readonly principalDisplayName: string;
  /** The app's client id. */
  readonly resourceId: string;
  readonly resourceDisplayName: string;
  readonly appRoleId: string;
  readonly createdDateTime: string;
}

/** What an assignment can be to: an app of the tenant, by client id. */
export interface AssignableApp {
  readonly id: string;
  readonly name: string;
}

export type AssignmentErrorCode = 'unknown_app' | 'unknown_role' | 'already_assigned' | 'assignment_not_found';

export class AssignmentError extends PorticoError {
  declare readonly code: AssignmentErrorCode;
  constructor(code: AssignmentErrorCode, message: string) {
    super(code, message, { status: code === 'assignment_not_found' ? 404 : 400 });
  }
}

const COLLECTION = 'app-role-assignments';

const principalTag = (tenantId: string, principalId: string): string => `principal:${tenantId}/${principalId}`;
const grantKey = (tenantId: string, principalId: string, appId: string): string => JSON.stringify([tenantId, principalId, appId]);

export class AppRoleAssignments {
  readonly #store: DocumentStore;
  readonly #clock: Clock;
  readonly #groups: GroupDirectory;
  readonly #apps: (tenantId: string) => readonly AssignableApp[];

  constructor(options: { store: DocumentStore; clock: Clock; groups: GroupDirectory; apps: (tenantId: string) => readonly AssignableApp[] }) {
    this.#store = options.store;
    this.#clock = options.clock;
    this.#groups = options.groups;
    this.#apps = options.apps;
  }

  /**
   * Assigns the principal (which the caller has found in the tenant) to an app. Throws
   * AssignmentError for an unknown app or role, or when the principal is already assigned.
   */
  async assign(
    tenantId: string,
    principal: { readonly id: string; readonly type: PrincipalType; readonly displayName: string },
    resourceId: string,
    appRoleId: string = DEFAULT_ACCESS_ROLE_ID,
  ): Promise<AppRoleAssignment> {
    const app = this.#apps(tenantId).find((candidate) => candidate.id === resourceId);
    if (!app) throw new AssignmentError('unknown_app', `Resource '${resourceId}' is not an app of this tenant.`);
    if (appRoleId.toLowerCase() !== DEFAULT_ACCESS_ROLE_ID) {
      throw new AssignmentError('unknown_role', `Permission being assigned was not found on application '${resourceId}': apps have only the default access role '${DEFAULT_ACCESS_ROLE_ID}'.`);
    }
    const assignment: AppRoleAssignment = {
      id: newObjectId(),
      tenantId,
      principalId: principal.id,
      principalType: principal.type,
      principalDisplayName: principal.displayName,
      resourceId: app.id,
      resourceDisplayName: app.name,
      appRoleId: DEFAULT_ACCESS_ROLE_ID,
      createdDateTime: new Date(this.#clock.now()).toISOString(),
    };
    try {
      await this.#store.create(COLLECTION, assignment.id, assignment, {
        unique: { grant: grantKey(tenantId, principal.id, app.id) },
        tags: [principalTag(tenantId, principal.id)],
      });
    } catch (error) {
      if (error instanceof AlreadyExistsError) throw new AssignmentError('already_assigned', 'Permission being assigned already exists on the object.');
      throw error;
    }
    return assignment;
  }

  /** The principal's assignments, oldest first. */
  async listFor(tenantId: string, principalId: string): Promise<AppRoleAssignment[]> {
    const records = await this.#store.listByTag<AppRoleAssignment>(COLLECTION, principalTag(tenantId, principalId));
    return records
      .map((r) => r.value)
      .filter((a) => a.tenantId === tenantId)
      .sort((a, b) => a.createdDateTime.localeCompare(b.createdDateTime) || a.id.localeCompare(b.id));
  }

  /** Removes one of the principal's assignments; throws AssignmentError when it has no such one. */
  async remove(tenantId: string, principalId: string, assignmentId: string): Promise<AppRoleAssignment> {
    const record = await this.#store.get<AppRoleAssignment>(COLLECTION, assignmentId);
    if (!record || record.value.tenantId !== tenantId || record.value.principalId !== principalId || !(await this.#store.delete(COLLECTION, assignmentId))) {
      throw new AssignmentError('assignment_not_found', `App role assignment '${assignmentId}' does not exist for '${principalId}'.`);
    }
    return record.value;
  }

  /** Drops every assignment of a deleted user or group. */
  async removeAllFor(tenantId: string, principalId: string): Promise<number> {
    return this.#store.deleteByTag(COLLECTION, principalTag(tenantId, principalId));
  }

  /** Whether the user is assigned to the app, directly or as a direct member of an assigned group. */
  async isAssigned(tenantId: string, userId: string, appId: string): Promise<boolean> {
    const assigned = (principalId: string) => this.#store.findByUnique<AppRoleAssignment>(COLLECTION, 'grant', grantKey(tenantId, principalId, appId));
    if (await assigned(userId)) return true;
    const groupIds = await this.#groups.groupIdsOf(tenantId, userId);
    const found = await Promise.all(groupIds.map(assigned));
    return found.some((record) => record !== undefined);
  }
}
