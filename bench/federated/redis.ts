/**
 * Redis for the federated-login bench: by default a private redis-server on a free loopback port
 * (so INFO commandstats and used_memory count Portico's work and nobody else's), or the Redis at
 * BENCH_REDIS_URL. Either way the bench works under its own key prefix and deletes only that.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freeLoopbackPort, findExecutable, probeRedis } from '../../test/helpers/redis.ts';
import { spawnPinned, type Spawned } from './processes.ts';

export interface BenchRedis {
  readonly url: string;
  /** The server's pid when it is ours (its CPU is then accounted for). */
  readonly pid: number | undefined;
  /** True when only this bench uses the server: its counters are Portico's alone. */
  readonly private: boolean;
  readonly client: Redis;
  stop(): Promise<void>;
}

/** A client whose connection errors surface as failed commands only (no "unhandled error" noise). */
export function quietClient(url: string): Redis {
  const client = new Redis(url, { maxRetriesPerRequest: 1 });
  client.on('error', () => undefined);
  return client;
}

export async function openBenchRedis(options: { url?: string | undefined; core: string }): Promise<BenchRedis> {
  if (options.url) {
    const problem = await probeRedis(options.url);
    if (problem) throw new Error(problem);
    const client = quietClient(options.url);
    return { url: options.url, pid: undefined, private: false, client, stop: async () => void client.disconnect() };
  }
  const binary = findExecutable('redis-server');
  if (!binary) throw new Error('redis-server is not on PATH: install it or set BENCH_REDIS_URL');
  const dir = await mkdtemp(join(tmpdir(), 'portico-bench-redis-'));
  const port = await freeLoopbackPort();
  let server: Spawned | undefined;
  try {
    // No persistence: the bench measures what Portico asks of Redis, not disk writes.
    server = spawnPinned({
      label: 'redis-server',
      core: options.core,
      command: binary,
      args: ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no', '--daemonize', 'no', '--loglevel', 'warning'],
    });
    const url = `redis://127.0.0.1:${port}`;
    const deadline = Date.now() + 5000;
    while ((await probeRedis(url, 200)) !== undefined) {
      if (server.child.exitCode !== null || Date.now() > deadline) throw new Error(`redis-server did not start on ${url}: ${server.stderr()}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const client = quietClient(url);
    const spawned = server;
    return {
      url,
      pid: spawned.pid,
      private: true,
      client,
      stop: async () => {
        client.disconnect();
        await spawned.stop(5000);
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await server?.stop(1000);
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

/** `cmdstat_<name>` → calls, from INFO commandstats (commands run inside Lua scripts included). */
export async function commandCalls(client: Redis): Promise<Map<string, number>> {
  const text = await client.info('commandstats');
  const calls = new Map<string, number>();
  for (const match of text.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) calls.set(match[1]!, Number(match[2]));
  return calls;
}

export function callsBetween(before: Map<string, number>, after: Map<string, number>): Map<string, number> {
  const delta = new Map<string, number>();
  for (const [name, calls] of after) {
    const added = calls - (before.get(name) ?? 0);
    if (added > 0) delta.set(name, added);
  }
  return delta;
}

export async function usedMemory(client: Redis): Promise<number> {
  return Number(/^used_memory:(\d+)/m.exec(await client.info('memory'))?.[1] ?? 0);
}

export interface KeyFacts {
  readonly bytes: number;
  /** Milliseconds to live; -1 without expiry. */
  readonly pttl: number;
}

/** Every key under `prefix` with its MEMORY USAGE (SAMPLES 0: exact for sets too) and PTTL. */
export async function keysUnder(client: Redis, prefix: string): Promise<Map<string, KeyFacts>> {
  const pattern = `${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`;
  const facts = new Map<string, KeyFacts>();
  let cursor = '0';
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    if (keys.length === 0) continue;
    const pipeline = client.pipeline();
    for (const key of keys) {
      pipeline.call('MEMORY', 'USAGE', key, 'SAMPLES', '0');
      pipeline.pttl(key);
    }
    const replies = (await pipeline.exec()) ?? [];
    keys.forEach((key, index) => {
      const bytes = Number(replies[index * 2]?.[1] ?? 0);
      const pttl = Number(replies[index * 2 + 1]?.[1] ?? -1);
      // A key that expired between SCAN and MEMORY USAGE answers nil: it is gone.
      if (bytes > 0) facts.set(key, { bytes, pttl });
    });
  } while (cursor !== '0');
  return facts;
}


/**
 * What a key of Portico's Redis store holds (see the key layout in src/storage/redis/redis-store.ts):
 * `P{collection}:r:<id>` records, `:u:` unique-value keys and `:t:` tag sets, and `Pn:` counters.
 */
export function describeKey(key: string, prefix: string): { collection: string; part: 'record' | 'unique' | 'tag' | 'counter' | 'other' } {
  const rest = key.slice(prefix.length);
  if (rest.startsWith('n:')) {
    const [, length, ...tail] = rest.split(':');
    return { collection: tail.join(':').slice(0, Number(length)), part: 'counter' };
  }
  const close = rest.indexOf('}');
  if (!rest.startsWith('{') || close < 0) return { collection: '(other)', part: 'other' };
  const collection = rest.slice(1, close).replace(/%7B/g, '{').replace(/%7D/g, '}').replace(/%25/g, '%');
  const kind = rest.slice(close + 2, close + 3);
  return { collection, part: kind === 'r' ? 'record' : kind === 'u' ? 'unique' : kind === 't' ? 'tag' : 'other' };
}

// Cleanup is the tests' own helper: it deletes only the bench's prefix, never anything else.
export { deleteKeysWithPrefix as deletePrefix } from '../../test/helpers/redis.ts';
