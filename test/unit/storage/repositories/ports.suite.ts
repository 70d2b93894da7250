import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { OneTimeIdStore, PasscodeChallenge, PasscodeStore } from '../../../../src/connectors/types.ts';
import { createOneTimeIdStore } from '../../../../src/storage/repositories/one-time-ids.ts';
import { createPasscodeStore } from '../../../../src/storage/repositories/passcodes.ts';
import type { DocumentStore } from '../../../../src/storage/ports.ts';

export interface PortsFixture {
  readonly store: DocumentStore;
  /** Lets `ms` pass for the store's expiry: moves an injected clock, or waits for real (Redis). */
  readonly elapse: (ms: number) => Promise<void>;
  /** A second store on the same data, as another instance has; required when `multiInstance`. */
  readonly second?: () => Promise<DocumentStore>;
  readonly cleanup: () => Promise<void>;
}

/** How long past a 1 s ttl to wait before the record must be gone (Redis expires on its own clock). */
const PAST_ONE_SECOND_MS = 1250;

const challenge = (overrides: Partial<PasscodeChallenge> = {}): PasscodeChallenge => ({
  hash: 'v1$c2FsdA$bWFj',
  email: 'Bob@fabrikam.com',
  flowId: 'flow-1',
  expiresAt: Date.UTC(2026, 0, 1, 0, 10),
  attempts: 0,
  sentAt: Date.UTC(2026, 0, 1),
  ...overrides,
});

/** The connector ports on a DocumentStore backend, proven the same way for every backend. */
export function connectorPortsSuite(name: string, factory: () => Promise<PortsFixture>, options: { multiInstance: boolean }): void {
  async function withPorts(test: (ports: { oneTimeIds: OneTimeIdStore; passcodes: PasscodeStore; fixture: PortsFixture }) => Promise<void>): Promise<void> {
    const fixture = await factory();
    try {
      await test({ oneTimeIds: createOneTimeIdStore(fixture.store), passcodes: createPasscodeStore(fixture.store), fixture });
    } finally {
      await fixture.cleanup();
    }
  }

  describe(`connector ports on the ${name} store`, () => {
    describe('OneTimeIdStore', () => {
      it('remembers an id once per namespace and refuses it again while it lives', () =>
        withPorts(async ({ oneTimeIds }) => {
          assert.equal(await oneTimeIds.remember('saml-request', '_abc', 300), true);
          assert.equal(await oneTimeIds.remember('saml-request', '_abc', 300), false);
          assert.equal(await oneTimeIds.remember('saml-assertion', '_abc', 300), true, 'namespaces are separate');
        }));

      it('keeps namespace and id apart even when they contain the separator', () =>
        withPorts(async ({ oneTimeIds }) => {
          assert.equal(await oneTimeIds.remember('a:b', 'c', 300), true);
          assert.equal(await oneTimeIds.remember('a', 'b:c', 300), true);
          assert.equal(await oneTimeIds.take('a', 'b:c'), true);
          assert.equal(await oneTimeIds.take('a:b', 'c'), true);
        }));

      it('takes a remembered id once, and never one that was not remembered', () =>
        withPorts(async ({ oneTimeIds }) => {
          assert.equal(await oneTimeIds.take('saml-request', '_never'), false);
          await oneTimeIds.remember('saml-request', '_abc', 300);
          assert.equal(await oneTimeIds.take('saml-request', '_abc'), true);
          assert.equal(await oneTimeIds.take('saml-request', '_abc'), false);
        }));

      it('gives a racing take to exactly one caller', () =>
        withPorts(async ({ oneTimeIds }) => {
          await oneTimeIds.remember('saml-request', '_race', 300);
          const results = await Promise.all(Array.from({ length: 25 }, () => oneTimeIds.take('saml-request', '_race')));
          assert.equal(results.filter(Boolean).length, 1);
        }));

      it('gives a racing remember to exactly one caller', () =>
        withPorts(async ({ oneTimeIds }) => {
          const results = await Promise.all(Array.from({ length: 25 }, () => oneTimeIds.remember('saml-assertion', '_replayed', 300)));
          assert.equal(results.filter(Boolean).length, 1);
        }));

      it('forgets an id after its ttl: it can neither be taken nor block a new remember', () =>
        withPorts(async ({ oneTimeIds, fixture }) => {
          await oneTimeIds.remember('saml-request', '_old', 1);
          await oneTimeIds.remember('saml-request', '_old-too', 1);
          await fixture.elapse(PAST_ONE_SECOND_MS);
          assert.equal(await oneTimeIds.take('saml-request', '_old'), false);
          assert.equal(await oneTimeIds.remember('saml-request', '_old-too', 300), true);
        }));
    });

    describe('PasscodeStore', () => {
      it('saves and reads a challenge, and answers undefined for an unknown key', () =>
        withPorts(async ({ passcodes }) => {
          assert.equal(await passcodes.get('otp:none'), undefined);
          await passcodes.save('otp:a', challenge(), 600);
          assert.deepEqual(await passcodes.get('otp:a'), challenge());
        }));

      it('replaces a challenge on save (a resend), resetting its attempts and making it usable after a consume', () =>
        withPorts(async ({ passcodes }) => {
          await passcodes.save('otp:a', challenge({ hash: 'first' }), 600);
          await passcodes.recordFailure('otp:a');
          assert.equal(await passcodes.consume('otp:a'), true);
          await passcodes.save('otp:a', challenge({ hash: 'second' }), 600);
          assert.deepEqual(await passcodes.get('otp:a'), challenge({ hash: 'second' }));
          assert.equal(await passcodes.consume('otp:a'), true);
        }));

      it('counts failures one by one and answers undefined once the challenge is gone', () =>
        withPorts(async ({ passcodes }) => {
          assert.equal(await passcodes.recordFailure('otp:none'), undefined);
          await passcodes.save('otp:a', challenge(), 600);
          assert.equal(await passcodes.recordFailure('otp:a'), 1);
          assert.equal(await passcodes.recordFailure('otp:a'), 2);
          assert.equal((await passcodes.get('otp:a'))?.attempts, 2);
          await passcodes.consume('otp:a');
          assert.equal(await passcodes.recordFailure('otp:a'), undefined);
        }));

      it('loses no failure under parallel wrong guesses', () =>
        withPorts(async ({ passcodes }) => {
          await passcodes.save('otp:a', challenge(), 600);
          const counts = await Promise.all(Array.from({ length: 30 }, () => passcodes.recordFailure('otp:a')));
          assert.deepEqual([...counts].sort((a, b) => (a ?? 0) - (b ?? 0)), Array.from({ length: 30 }, (_, i) => i + 1));
          assert.equal((await passcodes.get('otp:a'))?.attempts, 30);
        }));

      if (options.multiInstance) {
        it('loses no failure and consumes once when two instances race on one challenge', () =>
          withPorts(async ({ passcodes, fixture }) => {
            const other = await fixture.second!();
            try {
              const remote = createPasscodeStore(other);
              await passcodes.save('otp:a', challenge(), 600);
              const counts = await Promise.all(Array.from({ length: 30 }, (_, i) => (i % 2 ? remote : passcodes).recordFailure('otp:a')));
              assert.deepEqual([...counts].sort((a, b) => (a ?? 0) - (b ?? 0)), Array.from({ length: 30 }, (_, i) => i + 1));
              const wins = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? remote : passcodes).consume('otp:a')));
              assert.equal(wins.filter(Boolean).length, 1);
            } finally {
              await other.close();
            }
          }));
      }

      it('consumes a challenge for exactly one of many racing callers, after which it reads as gone', () =>
        withPorts(async ({ passcodes }) => {
          await passcodes.save('otp:a', challenge(), 600);
          const results = await Promise.all(Array.from({ length: 25 }, () => passcodes.consume('otp:a')));
          assert.equal(results.filter(Boolean).length, 1);
          assert.equal(await passcodes.get('otp:a'), undefined);
          assert.equal(await passcodes.consume('otp:none'), false);
        }));

      it('drops a challenge after its ttl, and failures never extend it', () =>
        withPorts(async ({ passcodes, fixture }) => {
          await passcodes.save('otp:a', challenge(), 1);
          await fixture.elapse(500);
          assert.equal(await passcodes.recordFailure('otp:a'), 1);
          await fixture.elapse(PAST_ONE_SECOND_MS - 500);
          assert.equal(await passcodes.get('otp:a'), undefined);
          assert.equal(await passcodes.recordFailure('otp:a'), undefined);
          assert.equal(await passcodes.consume('otp:a'), false);
        }));

      it('counts hits in a fixed window, in parallel too, and starts again after it', () =>
        withPorts(async ({ passcodes, fixture }) => {
          const hits = await Promise.all(Array.from({ length: 20 }, () => passcodes.hit('send-ip:a', 1)));
          assert.deepEqual([...hits].sort((a, b) => a - b), Array.from({ length: 20 }, (_, i) => i + 1));
          assert.equal(await passcodes.hit('send-ip:b', 1), 1, 'counters are independent');
          await fixture.elapse(PAST_ONE_SECOND_MS);
          assert.equal(await passcodes.hit('send-ip:a', 1), 1);
        }));
    });
  });
}
