import type { OneTimeIdStore } from '../../connectors/types.ts';
import { AlreadyExistsError } from '../errors.ts';
import type { DocumentStore } from '../ports.ts';

const COLLECTION = 'one-time-ids';

// Length-prefixed so that no (namespace, id) pair can spell another: ('a:b', 'c') ≠ ('a', 'b:c').
const recordId = (namespace: string, id: string): string => `${namespace.length}:${namespace}:${id}`;

/**
 * Single-use ids (SAML request and assertion ids) shared by every instance through the store.
 * `take` relies on the store's atomic `consume`, so however many requests race with one id,
 * exactly one of them gets true.
 */
export function createOneTimeIdStore(store: DocumentStore): OneTimeIdStore {
  return {
    async remember(namespace, id, ttlSeconds) {
      try {
        await store.create(COLLECTION, recordId(namespace, id), {}, { ttlSeconds });
        return true;
      } catch (error) {
        if (error instanceof AlreadyExistsError) return false;
        throw error;
      }
    },

    async take(namespace, id) {
      const key = recordId(namespace, id);
      if (!(await store.consume(COLLECTION, key))) return false;
      // The consume decided the winner; deleting is housekeeping (the record would expire anyway),
      // so a failure here must not turn a successful take into an error.
      await store.delete(COLLECTION, key).catch(() => undefined);
      return true;
    },
  };
}
