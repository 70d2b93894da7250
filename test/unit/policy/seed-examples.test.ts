/** The seed's two examples, from config/examples/seed read by the real loader. */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { loadConfig } from '../../../src/config/load.ts';
import { decideInvitation, decideRedemption, decideSignIn } from '../../../src/policy/decide.ts';
import { policyOf, subjectOf } from '../../../src/policy/subject.ts';
import { trustedAssurance } from '../../../src/policy/trust.ts';
import type { TenantPolicy } from '../../../src/policy/types.ts';

const SEED = new URL('../../../config/examples/seed/', import.meta.url).pathname;
const ADMIN = { kind: 'admin', id: 'contoso-daemon' } as const;

describe('the seed examples', () => {
  let contoso: TenantPolicy;
  before(async () => {
    const { config } = await loadConfig(SEED, { PORTICO_DATA: '/tmp/portico-seed-unused' });
    contoso = policyOf(config.tenants.find((t) => t.id === 'contoso')!);
  });

  const guestFrom = (email: string, id = 'g-1') => {
    const subject = subjectOf(contoso, { home: { emailDomain: email.split('@')[1]! }, userType: 'Guest', userIds: [id, email], email });
    return { ...subject, email };
  };

  it('Example 1: inviting someone@adatum.com is refused by the block list, though cross-tenant settings allow all', () => {
    const decision = decideInvitation(contoso, ADMIN, guestFrom('someone@adatum.com'));
    assert.equal(decision.effect, 'deny');
    assert.equal(decision.denial?.rule, 'externalCollaboration.blockedDomains');
    const inbound = decision.trace.filter((e) => e.layer === 'crossTenantAccess.inbound' && e.effect !== 'none');
    assert.deepEqual(inbound.map((e) => [e.rule, e.effect]), [['crossTenantAccess.default.b2bCollaborationInbound.usersAndGroups', 'allow']]);
  });

  it('Example 2: inviting bob@fabrikam.com is refused, though partner Fabrikam is allowed cross-tenant', () => {
    const decision = decideInvitation(contoso, ADMIN, guestFrom('bob@fabrikam.com'));
    assert.deepEqual([decision.effect, decision.denial?.rule], ['deny', 'externalCollaboration.blockedDomains']);
    assert.ok(decision.trace.some((e) => e.rule === 'crossTenantAccess.partners[0] (fabrikam).b2bCollaborationInbound.usersAndGroups' && e.effect === 'allow'));
  });

  it('Example 2: a pending Fabrikam invitation can no longer be redeemed', () => {
    const decision = decideRedemption(contoso, guestFrom('carol@fabrikam.com'));
    assert.deepEqual([decision.effect, decision.denial?.rule], ['deny', 'externalCollaboration.blockedDomains']);
  });

  describe('Example 2: an existing (Accepted) Fabrikam guest keeps signing in; payroll asks for MFA', () => {
    const signIn = (amr: string[]) => {
      const subject = guestFrom('alice@fabrikam.com', 'g-alice');
      const assurance = trustedAssurance(contoso, subject.organisation, { kind: 'saml', amr });
      return decideSignIn({ policy: contoso, subject, appId: 'payroll', assurance });
    };

    it("with Fabrikam's MFA (trusted in the seed): allowed", () => {
      const decision = signIn(['mfa']);
      assert.equal(decision.effect, 'allow');
      assert.ok(!decision.trace.some((e) => e.layer === 'externalCollaboration'), 'the domain block does not refuse the sign-in');
    });

    it('without MFA: challenged for MFA by guests-mfa-payroll, not refused', () => {
      const decision = signIn([]);
      assert.equal(decision.effect, 'challenge');
      assert.deepEqual(decision.requirements, [{ policyId: 'guests-mfa-payroll', operator: 'OR', controls: ['mfa'] }]);
      assert.equal(decision.denial, undefined);
    });

    it("another organisation's MFA is not trusted: still challenged", () => {
      const subject = guestFrom('dan@tailspin.com');
      const assurance = trustedAssurance(contoso, subject.organisation, { kind: 'oidc', amr: ['mfa'] });
      assert.deepEqual(assurance.dropped, ['mfa']);
      assert.equal(decideSignIn({ policy: contoso, subject, appId: 'payroll', assurance }).effect, 'challenge');
    });

    it('the daemon app is not under the payroll policy', () => {
      const subject = guestFrom('alice@fabrikam.com');
      const decision = decideSignIn({ policy: contoso, subject, appId: 'contoso-daemon', assurance: trustedAssurance(contoso, subject.organisation, { kind: 'saml', amr: [] }) });
      assert.equal(decision.effect, 'allow');
    });
  });
});
