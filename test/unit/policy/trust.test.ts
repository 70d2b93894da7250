import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { trustedAssurance, upstreamClaimsMfa, type UpstreamClaims } from '../../../src/policy/trust.ts';
import { guest, member, policy } from './helpers.ts';

const trusting = policy({
  crossTenantAccess: { partners: [{ partner: 'fabrikam', inboundTrust: { isMfaAccepted: true, isCompliantDeviceAccepted: true, isHybridAzureADJoinedDeviceAccepted: true } }] },
});
const fabrikam = guest(trusting, 'alice@fabrikam.com').organisation;
const adatum = guest(trusting, 'bob@adatum.com').organisation;
const claims = (overrides: Partial<UpstreamClaims>): UpstreamClaims => ({ kind: 'saml', amr: [], ...overrides });

describe('upstream MFA claims', () => {
  const cases: { name: string; claims: UpstreamClaims; mfa: boolean }[] = [
    { name: 'amr mfa', claims: claims({ amr: ['pwd', 'mfa'] }), mfa: true },
    { name: 'REFEDS MFA acr', claims: claims({ acr: 'https://refeds.org/profile/mfa' }), mfa: true },
    { name: "Microsoft's multipleauthn acr", claims: claims({ acr: 'http://schemas.microsoft.com/claims/multipleauthn' }), mfa: true },
    { name: 'a password acr', claims: claims({ acr: 'urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport' }), mfa: false },
    { name: 'nothing said', claims: claims({}), mfa: false },
    { name: 'an email passcode is never MFA, whatever it claims', claims: claims({ kind: 'email-otp', amr: ['mfa'], acr: 'https://refeds.org/profile/mfa' }), mfa: false },
  ];
  for (const c of cases) it(c.name, () => assert.equal(upstreamClaimsMfa(c.claims), c.mfa));
});

describe('trustedAssurance', () => {
  it("keeps a trusted partner's claims, saying so in the trace", () => {
    const result = trustedAssurance(trusting, fabrikam, claims({ amr: ['mfa'], device: { compliant: true, hybridJoined: true } }));
    assert.deepEqual([result.mfa, result.compliantDevice, result.domainJoinedDevice, result.mfaSource], [true, true, true, 'upstream']);
    assert.deepEqual(result.dropped, []);
    assert.deepEqual(result.trace.map((e) => [e.layer, e.rule, e.effect]), [
      ['crossTenantAccess.inboundTrust', 'crossTenantAccess.partners[0] (fabrikam).inboundTrust', 'allow'],
      ['crossTenantAccess.inboundTrust', 'crossTenantAccess.partners[0] (fabrikam).inboundTrust', 'allow'],
      ['crossTenantAccess.inboundTrust', 'crossTenantAccess.partners[0] (fabrikam).inboundTrust', 'allow'],
    ]);
  });

  it('drops the claims of an untrusted organisation and traces each one', () => {
    const result = trustedAssurance(trusting, adatum, claims({ amr: ['mfa'], device: { compliant: true, hybridJoined: true } }));
    assert.deepEqual([result.mfa, result.compliantDevice, result.domainJoinedDevice, result.mfaSource], [false, false, false, undefined]);
    assert.deepEqual(result.dropped, ['mfa', 'compliantDevice', 'domainJoinedDevice']);
    assert.deepEqual(result.trace.map((e) => e.detail), [
      "the partner's MFA claim is not trusted: dropped",
      "the partner's compliant device claim is not trusted: dropped",
      "the partner's hybrid-joined device claim is not trusted: dropped",
    ]);
  });

  it('trusts only the kinds of claim accepted', () => {
    const mfaOnly = policy({ crossTenantAccess: { default: { inboundTrust: { isMfaAccepted: true } } } });
    const result = trustedAssurance(mfaOnly, guest(mfaOnly, 'bob@adatum.com').organisation, claims({ amr: ['mfa'], device: { compliant: true } }));
    assert.deepEqual([result.mfa, result.compliantDevice], [true, false]);
    assert.deepEqual(result.dropped, ['compliantDevice']);
  });

  it('an email passcode never makes MFA, even from a trusted partner', () => {
    const result = trustedAssurance(trusting, fabrikam, claims({ kind: 'email-otp', amr: ['mfa'] }));
    assert.equal(result.mfa, false);
    assert.deepEqual(result.trace, [], 'nothing was claimed that could count');
  });

  it('a REFEDS MFA acr from a trusted partner counts', () => {
    assert.equal(trustedAssurance(trusting, fabrikam, claims({ acr: 'https://refeds.org/profile/mfa' })).mfa, true);
  });

  it("Portico's own second factor always counts", () => {
    const result = trustedAssurance(trusting, adatum, claims({ amr: ['mfa'] }), true);
    assert.deepEqual([result.mfa, result.mfaSource], [true, 'portico']);
    assert.deepEqual(result.dropped, ['mfa']);
    assert.deepEqual(result.trace.at(-1), { layer: 'crossTenantAccess.inboundTrust', rule: 'portico', matched: true, effect: 'allow', detail: "MFA done with Portico's own second factor" });
  });

  it("a member's claims are the tenant's own", () => {
    const result = trustedAssurance(policy(), member(policy(), 'm-1').organisation, claims({ amr: ['mfa'], device: { hybridJoined: true } }));
    assert.deepEqual([result.mfa, result.domainJoinedDevice], [true, true]);
    assert.equal(result.trace[0]!.rule, 'own tenant');
  });
});
