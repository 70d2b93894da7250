/**
 * What the directory audit log and the sign-in log share: append-only entries of one tenant on
 * the DocumentStore, gone by TTL after the tenant's retention, read newest first in pages whose
 * position does not move when entries are added meanwhile.
 */
import type { DocumentStore } from '../storage/ports.ts';

const DAY_SECONDS = 24 * 3600;

/** One counter for every log of this process: it only breaks ties within a millisecond. */
let sequence = 0;

type Stored<T> = T & {
  readonly tenantId: string;
  /** Time, then this process's sequence: entries of one millisecond keep the order they were made in. */
  readonly order: string;
};

export interface LogPage<T> {
  readonly entries: T[];
  /** Where the next page starts; absent on the last page. */
  readonly next?: string;
}

export class TenantLog<T extends { readonly id: string }> {
  readonly #store: DocumentStore;
  readonly #collection: string;
  readonly #retentionDays: (tenantId: string) => number;

  constructor(options: { store: DocumentStore; collection: string; retentionDays: (tenantId: string) => number }) {
    this.#store = options.store;
    this.#collection = options.collection;
    this.#retentionDays = options.retentionDays;
  }

  /** Stores `entry`, made at `dateTime` (ISO 8601, from the log's clock). */
  async append(tenantId: string, entry: T, dateTime: string): Promise<void> {
    sequence += 1;
    const stored: Stored<T> = { ...entry, tenantId, order: `${dateTime}#${String(sequence).padStart(12, '0')}` };
    await this.#store.create(this.#collection, entry.id, stored, {
      ttlSeconds: this.#retentionDays(tenantId) * DAY_SECONDS,
      tags: [`tenant:${tenantId}`],
    });
  }

  /** The entry, when it is the tenant's and still within retention. */
  async get(tenantId: string, id: string): Promise<T | undefined> {
    const record = await this.#store.get<Stored<T>>(this.#collection, id);
    return record && record.value.tenantId === tenantId ? withoutBookkeeping(record.value) : undefined;
  }

  /**
   * A page of the tenant's entries still within retention that `matches` accepts, newest first.
   * `after` is the `next` of the previous page: a position in the log, so entries added
   * meanwhile do not shift pages.
   */
  async page(tenantId: string, page: { readonly top: number; readonly after?: string | undefined; readonly matches?: (entry: T) => boolean }): Promise<LogPage<T>> {
    const records = await this.#store.listByTag<Stored<T>>(this.#collection, `tenant:${tenantId}`);
    const keyOf = (entry: Stored<T>): string => `${entry.order}|${entry.id}`;
    const sorted = records.map(({ value }) => value).sort((a, b) => keyOf(b).localeCompare(keyOf(a)));
    const { after, matches } = page;
    const rest = sorted.filter((entry) => (after === undefined || keyOf(entry) < after) && (matches === undefined || matches(entry)));
    const taken = rest.slice(0, page.top);
    const last = taken.at(-1);
    return {
      entries: taken.map(withoutBookkeeping),
      ...(rest.length > taken.length && last ? { next: keyOf(last) } : {}),
    };
  }
}

function withoutBookkeeping<T>(stored: Stored<T>): T {
  const { tenantId: _tenantId, order: _order, ...entry } = stored;
  return entry as unknown as T;
}
