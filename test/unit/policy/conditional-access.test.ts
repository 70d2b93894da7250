import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { describeRequirement, evaluateConditionalAccess, isSatisfied } from '../../../src/policy/conditional-access.ts';
import { subjectOf } from '../../../src/policy/subject.ts';
import { NO_ASSURANCE, type Assurance, type Subject } from '../../../src/policy/types.ts';
import { caPolicy, guest, member, policy } from './helpers.ts';

const tenant = policy();
const fabrikamGuest = guest(tenant, 'alice@fabrikam.com', { id: 'g-alice', groups: ['g-finance'] });
const adatumGuest = guest(tenant, 'bob@adatum.com', { id: 'g-bob' });
const employee = member(tenant, 'm-carol', ['g-finance']);
const internalGuest: Subject = { ...member(tenant, 'm-dave'), userType: 'Guest' };
const MFA: Assurance = { ...NO_ASSURANCE, mfa: true };

/** Evaluates one policy and says whether it applied and what it did. */
function outcome(caPolicyInput: unknown, subject: Subject, app = 'payroll', assurance: Assurance = NO_ASSURANCE) {
  const result = evaluateConditionalAccess(policy({ conditionalAccess: [caPolicyInput] }).conditionalAccess, subject, app, assurance);
  assert.equal(result.trace.length, 1);
  return { matched: result.trace[0]!.matched, effect: result.trace[0]!.effect, detail: result.trace[0]!.detail, unmet: result.unmet.length };
}

describe('conditional access: whom a policy applies to', () => {
  const cases: { name: string; users: object; subject: Subject; applies: boolean; why: RegExp }[] = [
    { name: 'All includes members', users: { includeUsers: ['All'] }, subject: employee, applies: true, why: /includeUsers: All/ },
    { name: 'None includes nobody', users: { includeUsers: ['None', 'All'] }, subject: employee, applies: false, why: /includeUsers: None/ },
    { name: 'GuestsOrExternalUsers includes a partner guest', users: { includeUsers: ['GuestsOrExternalUsers'] }, subject: fabrikamGuest, applies: true, why: /GuestsOrExternalUsers/ },
    { name: 'GuestsOrExternalUsers includes an internal guest', users: { includeUsers: ['GuestsOrExternalUsers'] }, subject: internalGuest, applies: true, why: /GuestsOrExternalUsers/ },
    { name: 'GuestsOrExternalUsers leaves members out', users: { includeUsers: ['GuestsOrExternalUsers'] }, subject: employee, applies: false, why: /user not included/ },
    { name: 'a user id includes that user', users: { includeUsers: ['m-carol'] }, subject: employee, applies: true, why: /includeUsers: m-carol/ },
    { name: "a user id leaves others out", users: { includeUsers: ['m-carol'] }, subject: fabrikamGuest, applies: false, why: /user not included/ },
    { name: 'a group includes its members', users: { includeGroups: ['g-finance'] }, subject: fabrikamGuest, applies: true, why: /includeGroups: g-finance/ },
    { name: 'exclusion beats inclusion (user id)', users: { includeUsers: ['All'], excludeUsers: ['m-carol'] }, subject: employee, applies: false, why: /excluded \(excludeUsers: m-carol\)/ },
    { name: 'exclusion beats inclusion (group)', users: { includeUsers: ['All'], excludeGroups: ['g-finance'] }, subject: fabrikamGuest, applies: false, why: /excludeGroups: g-finance/ },
    { name: 'excludeUsers GuestsOrExternalUsers spares guests', users: { includeUsers: ['All'], excludeUsers: ['GuestsOrExternalUsers'] }, subject: adatumGuest, applies: false, why: /GuestsOrExternalUsers/ },
    { name: 'excludeUsers GuestsOrExternalUsers still covers members', users: { includeUsers: ['All'], excludeUsers: ['GuestsOrExternalUsers'] }, subject: employee, applies: true, why: /All/ },
    {
      name: 'includeGuestsOrExternalUsers, all organisations',
      users: { includeGuestsOrExternalUsers: { guestOrExternalUserTypes: ['b2bCollaborationGuest'] } },
      subject: adatumGuest,
      applies: true,
      why: /includeGuestsOrExternalUsers/,
    },
    {
      name: 'includeGuestsOrExternalUsers, enumerated: a listed partner',
      users: { includeGuestsOrExternalUsers: { guestOrExternalUserTypes: ['b2bCollaborationGuest'], externalTenants: { membershipKind: 'enumerated', members: ['fabrikam'] } } },
      subject: fabrikamGuest,
      applies: true,
      why: /includeGuestsOrExternalUsers/,
    },
    {
      name: 'includeGuestsOrExternalUsers, enumerated: an organisation not listed',
      users: { includeGuestsOrExternalUsers: { guestOrExternalUserTypes: ['b2bCollaborationGuest'], externalTenants: { membershipKind: 'enumerated', members: ['fabrikam'] } } },
      subject: adatumGuest,
      applies: false,
      why: /user not included/,
    },
    {
      name: 'includeGuestsOrExternalUsers: another type does not match',
      users: { includeGuestsOrExternalUsers: { guestOrExternalUserTypes: ['internalGuest'] } },
      subject: fabrikamGuest,
      applies: false,
      why: /user not included/,
    },
    {
      name: 'includeGuestsOrExternalUsers: internalGuest covers an internal guest',
      users: { includeGuestsOrExternalUsers: { guestOrExternalUserTypes: ['internalGuest'] } },
      subject: internalGuest,
      applies: true,
      why: /includeGuestsOrExternalUsers/,
    },
    {
      name: 'excludeGuestsOrExternalUsers, enumerated: the listed partner is spared',
      users: { includeUsers: ['All'], excludeGuestsOrExternalUsers: { guestOrExternalUserTypes: ['b2bCollaborationGuest'], externalTenants: { membershipKind: 'enumerated', members: ['fabrikam'] } } },
      subject: fabrikamGuest,
      applies: false,
      why: /excluded \(excludeGuestsOrExternalUsers\)/,
    },
    {
      name: 'excludeGuestsOrExternalUsers, enumerated: other guests are not',
      users: { includeUsers: ['All'], excludeGuestsOrExternalUsers: { guestOrExternalUserTypes: ['b2bCollaborationGuest'], externalTenants: { membershipKind: 'enumerated', members: ['fabrikam'] } } },
      subject: adatumGuest,
      applies: true,
      why: /All/,
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const result = outcome(caPolicy('p', { users: c.users }), c.subject);
      assert.equal(result.matched, c.applies);
      assert.match(result.detail, c.why);
    });
  }

  it('a member of another Portico tenant is a b2bCollaborationMember', () => {
    const northwind = subjectOf(tenant, { home: { porticoTenantId: 'northwind' }, userType: 'Member', userIds: ['n-1'] });
    const users = (types: string[]) => ({ includeGuestsOrExternalUsers: { guestOrExternalUserTypes: types, externalTenants: { membershipKind: 'enumerated', members: ['northwind'] } } });
    assert.equal(outcome(caPolicy('p', { users: users(['b2bCollaborationMember']) }), northwind).matched, true);
    assert.equal(outcome(caPolicy('p', { users: users(['b2bCollaborationGuest']) }), northwind).matched, false);
  });
});

describe('conditional access: which apps', () => {
  const cases: { name: string; apps: object; app: string; applies: boolean }[] = [
    { name: 'All', apps: { includeApplications: ['All'] }, app: 'payroll', applies: true },
    { name: 'None', apps: { includeApplications: ['None'] }, app: 'payroll', applies: false },
    { name: 'a listed app', apps: { includeApplications: ['payroll'] }, app: 'payroll', applies: true },
    { name: 'an unlisted app', apps: { includeApplications: ['payroll'] }, app: 'portal', applies: false },
    { name: 'All but an excluded app', apps: { includeApplications: ['All'], excludeApplications: ['payroll'] }, app: 'payroll', applies: false },
    { name: 'All but another excluded app', apps: { includeApplications: ['All'], excludeApplications: ['portal'] }, app: 'payroll', applies: true },
  ];
  for (const c of cases) it(c.name, () => assert.equal(outcome(caPolicy('p', { apps: c.apps }), employee, c.app).matched, c.applies));
});

describe('conditional access: grant controls and states', () => {
  it('block refuses', () => {
    const result = outcome(caPolicy('no-guests', { controls: ['block'] }), fabrikamGuest, 'payroll', MFA);
    assert.deepEqual([result.effect, result.unmet], ['deny', 0]);
    assert.match(result.detail, /^blocks/);
  });

  const grants: { name: string; controls: string[]; operator: 'AND' | 'OR'; assurance: Assurance; satisfied: boolean }[] = [
    { name: 'mfa, done', controls: ['mfa'], operator: 'OR', assurance: MFA, satisfied: true },
    { name: 'mfa, not done', controls: ['mfa'], operator: 'OR', assurance: NO_ASSURANCE, satisfied: false },
    { name: 'mfa OR compliant, only compliant', controls: ['mfa', 'compliantDevice'], operator: 'OR', assurance: { ...NO_ASSURANCE, compliantDevice: true }, satisfied: true },
    { name: 'mfa AND compliant, only mfa', controls: ['mfa', 'compliantDevice'], operator: 'AND', assurance: MFA, satisfied: false },
    { name: 'mfa AND compliant, both', controls: ['mfa', 'compliantDevice'], operator: 'AND', assurance: { ...MFA, compliantDevice: true }, satisfied: true },
    { name: 'hybrid-joined, done', controls: ['domainJoinedDevice'], operator: 'OR', assurance: { ...NO_ASSURANCE, domainJoinedDevice: true }, satisfied: true },
  ];
  for (const g of grants) {
    it(g.name, () => {
      const result = outcome(caPolicy('p', { controls: g.controls, operator: g.operator }), employee, 'payroll', g.assurance);
      assert.equal(result.effect, g.satisfied ? 'allow' : 'require');
      assert.equal(result.unmet, g.satisfied ? 0 : 1);
      assert.equal(isSatisfied({ operator: g.operator, controls: g.controls as never }, g.assurance), g.satisfied);
    });
  }

  it('describes requirements in words', () => {
    assert.equal(describeRequirement({ operator: 'AND', controls: ['mfa', 'compliantDevice'] }), 'multifactor authentication and a compliant device');
    assert.equal(describeRequirement({ operator: 'OR', controls: ['mfa', 'domainJoinedDevice'] }), 'multifactor authentication or a hybrid-joined device');
  });

  it('report-only is traced but never enforced, block included', () => {
    const block = outcome(caPolicy('p', { state: 'reportOnly', controls: ['block'] }), employee);
    assert.deepEqual([block.matched, block.effect, block.unmet], [true, 'reportOnly', 0]);
    assert.match(block.detail, /would block/);
    const mfa = outcome(caPolicy('p', { state: 'reportOnly' }), employee);
    assert.deepEqual([mfa.effect, mfa.unmet], ['reportOnly', 0]);
    assert.match(mfa.detail, /would require multifactor authentication: not yet satisfied/);
  });

  it('disabled policies are ignored', () => {
    const result = outcome(caPolicy('p', { state: 'disabled', controls: ['block'] }), employee);
    assert.deepEqual([result.matched, result.effect, result.detail], [false, 'none', 'disabled']);
  });

  it('policies combine with AND; sign-in frequency is the shortest of the enforced ones', () => {
    const policies = policy({
      conditionalAccess: [
        caPolicy('mfa-all', { frequency: { value: 2, type: 'days' } }),
        caPolicy('device-payroll', { controls: ['compliantDevice'], apps: { includeApplications: ['payroll'] }, frequency: { value: 8, type: 'hours' } }),
        caPolicy('report', { state: 'reportOnly', frequency: { value: 1, type: 'hours' } }),
        caPolicy('elsewhere', { apps: { includeApplications: ['portal'] }, frequency: { value: 2, type: 'hours' } }),
      ],
    }).conditionalAccess;
    const result = evaluateConditionalAccess(policies, employee, 'payroll', MFA);
    assert.deepEqual(result.unmet.map((r) => r.policyId), ['device-payroll']);
    assert.equal(result.signInFrequencySeconds, 8 * 3600);
    assert.deepEqual(result.trace.map((e) => e.rule), ['conditionalAccess[mfa-all]', 'conditionalAccess[device-payroll]', 'conditionalAccess[report]', 'conditionalAccess[elsewhere]']);
  });

  it('no policies: traced as such', () => {
    const result = evaluateConditionalAccess([], employee, 'payroll', NO_ASSURANCE);
    assert.deepEqual(result.trace.map((e) => e.detail), ['no policies']);
    assert.equal(result.signInFrequencySeconds, undefined);
  });
});
