import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { fixturesRoot, repoRoot } from './helpers.ts';

const run = promisify(execFile);

/** `portico ...` as a child process, with an environment free of the developer's variables. */
async function portico(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['src/cli/main.ts', ...args], { cwd: repoRoot, env: { PATH: process.env['PATH'], ...env } });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

test('config validate accepts the example config', async () => {
  const result = await portico(['config', 'validate', 'config']);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /^config OK: 1 tenant\(s\) \(contoso\), hash [0-9a-f]{12}\n$/);
  assert.deepEqual(result.stderr.trimEnd().split('\n'), [
    'warning: config/tenants/contoso.yaml: apps[0] (contoso-daemon): secret: CONTOSO_DAEMON_SECRET is not set, so the demo-only default is used: set it in any real deployment',
    'warning: config/tenants/contoso.yaml: apps[1] (contoso-web): secret: CONTOSO_WEB_SECRET is not set, so the demo-only default is used: set it in any real deployment',
  ]);
});

test('config validate defaults to $PORTICO_CONFIG, then ./config', async () => {
  const fromEnv = await portico(['config', 'validate'], { PORTICO_CONFIG: 'test/fixtures/config/redis-without-url' });
  assert.equal(fromEnv.code, 1);
  const fromDefault = await portico(['config', 'validate']);
  assert.equal(fromDefault.code, 0);
});

test('config validate prints every problem and exits 1', async () => {
  const dir = 'test/fixtures/config/many-errors';
  const expected = readFileSync(path.join(fixturesRoot, 'many-errors/expected-errors.txt'), 'utf8').trimEnd().split('\n');
  const result = await portico(['config', 'validate', dir]);
  assert.equal(result.code, 1);
  assert.equal(result.stdout, '');
  assert.deepEqual(result.stderr.trimEnd().split('\n'), [...expected, `config invalid: ${expected.length} error(s)`]);
});

test('help and usage errors', async () => {
  const help = await portico([]);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /^Usage: portico <command>/);
  assert.match(help.stdout, /config validate \[folder\]/);

  const unknown = await portico(['frobnicate']);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /^unknown command 'frobnicate'\n\nUsage: portico/);

  const badOption = await portico(['config', 'validate', '--nope']);
  assert.equal(badOption.code, 2);
  assert.match(badOption.stderr, /Usage: portico config validate \[folder\]/);

  const commandHelp = await portico(['help', 'config', 'validate']);
  assert.equal(commandHelp.code, 0);
  assert.match(commandHelp.stdout, /^Usage: portico config validate \[folder\]\n/);
});
