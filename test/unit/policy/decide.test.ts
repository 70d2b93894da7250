import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { combine, decideInvitation, decideRedemption, decideSignIn } from '../../../src/policy/decide.ts';
import { NO_ASSURANCE, type TraceEntry } from '../../../src/policy/types.ts';
import { apps, caPolicy, guest, member, policy, users } from './helpers.ts';

const entry = (rule: string, effect: TraceEntry['effect']): TraceEntry => ({ layer: 'conditionalAccess', rule, matched: true, effect, detail: `${rule} says ${effect}` });
const ADMIN = { kind: 'admin', id: 'contoso-daemon' } as const;

describe('combine: the most restrictive outcome', () => {
  const cases: { name: string; trace: TraceEntry[]; unmet: number; effect: 'allow' | 'deny' | 'challenge'; denial?: string }[] = [
    { name: 'all allow', trace: [entry('a', 'allow'), entry('b', 'none')], unmet: 0, effect: 'allow' },
    { name: 'report-only never refuses', trace: [entry('a', 'reportOnly')], unmet: 0, effect: 'allow' },
    { name: 'unmet controls challenge', trace: [entry('a', 'allow'), entry('b', 'require')], unmet: 1, effect: 'challenge' },
    { name: 'a deny beats a challenge', trace: [entry('a', 'require'), entry('b', 'deny')], unmet: 1, effect: 'deny', denial: 'b' },
    { name: 'the first denying rule is named', trace: [entry('a', 'allow'), entry('b', 'deny'), entry('c', 'deny')], unmet: 0, effect: 'deny', denial: 'b' },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const requirements = Array.from({ length: c.unmet }, () => ({ policyId: 'p', operator: 'OR' as const, controls: ['mfa' as const] }));
      const decision = combine(c.trace, requirements);
      assert.equal(decision.effect, c.effect);
      assert.equal(decision.denial?.rule, c.denial);
      if (c.denial) assert.deepEqual(decision.denial, { layer: 'conditionalAccess', rule: c.denial, reason: `${c.denial} says deny` });
      assert.equal(decision.requirements.length, c.effect === 'challenge' ? c.unmet : 0, 'requirements only with a challenge');
      assert.deepEqual(decision.trace, c.trace, 'the whole trace is kept');
    });
  }
});

describe('decideInvitation', () => {
  it('allowed: each layer is in the trace', () => {
    const p = policy();
    const decision = decideInvitation(p, ADMIN, guest(p, 'bob@adatum.com'));
    assert.equal(decision.effect, 'allow');
    assert.deepEqual([...new Set(decision.trace.map((e) => e.layer))], ['externalCollaboration', 'crossTenantAccess.inbound']);
  });

  const refusals: { name: string; file: object; inviter?: { kind: 'admin' | 'member' | 'guest'; id: string }; email: string; rule: string }[] = [
    { name: 'who may invite', file: { externalCollaboration: { allowInvitesFrom: 'none' } }, email: 'bob@adatum.com', rule: 'externalCollaboration.allowInvitesFrom (none)' },
    { name: 'a guest under adminsAndGuestInviters', file: { externalCollaboration: { allowInvitesFrom: 'adminsAndGuestInviters' } }, inviter: { kind: 'guest', id: 'g' }, email: 'bob@adatum.com', rule: 'externalCollaboration.allowInvitesFrom (adminsAndGuestInviters)' },
    { name: 'a blocked domain', file: { externalCollaboration: { blockedDomains: ['adatum.com'] } }, email: 'bob@adatum.com', rule: 'externalCollaboration.blockedDomains' },
    {
      name: 'inbound settings for the organisation',
      file: { crossTenantAccess: { partners: [{ partner: 'fabrikam', b2bCollaborationInbound: { usersAndGroups: users('blocked', 'AllUsers') } }] } },
      email: 'alice@fabrikam.com',
      rule: 'crossTenantAccess.partners[0] (fabrikam).b2bCollaborationInbound.usersAndGroups',
    },
    {
      name: 'who may invite is named before the domain when both refuse',
      file: { externalCollaboration: { allowInvitesFrom: 'none', blockedDomains: ['adatum.com'] } },
      email: 'bob@adatum.com',
      rule: 'externalCollaboration.allowInvitesFrom (none)',
    },
  ];
  for (const r of refusals) {
    it(`refused by ${r.name}`, () => {
      const p = policy(r.file);
      const decision = decideInvitation(p, r.inviter ?? ADMIN, guest(p, r.email));
      assert.equal(decision.effect, 'deny');
      assert.equal(decision.denial?.rule, r.rule);
    });
  }
});

describe('decideRedemption', () => {
  it('checks the domain lists and inbound settings again, not who invited', () => {
    const open = policy({ externalCollaboration: { allowInvitesFrom: 'none' } });
    assert.equal(decideRedemption(open, guest(open, 'bob@adatum.com')).effect, 'allow');
    const allowList = policy({ externalCollaboration: { allowedDomains: ['fabrikam.com'] } });
    const refused = decideRedemption(allowList, guest(allowList, 'bob@adatum.com'));
    assert.deepEqual([refused.effect, refused.denial?.rule], ['deny', 'externalCollaboration.allowedDomains']);
  });
});

describe('decideSignIn', () => {
  const p = policy({
    externalCollaboration: { blockedDomains: ['fabrikam.com'] },
    crossTenantAccess: { default: { b2bCollaborationInbound: { applications: apps('blocked', 'secret-app') } } },
    conditionalAccess: [caPolicy('guests-mfa', { users: { includeUsers: ['GuestsOrExternalUsers'] }, frequency: { value: 12, type: 'hours' } })],
  });

  it('ignores the domain lists: existing guests keep access; conditional access still applies', () => {
    const decision = decideSignIn({ policy: p, subject: guest(p, 'alice@fabrikam.com'), appId: 'payroll', assurance: NO_ASSURANCE });
    assert.equal(decision.effect, 'challenge');
    assert.deepEqual(decision.requirements, [{ policyId: 'guests-mfa', operator: 'OR', controls: ['mfa'] }]);
    assert.equal(decision.signInFrequencySeconds, 12 * 3600);
    assert.ok(!decision.trace.some((e) => e.layer === 'externalCollaboration'));
    assert.deepEqual([...new Set(decision.trace.map((e) => e.layer))], ['crossTenantAccess.inbound', 'conditionalAccess']);
  });

  it('a closed app refuses before conditional access is considered', () => {
    const decision = decideSignIn({ policy: p, subject: guest(p, 'alice@fabrikam.com'), appId: 'secret-app', assurance: NO_ASSURANCE });
    assert.deepEqual([decision.effect, decision.denial?.layer], ['deny', 'crossTenantAccess.inbound']);
    assert.deepEqual(decision.requirements, []);
  });

  it("a member of another Portico tenant also needs its home tenant's outbound settings", () => {
    const northwind = policy({ tenantId: 'northwind', partners: [], crossTenantAccess: { partners: [{ tenant: 'contoso', b2bCollaborationOutbound: { applications: apps('allowed', 'portal') } }] } });
    const contoso = policy({ crossTenantAccess: { partners: [{ tenant: 'northwind' }] } });
    const question = (appId: string) => ({
      policy: contoso,
      subject: { ...member(contoso, 'n-1'), organisation: { kind: 'tenant' as const, id: 'northwind', via: 'x' }, external: true },
      appId,
      assurance: NO_ASSURANCE,
      home: { policy: northwind, subject: member(northwind, 'n-1') },
    });
    const refused = decideSignIn(question('payroll'));
    assert.deepEqual([refused.effect, refused.denial?.rule], ['deny', 'northwind: crossTenantAccess.partners[0] (contoso).b2bCollaborationOutbound.applications']);
    const allowed = decideSignIn(question('portal'));
    assert.equal(allowed.effect, 'allow');
    assert.deepEqual([...new Set(allowed.trace.map((e) => e.layer))], ['crossTenantAccess.inbound', 'crossTenantAccess.outbound', 'conditionalAccess']);
  });
});
