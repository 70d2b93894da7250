import { systemClock, type Clock } from '../../shared/clock.ts';
import { AlreadyExistsError, NotFoundError, StoreUnavailableError } from '../errors.ts';
import type { DocumentStore, StoredRecord, UpdateOptions, WriteOptions } from '../ports.ts';
import { distinctTags, encodeValue, ttlMs, uniqueEntries } from '../values.ts';

/** How often expired entries are dropped; reads never depend on it, it only bounds memory. */
const SWEEP_INTERVAL_MS = 60_000;

interface Entry {
  /**
   * Kept as JSON text rather than the object itself so that callers can neither mutate stored
   * state through a reference nor see values the durable backends would not round-trip.
   */
  json: string;
  consumedAt: number | undefined;
  expiresAt: number | undefined;
  unique: ReadonlyArray<readonly [string, string]>;
  tags: readonly string[];
}

interface Counter {
  count: number;
  windowEndsAt: number;
}

/**
 * Single-process store for tests and single-instance development. Every method body runs
 * synchronously to completion, so each operation (including `update`'s updater) is atomic.
 */
export function createMemoryStore(options: { clock?: Clock } = {}): DocumentStore {
  const clock = options.clock ?? systemClock;
  const records = new Map<string, Map<string, Entry>>();
  // Keys are JSON arrays so that no choice of collection, index name or value can collide.
  const uniqueOwners = new Map<string, string>();
  const tagMembers = new Map<string, Set<string>>();
  const counters = new Map<string, Counter>();
  let closed = false;

  const uniqueKey = (collection: string, index: string, value: string): string => JSON.stringify([collection, index, value]);
  const tagKey = (collection: string, tag: string): string => JSON.stringify([collection, tag]);

  // "Gone after expiresAt", as the contract says and as Redis expires keys (now > expiry).
  const isLive = (entry: Entry, now: number): boolean => entry.expiresAt === undefined || entry.expiresAt >= now;

  function assertOpen(): void {
    if (closed) throw new StoreUnavailableError('memory store is closed');
  }

  function unlink(collection: string, id: string, entry: Entry): void {
    for (const [index, value] of entry.unique) {
      const key = uniqueKey(collection, index, value);
      if (uniqueOwners.get(key) === id) uniqueOwners.delete(key);
    }
    for (const tag of entry.tags) {
      const key = tagKey(collection, tag);
      const members = tagMembers.get(key);
      if (!members) continue;
      members.delete(id);
      if (members.size === 0) tagMembers.delete(key);
    }
  }

  function remove(collection: string, id: string): Entry | undefined {
    const bucket = records.get(collection);
    const entry = bucket?.get(id);
    if (!bucket || !entry) return undefined;
    unlink(collection, id, entry);
    bucket.delete(id);
    if (bucket.size === 0) records.delete(collection);
    return entry;
  }

  /** The live entry; an expired one is dropped on the way so it cannot block writes. */
  function live(collection: string, id: string, now: number): Entry | undefined {
    const entry = records.get(collection)?.get(id);
    if (!entry) return undefined;
    if (isLive(entry, now)) return entry;
    remove(collection, id);
    return undefined;
  }

  function toRecord<T>(id: string, entry: Entry): StoredRecord<T> {
    return {
      id,
      value: JSON.parse(entry.json) as T,
      ...(entry.consumedAt === undefined ? {} : { consumedAt: entry.consumedAt }),
      ...(entry.expiresAt === undefined ? {} : { expiresAt: entry.expiresAt }),
    };
  }

  /** Throws when a unique value belongs to another live record; writes nothing. */
  function assertUniqueFree(collection: string, id: string, unique: Entry['unique'], now: number): void {
    for (const [index, value] of unique) {
      const owner = uniqueOwners.get(uniqueKey(collection, index, value));
      if (owner !== undefined && owner !== id && live(collection, owner, now)) {
        throw new AlreadyExistsError(collection, `unique ${index}`, index);
      }
    }
  }

  function write(collection: string, id: string, entry: Entry): void {
    remove(collection, id);
    let bucket = records.get(collection);
    if (!bucket) records.set(collection, (bucket = new Map()));
    bucket.set(id, entry);
    for (const [index, value] of entry.unique) uniqueOwners.set(uniqueKey(collection, index, value), id);
    for (const tag of entry.tags) {
      const key = tagKey(collection, tag);
      let members = tagMembers.get(key);
      if (!members) tagMembers.set(key, (members = new Set()));
      members.add(id);
    }
  }

  function sweep(): void {
    const now = clock.now();
    for (const [collection, bucket] of records) {
      for (const [id, entry] of bucket) if (!isLive(entry, now)) remove(collection, id);
    }
    for (const [key, counter] of counters) if (counter.windowEndsAt < now) counters.delete(key);
  }

  const timer = setInterval(sweep, SWEEP_INTERVAL_MS);
  timer.unref();

  return {
    kind: 'memory',

    async get<T>(collection: string, id: string): Promise<StoredRecord<T> | undefined> {
      assertOpen();
      const entry = live(collection, id, clock.now());
      return entry && toRecord<T>(id, entry);
    },

    async create<T>(collection: string, id: string, value: T, options: WriteOptions = {}): Promise<void> {
      assertOpen();
      const now = clock.now();
      const entry = newEntry(value, options, now);
      if (live(collection, id, now)) throw new AlreadyExistsError(collection, 'a record with this id');
      assertUniqueFree(collection, id, entry.unique, now);
      write(collection, id, entry);
    },

    async put<T>(collection: string, id: string, value: T, options: WriteOptions = {}): Promise<void> {
      assertOpen();
      const now = clock.now();
      const entry = newEntry(value, options, now);
      assertUniqueFree(collection, id, entry.unique, now);
      write(collection, id, entry);
    },

    async update<T>(collection: string, id: string, updater: (current: T) => T, options: UpdateOptions = {}): Promise<T> {
      assertOpen();
      const now = clock.now();
      const current = live(collection, id, now);
      if (!current) throw new NotFoundError(collection);
      const json = encodeValue(updater(JSON.parse(current.json) as T));
      const ttl = ttlMs(options.ttlSeconds);
      const next: Entry = {
        json,
        consumedAt: current.consumedAt,
        expiresAt: ttl === undefined ? current.expiresAt : now + ttl,
        unique: options.unique === undefined ? current.unique : uniqueEntries(options.unique),
        tags: options.tags === undefined ? current.tags : distinctTags(options.tags),
      };
      assertUniqueFree(collection, id, next.unique, now);
      write(collection, id, next);
      return JSON.parse(json) as T;
    },

    async delete(collection: string, id: string): Promise<boolean> {
      assertOpen();
      if (!live(collection, id, clock.now())) return false;
      remove(collection, id);
      return true;
    },

    async consume(collection: string, id: string): Promise<boolean> {
      assertOpen();
      const now = clock.now();
      const entry = live(collection, id, now);
      if (!entry || entry.consumedAt !== undefined) return false;
      entry.consumedAt = now;
      return true;
    },

    async findByUnique<T>(collection: string, index: string, value: string): Promise<StoredRecord<T> | undefined> {
      assertOpen();
      const owner = uniqueOwners.get(uniqueKey(collection, index, value));
      if (owner === undefined) return undefined;
      const entry = live(collection, owner, clock.now());
      return entry && toRecord<T>(owner, entry);
    },

    async listByTag<T>(collection: string, tag: string): Promise<StoredRecord<T>[]> {
      assertOpen();
      const now = clock.now();
      const result: StoredRecord<T>[] = [];
      for (const id of [...(tagMembers.get(tagKey(collection, tag)) ?? [])]) {
        const entry = live(collection, id, now);
        if (entry) result.push(toRecord<T>(id, entry));
      }
      return result;
    },

    async deleteByTag(collection: string, tag: string): Promise<number> {
      assertOpen();
      const now = clock.now();
      let deleted = 0;
      for (const id of [...(tagMembers.get(tagKey(collection, tag)) ?? [])]) {
        if (live(collection, id, now)) {
          remove(collection, id);
          deleted += 1;
        }
      }
      return deleted;
    },

    async increment(collection: string, id: string, windowSeconds: number): Promise<number> {
      assertOpen();
      const windowMs = ttlMs(windowSeconds) as number;
      const now = clock.now();
      const key = JSON.stringify([collection, id]);
      const counter = counters.get(key);
      if (!counter || counter.windowEndsAt < now) {
        counters.set(key, { count: 1, windowEndsAt: now + windowMs });
        return 1;
      }
      counter.count += 1;
      return counter.count;
    },

    async ping(): Promise<void> {
      assertOpen();
    },

    async close(): Promise<void> {
      closed = true;
      clearInterval(timer);
      records.clear();
      uniqueOwners.clear();
      tagMembers.clear();
      counters.clear();
    },
  };
}

function newEntry(value: unknown, options: WriteOptions, now: number): Entry {
  const ttl = ttlMs(options.ttlSeconds);
  return {
    json: encodeValue(value),
    consumedAt: undefined,
    expiresAt: ttl === undefined ? undefined : now + ttl,
    unique: uniqueEntries(options.unique),
    tags: distinctTags(options.tags),
  };
}

