import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { normaliseEmail } from '../../../../src/connectors/email-otp/index.ts';

describe('normaliseEmail', () => {
  it('trims, lowercases the domain, keeps the local part as typed and keys on the lowercased whole', () => {
    assert.deepEqual(normaliseEmail('  Bob.Smith@Fabrikam.COM '), { email: 'Bob.Smith@fabrikam.com', key: 'bob.smith@fabrikam.com', domain: 'fabrikam.com' });
  });

  it('refuses non-ASCII local parts and domains: one spelling per mailbox, no look-alikes', () => {
    for (const email of ['jos\u00e9@fabrikam.com', '用户@fabrikam.example', 'bob@m\u00fcnchen.de', 'b\u043eb@fabrikam.com']) {
      assert.equal(normaliseEmail(email), undefined, email);
    }
  });

  it('accepts the addresses people have', () => {
    for (const email of [
      'a@b.co',
      'first.last+tag@sub.fabrikam.example',
      "o'brien@fabrikam.ie",
      'user_name-1@xn--mnchen-3ya.de',
      'x@xn--p1ai.xn--p1ai',
      `${'l'.repeat(64)}@fabrikam.example`,
    ]) {
      assert.ok(normaliseEmail(email), email);
    }
  });

  it('refuses line breaks, control, format and separator characters anywhere', () => {
    for (const email of [
      'bob@fabrikam.com\r\nBcc: eve@evil.example',
      'bob@fabrikam.com\n',
      'bob@fabrikam.com\t',
      '\rbob@fabrikam.com',
      'bob\u0000@fabrikam.com',
      'bob@fabrikam.com\u0007',
      'bo\u200bb@fabrikam.com',
      'bob@fabri\u202ekam.com',
      'bob\u2028@fabrikam.com',
      'bob smith@fabrikam.com',
      'bob\u00a0@fabrikam.com',
      'bob\u0085@fabrikam.com',
    ]) {
      assert.equal(normaliseEmail(email), undefined, JSON.stringify(email));
    }
  });

  it('refuses anything but a single plain address', () => {
    for (const email of [
      '',
      '   ',
      'bob',
      '@fabrikam.com',
      'bob@',
      'bob@@fabrikam.com',
      'bob@eve@fabrikam.com',
      '"bob@x"@fabrikam.com',
      'bob@x.com,eve@evil.example',
      'Bob <bob@fabrikam.com>',
      'bob(comment)@fabrikam.com',
      'bob;eve@fabrikam.com',
      '.bob@fabrikam.com',
      'bob.@fabrikam.com',
      'bo..b@fabrikam.com',
      `${'l'.repeat(65)}@fabrikam.example`,
      `bob@${'a'.repeat(60)}.${'b'.repeat(60)}.${'c'.repeat(60)}.${'d'.repeat(60)}.example`,
    ]) {
      assert.equal(normaliseEmail(email), undefined, JSON.stringify(email));
    }
  });

  it('refuses domains that are not plausible DNS names', () => {
    for (const domain of [
      'localhost',
      'fabrikam',
      'fabrikam.com.',
      '.fabrikam.com',
      'fab..rikam.com',
      'fab_rikam.com',
      '-fabrikam.com',
      'fabrikam-.com',
      '127.0.0.1',
      '[127.0.0.1]',
      'fabrikam.123',
      'münchen.de',
      'fabrik\u0430m.com',
      `${'a'.repeat(64)}.com`,
    ]) {
      assert.equal(normaliseEmail(`bob@${domain}`), undefined, domain);
    }
  });
});
