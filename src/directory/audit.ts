/**
 * The directory audit log: who changed what in a tenant's directory, when, with which outcome,
 * under which request id. Entries follow Microsoft Graph's directoryAudit so scripts that read
 * Entra's log read Portico's. They are built from named fields only (ids, names, states), never
 * from request bodies, so a redemption ticket, secret or token has no way in.
 *
 * Entries expire through the store's TTL after the tenant's retention (`audit.retentionDays`).
 */
import { randomUUID } from 'node:crypto';
import type { Clock } from '../shared/clock.ts';
import type { DocumentStore } from '../storage/ports.ts';
import { TenantLog } from './tenant-log.ts';

/** Who acted: an app (by client credentials) or a signed-in user. */
export type Actor =
  | { readonly kind: 'app'; readonly appId: string; readonly displayName: string }
  | { readonly kind: 'user'; readonly id: string; readonly displayName: string; readonly userPrincipalName?: string };

/**
 * Graph's activity names where Entra has one; the others are Portico's own (Entra cannot resend
 * or revoke an invitation).
 */
export const ACTIVITIES = {
  invite: { name: 'Invite external user', category: 'UserManagement', service: 'Invited Users', operation: 'Add' },
  redeem: { name: 'Redeem external user invite', category: 'UserManagement', service: 'Invited Users', operation: 'Update' },
  resend: { name: 'Resend external user invite', category: 'UserManagement', service: 'Invited Users', operation: 'Update' },
  revoke: { name: 'Revoke external user invite', category: 'UserManagement', service: 'Invited Users', operation: 'Update' },
  resetRedemption: { name: 'Reset redemption status of external user', category: 'UserManagement', service: 'Invited Users', operation: 'Update' },
  updateUser: { name: 'Update user', category: 'UserManagement', service: 'Core Directory', operation: 'Update' },
  deleteUser: { name: 'Delete user', category: 'UserManagement', service: 'Core Directory', operation: 'Delete' },
  deleteSecurityInfo: { name: 'Admin deleted security info', category: 'UserManagement', service: 'Authentication Methods', operation: 'Delete' },
  addGroup: { name: 'Add group', category: 'GroupManagement', service: 'Core Directory', operation: 'Add' },
  updateGroup: { name: 'Update group', category: 'GroupManagement', service: 'Core Directory', operation: 'Update' },
  deleteGroup: { name: 'Delete group', category: 'GroupManagement', service: 'Core Directory', operation: 'Delete' },
  addMember: { name: 'Add member to group', category: 'GroupManagement', service: 'Core Directory', operation: 'Assign' },
  removeMember: { name: 'Remove member from group', category: 'GroupManagement', service: 'Core Directory', operation: 'Unassign' },
  addUserAssignment: { name: 'Add app role assignment to user', category: 'ApplicationManagement', service: 'Core Directory', operation: 'Assign' },
  removeUserAssignment: { name: 'Remove app role assignment from user', category: 'ApplicationManagement', service: 'Core Directory', operation: 'Unassign' },
  addGroupAssignment: { name: 'Add app role assignment to group', category: 'ApplicationManagement', service: 'Core Directory', operation: 'Assign' },
  removeGroupAssignment: { name: 'Remove app role assignment from group', category: 'ApplicationManagement', service: 'Core Directory', operation: 'Unassign' },
} as const;

export type Activity = keyof typeof ACTIVITIES;

export interface ModifiedProperty {
  readonly displayName: string;
  /** JSON text, as Graph writes it (`"\"Alice\""`), or null. */
  readonly oldValue: string | null;
  readonly newValue: string | null;
}

export interface TargetResource {
  readonly id: string;
  readonly displayName: string | null;
  readonly type: 'User' | 'Invitation' | 'Group' | 'ServicePrincipal';
  readonly userPrincipalName: string | null;
  readonly modifiedProperties: readonly ModifiedProperty[];
}

/** Graph's directoryAudit. */
export interface DirectoryAudit {
  readonly id: string;
  readonly category: string;
  readonly correlationId: string;
  readonly result: 'success' | 'failure';
  readonly resultReason: string;
  readonly activityDisplayName: string;
  readonly activityDateTime: string;
  readonly loggedByService: string;
  readonly operationType: string;
  readonly initiatedBy: {
    readonly app: { readonly appId: string; readonly displayName: string } | null;
    readonly user: { readonly id: string; readonly displayName: string; readonly userPrincipalName: string | null } | null;
  };
  readonly targetResources: readonly TargetResource[];
  readonly additionalDetails: readonly { readonly key: string; readonly value: string }[];
}

export interface AuditEvent {
  readonly activity: Activity;
  readonly actor: Actor;
  readonly correlationId: string;
  readonly result?: 'success' | 'failure';
  readonly resultReason?: string;
  readonly targets: readonly TargetResource[];
  readonly details?: Readonly<Record<string, string>>;
}

const COLLECTION = 'directory-audits';

export const userTarget = (
  user: { readonly id: string; readonly displayName: string; readonly userPrincipalName: string },
  modifiedProperties: readonly ModifiedProperty[] = [],
): TargetResource => ({ id: user.id, displayName: user.displayName, type: 'User', userPrincipalName: user.userPrincipalName, modifiedProperties });

export const invitationTarget = (id: string): TargetResource => ({ id, displayName: null, type: 'Invitation', userPrincipalName: null, modifiedProperties: [] });

export const groupTarget = (group: { readonly id: string; readonly displayName: string }, modifiedProperties: readonly ModifiedProperty[] = []): TargetResource => ({
  id: group.id,
  displayName: group.displayName,
  type: 'Group',
  userPrincipalName: null,
  modifiedProperties,
});

/** An app of the tenant, as Entra names the object an assignment is to. */
export const appTarget = (app: { readonly id: string; readonly name: string }): TargetResource => ({
  id: app.id,
  displayName: app.name,
  type: 'ServicePrincipal',
  userPrincipalName: null,
  modifiedProperties: [],
});

export const changed = (displayName: string, oldValue: unknown, newValue: unknown): ModifiedProperty => ({
  displayName,
  oldValue: oldValue === undefined ? null : JSON.stringify(oldValue),
  newValue: newValue === undefined ? null : JSON.stringify(newValue),
});

export class AuditLog {
  readonly #log: TenantLog<DirectoryAudit>;
  readonly #clock: Clock;

  constructor(options: { store: DocumentStore; clock: Clock; retentionDays: (tenantId: string) => number }) {
    this.#log = new TenantLog({ store: options.store, collection: COLLECTION, retentionDays: options.retentionDays });
    this.#clock = options.clock;
  }

  async record(tenantId: string, event: AuditEvent): Promise<DirectoryAudit> {
    const activity = ACTIVITIES[event.activity];
    const { actor } = event;
    const entry: DirectoryAudit = {
      id: randomUUID(),
      category: activity.category,
      correlationId: event.correlationId,
      result: event.result ?? 'success',
      resultReason: event.resultReason ?? '',
      activityDisplayName: activity.name,
      activityDateTime: new Date(this.#clock.now()).toISOString(),
      loggedByService: activity.service,
      operationType: activity.operation,
      initiatedBy:
        actor.kind === 'app'
          ? { app: { appId: actor.appId, displayName: actor.displayName }, user: null }
          : { app: null, user: { id: actor.id, displayName: actor.displayName, userPrincipalName: actor.userPrincipalName ?? null } },
      targetResources: event.targets,
      additionalDetails: Object.entries(event.details ?? {}).map(([key, value]) => ({ key, value })),
    };
    await this.#log.append(tenantId, entry, entry.activityDateTime);
    return entry;
  }

  /**
   * A page of the tenant's entries still within retention, newest first. `after` is the `next`
   * of the previous page: a position in the log, so entries added meanwhile do not shift pages.
   */
  async list(tenantId: string, page: { readonly top: number; readonly after?: string }): Promise<{ entries: DirectoryAudit[]; next?: string }> {
    return this.#log.page(tenantId, page);
  }
}
