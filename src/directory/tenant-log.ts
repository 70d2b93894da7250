/**
 * What the directory audit log and the sign-in log share: append-only entries of one tenant on
 * the DocumentStore, gone by TTL after the tenant's retention, read newest first in pages whose
 * position does not move when entries are added meanwhile.
 *
 * Entries are stored packed (log-packing.ts); the bookkeeping fields that reads sort on stay
 * plain. Entries written before packing (the whole entry plain) are still read.
 */
import type { DocumentStore } from '../storage/ports.ts';
import { packLogEntry, unpackLogEntry } from './log-packing.ts';

const DAY_SECONDS = 24 * 3600;

/** One counter for every log of this process: it only breaks ties within a millisecond. */
let sequence = 0;

interface Bookkeeping {
  readonly id: string;
  readonly tenantId: string;
  /** Time, then this process's sequence: entries of one millisecond keep the order they were made in. */
  readonly order: string;
}

/** As stored: bookkeeping plus the packed entry, or (written before packing) the plain entry. */
export type StoredLogEntry<T> = Bookkeeping & ({ readonly packed: string } | T);

/** The entry a stored record holds, packed or not. */
export function entryOf<T>(stored: StoredLogEntry<T>): T {
  if ('packed' in stored && typeof stored.packed === 'string') return unpackLogEntry<T>(stored.packed);
  const { tenantId: _tenantId, order: _order, ...entry } = stored as Bookkeeping & T;
  return entry as unknown as T;
}

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
    const stored: StoredLogEntry<T> = { id: entry.id, tenantId, order: `${dateTime}#${String(sequence).padStart(12, '0')}`, packed: packLogEntry(entry) };
    await this.#store.create(this.#collection, entry.id, stored, {
      ttlSeconds: this.#retentionDays(tenantId) * DAY_SECONDS,
      tags: [`tenant:${tenantId}`],
    });
  }

  /** The entry, when it is the tenant's and still within retention. */
  async get(tenantId: string, id: string): Promise<T | undefined> {
    const record = await this.#store.get<StoredLogEntry<T>>(this.#collection, id);
    return record && record.value.tenantId === tenantId ? entryOf(record.value) : undefined;
  }

  /**
   * A page of the tenant's entries still within retention that `matches` accepts, newest first.
   * `after` is the `next` of the previous page: a position in the log, so entries added
   * meanwhile do not shift pages.
   */
  async page(tenantId: string, page: { readonly top: number; readonly after?: string | undefined; readonly matches?: (entry: T) => boolean }): Promise<LogPage<T>> {
    const records = await this.#store.listByTag<StoredLogEntry<T>>(this.#collection, `tenant:${tenantId}`);
    const keyOf = (stored: StoredLogEntry<T>): string => `${stored.order}|${stored.id}`;
    const { after, matches } = page;
    // Unpacked lazily, newest first: only entries past `after`, and only until the page is full
    // and one more match shows that there is a next page.
    const candidates = records
      .map(({ value }) => ({ key: keyOf(value), value }))
      .filter(({ key }) => after === undefined || key < after)
      .sort((a, b) => b.key.localeCompare(a.key));
    const taken: { key: string; entry: T }[] = [];
    let more = false;
    for (const { key, value } of candidates) {
      const entry = entryOf(value);
      if (matches !== undefined && !matches(entry)) continue;
      if (taken.length === page.top) {
        more = true;
        break;
      }
      taken.push({ key, entry });
    }
    const last = taken.at(-1);
    return {
      entries: taken.map(({ entry }) => entry),
      ...(more && last ? { next: last.key } : {}),
    };
  }
}
