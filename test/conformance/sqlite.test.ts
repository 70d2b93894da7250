import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, describe, it } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { AlreadyExistsError, StoreUnavailableError } from '../../src/storage/errors.ts';
import { startCheckpointer } from '../../src/storage/sqlite/checkpointer.ts';
import { SQLITE_MIGRATIONS, SQLITE_SCHEMA_VERSION, openSqliteStore } from '../../src/storage/sqlite/sqlite-store.ts';
import { runModule } from '../helpers/child-module.ts';
import { documentStoreConformance, injectedClockConformance } from './document-store.suite.ts';

const dir = mkdtempSync(join(tmpdir(), 'portico-sqlite-'));
after(() => rmSync(dir, { recursive: true, force: true }));

let files = 0;
const freshPath = (): string => join(dir, `store-${++files}`, 'portico.db');

documentStoreConformance('sqlite', async () => {
  const path = freshPath();
  const store = openSqliteStore({ path });
  return {
    store,
    reopen: async () => openSqliteStore({ path }),
    cleanup: async () => {
      await store.close();
      rmSync(join(path, '..'), { recursive: true, force: true });
    },
  };
});

injectedClockConformance('sqlite', async (clock) => {
  const path = freshPath();
  const store = openSqliteStore({ path, clock });
  return { store, cleanup: () => store.close() };
});

describe('sqlite store file', () => {
  it('creates missing parent directories, uses WAL and records its schema version', async () => {
    const path = join(dir, 'nested', 'deeper', 'portico.db');
    const store = openSqliteStore({ path });
    await store.put('c', 'a', { v: 1 });
    await store.close();
    const db = new DatabaseSync(path);
    try {
      assert.equal(db.prepare('PRAGMA journal_mode').get()?.['journal_mode'], 'wal');
      assert.equal(db.prepare('PRAGMA user_version').get()?.['user_version'], SQLITE_SCHEMA_VERSION);
    } finally {
      db.close();
    }
  });

  it('checkpoints the write-ahead log off the event loop, so the WAL stays small under sustained writes', async () => {
    const path = freshPath();
    const store = openSqliteStore({ path });
    const payload = 'x'.repeat(4000);
    const walSizes: number[] = [];
    try {
      for (let round = 0; round < 12; round++) {
        for (let i = 0; i < 300; i++) await store.put('bulk', `r${round}-${i}`, { payload });
        walSizes.push(statSync(`${path}-wal`).size);
        // A pause like a quiet moment between requests: the worker's next tick checkpoints.
        await new Promise((resolve) => setTimeout(resolve, 600));
      }
    } finally {
      await store.close();
    }
    // Without checkpoints the WAL would hold every page written, twelve rounds' worth (below the
    // connection's own auto-checkpoint backstop); checkpointed and reused from its start, it
    // stays near one round.
    const [firstRound] = walSizes;
    const largest = Math.max(...walSizes);
    assert.ok(firstRound! > 1_000_000);
    assert.ok(largest < 2.5 * firstRound!, `the WAL grew from ${firstRound} to ${largest} bytes: ${walSizes.join(', ')}`);
  });

  it('keeps the WAL bounded under writes that never pause', async () => {
    const path = freshPath();
    const store = openSqliteStore({ path });
    // About what a token record holds; ids spread over the table as random token ids do.
    const payload = 'x'.repeat(500);
    const walSizes: number[] = [];
    const started = Date.now();
    try {
      for (let i = 0; Date.now() - started < 4000; i++) {
        await store.put('bulk', `r${(i * 7919) % 50_000}`, { payload });
        if (i % 500 === 0) walSizes.push(statSync(`${path}-wal`).size);
        // One event-loop turn per write, as a busy server has between requests; never a pause.
        await new Promise((resolve) => setImmediate(resolve));
      }
    } finally {
      await store.close();
    }
    // Passive checkpoints alone never catch up with writes like these: the WAL grows to the
    // auto-checkpoint backstop (about 200 MB) again and again. Restarted, it is reused from its
    // start, and its file stays near the 64 MB restart threshold (also the journal_size_limit).
    // The first half is the worker catching up with the backlog of its start.
    const steady = walSizes.slice(Math.floor(walSizes.length / 2));
    assert.ok(walSizes.length > 40, `only ${walSizes.length * 500} writes: too few to tell`);
    assert.ok(Math.max(...steady) < 128 * 1024 * 1024, `the WAL reached ${Math.max(...steady)} bytes: ${steady.join(', ')}`);
  });

  it('waits for a lock another connection holds without blocking the event loop, and gives up after the busy timeout', async () => {
    const path = freshPath();
    const store = openSqliteStore({ path, busyTimeoutMs: 300 });
    await store.put('c', 'a', { v: 1 });
    const other = new DatabaseSync(path);
    try {
      other.exec('BEGIN IMMEDIATE');
      let settled = false;
      const write = store.put('c', 'a', { v: 2 }).finally(() => (settled = true));
      const loopTurns = await new Promise<number>((resolve) => {
        let turns = 0;
        const tick = (): void => void (++turns === 20 ? resolve(turns) : setTimeout(tick, 5));
        tick();
      });
      assert.equal(loopTurns, 20, 'timers ran while the write waited');
      assert.equal(settled, false, 'the write is still waiting for the lock');
      assert.deepEqual((await store.get('c', 'a'))?.value, { v: 1 }, 'reads go on meanwhile');
      other.exec('COMMIT');
      await write;
      assert.deepEqual((await store.get('c', 'a'))?.value, { v: 2 }, 'the write went through once the lock was free');

      other.exec('BEGIN IMMEDIATE');
      const started = Date.now();
      await assert.rejects(store.consume('c', 'a'), StoreUnavailableError);
      assert.ok(Date.now() - started >= 290, 'it waited for the busy timeout first');
      other.exec('ROLLBACK');
      assert.equal(await store.consume('c', 'a'), true, 'and nothing was half done');
    } finally {
      other.close();
      await store.close();
    }
  });

  it('commits the writes of one event-loop turn together: each succeeds or fails alone, and is on disk when it resolves', async () => {
    const path = freshPath();
    const store = openSqliteStore({ path });
    const reader = new DatabaseSync(path);
    const onDisk = (id: string): unknown => reader.prepare(`SELECT value FROM records WHERE collection = 'c' AND id = ?`).get(id)?.['value'];
    try {
      await store.create('c', 'taken', { v: 0 }, { unique: { mail: 'a@example.com' } });
      const outcomes = await Promise.allSettled([
        store.create('c', 'one', { v: 1 }, { tags: ['t'] }),
        store.create('c', 'clash', { v: 2 }, { unique: { mail: 'a@example.com' } }),
        store.update('c', 'taken', () => {
          throw new Error('updater refused');
        }),
        store.put('c', 'two', { v: 3 }, { tags: ['t'] }),
        store.consume('c', 'one'),
        store.consume('c', 'one'),
        store.increment('n', 'hits', 60),
        store.increment('n', 'hits', 60),
      ]);
      assert.deepEqual(
        outcomes.map((o) => (o.status === 'fulfilled' ? o.value : (o.reason as Error).constructor.name)),
        [undefined, 'AlreadyExistsError', 'Error', undefined, true, false, 1, 2],
      );
      // A second connection sees every write that succeeded, and nothing of those that failed.
      assert.equal(onDisk('one'), '{"v":1}');
      assert.equal(onDisk('two'), '{"v":3}');
      assert.equal(onDisk('clash'), undefined);
      assert.equal(onDisk('taken'), '{"v":0}');
      assert.deepEqual((await store.listByTag('c', 't')).map((r) => r.id).sort(), ['one', 'two']);
    } finally {
      reader.close();
      await store.close();
    }
  });

  it('refuses a write made from inside an update callback instead of committing it apart from the update', async () => {
    const store = openSqliteStore({ path: freshPath() });
    try {
      await store.put('c', 'a', { v: 1 });
      let nested: Promise<void> | undefined;
      const updated = await store.update('c', 'a', (current: { v: number }) => {
        nested = store.put('c', 'b', { v: 2 });
        return { v: current.v + 1 };
      });
      assert.deepEqual(updated, { v: 2 });
      await assert.rejects(nested as Promise<void>, /called from inside an update callback/);
      assert.equal(await store.get('c', 'b'), undefined);
    } finally {
      await store.close();
    }
  });

  it('carries out writes asked for before close instead of dropping them', async () => {
    const path = freshPath();
    const store = openSqliteStore({ path });
    const write = store.put('c', 'late', { v: 1 });
    await store.close();
    await write;
    const reopened = openSqliteStore({ path });
    try {
      assert.deepEqual((await reopened.get('c', 'late'))?.value, { v: 1 });
      await assert.rejects(store.put('c', 'after', {}), StoreUnavailableError);
    } finally {
      await reopened.close();
    }
  });

  it('reports a checkpointer that dies instead of swallowing it', async () => {
    const errors: Error[] = [];
    const reported = new Promise<void>((resolve) => {
      const checkpointer = startCheckpointer(join(dir, 'no-such-folder', 'portico.db'), {
        onError: (error) => {
          errors.push(error);
          void checkpointer.close().then(() => resolve());
        },
      });
    });
    await reported;
    assert.equal(errors.length, 1);
    assert.match(errors[0]!.message, /unable to open database file/);
  });

  it('refuses a file written by a newer schema instead of misreading it', async () => {
    const path = freshPath();
    await openSqliteStore({ path }).close();
    const db = new DatabaseSync(path);
    db.exec(`PRAGMA user_version = ${SQLITE_SCHEMA_VERSION + 1}`);
    db.close();
    assert.throws(() => openSqliteStore({ path }), (error: unknown) => {
      assert.ok(error instanceof StoreUnavailableError);
      assert.match(error.message, /newer than this Portico understands/);
      return true;
    });
  });

  /** A file as the Portico of schema `version` left it: its migrations only. */
  const fileAtVersion = (version: number): { path: string; db: DatabaseSync } => {
    const path = freshPath();
    mkdirSync(dirname(path), { recursive: true });
    const db = new DatabaseSync(path);
    db.exec('PRAGMA journal_mode = WAL');
    for (const migration of SQLITE_MIGRATIONS.slice(0, version)) db.exec(migration);
    db.exec(`PRAGMA user_version = ${version}`);
    return { path, db };
  };

  it('brings a version 1 file forward: tags written before the tag column are still listed, deleted and replaced', async () => {
    // What version 1 wrote: no tag column, every tag in the tags table.
    const { path, db } = fileAtVersion(1);
    const insert = db.prepare(`INSERT INTO records (collection, id, value, expires_at) VALUES ('tokens', ?, '{"v":1}', NULL)`);
    const tag = db.prepare(`INSERT INTO tags (collection, tag, id) VALUES ('tokens', ?, ?)`);
    for (const id of ['old-1', 'old-2', 'old-3']) insert.run(id);
    tag.run('grant:1', 'old-1');
    tag.run('grant:1', 'old-2');
    tag.run('grant:2', 'old-3');
    db.close();

    const store = openSqliteStore({ path });
    try {
      await store.create('tokens', 'new-1', { v: 2 }, { tags: ['grant:1'] });
      const listed = async (t: string) => (await store.listByTag('tokens', t)).map((r) => r.id).sort();
      assert.deepEqual(await listed('grant:1'), ['new-1', 'old-1', 'old-2']);
      await store.put('tokens', 'old-2', { v: 3 }, { tags: ['grant:2'] });
      assert.deepEqual(await listed('grant:1'), ['new-1', 'old-1']);
      assert.deepEqual(await listed('grant:2'), ['old-2', 'old-3']);
      assert.equal(await store.deleteByTag('tokens', 'grant:1'), 2);
      assert.deepEqual(await listed('grant:1'), []);
    } finally {
      await store.close();
    }
    const reopened = new DatabaseSync(path);
    assert.equal(reopened.prepare('PRAGMA user_version').get()?.['user_version'], SQLITE_SCHEMA_VERSION);
    reopened.close();
  });

  it('announces an upgrade only for a file an older Portico wrote', async () => {
    const path = freshPath();
    const upgrades: unknown[] = [];
    await openSqliteStore({ path, onUpgrade: (upgrade) => upgrades.push(upgrade) }).close();
    await openSqliteStore({ path, onUpgrade: (upgrade) => upgrades.push(upgrade) }).close();
    assert.deepEqual(upgrades, []);
  });

  it('brings a version 2 file forward: records move to a rowid table and keep their values, unique values, tags and consumption', async () => {
    const { path, db } = fileAtVersion(2);
    const later = Date.now() + 3_600_000;
    const insert = db.prepare(`INSERT INTO records (collection, id, value, consumed_at, expires_at, version, tag) VALUES (?, ?, ?, ?, ?, ?, ?)`);
    insert.run('users', 'u1', '{"name":"Zoë"}', null, null, 3, 'tenant:contoso');
    insert.run('tokens', 't1', '{"v":1}', 1_700_000_000_000, later, 1, 'grant:1');
    insert.run('tokens', 't2', '{"v":2}', null, later, 1, 'grant:1');
    db.prepare(`INSERT INTO unique_keys (collection, index_name, value, id) VALUES ('users', 'upn', 'zoe@contoso.example', 'u1')`).run();
    db.prepare(`INSERT INTO tags (collection, tag, id) VALUES ('users', 'group:admins', 'u1')`).run();
    db.close();

    const upgrades: unknown[] = [];
    const store = openSqliteStore({ path, onUpgrade: (upgrade) => upgrades.push(upgrade) });
    try {
      assert.deepEqual(upgrades, [{ from: 2, to: SQLITE_SCHEMA_VERSION }]);
      assert.deepEqual(await store.get('users', 'u1'), { id: 'u1', value: { name: 'Zoë' } });
      assert.equal((await store.findByUnique('users', 'upn', 'zoe@contoso.example'))?.id, 'u1');
      assert.deepEqual((await store.listByTag('users', 'group:admins')).map((r) => r.id), ['u1']);
      assert.deepEqual((await store.listByTag('tokens', 'grant:1')).map((r) => r.id).sort(), ['t1', 't2']);
      assert.equal((await store.get('tokens', 't1'))?.consumedAt, 1_700_000_000_000);
      assert.equal(await store.consume('tokens', 't1'), false);
      assert.equal(await store.consume('tokens', 't2'), true);
      await assert.rejects(store.create('users', 'u2', {}, { unique: { upn: 'zoe@contoso.example' } }), AlreadyExistsError);
      await assert.rejects(store.create('users', 'u1', {}), AlreadyExistsError);
      // The unique value and the extra tag still belong to the record: deleting it takes them along.
      assert.equal(await store.delete('users', 'u1'), true);
      assert.equal(await store.findByUnique('users', 'upn', 'zoe@contoso.example'), undefined);
      assert.deepEqual(await store.listByTag('users', 'group:admins'), []);
      await store.create('users', 'u2', {}, { unique: { upn: 'zoe@contoso.example' } });
    } finally {
      await store.close();
    }
    const reopened = new DatabaseSync(path);
    try {
      assert.equal(reopened.prepare('PRAGMA user_version').get()?.['user_version'], SQLITE_SCHEMA_VERSION);
      const table = String(reopened.prepare(`SELECT sql FROM sqlite_schema WHERE name = 'records'`).get()?.['sql']);
      assert.doesNotMatch(table, /WITHOUT ROWID/);
      assert.deepEqual(reopened.prepare('PRAGMA foreign_key_check').all(), []);
      assert.equal(reopened.prepare(`SELECT count(*) AS n FROM tags WHERE id = 'u1'`).get()?.['n'], 0);
    } finally {
      reopened.close();
    }
  });

  it('keeps update, consume and increment atomic across processes sharing the file', async () => {
    const path = freshPath();
    const store = openSqliteStore({ path });
    await store.create('shared', 'counter', { n: 0 });
    await store.create('shared', 'code', { v: 1 });
    const moduleUrl = pathToFileURL(fileURLToPath(new URL('../../src/storage/sqlite/sqlite-store.ts', import.meta.url))).href;
    const child = `
      import { openSqliteStore } from ${JSON.stringify(moduleUrl)};
      const store = openSqliteStore({ path: process.env.PORTICO_TEST_DB });
      let won = 0;
      for (let i = 0; i < 100; i++) {
        await store.update('shared', 'counter', (c) => ({ n: c.n + 1 }));
        await store.increment('shared', 'hits', 3600);
        if (await store.consume('shared', 'code')) won++;
      }
      await store.close();
      process.stdout.write(String(won));
    `;
    const run = async (): Promise<number> => Number(await runModule(child, { ...process.env, PORTICO_TEST_DB: path }));
    try {
      const wins = await Promise.all([run(), run()]);
      assert.deepEqual((await store.get('shared', 'counter'))?.value, { n: 200 });
      assert.equal(await store.increment('shared', 'hits', 3600), 201);
      assert.equal(wins[0]! + wins[1]!, 1, 'exactly one process consumed the code');
    } finally {
      await store.close();
    }
  });
});
