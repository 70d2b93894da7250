import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RECOVERY_CODE_COUNT, generateRecoveryCodes, hashRecoveryCode, matchRecoveryCode, normaliseRecoveryCode } from '../../../src/mfa/recovery-codes.ts';

describe('recovery codes', () => {
  it('makes ten distinct xxxxx-xxxxx codes of a readable 32-letter alphabet (50 bits each)', () => {
    const codes = generateRecoveryCodes();
    assert.equal(codes.length, RECOVERY_CODE_COUNT);
    assert.equal(new Set(codes).size, RECOVERY_CODE_COUNT);
    for (const code of codes) assert.match(code, /^[0-9a-hjkmnp-tv-z]{5}-[0-9a-hjkmnp-tv-z]{5}$/);
  });

  it('uses the whole alphabet evenly enough to carry 5 bits per letter', () => {
    const letters = generateRecoveryCodes(400).join('').replaceAll('-', '');
    const counts = new Map<string, number>();
    for (const letter of letters) counts.set(letter, (counts.get(letter) ?? 0) + 1);
    assert.equal(counts.size, 32);
    // 4000 letters over 32 symbols: 125 expected each; a biased pick would leave some far off.
    for (const [letter, count] of counts) assert.ok(count > 70 && count < 190, `${letter}: ${count}`);
  });

  it('stores a hash that is not the code, and matches the code however it is typed', () => {
    const [code, other] = generateRecoveryCodes(2) as [string, string];
    const hash = hashRecoveryCode(code);
    assert.ok(!hash.includes(code.replace('-', '')));
    const hashes = [hashRecoveryCode(other), hash];
    assert.equal(matchRecoveryCode(hashes, code), hash);
    assert.equal(matchRecoveryCode(hashes, code.toUpperCase()), hash);
    assert.equal(matchRecoveryCode(hashes, ` ${code.replace('-', ' ')} `), hash);
    assert.equal(matchRecoveryCode(hashes, code.replace('-', '')), hash);
    assert.equal(matchRecoveryCode([hashRecoveryCode(other)], code), undefined);
  });

  it('reads the letters the alphabet leaves out as the digits they look like', () => {
    assert.equal(normaliseRecoveryCode('O0IL1-abcde'), '00111abcde');
    assert.equal(matchRecoveryCode([hashRecoveryCode('00111-abcde')], 'oOiLI-ABCDE'), hashRecoveryCode('00111-abcde'));
  });

  it('refuses what cannot be a code', () => {
    for (const input of ['', 'abcde', 'abcde-abcdef', 'abcde-abcdu', '!!!!!-!!!!!']) {
      assert.equal(normaliseRecoveryCode(input), undefined, input);
      assert.equal(matchRecoveryCode([hashRecoveryCode('abcde-abcde')], input), undefined, input);
    }
    assert.throws(() => hashRecoveryCode('nope'), TypeError);
  });
});
