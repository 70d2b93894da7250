import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { automaticConsent, inboundEntries, inboundTrustFor, outboundEntries } from '../../../src/policy/cross-tenant.ts';
import { subjectOf } from '../../../src/policy/subject.ts';
import type { TraceEntry } from '../../../src/policy/types.ts';
import { apps, guest, member, policy, users } from './helpers.ts';

/** The verdicts of the entries that decide (the first names the organisation). */
const verdicts = (entries: TraceEntry[]) => entries.slice(1).map((e) => [e.rule, e.effect]);

describe('inbound cross-tenant access', () => {
  const cases: {
    name: string;
    crossTenantAccess: unknown;
    email: string;
    id?: string;
    groups?: string[];
    app?: string;
    expected: [string, TraceEntry['effect']][];
  }[] = [
    {
      name: 'nothing configured: the built-in default allows all',
      crossTenantAccess: {},
      email: 'bob@adatum.com',
      app: 'payroll',
      expected: [
        ['built-in default (b2bCollaborationInbound.usersAndGroups)', 'allow'],
        ['built-in default (b2bCollaborationInbound.applications)', 'allow'],
      ],
    },
    {
      name: 'default blocks AllUsers: an unknown organisation is refused',
      crossTenantAccess: { default: { b2bCollaborationInbound: { usersAndGroups: users('blocked', 'AllUsers') } } },
      email: 'bob@adatum.com',
      expected: [['crossTenantAccess.default.b2bCollaborationInbound.usersAndGroups', 'deny']],
    },
    {
      name: 'a partner entry overrides the default block for its users',
      crossTenantAccess: {
        default: { b2bCollaborationInbound: { usersAndGroups: users('blocked', 'AllUsers') } },
        partners: [{ partner: 'fabrikam', b2bCollaborationInbound: { usersAndGroups: users('allowed', 'AllUsers') } }],
      },
      email: 'alice@fabrikam.com',
      expected: [['crossTenantAccess.partners[0] (fabrikam).b2bCollaborationInbound.usersAndGroups', 'allow']],
    },
    {
      name: 'a partner entry saying only applications inherits usersAndGroups from the default',
      crossTenantAccess: {
        default: { b2bCollaborationInbound: { usersAndGroups: users('allowed', 'carol@fabrikam.com') } },
        partners: [{ partner: 'fabrikam', b2bCollaborationInbound: { applications: apps('blocked', 'payroll') } }],
      },
      email: 'alice@fabrikam.com',
      app: 'payroll',
      expected: [
        ['crossTenantAccess.default.b2bCollaborationInbound.usersAndGroups', 'deny'],
        ['crossTenantAccess.partners[0] (fabrikam).b2bCollaborationInbound.applications', 'deny'],
      ],
    },
    {
      name: "allowed users: a listed address is let in",
      crossTenantAccess: { partners: [{ partner: 'fabrikam', b2bCollaborationInbound: { usersAndGroups: users('allowed', 'alice@fabrikam.com') } }] },
      email: 'alice@fabrikam.com',
      expected: [['crossTenantAccess.partners[0] (fabrikam).b2bCollaborationInbound.usersAndGroups', 'allow']],
    },
    {
      name: 'allowed users: anyone else is refused',
      crossTenantAccess: { partners: [{ partner: 'fabrikam', b2bCollaborationInbound: { usersAndGroups: users('allowed', 'alice@fabrikam.com') } }] },
      email: 'bob@fabrikam.com',
      expected: [['crossTenantAccess.partners[0] (fabrikam).b2bCollaborationInbound.usersAndGroups', 'deny']],
    },
    {
      name: 'allowed groups: a member of the group is let in',
      crossTenantAccess: { partners: [{ partner: 'fabrikam', b2bCollaborationInbound: { usersAndGroups: users('allowed', 'group:g-finance') } }] },
      email: 'bob@fabrikam.com',
      groups: ['g-finance'],
      expected: [['crossTenantAccess.partners[0] (fabrikam).b2bCollaborationInbound.usersAndGroups', 'allow']],
    },
    {
      name: 'allowed groups: a group id never matches a user id',
      crossTenantAccess: { partners: [{ partner: 'fabrikam', b2bCollaborationInbound: { usersAndGroups: users('allowed', 'group:guest-object-id') } }] },
      email: 'bob@fabrikam.com',
      expected: [['crossTenantAccess.partners[0] (fabrikam).b2bCollaborationInbound.usersAndGroups', 'deny']],
    },
    {
      name: 'blocked users by object id',
      crossTenantAccess: { partners: [{ partner: 'fabrikam', b2bCollaborationInbound: { usersAndGroups: users('blocked', 'u-42') } }] },
      email: 'bob@fabrikam.com',
      id: 'u-42',
      expected: [['crossTenantAccess.partners[0] (fabrikam).b2bCollaborationInbound.usersAndGroups', 'deny']],
    },
    {
      name: 'blocked groups: others pass',
      crossTenantAccess: { partners: [{ partner: 'fabrikam', b2bCollaborationInbound: { usersAndGroups: users('blocked', 'group:g-contractors') } }] },
      email: 'bob@fabrikam.com',
      groups: ['g-finance'],
      expected: [['crossTenantAccess.partners[0] (fabrikam).b2bCollaborationInbound.usersAndGroups', 'allow']],
    },
    {
      name: 'blocked groups: a member is refused',
      crossTenantAccess: { partners: [{ partner: 'fabrikam', b2bCollaborationInbound: { usersAndGroups: users('blocked', 'group:g-contractors') } }] },
      email: 'bob@fabrikam.com',
      groups: ['g-contractors'],
      expected: [['crossTenantAccess.partners[0] (fabrikam).b2bCollaborationInbound.usersAndGroups', 'deny']],
    },
    {
      name: 'allowed applications: a listed app is open, the rest closed',
      crossTenantAccess: { default: { b2bCollaborationInbound: { applications: apps('allowed', 'portal') } } },
      email: 'bob@adatum.com',
      app: 'payroll',
      expected: [
        ['built-in default (b2bCollaborationInbound.usersAndGroups)', 'allow'],
        ['crossTenantAccess.default.b2bCollaborationInbound.applications', 'deny'],
      ],
    },
    {
      name: 'blocked AllApplications closes every app',
      crossTenantAccess: { default: { b2bCollaborationInbound: { applications: apps('blocked', 'AllApplications') } } },
      email: 'bob@adatum.com',
      app: 'portal',
      expected: [
        ['built-in default (b2bCollaborationInbound.usersAndGroups)', 'allow'],
        ['crossTenantAccess.default.b2bCollaborationInbound.applications', 'deny'],
      ],
    },
    {
      name: 'blocked applications leave the others open',
      crossTenantAccess: { default: { b2bCollaborationInbound: { applications: apps('blocked', 'payroll') } } },
      email: 'bob@adatum.com',
      app: 'portal',
      expected: [
        ['built-in default (b2bCollaborationInbound.usersAndGroups)', 'allow'],
        ['crossTenantAccess.default.b2bCollaborationInbound.applications', 'allow'],
      ],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const p = policy({ crossTenantAccess: c.crossTenantAccess });
      const subject = guest(p, c.email, { ...(c.id ? { id: c.id } : {}), ...(c.groups ? { groups: c.groups } : {}) });
      const entries = inboundEntries(p, subject, c.app);
      assert.equal(entries[0]!.effect, 'none', 'the first entry names the organisation');
      assert.deepEqual(verdicts(entries), c.expected);
    });
  }

  it('names the partner entry that applies, and which evidence found the organisation', () => {
    const p = policy({ crossTenantAccess: { partners: [{ partner: 'tailspin' }, { partner: 'fabrikam' }] } });
    const [first] = inboundEntries(p, guest(p, 'alice@fabrikam.com'));
    assert.equal(first!.rule, 'crossTenantAccess.partners[1] (fabrikam)');
    assert.match(first!.detail, /partner 'fabrikam' \(email domain fabrikam\.com\)/);
  });

  it('settings for another Portico tenant apply to its members', () => {
    const p = policy({ crossTenantAccess: { partners: [{ tenant: 'northwind', b2bCollaborationInbound: { usersAndGroups: users('blocked', 'AllUsers') } }] } });
    const subject = subjectOf(p, { home: { porticoTenantId: 'northwind' }, userType: 'Member', userIds: ['n-1'] });
    assert.deepEqual(verdicts(inboundEntries(p, subject)), [['crossTenantAccess.partners[0] (northwind).b2bCollaborationInbound.usersAndGroups', 'deny']]);
  });

  it("does not apply to the tenant's own members", () => {
    const p = policy({ crossTenantAccess: { default: { b2bCollaborationInbound: { usersAndGroups: users('blocked', 'AllUsers') } } } });
    const entries = inboundEntries(p, member(p, 'm-1'), 'payroll');
    assert.deepEqual(entries.map((e) => [e.matched, e.effect]), [[false, 'none']]);
  });
});

describe('outbound cross-tenant access: the home tenant has its say', () => {
  const northwind = (crossTenantAccess: unknown) => policy({ tenantId: 'northwind', partners: [], crossTenantAccess });
  const cases: { name: string; crossTenantAccess: unknown; groups?: string[]; expected: [string, TraceEntry['effect']][] }[] = [
    {
      name: 'nothing configured: members may go anywhere',
      crossTenantAccess: {},
      expected: [
        ['northwind: built-in default (b2bCollaborationOutbound.usersAndGroups)', 'allow'],
        ['northwind: built-in default (b2bCollaborationOutbound.applications)', 'allow'],
      ],
    },
    {
      name: 'the entry for the resource tenant is used, not the default',
      crossTenantAccess: {
        default: { b2bCollaborationOutbound: { usersAndGroups: users('allowed', 'group:g-travel') } },
        partners: [{ tenant: 'contoso', b2bCollaborationOutbound: { usersAndGroups: users('blocked', 'AllUsers') } }],
      },
      groups: ['g-travel'],
      expected: [
        ['northwind: crossTenantAccess.partners[0] (contoso).b2bCollaborationOutbound.usersAndGroups', 'deny'],
        ['northwind: built-in default (b2bCollaborationOutbound.applications)', 'allow'],
      ],
    },
    {
      name: "the default applies to tenants without an entry; the resource tenant's apps are named",
      crossTenantAccess: {
        default: { b2bCollaborationOutbound: { usersAndGroups: users('allowed', 'group:g-travel'), applications: apps('allowed', 'portal') } },
        partners: [{ tenant: 'fabrikam-tenant', b2bCollaborationOutbound: { usersAndGroups: users('blocked', 'AllUsers') } }],
      },
      groups: ['g-travel'],
      expected: [
        ['northwind: crossTenantAccess.default.b2bCollaborationOutbound.usersAndGroups', 'allow'],
        ['northwind: crossTenantAccess.default.b2bCollaborationOutbound.applications', 'deny'],
      ],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const home = northwind(c.crossTenantAccess);
      const entries = outboundEntries(home, member(home, 'n-1', c.groups ?? []), 'contoso', 'payroll');
      assert.deepEqual(
        entries.map((e) => [e.rule, e.effect]),
        c.expected,
      );
      assert.ok(entries.every((e) => e.layer === 'crossTenantAccess.outbound'));
    });
  }
});

describe('inbound trust and consent', () => {
  it('nothing is trusted by default', () => {
    const p = policy();
    assert.deepEqual(inboundTrustFor(p, { kind: 'other', via: 'x' }).trust, { isMfaAccepted: false, isCompliantDeviceAccepted: false, isHybridAzureADJoinedDeviceAccepted: false });
  });
  it('a partner entry overrides per key, inheriting the rest from the default', () => {
    const p = policy({
      crossTenantAccess: {
        default: { inboundTrust: { isCompliantDeviceAccepted: true } },
        partners: [{ partner: 'fabrikam', inboundTrust: { isMfaAccepted: true }, automaticUserConsentSettings: { inboundAllowed: true } }],
      },
    });
    const fabrikam = guest(p, 'a@fabrikam.com').organisation;
    const trust = inboundTrustFor(p, fabrikam);
    assert.equal(trust.rule, 'crossTenantAccess.partners[0] (fabrikam).inboundTrust');
    assert.deepEqual(trust.trust, { isMfaAccepted: true, isCompliantDeviceAccepted: true, isHybridAzureADJoinedDeviceAccepted: false });
    assert.deepEqual(inboundTrustFor(p, guest(p, 'a@adatum.com').organisation).trust.isMfaAccepted, false);
    assert.equal(automaticConsent(p, fabrikam), true);
    assert.equal(automaticConsent(p, guest(p, 'a@adatum.com').organisation), false);
  });
});
