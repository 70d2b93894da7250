import { after, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { connectRedis, createRedisStore } from '../../../../src/storage/redis/redis-store.ts';
import { deleteKeysWithPrefix, redisAvailability, testKeyPrefix, type RedisAvailability } from '../../../helpers/redis.ts';
import { connectorPortsSuite } from './ports.suite.ts';

let availability: RedisAvailability | Error;
try {
  availability = await redisAvailability();
} catch (error) {
  availability = error instanceof Error ? error : new Error(String(error));
}

if (availability instanceof Error) {
  const failure = availability;
  it('connector ports on the redis store need a reachable Redis', () => {
    throw failure;
  });
} else if (!availability.available) {
  it('connector ports on the redis store', { skip: availability.reason }, () => {});
} else {
  const url = availability.url;
  const runPrefix = testKeyPrefix('ports');
  const admin = new Redis(url, { maxRetriesPerRequest: 1 });
  after(async () => {
    await deleteKeysWithPrefix(admin, runPrefix);
    await admin.quit();
  });

  let stores = 0;
  connectorPortsSuite('redis', async () => {
    const keyPrefix = `${runPrefix}${++stores}:`;
    const open = () => createRedisStore({ client: connectRedis({ mode: 'standalone', url }), keyPrefix });
    const store = open();
    return {
      second: async () => open(),
      store,
      // Redis expires keys on its own clock: only real time moves it.
      elapse: (ms) => sleep(ms),
      cleanup: async () => {
        await store.close();
        await deleteKeysWithPrefix(admin, keyPrefix);
      },
    };
  }, { multiInstance: true });
}
