import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SigningKeyService, providerJwks } from '../../../src/provider/signing-keys.ts';
import { ManualClock } from '../../../src/shared/clock.ts';
import { createMemoryStore } from '../../../src/storage/memory/memory-store.ts';

const HOUR = 3600;

function setup(encryptionSecret?: string) {
  const clock = new ManualClock();
  const store = createMemoryStore({ clock });
  return { clock, store, keys: new SigningKeyService({ store, clock, encryptionSecret }) };
}

describe('SigningKeyService', () => {
  it('creates a current and a next key per algorithm once, and returns the same set afterwards', async () => {
    const { keys } = setup();
    const first = await keys.ensure('contoso', ['RS256', 'ES256']);
    assert.deepEqual(
      first.keys.map((k) => `${k.alg}:${k.state}`).sort(),
      ['ES256:current', 'ES256:next', 'RS256:current', 'RS256:next'],
    );
    const again = await keys.ensure('contoso', ['RS256', 'ES256']);
    assert.deepEqual(again.keys.map((k) => k.kid), first.keys.map((k) => k.kid));
    const withEdDsa = await keys.ensure('contoso', ['RS256', 'ES256', 'EdDSA']);
    assert.equal(withEdDsa.keys.filter((k) => k.alg === 'EdDSA').length, 2);
    assert.equal(withEdDsa.version, first.version + 1);
  });

  it('keeps tenants apart', async () => {
    const { keys } = setup();
    const a = await keys.ensure('contoso', ['ES256']);
    const b = await keys.ensure('fabrikam', ['ES256']);
    assert.equal(new Set([...a.keys, ...b.keys].map((k) => k.kid)).size, 4);
  });

  it('rotates next → current → previous, retires previous keys after the token lifetime, never reuses a kid', async () => {
    const { keys, clock } = setup();
    const start = await keys.ensure('contoso', ['ES256']);
    const current0 = start.keys.find((k) => k.state === 'current')!;
    const next0 = start.keys.find((k) => k.state === 'next')!;

    const r1 = await keys.rotate('contoso', HOUR);
    assert.deepEqual(r1.activated, [{ alg: 'ES256', kid: next0.kid }]);
    assert.deepEqual(r1.retiring.map((k) => k.kid), [current0.kid]);
    const set = (await keys.load('contoso'))!;
    assert.equal(set.keys.find((k) => k.state === 'current')!.kid, next0.kid);
    assert.equal(set.keys.find((k) => k.kid === current0.kid)!.state, 'previous');

    // Within the lifetime the previous key stays published; after it, it leaves the JWKS …
    clock.advance((HOUR - 1) * 1000);
    assert.ok(providerJwks(set, clock.now()).keys.some((k) => k.kid === current0.kid));
    clock.advance(2000);
    assert.ok(!providerJwks(set, clock.now()).keys.some((k) => k.kid === current0.kid));

    // … and the next rotation removes it from the store.
    const r2 = await keys.rotate('contoso', HOUR);
    assert.deepEqual(r2.removed.map((k) => k.kid), [current0.kid]);
    assert.ok(!(await keys.load('contoso'))!.keys.some((k) => k.kid === current0.kid));
    const everKids = [current0.kid, next0.kid, ...r1.published.map((k) => k.kid), ...r2.published.map((k) => k.kid)];
    assert.equal(new Set(everKids).size, everKids.length);
  });

  it('hands oidc-provider the current key first and the others as verify-only', async () => {
    const { keys, clock } = setup();
    await keys.ensure('contoso', ['ES256']);
    await keys.rotate('contoso', HOUR);
    const jwks = providerJwks((await keys.load('contoso'))!, clock.now());
    assert.equal(jwks.keys.length, 3);
    assert.equal(jwks.keys[0]!.key_ops, undefined);
    for (const key of jwks.keys.slice(1)) assert.deepEqual(key.key_ops, ['verify']);
  });

  it('seals keys with the key-encryption secret and refuses a wrong or missing one', async () => {
    const secret = 'x'.repeat(40);
    const { keys, store, clock } = setup(secret);
    const created = await keys.ensure('contoso', ['ES256']);
    const raw = await store.get<{ keys: Record<string, unknown>[] }>('signing-keys', 'contoso');
    assert.ok(raw!.value.keys.every((k) => k['jwk'] === undefined && k['sealed'] !== undefined));
    assert.equal((await keys.load('contoso'))!.keys[0]!.privateJwk.d, created.keys[0]!.privateJwk.d);
    await assert.rejects(new SigningKeyService({ store, clock, encryptionSecret: 'y'.repeat(40) }).load('contoso'), /cannot be decrypted/);
    await assert.rejects(new SigningKeyService({ store, clock }).load('contoso'), /encryptionSecret is not set/);
  });

  it('seals plaintext keys when a secret is configured later', async () => {
    const { keys, store, clock } = setup();
    const plain = await keys.ensure('contoso', ['ES256']);
    const sealed = await new SigningKeyService({ store, clock, encryptionSecret: 'z'.repeat(40) }).ensure('contoso', ['ES256']);
    assert.deepEqual(sealed.keys.map((k) => k.kid), plain.keys.map((k) => k.kid));
    const raw = await store.get<{ keys: Record<string, unknown>[] }>('signing-keys', 'contoso');
    assert.ok(raw!.value.keys.every((k) => k['jwk'] === undefined));
  });

  it('shares one set of cookie keys', async () => {
    const { keys } = setup();
    const [a, b] = await Promise.all([keys.cookieKeys(), keys.cookieKeys()]);
    assert.deepEqual(a, b);
    assert.equal(Buffer.from(a[0]!, 'base64url').length, 32);
  });
});
