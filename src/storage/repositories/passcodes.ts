import type { PasscodeChallenge, PasscodeStore } from '../../connectors/types.ts';
import { NotFoundError } from '../errors.ts';
import type { DocumentStore } from '../ports.ts';

const CHALLENGES = 'passcode-challenges';
const COUNTERS = 'passcode-counters';

/**
 * Email passcode challenges and rate-limit counters on the document store.
 *
 * A consumed challenge is left in place as a tombstone until its ttl ends rather than deleted:
 * a delete after the consume could remove a fresh challenge a resend wrote in between. Reads treat
 * a consumed challenge as gone, and `save` (a `put`) makes the key usable again.
 */
export function createPasscodeStore(store: DocumentStore): PasscodeStore {
  async function live(key: string): Promise<PasscodeChallenge | undefined> {
    const record = await store.get<PasscodeChallenge>(CHALLENGES, key);
    return record && record.consumedAt === undefined ? record.value : undefined;
  }

  return {
    async save(key, challenge, ttlSeconds) {
      await store.put(CHALLENGES, key, challenge, { ttlSeconds });
    },

    get: live,

    async recordFailure(key) {
      if (!(await live(key))) return undefined;
      try {
        // `update` keeps the record's expiry, so failures never extend a code's life.
        const next = await store.update<PasscodeChallenge>(CHALLENGES, key, (current) => ({ ...current, attempts: current.attempts + 1 }));
        return next.attempts;
      } catch (error) {
        if (error instanceof NotFoundError) return undefined;
        throw error;
      }
    },

    consume: (key) => store.consume(CHALLENGES, key),

    hit: (counter, windowSeconds) => store.increment(COUNTERS, counter, windowSeconds),
  };
}
