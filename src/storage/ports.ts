/**
 * The storage contract every backend (sqlite, redis, memory) fulfils, proven by one conformance
 * suite (test/conformance). Backends implement one small primitive, a document store with
 * collections; the typed per-aggregate repositories (provider artefacts, keys, users, …) are
 * written once on top of it, so a backend bug shows up in the conformance suite rather than in
 * one of many hand-written repository copies.
 *
 * Values are JSON-serialisable objects. Times are epoch milliseconds from the injected clock for
 * sqlite and memory; redis uses its own expiry (which is wall-clock time on the server).
 */

export type StoreKind = 'sqlite' | 'redis' | 'memory';

export interface StoredRecord<T> {
  readonly id: string;
  readonly value: T;
  /** Set once by `consume`; a consumed record is still returned by reads until it expires. */
  readonly consumedAt?: number;
  /** Epoch ms after which the record is gone, if it has a time to live. */
  readonly expiresAt?: number;
}

export interface WriteOptions {
  /** Seconds until the record expires; absent means it lives until deleted. */
  readonly ttlSeconds?: number;
  /**
   * Unique secondary keys: index name → value. A value may belong to one record per collection
   * and index; writing a record whose unique value another live record holds throws
   * AlreadyExistsError and writes nothing. Indexes are replaced on every write of the record.
   */
  readonly unique?: Readonly<Record<string, string>>;
  /**
   * Non-unique tags (e.g. `grant:abc`) used to list or delete related records together.
   * Replaced on every write of the record.
   */
  readonly tags?: readonly string[];
}

export interface UpdateOptions {
  /** New ttl; when absent the current expiry is kept. */
  readonly ttlSeconds?: number;
  readonly unique?: Readonly<Record<string, string>>;
  readonly tags?: readonly string[];
}

export interface DocumentStore {
  readonly kind: StoreKind;

  /** The record, or undefined when absent or expired. */
  get<T>(collection: string, id: string): Promise<StoredRecord<T> | undefined>;

  /** Insert; throws AlreadyExistsError when the id or a unique value is taken. */
  create<T>(collection: string, id: string, value: T, options?: WriteOptions): Promise<void>;

  /** Insert or replace; clears `consumedAt`. Throws AlreadyExistsError on a unique clash with another record. */
  put<T>(collection: string, id: string, value: T, options?: WriteOptions): Promise<void>;

  /**
   * Atomic read-modify-write: `updater` gets the current value and returns the next one.
   * Concurrent updates never lose a write (the updater may be called again with fresh data).
   * Throws NotFoundError when absent, ConflictError when retries are exhausted.
   * When `options` omits `unique` or `tags`, the record keeps its current ones. `consumedAt` is
   * always kept: only `put` makes a consumed record usable again.
   */
  update<T>(collection: string, id: string, updater: (current: T) => T, options?: UpdateOptions): Promise<T>;

  /** Delete; true when something was deleted. */
  delete(collection: string, id: string): Promise<boolean>;

  /**
   * Atomic single use: marks the record consumed and returns true for exactly one caller, however
   * many race; false when already consumed, absent or expired.
   */
  consume(collection: string, id: string): Promise<boolean>;

  /** The live record holding `value` in unique index `index`. */
  findByUnique<T>(collection: string, index: string, value: string): Promise<StoredRecord<T> | undefined>;

  /** Live records carrying `tag`, in no particular order. */
  listByTag<T>(collection: string, tag: string): Promise<StoredRecord<T>[]>;

  /** Deletes every record carrying `tag`; returns how many. */
  deleteByTag(collection: string, tag: string): Promise<number>;

  /**
   * Atomically adds 1 to a counter and returns the new value; the counter's window starts with
   * its first increment and lasts `windowSeconds` (fixed window, for rate limits).
   */
  increment(collection: string, id: string, windowSeconds: number): Promise<number>;

  /** Resolves when the backend answers; rejects with StoreUnavailableError otherwise. */
  ping(): Promise<void>;

  close(): Promise<void>;
}
