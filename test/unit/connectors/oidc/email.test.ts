import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assertsTrue, emailFrom, normaliseEmail } from '../../../../src/connectors/oidc/email.ts';

describe('normaliseEmail', () => {
  it('trims and lowercases the domain only, by the rules the rest of Portico uses', () => {
    assert.equal(normaliseEmail('  Alice.Smith@Partner.EXAMPLE '), 'Alice.Smith@partner.example');
    assert.equal(normaliseEmail('o\'brien+guest@example.co.uk'), "o'brien+guest@example.co.uk");
    assert.equal(normaliseEmail('user@xn--bcher-kva.example'), 'user@xn--bcher-kva.example');
  });

  it('refuses CR, LF and other control characters, even trailing ones trimming would hide', () => {
    for (const value of ['alice@example.com\r\nBcc: mallory@evil.example', 'alice@example.com\n', 'ali\tce@example.com', 'alice\u0000@example.com', 'alice@example.com\u0085']) {
      assert.equal(normaliseEmail(value), undefined, JSON.stringify(value));
    }
  });

  it('refuses invisible formatting characters (bidi overrides, zero-width)', () => {
    assert.equal(normaliseEmail('alice@exa\u200bmple.com'), undefined);
    assert.equal(normaliseEmail('alice\u202e@example.com'), undefined);
    assert.equal(normaliseEmail('\ufeffalice@example.com'), undefined);
  });

  it('refuses more or fewer than one @, and a fullwidth @ that only looks like one', () => {
    assert.equal(normaliseEmail('alice@evil.example@partner.example'), undefined);
    assert.equal(normaliseEmail('"alice@x"@partner.example'), undefined);
    assert.equal(normaliseEmail('alice.partner.example'), undefined);
    assert.equal(normaliseEmail('alice\uff20partner.example'), undefined);
    assert.equal(normaliseEmail('@partner.example'), undefined);
    assert.equal(normaliseEmail('alice@'), undefined);
  });

  it('refuses non-ASCII look-alike characters in the domain', () => {
    // Cyrillic о (U+043E) in place of Latin o, and a fullwidth Latin letter.
    assert.equal(normaliseEmail('alice@g\u043e\u043egle.com'), undefined);
    assert.equal(normaliseEmail('alice@\uff47oogle.com'), undefined);
    assert.equal(normaliseEmail('alice@b\u00fccher.example'), undefined);
  });

  it('refuses spaces inside, malformed domains, over-long addresses and non-strings', () => {
    assert.equal(normaliseEmail('alice smith@example.com'), undefined);
    assert.equal(normaliseEmail('alice@example'), undefined);
    assert.equal(normaliseEmail('alice@-example.com'), undefined);
    assert.equal(normaliseEmail(`${'a'.repeat(65)}@example.com`), undefined);
    assert.equal(normaliseEmail(`a@${'b'.repeat(250)}.com`), undefined);
    assert.equal(normaliseEmail('alice..smith@example.com'), undefined);
    assert.equal(normaliseEmail(42), undefined);
    assert.equal(normaliseEmail(['alice@example.com']), undefined);
  });
});

describe('assertsTrue and emailFrom', () => {
  it('counts only JSON true and the string "true" as verified', () => {
    assert.equal(assertsTrue(true), true);
    assert.equal(assertsTrue('true'), true);
    for (const value of [false, 'false', 'TRUE', '1', 1, 'yes', null, undefined, {}]) assert.equal(assertsTrue(value), false, String(value));
  });

  it('never keeps an unsafe address as verified', () => {
    assert.deepEqual(emailFrom('alice@Example.com', true), { email: 'alice@example.com', emailVerified: true });
    assert.deepEqual(emailFrom('alice@example.com', false), { email: 'alice@example.com', emailVerified: false });
    assert.deepEqual(emailFrom('alice@example.com\r\n', true), { emailVerified: false });
    assert.deepEqual(emailFrom(undefined, true), { emailVerified: false });
  });
});
