/**
 * The worker pool's own promises: ordinary responses validated inline and large ones in a
 * worker, a bounded queue, a deadline that kills a runaway validation (and a fresh worker
 * afterwards), store failures surfacing as themselves, and the request id taken only for the id
 * the sign-in waits for. The worker tests send every response to a worker (inlineMaxBytes: 0).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeSamlResponse } from '../../../../src/connectors/saml/envelope.ts';
import { Refusal } from '../../../../src/connectors/saml/refusal.ts';
import type { ValidationJob } from '../../../../src/connectors/saml/validate.ts';
import { createValidationPool, DEFAULT_INLINE_MAX_BYTES } from '../../../../src/connectors/saml/validation-pool.ts';
import { StoreUnavailableError } from '../../../../src/shared/errors.ts';
import { createResponse, generateKeyPair, newSamlId } from '../../../helpers/saml-idp.ts';
import { ACS, IDP, SP } from './helpers.ts';

const key = generateKeyPair('pool-idp');

async function job(options: { padToBytes?: number; requestId?: string } = {}): Promise<ValidationJob> {
  const requestId = options.requestId ?? newSamlId();
  const now = Date.now();
  const response = await createResponse({ issuer: IDP, signingKey: key, requestId, acsUrl: ACS, audience: SP, now, user: { nameId: 'n1' }, padToBytes: options.padToBytes ?? 0 });
  return {
    ...decodeSamlResponse(response.base64, 1024 * 1024),
    requestId,
    acsUrl: ACS,
    spEntityId: SP,
    idpEntityId: IDP,
    signingCertificates: [key.certificate],
    wantAssertionsSigned: true,
    decryptionKey: undefined,
    nameIdFormat: 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent',
    now,
    skewMs: 60_000,
    limits: { maxDepth: 64, maxElements: 100_000, allowSha1: false },
  };
}

/** A store with one pending request id, taken once. */
function takeOnce(id: string): { take: (id: string) => Promise<boolean>; asked: string[] } {
  const asked: string[] = [];
  let present = true;
  return {
    asked,
    take: async (requested) => {
      asked.push(requested);
      const ok = present && requested === id;
      if (ok) present = false;
      return ok;
    },
  };
}

test('validates in a worker and takes exactly the awaited request id, once', async () => {
  const pool = createValidationPool({ size: 1, inlineMaxBytes: 0 });
  try {
    const valid = await job();
    const store = takeOnce(valid.requestId);
    const result = await pool.validate(valid, store.take);
    assert.equal(result.assertion.nameId, 'n1');
    assert.deepEqual(store.asked, [valid.requestId]);
    await assert.rejects(pool.validate(valid, store.take), (error: unknown) => error instanceof Refusal && /InResponseTo is not valid/.test(error.message));
  } finally {
    await pool.close();
  }
});

test('a validation past the deadline is killed with its worker; the next one gets a fresh worker', async () => {
  // A validation that never ends (its store never answers) stands in for a runaway one, so the
  // deadline fires on any machine; a normal validation takes far less than the deadline.
  const pool = createValidationPool({ size: 1, timeoutMs: 2000, inlineMaxBytes: 0 });
  try {
    const [stuck, small] = await Promise.all([job(), job()]);
    await assert.rejects(
      pool.validate(stuck, () => new Promise<boolean>(() => undefined)),
      (error: unknown) => error instanceof Refusal && error.code === 'invalid_response' && /longer than 2000 ms/.test(error.message),
    );
    const result = await pool.validate(small, takeOnce(small.requestId).take);
    assert.equal(result.assertion.nameId, 'n1');
  } finally {
    await pool.close();
  }
});

test('a full queue refuses at once instead of piling up', async () => {
  const pool = createValidationPool({ size: 1, maxQueue: 1, inlineMaxBytes: 0 });
  try {
    const warm = await job();
    await pool.validate(warm, takeOnce(warm.requestId).take);
    const jobs = await Promise.all([job(), job(), job()]);
    // One runs in the (ready, idle) worker, one waits, the third finds the queue full.
    const results = await Promise.allSettled(jobs.map((each) => pool.validate(each, takeOnce(each.requestId).take)));
    assert.deepEqual(
      results.map((result) => result.status),
      ['fulfilled', 'fulfilled', 'rejected'],
    );
    const reason = (results[2] as PromiseRejectedResult).reason as Refusal;
    assert.equal(reason.code, 'upstream_unavailable');
    assert.match(reason.message, /too many SAML responses waiting/);
  } finally {
    await pool.close();
  }
});

test('a store failure while taking the request id is reported as the store failure', async () => {
  const pool = createValidationPool({ size: 1, inlineMaxBytes: 0 });
  try {
    const valid = await job();
    const failure = new StoreUnavailableError('redis is down');
    await assert.rejects(
      pool.validate(valid, async () => {
        throw failure;
      }),
      (error: unknown) => error === failure,
    );
  } finally {
    await pool.close();
  }
});

test('a closed pool refuses new work', async () => {
  const pool = createValidationPool({ size: 1, inlineMaxBytes: 0 });
  await pool.close();
  const valid = await job();
  await assert.rejects(pool.validate(valid, takeOnce(valid.requestId).take), (error: unknown) => error instanceof Refusal && error.code === 'upstream_unavailable');
});

test('responses up to inlineMaxBytes are validated on the calling thread, larger ones in a worker under its deadline', async () => {
  // A store that answers only after 300 ms: a worker's deadline counts that wait, the calling thread has none.
  const slowTake = (id: string) => async (requested: string) => {
    await new Promise((resolve) => setTimeout(resolve, 300));
    return requested === id;
  };
  const pool = createValidationPool({ size: 1, timeoutMs: 100 });
  try {
    const ordinary = await job({ padToBytes: 10 * 1024 });
    assert.ok(Buffer.byteLength(ordinary.xml) <= DEFAULT_INLINE_MAX_BYTES);
    assert.equal((await pool.validate(ordinary, slowTake(ordinary.requestId))).assertion.nameId, 'n1');

    const large = await job({ padToBytes: 40 * 1024 });
    assert.ok(Buffer.byteLength(large.xml) > DEFAULT_INLINE_MAX_BYTES);
    await assert.rejects(pool.validate(large, slowTake(large.requestId)), (error: unknown) => error instanceof Refusal && /longer than 100 ms/.test(error.message));
    // With the deadline out of the way the same large response validates in the worker.
    const patient = createValidationPool({ size: 1, timeoutMs: 10_000 });
    try {
      const again = await job({ padToBytes: 40 * 1024 });
      assert.equal((await patient.validate(again, slowTake(again.requestId))).assertion.nameId, 'n1');
    } finally {
      await patient.close();
    }
  } finally {
    await pool.close();
  }
});

test('inline validations run one per event-loop turn, so timers and I/O get their turn between them', async () => {
  const pool = createValidationPool({ size: 1 });
  try {
    const [first, second] = await Promise.all([job(), job()]);
    const events: string[] = [];
    const take = (expected: string, name: string) => async (requested: string) => {
      events.push(`take ${name}`);
      // Queued while the first validation runs: it must run before the second one starts.
      if (name === 'first') setImmediate(() => events.push('next turn'));
      return requested === expected;
    };
    const results = await Promise.all([pool.validate(first, take(first.requestId, 'first')), pool.validate(second, take(second.requestId, 'second'))]);
    assert.deepEqual(
      results.map((result) => result.assertion.nameId),
      ['n1', 'n1'],
    );
    assert.deepEqual(events, ['take first', 'next turn', 'take second']);
  } finally {
    await pool.close();
  }
});

test('inline validations waiting for their turn are bounded like the worker queue', async () => {
  const pool = createValidationPool({ size: 1, maxQueue: 2 });
  try {
    const jobs = await Promise.all([job(), job(), job()]);
    const results = await Promise.allSettled(jobs.map((each) => pool.validate(each, takeOnce(each.requestId).take)));
    assert.deepEqual(
      results.map((result) => result.status),
      ['fulfilled', 'fulfilled', 'rejected'],
    );
    assert.match(((results[2] as PromiseRejectedResult).reason as Refusal).message, /too many SAML responses waiting/);
    // Once they are done, there is room again.
    const later = await job();
    assert.equal((await pool.validate(later, takeOnce(later.requestId).take)).assertion.nameId, 'n1');
  } finally {
    await pool.close();
  }
});
