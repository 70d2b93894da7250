import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { loadConfig } from '../../../src/config/load.ts';
import { ConfigError } from '../../../src/shared/errors.ts';
import { configFolder, minimalTenant, problemsOf } from './helpers.ts';

const webApp = (secret: string) => `apps:
  - id: web
    name: Web
    type: web
    secret: ${secret}
    redirectUris: [https://app.contoso.example/callback]
`;

test('without portico.yaml every broker key takes its default', async () => {
  const dir = await configFolder({ 'tenants/contoso.yaml': minimalTenant() });
  const { config, warnings } = await loadConfig(dir, {});
  assert.deepEqual(warnings, []);
  assert.equal(config.broker.port, 3000);
  assert.equal(config.broker.publicUrl, 'http://localhost:3000');
  assert.equal(config.broker.dataDir, path.resolve('data'));
  assert.equal(config.broker.storage.sqlite.path, path.resolve('data/portico.db'));
  assert.equal(config.broker.mail.outboxDir, path.resolve('data/outbox'));
  assert.equal(config.tenants[0]?.file, `${dir}/tenants/contoso.yaml`);
});

test('PORT, PUBLIC_URL, PORTICO_DATA, REDIS_URL and LOG_LEVEL override the file', async () => {
  const dir = await configFolder({
    'portico.yaml': 'port: 4000\npublicUrl: https://file.example.com\ndataDir: /from/file\nstorage:\n  backend: redis\n  redis:\n    url: redis://file:6379\nlog:\n  level: warn\n',
    'tenants/contoso.yaml': minimalTenant(),
  });
  const { config } = await loadConfig(dir, {
    PORT: '8080',
    PUBLIC_URL: 'https://ID.example.com/portico/',
    PORTICO_DATA: '/var/lib/portico',
    REDIS_URL: 'rediss://:pw@redis.internal:6380',
    LOG_LEVEL: 'debug',
  });
  assert.equal(config.broker.port, 8080);
  assert.equal(config.broker.publicUrl, 'https://id.example.com/portico');
  assert.equal(config.broker.dataDir, '/var/lib/portico');
  assert.equal(config.broker.storage.sqlite.path, '/var/lib/portico/portico.db');
  assert.equal(config.broker.mail.outboxDir, '/var/lib/portico/outbox');
  assert.equal(config.broker.storage.redis.url, 'rediss://:pw@redis.internal:6380');
  assert.equal(config.broker.log.level, 'debug');
});

test('the default publicUrl follows the effective port; a relative PORTICO_DATA is resolved against the working directory', async () => {
  const dir = await configFolder({ 'tenants/contoso.yaml': minimalTenant() });
  const { config } = await loadConfig(dir, { PORT: '8443', PORTICO_DATA: 'var/portico' });
  assert.equal(config.broker.publicUrl, 'http://localhost:8443');
  assert.equal(config.broker.dataDir, path.resolve('var/portico'));
});

test('REDIS_URL satisfies the redis backend, and empty variables count as unset', async () => {
  const dir = await configFolder({ 'portico.yaml': 'storage:\n  backend: redis\n', 'tenants/contoso.yaml': minimalTenant() });
  const { config } = await loadConfig(dir, { REDIS_URL: 'redis://localhost:6379', PORT: '' });
  assert.equal(config.broker.storage.redis.url, 'redis://localhost:6379');
  assert.equal(config.broker.port, 3000);
  assert.deepEqual(await problemsOf(dir, { REDIS_URL: '' }), [
    'portico.yaml: storage.redis.url: is required when storage.backend is redis (or set REDIS_URL)',
  ]);
});

test('${env:NAME:-default} uses the variable when set and the default otherwise', async () => {
  const dir = await configFolder({
    'tenants/contoso.yaml': minimalTenant('contoso', webApp('${env:WEB_SECRET:-demo-secret}')).replace(
      'displayName: contoso',
      'displayName: ${env:CONTOSO_NAME:-Contoso Ltd}',
    ),
  });
  const defaulted = await loadConfig(dir, {});
  const tenant = defaulted.config.tenants[0];
  assert.equal(tenant?.displayName, 'Contoso Ltd');
  assert.equal(tenant?.apps[0]?.secret, 'demo-secret');
  assert.equal(tenant?.apps[0]?.secretIsDemoDefault, true);
  // Only secrets deserve a warning: a default display name is ordinary configuration.
  assert.deepEqual(defaulted.warnings, [
    `${dir}/tenants/contoso.yaml: apps[0] (web): secret: WEB_SECRET is not set, so the demo-only default is used: set it in any real deployment`,
  ]);

  const set = await loadConfig(dir, { WEB_SECRET: 's3cret', CONTOSO_NAME: 'Contoso' });
  assert.equal(set.config.tenants[0]?.displayName, 'Contoso');
  assert.equal(set.config.tenants[0]?.apps[0]?.secret, 's3cret');
  assert.equal(set.config.tenants[0]?.apps[0]?.secretIsDemoDefault, false);
  assert.deepEqual(set.warnings, []);
});

test('references embedded in a longer string are substituted', async () => {
  const dir = await configFolder({
    'portico.yaml': 'publicUrl: https://${env:HOST}/${env:PREFIX:-id}\n',
    'tenants/contoso.yaml': minimalTenant(),
  });
  const { config } = await loadConfig(dir, { HOST: 'sso.example.com' });
  assert.equal(config.broker.publicUrl, 'https://sso.example.com/id');
});

test('an unquoted reference takes the type of its value; a quoted one stays a string', async () => {
  const plain = await configFolder({ 'portico.yaml': 'port: ${env:ADMIN_PORT}\nhttp:\n  trustProxy: ${env:BEHIND_PROXY:-false}\n', 'tenants/contoso.yaml': minimalTenant() });
  const { config } = await loadConfig(plain, { ADMIN_PORT: '4000', BEHIND_PROXY: 'true' });
  assert.equal(config.broker.port, 4000);
  assert.equal(config.broker.http.trustProxy, true);

  const quoted = await configFolder({ 'portico.yaml': 'port: "${env:ADMIN_PORT}"\n', 'tenants/contoso.yaml': minimalTenant() });
  assert.deepEqual(await problemsOf(quoted, { ADMIN_PORT: '4000' }), ['portico.yaml: port: must be a number (got a string)']);
});

test('the memory backend loads with a warning', async () => {
  const dir = await configFolder({ 'portico.yaml': 'storage:\n  backend: memory\n', 'tenants/contoso.yaml': minimalTenant() });
  const { config, warnings } = await loadConfig(dir, {});
  assert.equal(config.broker.storage.backend, 'memory');
  assert.deepEqual(warnings, [
    `${dir}/portico.yaml: storage.backend: 'memory' keeps all state in this process: it is lost on restart and not shared between instances (development and tests only)`,
  ]);
});

test('a missing config folder is an error', async () => {
  const dir = await configFolder({});
  const missing = path.join(dir, 'nope');
  await assert.rejects(loadConfig(missing, {}), (error: unknown) => {
    assert.ok(error instanceof ConfigError);
    assert.deepEqual(error.problems, [`${missing}: config folder not found`]);
    return true;
  });
});

test('tenants come sorted by id, and files that are not tenants are ignored', async () => {
  const dir = await configFolder({
    'tenants/northwind.yaml': minimalTenant('northwind'),
    'tenants/contoso.yaml': minimalTenant('contoso'),
    'tenants/README.md': '# not a tenant',
    'tenants/.contoso.yaml.swp': 'garbage',
    'examples/broken/portico.yaml': 'not: [valid',
    'REFERENCE.md': '# docs',
  });
  const { config } = await loadConfig(dir, {});
  assert.deepEqual(config.tenants.map((tenant) => tenant.id), ['contoso', 'northwind']);
});

test('an empty value counts as not set', async () => {
  const dir = await configFolder({
    'portico.yaml': 'storage:\n  sqlite:\n    # path: ./elsewhere.db\nmail:\n',
    'tenants/contoso.yaml': 'id: contoso\ndisplayName:\ndomains: [contoso.example]\n',
  });
  assert.deepEqual(await problemsOf(dir), ['tenants/contoso.yaml: displayName: is required']);
});

test('the hash identifies the files read', async () => {
  const files = { 'portico.yaml': 'port: 3000\n', 'tenants/contoso.yaml': minimalTenant() };
  const a = await loadConfig(await configFolder(files), {});
  const b = await loadConfig(await configFolder({ ...files, 'notes.txt': 'ignored' }), {});
  const c = await loadConfig(await configFolder({ ...files, 'portico.yaml': 'port: 3001\n' }), {});
  assert.match(a.config.hash, /^[0-9a-f]{64}$/);
  assert.equal(a.config.hash, b.config.hash);
  assert.notEqual(a.config.hash, c.config.hash);
});

test('every problem is reported, across files, in file order then line order', async () => {
  const dir = await configFolder({
    'portico.yaml': 'log:\n  level: loud\nport: 0\n',
    'tenants/b.yaml': 'id: b\ndisplayName: B\ndomains: [a.example]\n',
    'tenants/a.yaml': 'id: a\ndisplayName: A\ndomains: [a.example]\nextra: 1\n',
  });
  assert.deepEqual(await problemsOf(dir, { PORT: '99999' }), [
    'portico.yaml: log.level: must be one of: fatal, error, warn, info, debug, trace',
    'portico.yaml: port: must be at least 1',
    "environment variable PORT: must be a port number from 1 to 65535 (got '99999')",
    'tenants/a.yaml: extra: unknown key',
    "tenants/b.yaml: domains[0]: 'a.example' is already used by tenant 'a' (tenants/a.yaml)",
  ]);
});

test('a literal secret is rejected even when it would otherwise be valid', async () => {
  const dir = await configFolder({ 'tenants/contoso.yaml': minimalTenant('contoso', webApp('literally-this')) });
  assert.deepEqual(await problemsOf(dir), ['tenants/contoso.yaml: apps[0] (web): secret: secrets must be environment references like ${env:NAME}']);
});
