import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { describe, it } from 'node:test';
import { loadConfig } from '../../src/config/load.ts';
import { openStore } from '../../src/main.ts';
import { createLogger } from '../../src/shared/logger.ts';
import { SQLITE_MIGRATIONS, SQLITE_SCHEMA_VERSION } from '../../src/storage/sqlite/sqlite-store.ts';
import { LogCapture } from '../helpers/portico.ts';

const EXAMPLE_CONFIG = new URL('../../config/', import.meta.url).pathname;

describe('opening an older SQLite file', () => {
  it('logs a warning naming the file and both schema versions before upgrading it, and nothing for a current file', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'portico-upgrade-'));
    try {
      const { config } = await loadConfig(EXAMPLE_CONFIG, { PORTICO_DATA: dataDir, CONTOSO_DAEMON_SECRET: 'x', CONTOSO_WEB_SECRET: 'y' });
      const path = config.broker.storage.sqlite.path;
      const old = new DatabaseSync(path);
      for (const migration of SQLITE_MIGRATIONS.slice(0, 2)) old.exec(migration);
      old.exec('PRAGMA user_version = 2');
      old.close();

      const logs = new LogCapture();
      const logger = createLogger({ level: 'info', destination: logs });
      await (await openStore(config.broker.storage, logger)).close();
      await (await openStore(config.broker.storage, logger)).close();

      const upgrades = logs.lines.map((line) => JSON.parse(line) as Record<string, unknown>).filter((entry) => /upgrading the sqlite store/.test(String(entry['msg'])));
      assert.equal(upgrades.length, 1, logs.text);
      assert.equal(upgrades[0]?.['level'], 'warn');
      assert.equal(upgrades[0]?.['path'], path);
      assert.equal(upgrades[0]?.['from'], 2);
      assert.equal(upgrades[0]?.['to'], SQLITE_SCHEMA_VERSION);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
