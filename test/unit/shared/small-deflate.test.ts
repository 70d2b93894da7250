import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { inflateRawSync } from 'node:zlib';
import { deflateSmall, inflateSmall } from '../../../src/shared/small-deflate.ts';

const dictionary = Buffer.from('{"kind":"RefreshToken","clientId":"contoso-web","scope":"openid profile email"}');

test('round-trips values smaller and larger than the chunk it picks, with and without a dictionary', () => {
  const values = [
    '',
    '{}',
    JSON.stringify({ kind: 'RefreshToken', clientId: 'contoso-web', jti: 'x'.repeat(43) }),
    JSON.stringify({ text: 'Zoë ✓ 東京 🙂'.repeat(500) }),
    // Incompressible: the deflated form is larger than the chunk picked for it, so Node joins chunks.
    randomBytes(30_000).toString('base64'),
  ];
  for (const options of [{}, { dictionary }, { dictionary, windowBits: 12 }]) {
    for (const value of values) {
      const deflated = deflateSmall(value, options);
      assert.equal(inflateSmall(deflated, options).toString('utf8'), value);
      // Plain raw deflate: anything zlib wrote with the same options reads it, and the reverse.
      assert.equal(inflateRawSync(deflated, options).toString('utf8'), value);
    }
  }
});

test('inflates output far larger than three times its input', () => {
  const value = 'a'.repeat(200_000);
  const deflated = deflateSmall(value, {});
  assert.ok(deflated.length * 3 < value.length / 100);
  assert.equal(inflateSmall(deflated, {}).toString('utf8'), value);
});
