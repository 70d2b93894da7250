/**
 * The API's token check on its own: a real key service on a store, tokens signed with the
 * tenant's keys as the provider signs them, and a clock the tests move.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { importJWK, SignJWT, type JWTPayload } from 'jose';
import { AccessTokenVerifier } from '../../../src/api/access-token.ts';
import { GraphError } from '../../../src/api/errors.ts';
import { loadConfig } from '../../../src/config/load.ts';
import type { PorticoConfig } from '../../../src/config/types.ts';
import { SigningKeyService } from '../../../src/provider/signing-keys.ts';
import { ManualClock } from '../../../src/shared/clock.ts';
import { createMemoryStore } from '../../../src/storage/memory/memory-store.ts';

const PUBLIC_URL = 'https://id.example.com';
let root: string;
let config: PorticoConfig;

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'portico-access-token-'));
  await mkdir(join(root, 'tenants'));
  await writeFile(join(root, 'portico.yaml'), `publicUrl: ${PUBLIC_URL}\n`);
  const daemon = (id: string, roles: string) => `  - id: ${id}\n    name: ${id} app\n    type: daemon\n    secret: \${env:S:-x}\n    graphRoles: ${roles}\n`;
  await writeFile(join(root, 'tenants', 'contoso.yaml'), `id: contoso\ndisplayName: Contoso\ndomains: [contoso.example]\napps:\n${daemon('admin', '[User.Invite.All, User.Read.All]')}${daemon('plain', '[]')}`);
  await writeFile(join(root, 'tenants', 'northwind.yaml'), `id: northwind\ndisplayName: Northwind\ndomains: [northwind.example]\napps:\n${daemon('nw', '[User.Read.All]')}`);
  config = (await loadConfig(root, {})).config;
});
after(() => rm(root, { recursive: true, force: true }));

const unauthorized = (pattern: RegExp) => (error: unknown) =>
  error instanceof GraphError && error.status === 401 && error.code === 'InvalidAuthenticationToken' && pattern.test(error.message);

describe('management API access tokens', () => {
  let clock: ManualClock;
  let keys: SigningKeyService;
  let verifier: AccessTokenVerifier;

  before(async () => {
    clock = new ManualClock(Date.UTC(2026, 5, 1));
    keys = new SigningKeyService({ store: createMemoryStore({ clock }), clock });
    await keys.ensure('contoso', ['RS256', 'ES256']);
    await keys.ensure('northwind', ['RS256', 'ES256']);
    verifier = new AccessTokenVerifier({ publicUrl: PUBLIC_URL, tenants: config.tenants, keys, clock, refreshSeconds: 30 });
  });

  async function sign(claims: JWTPayload = {}, options: { tenant?: string; kid?: string; typ?: string; alg?: 'ES256' | 'RS256' } = {}): Promise<string> {
    const tenant = options.tenant ?? 'contoso';
    const alg = options.alg ?? 'ES256';
    const key = (await keys.load(tenant))!.keys.find((k) => k.alg === alg && k.state === 'current')!;
    const now = Math.floor(clock.now() / 1000);
    return new SignJWT({
      iss: `${PUBLIC_URL}/${tenant}/v2.0`,
      aud: `${PUBLIC_URL}/graph`,
      sub: 'admin',
      client_id: 'admin',
      tid: tenant,
      roles: ['User.Invite.All'],
      iat: now,
      exp: now + 3600,
      jti: randomBytes(8).toString('hex'),
      ...claims,
    })
      .setProtectedHeader({ alg, kid: options.kid ?? key.kid, typ: options.typ ?? 'at+jwt' })
      .sign(await importJWK(key.privateJwk as never, alg));
  }

  it('names the tenant, the app and the roles the app still holds', async () => {
    const caller = await verifier.verify(`Bearer ${await sign({ roles: ['User.Invite.All', 'User.ReadWrite.All', 'Directory.ReadWrite.All'] })}`);
    assert.equal(caller.tenant.id, 'contoso');
    assert.equal(caller.app.id, 'admin');
    assert.deepEqual([...caller.roles], ['User.Invite.All'], 'roles the config does not give the app are dropped');
    assert.deepEqual(caller.actor, { kind: 'app', appId: 'admin', displayName: 'admin app' });
    assert.equal((await verifier.verify(`bearer ${await sign({}, { alg: 'RS256' })}`)).app.id, 'admin', 'scheme case-insensitive; RS256 keys verify too');
  });

  it('refuses what is not a bearer token of a known tenant', async () => {
    await assert.rejects(verifier.verify(undefined), unauthorized(/empty/));
    await assert.rejects(verifier.verify('Basic YTpi'), unauthorized(/empty/));
    await assert.rejects(verifier.verify(`Bearer ${'a'.repeat(9000)}`), unauthorized(/validation failure/));
    await assert.rejects(verifier.verify('Bearer a.b.c'), unauthorized(/validation failure/));
    await assert.rejects(verifier.verify(`Bearer ${await sign({ iss: `${PUBLIC_URL}/fabrikam/v2.0` })}`), unauthorized(/issuer/));
    await assert.rejects(verifier.verify(`Bearer ${await sign({ iss: 'https://evil.example/contoso/v2.0' })}`), unauthorized(/issuer/));
  });

  it('checks signature, audience, type, expiry and the tenant of every claim', async () => {
    await assert.rejects(verifier.verify(`Bearer ${await sign({ aud: 'api://contoso/payroll' })}`), unauthorized(/audience/));
    await assert.rejects(verifier.verify(`Bearer ${await sign({}, { typ: 'JWT' })}`), unauthorized(/validation failure/));
    // northwind's key under contoso's name: the signature does not verify with contoso's keys.
    const northwindKid = (await keys.load('northwind'))!.keys.find((k) => k.alg === 'ES256' && k.state === 'current')!.kid;
    const wrongKey = await sign({ iss: `${PUBLIC_URL}/contoso/v2.0` }, { tenant: 'northwind', kid: northwindKid });
    await assert.rejects(verifier.verify(`Bearer ${wrongKey}`), unauthorized(/validation failure/));
    await assert.rejects(verifier.verify(`Bearer ${await sign({ tid: 'northwind' })}`), unauthorized(/validation failure/));
    await assert.rejects(verifier.verify(`Bearer ${await sign({ client_id: 'nw' })}`), unauthorized(/validation failure/), "another tenant's app");
    const token = await sign();
    clock.advance(3600_000 + 31_000);
    await assert.rejects(verifier.verify(`Bearer ${token}`), unauthorized(/expired/));
    clock.advance(-(3600_000 + 31_000));
    await assert.rejects(verifier.verify(`Bearer ${await sign({ exp: undefined })}`), unauthorized(/validation failure/), 'exp is required');
  });

  it('picks up keys rotated elsewhere on an unknown kid, at most once per few seconds', async () => {
    // The wrong-key test above used this tenant's forced reload; its window has to pass first.
    clock.advance(5000);
    assert.ok(await verifier.verify(`Bearer ${await sign()}`));
    // Two rotations: the signing key is now one this verifier has never seen.
    await keys.rotate('contoso', 3600);
    await keys.rotate('contoso', 3600);
    assert.equal((await verifier.verify(`Bearer ${await sign()}`)).app.id, 'admin', 'reloaded on the unknown kid');
    await keys.rotate('contoso', 3600);
    await keys.rotate('contoso', 3600);
    await assert.rejects(verifier.verify(`Bearer ${await sign()}`), unauthorized(/validation failure/), 'no second reload within 5 s');
    clock.advance(5000);
    assert.ok(await verifier.verify(`Bearer ${await sign()}`));
  });
});
