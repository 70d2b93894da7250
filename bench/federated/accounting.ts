/**
 * What a batch of logins leaves in Redis and asks of it, measured around the batch:
 *  - bytes: every key under the bench's prefix, with MEMORY USAGE and PTTL, before and after;
 *    keys that appeared, grew or went are grouped by collection (the `{collection}` of the key
 *    layout) and by how long they live, and divided by the number of logins;
 *  - used_memory before and after, as a cross-check that includes Redis's own per-key overhead
 *    (dictionary and expiry entries), on a private server only; keys of earlier logins that
 *    expired meanwhile are added back at their MEMORY USAGE;
 *  - commands: INFO commandstats before and after (commands run inside Lua scripts count too),
 *    and on a private server MONITOR during the batch, which tells client round trips apart from
 *    commands run by scripts.
 */
import type { Redis } from 'ioredis';
import type { Samples } from './load.ts';
import { callsBetween, commandCalls, describeKey, keysUnder, usedMemory, type BenchRedis, type KeyFacts } from './redis.ts';

/** Commands the bench itself sends around the batch. */
const OWN_COMMANDS = new Set(['info', 'monitor']);

/** How long a key lives, as the report groups them. */
export type Lifetime = 'transient' | 'access token' | 'stays';

export function lifetimeOf(pttl: number): Lifetime {
  if (pttl >= 0 && pttl <= 15 * 60_000) return 'transient';
  if (pttl >= 0 && pttl <= 2 * 3600_000) return 'access token';
  return 'stays';
}

export interface CollectionBytes {
  readonly collection: string;
  readonly lifetime: Lifetime;
  /** Keys that appeared. */
  readonly newKeys: number;
  /** Bytes of keys that appeared + growth of keys that were there − keys that went. */
  readonly bytes: number;
  /** The part of `bytes` in unique-value keys and tag sets (the indexes of the records). */
  readonly indexBytes: number;
  /** The longest time to live among its new keys, ms (-1: no expiry). */
  readonly maxPttl: number;
}

export interface RedisAccount {
  readonly samples: Samples;
  readonly byCollection: CollectionBytes[];
  readonly usedMemoryDelta: number | undefined;
  /** Commands per login by name (commandstats), the bench's own left out. */
  readonly commands: Map<string, number>;
  /**
   * From MONITOR, per login: commands sent by Portico, the same by `command collection` (which
   * part of Portico asked), and commands run inside its Lua scripts.
   */
  readonly monitored: { readonly client: Map<string, number>; readonly byCollection: Map<string, number>; readonly lua: Map<string, number> } | undefined;
}

type Counts = Record<'client' | 'byCollection' | 'lua', Map<string, number>>;

async function startMonitor(client: Redis, prefix: string): Promise<{ stop(): Promise<Counts> }> {
  const counts: Counts = { client: new Map(), byCollection: new Map(), lua: new Map() };
  const bump = (map: Map<string, number>, key: string): void => void map.set(key, (map.get(key) ?? 0) + 1);
  const monitor = await client.monitor();
  monitor.on('monitor', (_time: string, args: string[], source: string) => {
    const name = String(args[0] ?? '').toLowerCase();
    if (source === 'lua') return bump(counts.lua, name);
    bump(counts.client, name);
    // EVALSHA sha numkeys key …; the other commands Portico sends name their key first.
    const key = name === 'evalsha' || name === 'eval' ? args[3] : args[1];
    bump(counts.byCollection, `${name} ${key?.startsWith(prefix) ? describeKey(key, prefix).collection : '(no key)'}`);
  });
  return {
    stop: async () => {
      monitor.disconnect();
      // Let the server drop the monitor's output buffer before used_memory is read.
      await new Promise((resolve) => setTimeout(resolve, 200));
      return counts;
    },
  };
}

export async function accountRedis(redis: BenchRedis, prefix: string, run: () => Promise<Samples>): Promise<RedisAccount> {
  const keysBefore = await keysUnder(redis.client, prefix);
  const usedBefore = await usedMemory(redis.client);
  const callsBefore = await commandCalls(redis.client);
  const monitor = redis.private ? await startMonitor(redis.client, prefix) : undefined;
  const started = Date.now();
  const samples = await run();
  const monitored = await monitor?.stop();
  const callsAfter = await commandCalls(redis.client);
  const usedAfter = await usedMemory(redis.client);
  const keysAfter = await keysUnder(redis.client, prefix);
  const window = Date.now() - started + 5000;

  const logins = Math.max(1, samples.logins);
  const commands = new Map<string, number>();
  for (const [name, calls] of callsBetween(callsBefore, callsAfter)) if (!OWN_COMMANDS.has(name)) commands.set(name, calls / logins);
  const perLogin = (counts: Map<string, number>): Map<string, number> => new Map([...counts].map(([name, n]) => [name, n / logins]));

  const groups = new Map<string, { collection: string; lifetime: Lifetime; newKeys: number; bytes: number; indexBytes: number; maxPttl: number }>();
  const add = (key: string, facts: KeyFacts, bytes: number, isNew: boolean): void => {
    const { collection, part } = describeKey(key, prefix);
    const lifetime = lifetimeOf(facts.pttl);
    const id = `${collection}\n${lifetime}`;
    const group = groups.get(id) ?? { collection, lifetime, newKeys: 0, bytes: 0, indexBytes: 0, maxPttl: 0 };
    group.bytes += bytes;
    if (part === 'unique' || part === 'tag') group.indexBytes += bytes;
    if (isNew) {
      group.newKeys += 1;
      group.maxPttl = facts.pttl < 0 || group.maxPttl < 0 ? -1 : Math.max(group.maxPttl, facts.pttl);
    }
    groups.set(id, group);
  };
  for (const [key, after] of keysAfter) {
    const before = keysBefore.get(key);
    if (!before) add(key, after, after.bytes, true);
    else if (after.bytes !== before.bytes) add(key, after, after.bytes - before.bytes, false);
  }
  let expiredBytes = 0;
  for (const [key, before] of keysBefore) {
    if (keysAfter.has(key)) continue;
    // Keys of earlier logins that reached their expiry meanwhile are not this batch's doing.
    if (before.pttl >= 0 && before.pttl < window) expiredBytes += before.bytes;
    else add(key, before, -before.bytes, false);
  }

  return {
    samples,
    byCollection: [...groups.values()].map((g) => ({ ...g, bytes: g.bytes / logins, indexBytes: g.indexBytes / logins })).sort((a, b) => b.bytes - a.bytes),
    usedMemoryDelta: redis.private ? (usedAfter - usedBefore + expiredBytes) / logins : undefined,
    commands,
    monitored: monitored ? { client: perLogin(monitored.client), byCollection: perLogin(monitored.byCollection), lua: perLogin(monitored.lua) } : undefined,
  };
}

export const sum = (values: Iterable<number>): number => {
  let total = 0;
  for (const value of values) total += value;
  return total;
};

/** Bytes per login that live as long as `lifetime`. */
export const bytesFor = (account: RedisAccount, lifetime: Lifetime): number =>
  sum(account.byCollection.filter((c) => c.lifetime === lifetime).map((c) => c.bytes));
