import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { normaliseEmail, sameEmail } from '../../../src/shared/email.ts';

describe('normaliseEmail', () => {
  const accepted: [string, string][] = [
    ['alice@fabrikam.com', 'alice@fabrikam.com'],
    ['  Alice@Fabrikam.COM ', 'Alice@fabrikam.com'],
    ['a.b+tag@sub.example.co.uk', 'a.b+tag@sub.example.co.uk'],
    ['user@xn--bcher-kva.example', 'user@xn--bcher-kva.example'],
  ];
  for (const [input, expected] of accepted) it(`accepts ${JSON.stringify(input)}`, () => assert.equal(normaliseEmail(input), expected));

  const refused = [
    'alice@fabrikam.com\r\nBcc: eve@evil.example',
    'alice@fabrikam.com\n',
    'alice\u0000@fabrikam.com',
    'alice@@fabrikam.com',
    'alice@bob@fabrikam.com',
    '@fabrikam.com',
    'alice@',
    'alice@localhost',
    'alice@fabrikаm.com', // Cyrillic а
    'alice@fabrikam..com',
    'al ice@fabrikam.com',
    '.alice@fabrikam.com',
    'alice@-fabrikam.com',
    'alice@10.0.0.1',
    `${'a'.repeat(65)}@fabrikam.com`,
  ];
  for (const input of refused) it(`refuses ${JSON.stringify(input)}`, () => assert.equal(normaliseEmail(input), undefined));

  it('compares case-insensitively', () => assert.ok(sameEmail('Alice@fabrikam.com', 'alice@FABRIKAM.com')));
});
