/**
 * Every folder under test/fixtures/config/ is an invalid config paired with the exact messages
 * the loader must report for it (expected-errors.txt, one per line, in order) and optionally the
 * environment to load it with (env.json). Adding a case needs no code here.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { loadConfig } from '../../../src/config/load.ts';
import { ConfigError } from '../../../src/shared/errors.ts';
import { fixturesRoot, repoRoot } from './helpers.ts';

// Messages show paths relative to the working directory, as an operator running from the
// repository root would see them.
process.chdir(repoRoot);

const cases = readdirSync(fixturesRoot, { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name)
  .sort();

test('the fixture set covers the required cases', () => {
  for (const required of [
    'unknown-key',
    'bad-redirect-uri',
    'literal-secret',
    'unset-env-var',
    'unknown-api',
    'duplicate-app-id',
    'duplicate-domain',
    'tenant-id-mismatch',
    'yaml-syntax-error',
    'many-errors',
    'redis-without-url',
    'unknown-partner',
    'domain-routed-twice',
    'bad-branding',
    'unknown-connector-kind',
    'saml-unknown-key',
    'connector-literal-secret',
    'email-otp-disabled',
    'sign-in-rules',
    'invitation-rules',
  ]) {
    assert.ok(cases.includes(required), `missing fixture ${required}`);
  }
});

for (const name of cases) {
  test(`invalid config: ${name}`, async () => {
    const dir = path.join(fixturesRoot, name);
    const expected = readFileSync(path.join(dir, 'expected-errors.txt'), 'utf8').split('\n').filter((line) => line !== '');
    const envFile = path.join(dir, 'env.json');
    const env = existsSync(envFile) ? (JSON.parse(readFileSync(envFile, 'utf8')) as NodeJS.ProcessEnv) : {};

    const error = await loadConfig(path.relative(repoRoot, dir), env).then(
      () => assert.fail('expected the config to be rejected'),
      (thrown: unknown) => thrown,
    );
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
    assert.deepEqual(error.problems, expected);
  });
}
