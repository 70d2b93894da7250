import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { TestContext } from 'node:test';
import { Redis } from 'ioredis';
import { freePort } from './http.ts';

/**
 * Shared Redis plumbing for tests. Tests run against REDIS_URL (default 127.0.0.1:6379), a Redis
 * other things use too: every test works under its own random key prefix and deletes only that.
 * Without Redis, Redis tests are skipped with the reason, except in CI (CI=true), where they fail.
 */

export const isCI = (): boolean => process.env['CI'] === 'true';

export function redisUrlForTests(): string {
  return process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
}

/** A key prefix no other test run uses; SCAN-able with `${prefix}*`. */
export function testKeyPrefix(label = 'test'): string {
  return `portico-test:${label}:${randomUUID().slice(0, 8)}:`;
}

/** Why `url` does not answer PING within `timeoutMs`, or undefined when it does. */
export async function probeRedis(url: string, timeoutMs = 1000): Promise<string | undefined> {
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    commandTimeout: timeoutMs,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  // The socket error (ECONNREFUSED, …) says more than the rejection ("Connection is closed.").
  let socketError: Error | undefined;
  client.on('error', (error: Error) => (socketError ??= error));
  try {
    await client.connect();
    await client.ping();
    return undefined;
  } catch (error) {
    const cause = socketError ?? error;
    return `no Redis answers at ${redactUrl(url)} (${cause instanceof Error ? cause.message : String(cause)})`;
  } finally {
    client.disconnect();
  }
}

export type RedisAvailability = { available: true; url: string } | { available: false; reason: string };

let availability: Promise<RedisAvailability> | undefined;

/**
 * Whether the test Redis answers (probed once per process). In CI an unreachable Redis is an
 * error, so suites that await this inside `describe` fail instead of silently skipping.
 */
export async function redisAvailability(): Promise<RedisAvailability> {
  availability ??= (async (): Promise<RedisAvailability> => {
    const url = redisUrlForTests();
    const reason = await probeRedis(url);
    return reason === undefined
      ? { available: true, url }
      : { available: false, reason: `${reason}; start Redis there or set REDIS_URL` };
  })();
  const result = await availability;
  if (!result.available && isCI()) throw new Error(`Redis is required when CI=true: ${result.reason}`);
  return result;
}

/** For use at the top of a test: true when Redis is there; otherwise skips the test (fails it in CI). */
export async function requireRedisOrSkip(t: TestContext): Promise<boolean> {
  const result = await redisAvailability();
  if (result.available) return true;
  t.skip(result.reason);
  return false;
}

/** Deletes the keys starting with `prefix` (SCAN + UNLINK), never anything else; returns how many. */
export async function deleteKeysWithPrefix(client: Redis, prefix: string): Promise<number> {
  const pattern = `${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`;
  let cursor = '0';
  let deleted = 0;
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    if (keys.length) deleted += await client.unlink(...keys);
  } while (cursor !== '0');
  return deleted;
}

/** The path of an executable on PATH, or undefined. */
export function findExecutable(name: string): string | undefined {
  for (const dir of (process.env['PATH'] ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

/** Kept under this name for the Redis helpers' callers; the one implementation is freePort. */
export const freeLoopbackPort = freePort;

export interface RedisServerProcess {
  readonly url: string;
  readonly port: number;
  /** Graceful stop (SIGTERM: Redis flushes the AOF and exits); resolves when the process is gone. */
  stop(): Promise<void>;
}

/**
 * Starts a private `redis-server` on a loopback port with `dir` as its data directory. With
 * `durable`, every write is fsynced to an append-only file there, so a restart on the same `dir`
 * brings the data back.
 */
export async function startRedisServer(options: { dir: string; port?: number; durable?: boolean; binary?: string }): Promise<RedisServerProcess> {
  const binary = options.binary ?? findExecutable('redis-server');
  if (!binary) throw new Error('redis-server is not on PATH');
  const port = options.port ?? (await freeLoopbackPort());
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', options.dir, '--save', '', '--daemonize', 'no', '--loglevel', 'warning'];
  if (options.durable) args.push('--appendonly', 'yes', '--appendfsync', 'always');
  const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const url = `redis://127.0.0.1:${port}`;

  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = Date.now() + 5000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`redis-server exited with ${child.exitCode}: ${output}`);
    if ((await probeRedis(url, 200)) === undefined) break;
    if (Date.now() > deadline) {
      await stopProcess(child, exited);
      throw new Error(`redis-server did not answer on ${url} within 5 s: ${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { url, port, stop: () => stopProcess(child, exited) };
}

async function stopProcess(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return url;
  }
}
