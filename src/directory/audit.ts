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
  readonly type: 'User' | 'Invitation';
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

interface StoredAudit extends DirectoryAudit {
  readonly tenantId: string;
  /** Time, then this process's sequence: entries of one millisecond keep the order they were made in. */
  readonly order: string;
}

let sequence = 0;

const COLLECTION = 'directory-audits';
const DAY_SECONDS = 24 * 3600;

export const userTarget = (
  user: { readonly id: string; readonly displayName: string; readonly userPrincipalName: string },
  modifiedProperties: readonly ModifiedProperty[] = [],
): TargetResource => ({ id: user.id, displayName: user.displayName, type: 'User', userPrincipalName: user.userPrincipalName, modifiedProperties });

export const invitationTarget = (id: string): TargetResource => ({ id, displayName: null, type: 'Invitation', userPrincipalName: null, modifiedProperties: [] });

export const changed = (displayName: string, oldValue: unknown, newValue: unknown): ModifiedProperty => ({
  displayName,
  oldValue: oldValue === undefined ? null : JSON.stringify(oldValue),
  newValue: newValue === undefined ? null : JSON.stringify(newValue),
});

export class AuditLog {
  readonly #store: DocumentStore;
  readonly #clock: Clock;
  readonly #retentionDays: (tenantId: string) => number;

  constructor(options: { store: DocumentStore; clock: Clock; retentionDays: (tenantId: string) => number }) {
    this.#store = options.store;
    this.#clock = options.clock;
    this.#retentionDays = options.retentionDays;
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
    sequence += 1;
    const stored: StoredAudit = { ...entry, tenantId, order: `${entry.activityDateTime}#${String(sequence).padStart(12, '0')}` };
    await this.#store.create(COLLECTION, entry.id, stored, {
      ttlSeconds: this.#retentionDays(tenantId) * DAY_SECONDS,
      tags: [`tenant:${tenantId}`],
    });
    return entry;
  }

  /**
   * A page of the tenant's entries still within retention, newest first. `after` is the `next`
   * of the previous page: a position in the log, so entries added meanwhile do not shift pages.
   */
  async list(tenantId: string, page: { readonly top: number; readonly after?: string }): Promise<{ entries: DirectoryAudit[]; next?: string }> {
    const records = await this.#store.listByTag<StoredAudit>(COLLECTION, `tenant:${tenantId}`);
    const keyOf = (entry: StoredAudit): string => `${entry.order}|${entry.id}`;
    const sorted = records.map(({ value }) => value).sort((a, b) => keyOf(b).localeCompare(keyOf(a)));
    const after = page.after;
    const rest = after === undefined ? sorted : sorted.filter((entry) => keyOf(entry) < after);
    const taken = rest.slice(0, page.top);
    const last = taken.at(-1);
    return {
      entries: taken.map(({ tenantId: _tenantId, order: _order, ...entry }) => entry),
      ...(rest.length > taken.length && last ? { next: keyOf(last) } : {}),
    };
  }
}
