import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { ManualClock } from '../../../../src/shared/clock.ts';
import { openSqliteStore } from '../../../../src/storage/sqlite/sqlite-store.ts';
import { connectorPortsSuite } from './ports.suite.ts';

const dir = mkdtempSync(join(tmpdir(), 'portico-ports-sqlite-'));
after(() => rmSync(dir, { recursive: true, force: true }));

let files = 0;
connectorPortsSuite('sqlite', async () => {
  const clock = new ManualClock();
  const path = join(dir, `ports-${++files}.db`);
  const store = openSqliteStore({ path, clock });
  return { store, elapse: async (ms) => clock.advance(ms), second: async () => openSqliteStore({ path, clock }), cleanup: () => store.close() };
}, { multiInstance: true });
