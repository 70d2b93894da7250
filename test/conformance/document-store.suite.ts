import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ManualClock } from '../../src/shared/clock.ts';
import { AlreadyExistsError, NotFoundError, StoreUnavailableError } from '../../src/storage/errors.ts';
import type { DocumentStore, StoredRecord } from '../../src/storage/ports.ts';

export interface StoreFixture {
  readonly store: DocumentStore;
  /** Opens another store on the same data (a restart, or a second process). Absent for backends that keep nothing. */
  readonly reopen?: () => Promise<DocumentStore>;
  /** Closes the store and removes its data; must tolerate a store the test already closed. */
  readonly cleanup: () => Promise<void>;
}

type Counter = { n: number };

/** Real-time expiry for backends whose expiry the test cannot move (Redis uses the server clock). */
const TTL_WAIT_MS = 1250;
/** How far a backend's expiresAt may stray from this process's clock (Redis computes it on the server). */
const CLOCK_SLACK_MS = 500;

const ids = (records: readonly StoredRecord<unknown>[]): string[] => records.map((r) => r.id).sort();

async function rejectsWith(promise: Promise<unknown>, type: new (...args: never[]) => Error, check?: (error: Error) => void): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof type, `expected ${type.name}, got ${String(error)}`);
    check?.(error);
    return true;
  });
}

/**
 * The behaviour every DocumentStore backend must show. Each test gets a fresh store from
 * `factory`, so tests share no data and can use fixed ids.
 */
export function documentStoreConformance(name: string, factory: () => Promise<StoreFixture>): void {
  async function withStore(test: (store: DocumentStore, fixture: StoreFixture) => Promise<void>): Promise<void> {
    const fixture = await factory();
    try {
      await test(fixture.store, fixture);
    } finally {
      await fixture.cleanup();
    }
  }

  describe(`DocumentStore conformance: ${name}`, () => {
    describe('records', () => {
      it('returns undefined for a record that does not exist', () =>
        withStore(async (store) => {
          assert.equal(await store.get('things', 'nope'), undefined);
        }));

      it('stores JSON values and returns exactly what JSON round-trips', () =>
        withStore(async (store) => {
          const value = {
            text: 'héllo ✓ "quoted" \\ \n',
            int: 42,
            float: 1.5,
            negative: -7,
            bool: false,
            nothing: null,
            list: [1, 'two', { three: 3 }, []],
            nested: { empty: {}, emptyList: [] },
            dropped: undefined,
          };
          await store.create('things', 'a', value);
          const record = await store.get('things', 'a');
          assert.deepEqual(record, { id: 'a', value: JSON.parse(JSON.stringify(value)) });
          assert.equal(record?.consumedAt, undefined);
          assert.equal(record?.expiresAt, undefined);
          assert.equal(Object.hasOwn(record ?? {}, 'consumedAt'), false);
        }));

      it('hands out copies: mutating an input or a result changes nothing stored', () =>
        withStore(async (store) => {
          const input = { list: [1] };
          await store.create('things', 'a', input);
          input.list.push(2);
          const first = await store.get<{ list: number[] }>('things', 'a');
          first?.value.list.push(3);
          assert.deepEqual((await store.get('things', 'a'))?.value, { list: [1] });
        }));

      it('create refuses an id that is taken and keeps the original', () =>
        withStore(async (store) => {
          await store.create('things', 'a', { v: 1 });
          await rejectsWith(store.create('things', 'a', { v: 2 }), AlreadyExistsError, (error) => {
            assert.equal((error as AlreadyExistsError).index, undefined);
            assert.equal((error as AlreadyExistsError).collection, 'things');
          });
          assert.deepEqual((await store.get('things', 'a'))?.value, { v: 1 });
        }));

      it('put inserts, replaces, and clears consumedAt and the expiry', () =>
        withStore(async (store) => {
          await store.put('things', 'a', { v: 1 }, { ttlSeconds: 3600 });
          assert.ok((await store.get('things', 'a'))?.expiresAt);
          assert.equal(await store.consume('things', 'a'), true);
          await store.put('things', 'a', { v: 2 });
          assert.deepEqual(await store.get('things', 'a'), { id: 'a', value: { v: 2 } });
          assert.equal(await store.consume('things', 'a'), true, 'a put record can be consumed again');
        }));

      it('update applies the updater and returns the stored value', () =>
        withStore(async (store) => {
          await store.create('things', 'a', { n: 1, keep: 'x' });
          const next = await store.update<{ n: number; keep: string; gone?: undefined }>('things', 'a', (current) => ({
            ...current,
            n: current.n + 1,
            gone: undefined,
          }));
          assert.deepEqual(next, { n: 2, keep: 'x' });
          assert.deepEqual((await store.get('things', 'a'))?.value, { n: 2, keep: 'x' });
        }));

      it('update keeps expiry, unique values, tags and consumedAt unless told otherwise', () =>
        withStore(async (store) => {
          await store.create('things', 'a', { n: 1 }, { ttlSeconds: 3600, unique: { email: 'a@example.com' }, tags: ['group'] });
          assert.equal(await store.consume('things', 'a'), true);
          const before = await store.get('things', 'a');
          await store.update<Counter>('things', 'a', (c) => ({ n: c.n + 1 }));
          const after = await store.get('things', 'a');
          assert.deepEqual(after, { ...before, value: { n: 2 } });
          assert.equal((await store.findByUnique('things', 'email', 'a@example.com'))?.id, 'a');
          assert.deepEqual(ids(await store.listByTag('things', 'group')), ['a']);
          assert.equal(await store.consume('things', 'a'), false, 'an update does not make a consumed record usable again');
        }));

      it('update replaces the expiry, unique values and tags it is given', () =>
        withStore(async (store) => {
          await store.create('things', 'a', { n: 1 }, { unique: { email: 'old@example.com' }, tags: ['old'] });
          const started = Date.now();
          await store.update<Counter>('things', 'a', (c) => c, { ttlSeconds: 3600, unique: { email: 'new@example.com' }, tags: ['new'] });
          const expiresAt = (await store.get('things', 'a'))?.expiresAt ?? 0;
          assert.ok(Math.abs(expiresAt - (started + 3_600_000)) < CLOCK_SLACK_MS + (Date.now() - started), `expiresAt ${expiresAt}`);
          assert.equal(await store.findByUnique('things', 'email', 'old@example.com'), undefined);
          assert.equal((await store.findByUnique('things', 'email', 'new@example.com'))?.id, 'a');
          assert.deepEqual(await store.listByTag('things', 'old'), []);
          assert.deepEqual(ids(await store.listByTag('things', 'new')), ['a']);
          await store.update<Counter>('things', 'a', (c) => c, { unique: {}, tags: [] });
          assert.equal(await store.findByUnique('things', 'email', 'new@example.com'), undefined);
          assert.deepEqual(await store.listByTag('things', 'new'), []);
        }));

      it('update of a missing record throws NotFoundError without calling the updater', () =>
        withStore(async (store) => {
          let called = false;
          await rejectsWith(
            store.update('things', 'nope', (v) => {
              called = true;
              return v;
            }),
            NotFoundError,
          );
          assert.equal(called, false);
        }));

      it('an updater that throws leaves the record as it was', () =>
        withStore(async (store) => {
          await store.create('things', 'a', { n: 1 }, { unique: { email: 'a@example.com' } });
          await assert.rejects(
            store.update('things', 'a', () => {
              throw new Error('updater says no');
            }, { unique: { email: 'b@example.com' } }),
            /updater says no/,
          );
          assert.deepEqual((await store.get('things', 'a'))?.value, { n: 1 });
          assert.equal((await store.findByUnique('things', 'email', 'a@example.com'))?.id, 'a');
          assert.equal(await store.findByUnique('things', 'email', 'b@example.com'), undefined);
        }));

      it('delete returns true once, then false', () =>
        withStore(async (store) => {
          await store.create('things', 'a', { v: 1 });
          assert.equal(await store.delete('things', 'a'), true);
          assert.equal(await store.get('things', 'a'), undefined);
          assert.equal(await store.delete('things', 'a'), false);
          assert.equal(await store.delete('things', 'never'), false);
        }));

      it('keeps collections apart', () =>
        withStore(async (store) => {
          await store.create('one', 'a', { from: 'one' }, { unique: { email: 'same@example.com' }, tags: ['t'] });
          await store.create('two', 'a', { from: 'two' }, { unique: { email: 'same@example.com' }, tags: ['t'] });
          assert.deepEqual((await store.get('one', 'a'))?.value, { from: 'one' });
          assert.deepEqual((await store.get('two', 'a'))?.value, { from: 'two' });
          assert.equal(await store.deleteByTag('one', 't'), 1);
          assert.deepEqual((await store.findByUnique('two', 'email', 'same@example.com'))?.value, { from: 'two' });
          assert.equal(await store.increment('one', 'c', 60), 1);
          assert.equal(await store.increment('two', 'c', 60), 1);
        }));

      it('treats collections, ids, index names, values and tags as opaque strings', () =>
        withStore(async (store) => {
          // Pairs that would collide under a naive "a:b" key layout, and characters with a meaning to Redis.
          await store.create('a:n:b', 'c', { k: 1 }, { unique: { 'x:y': 'z' }, tags: ['t:{1}'] });
          await store.create('a', 'b:n:c', { k: 2 }, { unique: { x: 'y:z' }, tags: ['{1}'] });
          await store.create('a:n:b', '{c}:r:ü 🎉', { k: 3 }, { unique: { x: 'y:z' }, tags: ['t:{1}'] });
          assert.deepEqual((await store.get('a:n:b', 'c'))?.value, { k: 1 });
          assert.deepEqual((await store.get('a', 'b:n:c'))?.value, { k: 2 });
          assert.deepEqual((await store.get('a:n:b', '{c}:r:ü 🎉'))?.value, { k: 3 });
          assert.equal((await store.findByUnique('a:n:b', 'x:y', 'z'))?.id, 'c');
          assert.equal((await store.findByUnique('a:n:b', 'x', 'y:z'))?.id, '{c}:r:ü 🎉');
          assert.deepEqual(ids(await store.listByTag('a:n:b', 't:{1}')), ['c', '{c}:r:ü 🎉']);
          assert.equal(await store.increment('a:n:b', 'c', 60), 1);
          assert.equal(await store.increment('a', 'b:n:c', 60), 1);
          assert.equal(await store.consume('a:n:b', '{c}:r:ü 🎉'), true);
          assert.equal(await store.delete('a:n:b', '{c}:r:ü 🎉'), true);
          assert.equal(await store.findByUnique('a:n:b', 'x', 'y:z'), undefined);
          // Braces select the Redis Cluster slot; an escaped form must not alias the raw one.
          await store.create('{x}', 'id', { k: 4 }, { unique: { u: 'v' }, tags: ['t'] });
          await store.create('%7Bx%7D', 'id', { k: 5 }, { unique: { u: 'v' }, tags: ['t'] });
          assert.deepEqual((await store.findByUnique('{x}', 'u', 'v'))?.value, { k: 4 });
          assert.deepEqual((await store.listByTag('%7Bx%7D', 't')).map((r) => r.value), [{ k: 5 }]);
          assert.equal(await store.increment('{x}', 'id', 60), 1);
          assert.equal(await store.increment('%7Bx%7D', 'id', 60), 1);
        }));

      it('rejects a ttl that is not a positive number and values JSON cannot hold', () =>
        withStore(async (store) => {
          await assert.rejects(store.create('things', 'a', { v: 1 }, { ttlSeconds: 0 }), RangeError);
          await assert.rejects(store.put('things', 'a', { v: 1 }, { ttlSeconds: -5 }), RangeError);
          await assert.rejects(store.put('things', 'a', { v: 1 }, { ttlSeconds: Number.NaN }), RangeError);
          await assert.rejects(store.increment('things', 'a', 0), RangeError);
          await assert.rejects(store.create('things', 'a', undefined), TypeError);
          assert.equal(await store.get('things', 'a'), undefined);
        }));
    });

    describe('unique indexes', () => {
      it('create with a value another record holds throws AlreadyExistsError naming the index, and writes nothing', () =>
        withStore(async (store) => {
          await store.create('users', 'alice', { name: 'Alice' }, { unique: { email: 'a@example.com' } });
          await rejectsWith(
            store.create('users', 'mallory', { name: 'Mallory' }, { unique: { login: 'mallory', email: 'a@example.com' }, tags: ['m'] }),
            AlreadyExistsError,
            (error) => assert.equal((error as AlreadyExistsError).index, 'email'),
          );
          assert.equal(await store.get('users', 'mallory'), undefined);
          assert.equal(await store.findByUnique('users', 'login', 'mallory'), undefined);
          assert.deepEqual(await store.listByTag('users', 'm'), []);
          assert.equal((await store.findByUnique('users', 'email', 'a@example.com'))?.id, 'alice');
        }));

      it('put clashing with another record throws and leaves both records unchanged', () =>
        withStore(async (store) => {
          await store.create('users', 'alice', { v: 'alice' }, { unique: { email: 'a@example.com' } });
          await store.create('users', 'bob', { v: 'bob' }, { unique: { email: 'b@example.com' }, tags: ['b'] });
          await rejectsWith(
            store.put('users', 'bob', { v: 'bob2' }, { unique: { email: 'a@example.com' } }),
            AlreadyExistsError,
            (error) => assert.equal((error as AlreadyExistsError).index, 'email'),
          );
          assert.deepEqual((await store.get('users', 'bob'))?.value, { v: 'bob' });
          assert.equal((await store.findByUnique('users', 'email', 'b@example.com'))?.id, 'bob');
          assert.deepEqual(ids(await store.listByTag('users', 'b')), ['bob']);
          assert.equal((await store.findByUnique('users', 'email', 'a@example.com'))?.id, 'alice');
        }));

      it('update clashing with another record throws and leaves the record unchanged', () =>
        withStore(async (store) => {
          await store.create('users', 'alice', { v: 1 }, { unique: { email: 'a@example.com' } });
          await store.create('users', 'bob', { v: 1 }, { unique: { email: 'b@example.com' } });
          await rejectsWith(
            store.update<Counter>('users', 'bob', () => ({ n: 99 }), { unique: { email: 'a@example.com' } }),
            AlreadyExistsError,
            (error) => assert.equal((error as AlreadyExistsError).index, 'email'),
          );
          assert.deepEqual((await store.get('users', 'bob'))?.value, { v: 1 });
          assert.equal((await store.findByUnique('users', 'email', 'b@example.com'))?.id, 'bob');
          assert.equal((await store.findByUnique('users', 'email', 'a@example.com'))?.id, 'alice');
        }));

      it('a record may be rewritten with the unique values it already holds', () =>
        withStore(async (store) => {
          await store.create('users', 'alice', { v: 1 }, { unique: { email: 'a@example.com' } });
          await store.put('users', 'alice', { v: 2 }, { unique: { email: 'a@example.com' } });
          await store.update<{ v: number }>('users', 'alice', (c) => ({ v: c.v + 1 }), { unique: { email: 'a@example.com' } });
          assert.deepEqual(await store.findByUnique('users', 'email', 'a@example.com'), { id: 'alice', value: { v: 3 } });
        }));

      it('moves a unique value when the record is rewritten with a new one', () =>
        withStore(async (store) => {
          await store.create('users', 'alice', { v: 1 }, { unique: { email: 'old@example.com' } });
          await store.put('users', 'alice', { v: 2 }, { unique: { email: 'new@example.com' } });
          assert.equal(await store.findByUnique('users', 'email', 'old@example.com'), undefined);
          assert.deepEqual(await store.findByUnique('users', 'email', 'new@example.com'), { id: 'alice', value: { v: 2 } });
          await store.create('users', 'bob', { v: 1 }, { unique: { email: 'old@example.com' } });
          assert.equal((await store.findByUnique('users', 'email', 'old@example.com'))?.id, 'bob');
          await store.put('users', 'alice', { v: 3 });
          assert.equal(await store.findByUnique('users', 'email', 'new@example.com'), undefined, 'put without unique drops them');
        }));

      it('frees unique values on delete', () =>
        withStore(async (store) => {
          await store.create('users', 'alice', { v: 1 }, { unique: { email: 'a@example.com', login: 'alice' } });
          assert.equal(await store.delete('users', 'alice'), true);
          assert.equal(await store.findByUnique('users', 'email', 'a@example.com'), undefined);
          await store.create('users', 'alice2', { v: 2 }, { unique: { email: 'a@example.com', login: 'alice' } });
          assert.equal((await store.findByUnique('users', 'login', 'alice'))?.id, 'alice2');
        }));

      it('separates index names: the same value in two indexes does not clash', () =>
        withStore(async (store) => {
          await store.create('users', 'alice', { v: 1 }, { unique: { email: 'shared' } });
          await store.create('users', 'bob', { v: 1 }, { unique: { login: 'shared' } });
          assert.equal((await store.findByUnique('users', 'email', 'shared'))?.id, 'alice');
          assert.equal((await store.findByUnique('users', 'login', 'shared'))?.id, 'bob');
          assert.equal(await store.findByUnique('users', 'phone', 'shared'), undefined);
        }));
    });

    describe('tags', () => {
      it('lists the live records carrying a tag and follows rewrites', () =>
        withStore(async (store) => {
          await store.create('grants', 'a', { v: 'a' }, { tags: ['grant:1', 'user:x'] });
          await store.create('grants', 'b', { v: 'b' }, { tags: ['grant:1'] });
          await store.create('grants', 'c', { v: 'c' }, { tags: ['grant:2', 'grant:2'] });
          assert.deepEqual(ids(await store.listByTag('grants', 'grant:1')), ['a', 'b']);
          const listed = await store.listByTag<{ v: string }>('grants', 'grant:2');
          assert.deepEqual(listed, [{ id: 'c', value: { v: 'c' } }]);
          await store.put('grants', 'b', { v: 'b2' }, { tags: ['grant:2'] });
          assert.deepEqual(ids(await store.listByTag('grants', 'grant:1')), ['a']);
          assert.deepEqual(ids(await store.listByTag('grants', 'grant:2')), ['b', 'c']);
          await store.delete('grants', 'a');
          assert.deepEqual(await store.listByTag('grants', 'grant:1'), []);
          assert.deepEqual(await store.listByTag('grants', 'user:x'), []);
          assert.deepEqual(await store.listByTag('grants', 'never'), []);
        }));

      it('follows a record whose tags change in every way: first tag, further tags, none', () =>
        withStore(async (store) => {
          const tagged = async (tag: string) => ids(await store.listByTag('moving', tag));
          await store.put('moving', 'r', { v: 1 }, { tags: ['a', 'b'] });
          assert.deepEqual([await tagged('a'), await tagged('b')], [['r'], ['r']]);
          await store.put('moving', 'r', { v: 2 }, { tags: ['b'] });
          assert.deepEqual([await tagged('a'), await tagged('b')], [[], ['r']], 'the first tag went, the second became the first');
          await store.put('moving', 'r', { v: 3 }, { tags: ['c', 'a', 'c'] });
          assert.deepEqual([await tagged('a'), await tagged('b'), await tagged('c')], [['r'], [], ['r']]);
          await store.update('moving', 'r', (x) => x);
          assert.deepEqual([await tagged('a'), await tagged('c')], [['r'], ['r']], 'an update without tags keeps them');
          await store.update('moving', 'r', (x) => x, { tags: ['b', 'c'] });
          assert.deepEqual([await tagged('a'), await tagged('b'), await tagged('c')], [[], ['r'], ['r']]);
          await store.update('moving', 'r', (x) => x, { tags: [] });
          assert.deepEqual([await tagged('b'), await tagged('c')], [[], []]);
          await store.put('moving', 'r', { v: 4 }, { tags: ['d', 'e'] });
          await store.put('moving', 's', { v: 1 }, { tags: ['e', 'd'] });
          assert.equal(await store.deleteByTag('moving', 'd'), 2, 'carried as the first tag by one, as a further tag by the other');
          assert.deepEqual(await tagged('e'), []);
        }));

      it('deleteByTag deletes every carrier, frees their unique values and counts them', () =>
        withStore(async (store) => {
          await store.create('tokens', 'a', { v: 1 }, { tags: ['grant:1'], unique: { jti: 'ja' } });
          await store.create('tokens', 'b', { v: 1 }, { tags: ['grant:1', 'grant:2'] });
          await store.create('tokens', 'c', { v: 1 }, { tags: ['grant:2'] });
          assert.equal(await store.deleteByTag('tokens', 'grant:1'), 2);
          assert.equal(await store.get('tokens', 'a'), undefined);
          assert.equal(await store.get('tokens', 'b'), undefined);
          assert.equal(await store.findByUnique('tokens', 'jti', 'ja'), undefined);
          assert.deepEqual(ids(await store.listByTag('tokens', 'grant:2')), ['c']);
          assert.equal(await store.deleteByTag('tokens', 'grant:1'), 0);
          await store.create('tokens', 'a', { v: 2 }, { unique: { jti: 'ja' } });
          assert.equal(await store.deleteByTag('tokens', 'grant:1'), 0, 'a recreated record does not inherit old tags');
          assert.ok(await store.get('tokens', 'a'));
        }));
    });

    describe('expiry', () => {
      it('expires records, their unique values and tags, and counter windows after their ttl', () =>
        withStore(async (store) => {
          const started = Date.now();
          await store.create('exp', 'created', { n: 1 }, { ttlSeconds: 1, unique: { email: 'created@example.com' }, tags: ['t'] });
          await store.put('exp', 'put', { n: 2 }, { ttlSeconds: 1, tags: ['t'] });
          await store.create('exp', 'updated', { n: 3 }, { tags: ['t'] });
          await store.update<Counter>('exp', 'updated', (c) => c, { ttlSeconds: 1, unique: { email: 'updated@example.com' } });
          await store.create('exp', 'consumed', { n: 4 }, { ttlSeconds: 1 });
          assert.equal(await store.consume('exp', 'consumed'), true);
          await store.create('exp', 'kept', { n: 5 }, { tags: ['t'], unique: { email: 'kept@example.com' } });
          await store.create('exp', 'long', { n: 6 }, { ttlSeconds: 600, tags: ['t'] });
          assert.equal(await store.increment('exp', 'counter', 1), 1);
          assert.equal(await store.increment('exp', 'counter', 1), 2);
          const written = Date.now();

          const created = await store.get('exp', 'created');
          assert.ok(created?.expiresAt !== undefined);
          assert.ok(
            created.expiresAt >= started + 1000 - CLOCK_SLACK_MS && created.expiresAt <= written + 1000 + CLOCK_SLACK_MS,
            `expiresAt ${created.expiresAt} should be about a second after ${started}`,
          );
          assert.deepEqual(ids(await store.listByTag('exp', 't')), ['created', 'kept', 'long', 'put', 'updated']);

          await sleep(TTL_WAIT_MS);

          for (const id of ['created', 'put', 'updated', 'consumed']) assert.equal(await store.get('exp', id), undefined, id);
          assert.ok(await store.get('exp', 'kept'));
          assert.ok(await store.get('exp', 'long'));
          assert.equal(await store.findByUnique('exp', 'email', 'created@example.com'), undefined);
          assert.equal(await store.findByUnique('exp', 'email', 'updated@example.com'), undefined);
          assert.equal((await store.findByUnique('exp', 'email', 'kept@example.com'))?.id, 'kept');
          assert.deepEqual(ids(await store.listByTag('exp', 't')), ['kept', 'long']);
          assert.equal(await store.consume('exp', 'consumed'), false);
          await rejectsWith(store.update('exp', 'put', (v) => v), NotFoundError);
          assert.equal(await store.delete('exp', 'created'), false);
          assert.equal(await store.increment('exp', 'counter', 1), 1, 'a new window starts');

          // An expired record blocks neither its id nor its unique values.
          await store.create('exp', 'created', { n: 7 }, { unique: { email: 'created@example.com' } });
          await store.create('exp', 'other', { n: 8 }, { unique: { email: 'updated@example.com' } });
          assert.deepEqual(await store.get('exp', 'created'), { id: 'created', value: { n: 7 } });
          assert.equal((await store.findByUnique('exp', 'email', 'updated@example.com'))?.id, 'other');
          assert.equal(await store.deleteByTag('exp', 't'), 2);
        }));
    });

    describe('concurrency', () => {
      it('update loses no write under 50 parallel increments', () =>
        withStore(async (store) => {
          await store.create('counters', 'x', { n: 0 });
          const results = await Promise.all(
            Array.from({ length: 50 }, () => store.update<Counter>('counters', 'x', (c) => ({ n: c.n + 1 }))),
          );
          assert.deepEqual((await store.get('counters', 'x'))?.value, { n: 50 });
          assert.deepEqual(results.map((r) => r.n).sort((a, b) => a - b), Array.from({ length: 50 }, (_, i) => i + 1));
        }));

      it('consume lets exactly one of 50 parallel callers win and keeps the record readable', () =>
        withStore(async (store) => {
          await store.create('codes', 'c', { scope: 'openid' }, { ttlSeconds: 600 });
          const before = Date.now();
          const results = await Promise.all(Array.from({ length: 50 }, () => store.consume('codes', 'c')));
          const after = Date.now();
          assert.equal(results.filter(Boolean).length, 1);
          const record = await store.get('codes', 'c');
          assert.deepEqual(record?.value, { scope: 'openid' });
          assert.ok(record?.consumedAt !== undefined);
          assert.ok(record.consumedAt >= before - CLOCK_SLACK_MS && record.consumedAt <= after + CLOCK_SLACK_MS, `consumedAt ${record.consumedAt}`);
          assert.ok(record.expiresAt, 'consuming keeps the expiry');
          assert.equal(await store.consume('codes', 'c'), false);
          assert.equal(await store.consume('codes', 'missing'), false);
        }));

      it('increment counts atomically under 50 parallel callers', () =>
        withStore(async (store) => {
          const results = await Promise.all(Array.from({ length: 50 }, () => store.increment('rate', 'ip:1', 60)));
          assert.deepEqual(results.sort((a, b) => a - b), Array.from({ length: 50 }, (_, i) => i + 1));
          assert.equal(await store.increment('rate', 'ip:1', 60), 51);
          assert.equal(await store.increment('rate', 'ip:2', 60), 1);
        }));

      it('update loses no write when two store instances race', async (t) => {
        const fixture = await factory();
        try {
          if (!fixture.reopen) {
            t.skip(`${name} keeps data per instance: there is no second instance to race`);
            return;
          }
          const other = await fixture.reopen();
          try {
            await fixture.store.create('counters', 'x', { n: 0 });
            const bump = (s: DocumentStore): Promise<Counter> => s.update<Counter>('counters', 'x', (c) => ({ n: c.n + 1 }));
            await Promise.all(Array.from({ length: 25 }, () => [bump(fixture.store), bump(other)]).flat());
            assert.deepEqual((await other.get('counters', 'x'))?.value, { n: 50 });
          } finally {
            await other.close();
          }
        } finally {
          await fixture.cleanup();
        }
      });
    });

    describe('durability and lifecycle', () => {
      it('keeps values, expiry, consumption, indexes, tags and counters across close and reopen', async (t) => {
        const fixture = await factory();
        try {
          if (!fixture.reopen) {
            t.skip(`${name} is not durable by design`);
            return;
          }
          await writeDurabilityFixture(fixture.store);
          const before = await readDurabilityFixture(fixture.store);
          await fixture.store.close();
          const reopened = await fixture.reopen();
          try {
            assert.deepEqual(await readDurabilityFixture(reopened), before);
            await checkDurabilityFixtureBehaviour(reopened);
          } finally {
            await reopened.close();
          }
        } finally {
          await fixture.cleanup();
        }
      });

      it('ping resolves while the store is open', () =>
        withStore(async (store) => {
          await store.ping();
        }));

      it('rejects every operation with StoreUnavailableError once closed, and close is idempotent', () =>
        withStore(async (store) => {
          await store.create('things', 'a', { v: 1 });
          await store.close();
          await store.close();
          const calls: Record<string, Promise<unknown>> = {
            get: store.get('things', 'a'),
            create: store.create('things', 'b', { v: 1 }),
            put: store.put('things', 'a', { v: 1 }),
            update: store.update('things', 'a', (v) => v),
            delete: store.delete('things', 'a'),
            consume: store.consume('things', 'a'),
            findByUnique: store.findByUnique('things', 'i', 'v'),
            listByTag: store.listByTag('things', 't'),
            deleteByTag: store.deleteByTag('things', 't'),
            increment: store.increment('things', 'c', 60),
            ping: store.ping(),
          };
          await assertAllUnavailable(calls);
        }));
    });
  });
}

/** Settles every call (so none is left unhandled) and checks each rejected with StoreUnavailableError. */
export async function assertAllUnavailable(calls: Record<string, Promise<unknown>>): Promise<void> {
  const names = Object.keys(calls);
  const results = await Promise.allSettled(Object.values(calls));
  results.forEach((result, i) => {
    const method = names[i];
    assert.equal(result.status, 'rejected', `${method} should reject`);
    if (result.status === 'rejected') {
      assert.ok(result.reason instanceof StoreUnavailableError, `${method} rejected with ${String(result.reason)}`);
    }
  });
}

/** Data for restart tests; exported so backend-specific restart tests (a Redis server restart) check the same things. */
export async function writeDurabilityFixture(store: DocumentStore): Promise<void> {
  await store.create('durable', 'plain', { name: 'plain', list: [1, 2] }, { unique: { email: 'p@example.com' }, tags: ['g'] });
  await store.create('durable', 'expiring', { name: 'expiring' }, { ttlSeconds: 3600, tags: ['g'] });
  await store.create('durable', 'used', { name: 'used' }, { ttlSeconds: 3600 });
  assert.equal(await store.consume('durable', 'used'), true);
  assert.equal(await store.increment('durable', 'counter', 3600), 1);
}

export async function readDurabilityFixture(store: DocumentStore): Promise<unknown> {
  const plain = await store.get('durable', 'plain');
  const expiring = await store.get('durable', 'expiring');
  const used = await store.get('durable', 'used');
  assert.ok(plain && expiring?.expiresAt && used?.consumedAt && used.expiresAt, 'durability fixture is complete');
  return {
    plain,
    expiring,
    used,
    byEmail: await store.findByUnique('durable', 'email', 'p@example.com'),
    tagged: ids(await store.listByTag('durable', 'g')),
  };
}

export async function checkDurabilityFixtureBehaviour(store: DocumentStore): Promise<void> {
  assert.equal(await store.consume('durable', 'used'), false, 'consumption survives');
  assert.equal(await store.increment('durable', 'counter', 3600), 2, 'the counter and its window survive');
  await assert.rejects(store.create('durable', 'other', {}, { unique: { email: 'p@example.com' } }), AlreadyExistsError);
}

/**
 * Tests for backends that take an injected clock (memory, sqlite): expiry and counter windows
 * follow that clock exactly, so no test has to sleep.
 */
export function injectedClockConformance(
  name: string,
  factory: (clock: ManualClock) => Promise<{ store: DocumentStore; cleanup: () => Promise<void> }>,
): void {
  describe(`DocumentStore on an injected clock: ${name}`, () => {
    it('computes expiresAt and consumedAt from the clock and expires right after expiresAt', async () => {
      const clock = new ManualClock();
      const { store, cleanup } = await factory(clock);
      try {
        const start = clock.now();
        await store.create('c', 'a', { v: 1 }, { ttlSeconds: 10, unique: { k: 'a' }, tags: ['t'] });
        await store.create('c', 'b', { v: 1 }, { ttlSeconds: 20 });
        assert.equal((await store.get('c', 'a'))?.expiresAt, start + 10_000);
        clock.advance(5_000);
        assert.equal(await store.consume('c', 'a'), true);
        assert.equal((await store.get('c', 'a'))?.consumedAt, start + 5_000);
        await store.update<{ v: number }>('c', 'a', (c) => ({ v: c.v + 1 }));
        assert.equal((await store.get('c', 'a'))?.expiresAt, start + 10_000, 'update keeps the expiry');
        await store.update<{ v: number }>('c', 'b', (c) => c, { ttlSeconds: 1 });
        assert.equal((await store.get('c', 'b'))?.expiresAt, start + 6_000, 'a new ttl counts from now');

        clock.advance(5_000);
        assert.ok(await store.get('c', 'a'), 'still there at expiresAt');
        assert.equal(await store.get('c', 'b'), undefined);
        clock.advance(1);
        assert.equal(await store.get('c', 'a'), undefined, 'gone after expiresAt');
        assert.equal(await store.findByUnique('c', 'k', 'a'), undefined);
        assert.deepEqual(await store.listByTag('c', 't'), []);
        await store.create('c', 'a', { v: 2 }, { unique: { k: 'a' } });
        assert.deepEqual(await store.findByUnique('c', 'k', 'a'), { id: 'a', value: { v: 2 } });
      } finally {
        await cleanup();
      }
    });

    it('runs fixed counter windows on the clock', async () => {
      const clock = new ManualClock();
      const { store, cleanup } = await factory(clock);
      try {
        assert.equal(await store.increment('rate', 'x', 60), 1);
        clock.advance(60_000);
        assert.equal(await store.increment('rate', 'x', 60), 2);
        clock.advance(1);
        assert.equal(await store.increment('rate', 'x', 60), 1, 'the window lasts windowSeconds from the first increment');
        assert.equal(await store.increment('rate', 'x', 60), 2);
      } finally {
        await cleanup();
      }
    });
  });
}
