import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Sealer, sealerFor } from '../../../src/shared/sealing.ts';

const SECRET = 'an-encryption-secret-of-32-chars-or-more';

describe('Sealer', () => {
  it('opens what it sealed, with a fresh iv every time and no plaintext in the output', () => {
    const sealer = new Sealer(SECRET, 'test/v1');
    const a = sealer.seal('JBSWY3DPEHPK3PXP', 'contoso:alice');
    const b = sealer.seal('JBSWY3DPEHPK3PXP', 'contoso:alice');
    assert.notEqual(a.iv, b.iv);
    assert.notEqual(a.data, b.data);
    assert.ok(!JSON.stringify(a).includes('JBSWY3DPEHPK3PXP'));
    assert.equal(sealer.open(a, 'contoso:alice'), 'JBSWY3DPEHPK3PXP');
  });

  it('refuses another context, another purpose, another secret and a changed ciphertext', () => {
    const sealed = new Sealer(SECRET, 'test/v1').seal('payload', 'contoso:alice');
    assert.throws(() => new Sealer(SECRET, 'test/v1').open(sealed, 'contoso:mallory'));
    assert.throws(() => new Sealer(SECRET, 'other/v1').open(sealed, 'contoso:alice'));
    assert.throws(() => new Sealer(`${SECRET}x`, 'test/v1').open(sealed, 'contoso:alice'));
    const flipped = Buffer.from(sealed.data, 'base64url');
    flipped[0] = flipped[0]! ^ 1;
    assert.throws(() => new Sealer(SECRET, 'test/v1').open({ ...sealed, data: flipped.toString('base64url') }, 'contoso:alice'));
  });

  it('is absent without a secret', () => {
    assert.equal(sealerFor(undefined, 'test/v1'), undefined);
    assert.equal(sealerFor('', 'test/v1'), undefined);
    assert.ok(sealerFor(SECRET, 'test/v1') instanceof Sealer);
  });
});
