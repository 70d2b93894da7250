import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { runModule } from '../../helpers/child-module.ts';

const loggerUrl = pathToFileURL(fileURLToPath(new URL('../../../src/shared/logger.ts', import.meta.url))).href;

/** Runs `body` in a child process with `createLogger` imported; resolves with its stdout. */
const runChild = (body: string): Promise<string> => runModule(`import { createLogger } from ${JSON.stringify(loggerUrl)};\n${body}`);

describe('logger on standard output', () => {
  it('loses no line when the process exits right after logging, from several loggers sharing stdout', async () => {
    const out = await runChild(`
      const main = createLogger({ level: 'info' });
      const access = createLogger({ level: 'info', redact: false });
      for (let i = 0; i < 2000; i++) (i % 2 ? main : access).info({ n: i }, 'line');
      process.exit(0);
    `);
    const lines = out.trim().split('\n').map((line) => JSON.parse(line) as { n: number; msg: string });
    assert.equal(lines.length, 2000);
    assert.deepEqual(new Set(lines.map((line) => line.n)).size, 2000, 'every line whole and once');
  });

  it('redacts secrets wherever they sit in a logged object', async () => {
    const out = await runChild(`
      createLogger({ level: 'info' }).info({ client_secret: 's1', nested: { code: 'c1', deeper: { refresh_token: 'r1' } }, keep: 'k' }, 'secrets');
    `);
    assert.ok(!/s1|c1|r1/.test(out), out);
    const line = JSON.parse(out) as { client_secret: string; keep: string; nested: { code: string; deeper: { refresh_token: string } } };
    assert.equal(line.keep, 'k');
    assert.deepEqual([line.client_secret, line.nested.code, line.nested.deeper.refresh_token], ['[redacted]', '[redacted]', '[redacted]']);
  });
});
