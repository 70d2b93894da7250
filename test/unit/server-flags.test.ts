import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { serverNodeFlags } from '../../bench/server-flags.ts';

test('the server runs with a small young generation, and the container starts it with the same flags as npm start', () => {
  const flags = serverNodeFlags();
  assert.ok(flags.includes('--max-semi-space-size=8'), `start script flags: ${flags.join(' ')}`);
  const cmd = /^CMD (\[.*\])$/m.exec(readFileSync(new URL('../../docker/Dockerfile', import.meta.url), 'utf8'))?.[1];
  assert.ok(cmd, 'docker/Dockerfile has an exec-form CMD');
  assert.deepEqual(JSON.parse(cmd), ['node_modules/.bin/node', ...flags, 'src/main.ts']);
});

test('reads the flags before the script, and refuses a start script that does not run node', () => {
  const dir = mkdtempSync(join(tmpdir(), 'portico-flags-'));
  const write = (start: string): string => {
    const path = join(dir, 'package.json');
    writeFileSync(path, JSON.stringify({ scripts: { start } }));
    return path;
  };
  assert.deepEqual(serverNodeFlags(write('node --a=1 --b src/main.ts --not-a-node-flag')), ['--a=1', '--b']);
  assert.deepEqual(serverNodeFlags(write('node src/main.ts')), []);
  assert.throws(() => serverNodeFlags(write('tsx src/main.ts')), /must run node/);
});
