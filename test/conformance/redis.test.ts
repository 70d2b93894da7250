import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { StoreUnavailableError } from '../../src/storage/errors.ts';
import type { DocumentStore } from '../../src/storage/ports.ts';
import { connectRedis, createRedisStore } from '../../src/storage/redis/redis-store.ts';
import {
  deleteKeysWithPrefix,
  findExecutable,
  freeLoopbackPort,
  isCI,
  redisAvailability,
  startRedisServer,
  testKeyPrefix,
  type RedisAvailability,
} from '../helpers/redis.ts';
import {
  assertAllUnavailable,
  checkDurabilityFixtureBehaviour,
  documentStoreConformance,
  readDurabilityFixture,
  writeDurabilityFixture,
} from './document-store.suite.ts';

const openStore = (url: string, keyPrefix: string, options: { commandTimeoutMs?: number; connectTimeoutMs?: number } = {}): DocumentStore =>
  createRedisStore({ client: connectRedis({ mode: 'standalone', url, ...options }), keyPrefix });

/** Every DocumentStore method once, started together. */
const callEveryMethod = (store: DocumentStore): Record<string, Promise<unknown>> => ({
  get: store.get('c', 'a'),
  create: store.create('c', 'a', { v: 1 }, { unique: { k: 'v' }, tags: ['t'] }),
  put: store.put('c', 'a', { v: 1 }),
  update: store.update('c', 'a', (v) => v),
  delete: store.delete('c', 'a'),
  consume: store.consume('c', 'a'),
  findByUnique: store.findByUnique('c', 'k', 'v'),
  listByTag: store.listByTag('c', 't'),
  deleteByTag: store.deleteByTag('c', 't'),
  increment: store.increment('c', 'n', 60),
  ping: store.ping(),
});

let shared: RedisAvailability | Error;
try {
  shared = await redisAvailability();
} catch (error) {
  shared = error instanceof Error ? error : new Error(String(error));
}

if (shared instanceof Error) {
  const failure = shared;
  it('DocumentStore conformance: redis needs a reachable Redis', () => {
    throw failure;
  });
} else if (!shared.available) {
  it('DocumentStore conformance: redis', { skip: shared.reason }, () => {});
} else {
  const url = shared.url;
  const runPrefix = testKeyPrefix('conformance');
  const admin = new Redis(url, { maxRetriesPerRequest: 1 });
  after(async () => {
    await deleteKeysWithPrefix(admin, runPrefix);
    await admin.quit();
  });

  let stores = 0;
  documentStoreConformance('redis', async () => {
    const keyPrefix = `${runPrefix}${++stores}:`;
    const store = openStore(url, keyPrefix);
    return {
      store,
      // A second client on the same keys: another process, or this one after a restart.
      reopen: async () => openStore(url, keyPrefix),
      cleanup: async () => {
        await store.close();
        await deleteKeysWithPrefix(admin, keyPrefix);
      },
    };
  });

  describe('redis store layout', () => {
    const keysUnder = async (keyPrefix: string): Promise<string[]> => {
      const keys: string[] = [];
      let cursor = '0';
      do {
        const [next, batch] = await admin.scan(cursor, 'MATCH', `${keyPrefix}*`, 'COUNT', 100);
        cursor = next;
        keys.push(...batch);
      } while (cursor !== '0');
      return keys;
    };
    /** The stored value: what follows the record's five header fields. */
    const storedValue = async (key: string): Promise<Buffer> => {
      const raw = (await admin.getBuffer(key)) as Buffer;
      let position = 0;
      for (let i = 0; i < 5; i += 1) position = raw.indexOf(0x0a, position) + 1;
      return raw.subarray(position);
    };

    /** A store under its own key prefix for one test, closed and its keys deleted afterwards. */
    const withStore = async (name: string, body: (store: DocumentStore, keyPrefix: string) => Promise<void>): Promise<void> => {
      const keyPrefix = `${runPrefix}${name}:`;
      const store = openStore(url, keyPrefix);
      try {
        await body(store, keyPrefix);
      } finally {
        await store.close();
        await deleteKeysWithPrefix(admin, keyPrefix);
      }
    };

    it('keeps a typical signed-in user record small: long-lived values are stored packed', () =>
      withStore('size', async (store, keyPrefix) => {
        const session = {
          accountId: 'usr_01JC3M6ZQ8V7X4K2B9N5T1W0YE',
          tenantId: 'contoso',
          loginTs: 1_767_225_600,
          amr: ['pwd', 'otp'],
          acr: 'urn:portico:loa:2',
          authorizations: { 'contoso-web': { sid: 'b3f1c2d4-0e5f-4a6b-9c7d-8e9f0a1b2c3d', grantId: 'grnt_9XkQ2mZ7pL4sR8tV1wY3' } },
          transient: false,
        };
        await store.put('sessions', 'sess_Zr8W1cK5qN3xV7bJ2mT9', session, {
          ttlSeconds: 86_400,
          unique: { uid: 'uid_4Hn8Qw2Er6Ty0Ui3Op7As' },
          tags: ['account:usr_01JC3M6ZQ8V7X4K2B9N5T1W0YE'],
        });
        const keys = await keysUnder(keyPrefix);
        assert.equal(keys.length, 3, `record, unique key and tag set: ${keys.join(', ')}`);
        const json = JSON.stringify(session).length;
        const value = await storedValue(`${keyPrefix}{sessions}:r:sess_Zr8W1cK5qN3xV7bJ2mT9`);
        assert.equal(value[0], 0x01, 'a record that lives a day is stored packed');
        assert.ok(value.length < json * 0.8, `${json} bytes of JSON stored as ${value.length}`);
        let bytes = 0;
        for (const key of keys) bytes += Number(await admin.call('MEMORY', 'USAGE', key, 'SAMPLES', '0'));
        const keyNames = keys.reduce((sum, key) => sum + key.length, 0);
        // Key names are the caller's choice; what is left is the value and Redis and store
        // bookkeeping, which must stay small for the 4 KB-per-user budget (about 450 bytes of
        // bookkeeping on Redis 7.0; a hash-per-record layout needs about 900).
        const overhead = bytes - value.length - keyNames;
        assert.ok(overhead < 600, `stored ${bytes} bytes: a ${value.length}-byte value, ${keyNames} of key names, ${overhead} of overhead`);
        assert.deepEqual((await store.get('sessions', 'sess_Zr8W1cK5qN3xV7bJ2mT9'))?.value, session);
      }));

    it('stores short-lived records as plain JSON, and keeps a long-lived record packed through updates and consume', () =>
      withStore('packing', async (store, keyPrefix) => {
        const code = { kind: 'AuthorizationCode', scope: 'openid profile email', redirectUri: 'https://app.contoso.example/callback', clientId: 'contoso-web' };
        const user = { id: 'u1', tenantId: 'contoso', userType: 'Guest', userPrincipalName: 'alice_adatum.com#EXT#@contoso.example', displayName: 'Alice', accountEnabled: true };
        await store.put('codes', 'c1', code, { ttlSeconds: 60 });
        assert.equal((await storedValue(`${keyPrefix}{codes}:r:c1`)).toString('utf8'), JSON.stringify(code));

        await store.create('users', 'u1', user, { unique: { upn: user.userPrincipalName }, tags: ['tenant:contoso'] });
        await store.update('users', 'u1', (current: typeof user) => ({ ...current, displayName: 'Alice Example' }));
        assert.equal((await storedValue(`${keyPrefix}{users}:r:u1`))[0], 0x01);
        const expected = { ...user, displayName: 'Alice Example' };
        assert.deepEqual((await store.findByUnique('users', 'upn', user.userPrincipalName))?.value, expected);
        assert.deepEqual((await store.listByTag('users', 'tenant:contoso')).map((r) => r.value), [expected]);

        await store.put('tokens', 't1', { ...code, kind: 'RefreshToken' }, { ttlSeconds: 14 * 86_400 });
        assert.equal(await store.consume('tokens', 't1'), true);
        const consumed = await store.get('tokens', 't1');
        assert.deepEqual(consumed?.value, { ...code, kind: 'RefreshToken' });
        assert.ok(consumed?.consumedAt !== undefined);
      }));

    it('reads records written before values were packed (plain JSON of any lifetime)', () =>
      withStore('legacy', async (store, keyPrefix) => {
        const user = { id: 'u1', displayName: 'Zoë ✓', mail: 'zoe@adatum.com' };
        await admin.set(`${keyPrefix}{users}:r:u1`, `3\n\n\n["upn","zoe_adatum.com#EXT#@contoso.example"]\n\n${JSON.stringify(user)}`);
        await admin.set(`${keyPrefix}{users}:u:upn:zoe_adatum.com#EXT#@contoso.example`, 'u1');
        assert.deepEqual(await store.get('users', 'u1'), { id: 'u1', value: user });
        assert.deepEqual((await store.findByUnique('users', 'upn', 'zoe_adatum.com#EXT#@contoso.example'))?.value, user);
        await store.update('users', 'u1', (current: typeof user) => ({ ...current, mail: 'zoe@fabrikam.com' }));
        assert.equal((await storedValue(`${keyPrefix}{users}:r:u1`))[0], 0x01, 'rewritten packed');
        assert.deepEqual((await store.get('users', 'u1'))?.value, { ...user, mail: 'zoe@fabrikam.com' });
      }));

    it('fails closed on a value packed in a format this version does not know', () =>
      withStore('unknown', async (store, keyPrefix) => {
        await admin.set(`${keyPrefix}{users}:r:u1`, Buffer.concat([Buffer.from('1\n\n\n\n\n'), Buffer.from([0x07, 0xff, 0x00])]));
        await assert.rejects(store.get('users', 'u1'), (error: unknown) => error instanceof StoreUnavailableError && /unknown value packing 0x07/.test(error.message));
      }));
  });
}

describe('redis store failure handling', () => {
  it('fails closed: every method rejects with StoreUnavailableError within 3 s when Redis is unreachable', async () => {
    const port = await freeLoopbackPort();
    const store = openStore(`redis://127.0.0.1:${port}`, 'portico-test:unreachable:');
    const started = performance.now();
    try {
      await assertAllUnavailable(callEveryMethod(store));
      // Again once the client is in its reconnect loop: no offline queue holds the calls back.
      await sleep(150);
      await assertAllUnavailable(callEveryMethod(store));
      assert.ok(performance.now() - started < 3000, `took ${Math.round(performance.now() - started)} ms`);
    } finally {
      await store.close();
    }
  });

  it('fails closed within the timeouts when Redis accepts connections but never answers', async () => {
    const sockets = new Set<Socket>();
    const silent = createServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => {});
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const address = silent.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    const store = openStore(`redis://127.0.0.1:${port}`, 'portico-test:silent:', { commandTimeoutMs: 500, connectTimeoutMs: 500 });
    const started = performance.now();
    try {
      await assertAllUnavailable(callEveryMethod(store));
      assert.ok(performance.now() - started < 3000, `took ${Math.round(performance.now() - started)} ms`);
    } finally {
      await store.close();
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  it('keeps data across a restart of a Redis server with an append-only file, and reconnects', async (t) => {
    const binary = findExecutable('redis-server');
    if (!binary) {
      if (isCI()) assert.fail('redis-server must be on PATH when CI=true (the restart test starts its own server)');
      t.skip('redis-server is not on PATH, so no private server can be restarted');
      return;
    }
    const dataDir = mkdtempSync(join(tmpdir(), 'portico-redis-'));
    const keyPrefix = 'portico-test:restart:';
    let server = await startRedisServer({ dir: dataDir, durable: true, binary });
    // Stays open through the restart, as a running Portico would.
    const survivor = openStore(server.url, keyPrefix);
    try {
      const writer = openStore(server.url, keyPrefix);
      await writeDurabilityFixture(writer);
      const before = await readDurabilityFixture(writer);
      await writer.close();

      await server.stop();
      await assert.rejects(survivor.get('durable', 'plain'), StoreUnavailableError);
      server = await startRedisServer({ dir: dataDir, durable: true, binary, port: server.port });

      const reader = openStore(server.url, keyPrefix);
      try {
        assert.deepEqual(await readDurabilityFixture(reader), before);
        await checkDurabilityFixtureBehaviour(reader);
      } finally {
        await reader.close();
      }

      const deadline = Date.now() + 5000;
      for (;;) {
        try {
          await survivor.ping();
          break;
        } catch (error) {
          assert.ok(error instanceof StoreUnavailableError);
          if (Date.now() > deadline) throw new Error('the store did not reconnect within 5 s of Redis coming back', { cause: error });
          await sleep(100);
        }
      }
      assert.deepEqual((await survivor.get('durable', 'plain'))?.value, before && (before as { plain: { value: unknown } }).plain.value);
    } finally {
      await survivor.close();
      await server.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
