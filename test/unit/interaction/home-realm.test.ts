import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { discoverHomeRealm, type IdpSummary } from '../../../src/interaction/home-realm.ts';

const IDPS: IdpSummary[] = [
  { id: 'fabrikam-saml', group: 'federation', domains: ['fabrikam.com'] },
  { id: 'google', group: 'social', domains: ['gmail.com', 'googlemail.com'] },
  { id: 'microsoft', group: 'social', domains: [] },
  { id: 'email', group: 'emailOtp', domains: [] },
];
const ORDER = ['federation', 'social', 'emailOtp'] as const;

describe('home-realm discovery', () => {
  const cases: { name: string; input: Partial<Parameters<typeof discoverHomeRealm>[0]>; expected: string[] }[] = [
    { name: 'partner domain goes to its IdP', input: { email: 'alice@fabrikam.com' }, expected: ['fabrikam-saml'] },
    { name: 'domain match is case-insensitive', input: { email: 'Alice@FABRIKAM.com' }, expected: ['fabrikam-saml'] },
    { name: 'gmail goes to Google', input: { email: 'bob@gmail.com' }, expected: ['google'] },
    { name: 'googlemail goes to Google', input: { email: 'bob@googlemail.com' }, expected: ['google'] },
    { name: 'other domains get the redemption order', input: { email: 'carol@adatum.com' }, expected: ['microsoft', 'email'] },
    { name: 'redemption order is configurable', input: { email: 'carol@adatum.com', redemptionOrder: ['emailOtp', 'social'] }, expected: ['email', 'microsoft'] },
    { name: 'a group can be left out', input: { email: 'carol@adatum.com', redemptionOrder: ['emailOtp'] }, expected: ['email'] },
    { name: 'idp hint wins over the email', input: { email: 'alice@fabrikam.com', idpHint: 'google' }, expected: ['google'] },
    { name: 'an unknown idp hint is ignored', input: { email: 'alice@fabrikam.com', idpHint: 'nope' }, expected: ['fabrikam-saml'] },
    { name: 'domain hint routes without an email', input: { domainHint: 'fabrikam.com' }, expected: ['fabrikam-saml'] },
    { name: 'no email: no passcode offered', input: {}, expected: ['microsoft'] },
  ];
  for (const { name, input, expected } of cases) {
    it(name, () => {
      const result = discoverHomeRealm({ idps: IDPS, redemptionOrder: ORDER, ...input });
      assert.deepEqual(result.candidates, expected);
      assert.ok(result.trace.length > 0);
    });
  }

  it('explains itself', () => {
    const { trace } = discoverHomeRealm({ idps: IDPS, redemptionOrder: ORDER, email: 'x@adatum.com', idpHint: 'nope' });
    assert.deepEqual(trace, [
      "idp hint 'nope' names no configured IdP: ignored",
      "no IdP is configured for domain 'adatum.com'",
      'redemption order federation → social → emailOtp offers: microsoft, email',
    ]);
  });
});
