import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { MAX_WRONG_ATTEMPTS } from '../../../../src/connectors/email-otp/index.ts';
import { connectRedis, createRedisStore } from '../../../../src/storage/redis/redis-store.ts';
import { deleteKeysWithPrefix, redisAvailability, testKeyPrefix, type RedisAvailability } from '../../../helpers/redis.ts';
import { startSmtpSink } from '../../../helpers/smtp.ts';
import { codeIn, harness, outcomes, rejectsWithCode, smtpMail, wrongCode } from './harness.ts';

let availability: RedisAvailability | Error;
try {
  availability = await redisAvailability();
} catch (error) {
  availability = error instanceof Error ? error : new Error(String(error));
}

const BOB = 'bob@fabrikam.example';
const IP = '203.0.113.7';

if (availability instanceof Error) {
  const failure = availability;
  it('email-otp on Redis needs a reachable Redis', () => {
    throw failure;
  });
} else if (!availability.available) {
  it('email-otp on Redis', { skip: availability.reason }, () => {});
} else {
  const url = availability.url;
  const runPrefix = testKeyPrefix('email-otp');
  const admin = new Redis(url, { maxRetriesPerRequest: 1 });
  after(async () => {
    await deleteKeysWithPrefix(admin, runPrefix);
    await admin.quit();
  });

  let runs = 0;
  /** Two Portico instances: each its own Redis client, mailer and connector, on the same keys. */
  async function twoInstances(test: (a: ReturnType<typeof harness>, b: ReturnType<typeof harness>, sink: Awaited<ReturnType<typeof startSmtpSink>>) => Promise<void>): Promise<void> {
    const keyPrefix = `${runPrefix}${++runs}:`;
    const sink = await startSmtpSink();
    const stores = [0, 1].map(() => createRedisStore({ client: connectRedis({ mode: 'standalone', url }), keyPrefix }));
    const [a, b] = stores.map((store) => harness({ mail: smtpMail(sink.port), store }));
    try {
      await test(a!, b!, sink);
    } finally {
      await a!.close();
      await b!.close();
      for (const store of stores) await store.close();
      await sink.close();
    }
  }

  describe('email-otp on Redis shared by two instances', () => {
    it('verifies on one instance a code sent by the other, exactly once under a race', () =>
      twoInstances(async (a, b, sink) => {
        assert.deepEqual(await a.connector.send({ flowId: 'flow-1', email: BOB, clientIp: IP, tenantDisplayName: 'Contoso' }), { status: 'sent' });
        const code = codeIn(await sink.nextMessageTo(BOB));
        const results = outcomes(
          await Promise.allSettled(Array.from({ length: MAX_WRONG_ATTEMPTS }, (_, i) => (i % 2 ? a : b).connector.verify({ flowId: 'flow-1', email: BOB, code, clientIp: IP }))),
        );
        assert.deepEqual(results.sort(), ['code_expired', 'code_expired', 'code_expired', 'code_expired', 'ok']);
      }));

    it('compares at most five guesses across instances, then refuses the right code', () =>
      twoInstances(async (a, b, sink) => {
        await a.connector.send({ flowId: 'flow-1', email: BOB, clientIp: IP, tenantDisplayName: 'Contoso' });
        const code = codeIn(await sink.nextMessageTo(BOB));
        const guesses = Array.from({ length: 24 }, (_, i) => String((Number(code) + 1 + i) % 100_000_000).padStart(8, '0'));
        const results = outcomes(await Promise.allSettled(guesses.map((guess, i) => (i % 2 ? a : b).connector.verify({ flowId: 'flow-1', email: BOB, code: guess, clientIp: IP }))));
        assert.equal(results.filter((r) => r === 'invalid_code').length, MAX_WRONG_ATTEMPTS - 1);
        assert.equal(results.filter((r) => r === 'too_many_attempts').length, guesses.length - (MAX_WRONG_ATTEMPTS - 1));
        await rejectsWithCode(b.connector.verify({ flowId: 'flow-1', email: BOB, code, clientIp: IP }), 'too_many_attempts');
      }));

    it('shares the resend wait and the hourly limits between instances', () =>
      twoInstances(async (a, b, sink) => {
        const send = (h: typeof a, flowId: string) => h.connector.send({ flowId, email: BOB, clientIp: IP, tenantDisplayName: 'Contoso' });
        await send(a, 'flow-1');
        const first = codeIn(await sink.nextMessageTo(BOB));
        assert.deepEqual(await send(b, 'flow-1'), { status: 'throttled', retryAfterSeconds: 60 });
        b.clock.advance(60_000);
        assert.deepEqual(await send(b, 'flow-1'), { status: 'sent' });
        const second = codeIn(await sink.nextMessageTo(BOB));
        await rejectsWithCode(a.connector.verify({ flowId: 'flow-1', email: BOB, code: first === second ? wrongCode(second) : first, clientIp: IP }), 'invalid_code');
        for (let i = 2; i <= 4; i++) assert.deepEqual(await send(i % 2 ? a : b, `flow-${i}`), { status: 'sent' });
        assert.deepEqual(await send(a, 'flow-5'), { status: 'throttled', retryAfterSeconds: 3600 }, 'the sixth code this hour, counted across instances');
      }));
  });
}
