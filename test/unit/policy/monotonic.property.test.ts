/**
 * Properties of the whole engine over random tenant policies: tightening a policy (a blocked
 * domain, an enabled blocking CA policy, a blocked inbound target, a shorter allow-list) never
 * loosens a decision, and decisions are deterministic.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { decideInvitation, decideRedemption, decideSignIn } from '../../../src/policy/decide.ts';
import type { Assurance, Decision, Effect, Inviter } from '../../../src/policy/types.ts';
import { caPolicy, guest, policy, type PolicyFile } from './helpers.ts';

const NUM_RUNS = 300;
const RANK: Record<Effect, number> = { allow: 0, challenge: 1, deny: 2 };

const USER_TARGETS = ['AllUsers', 'u-1', 'u-2', 'alice@fabrikam.com', 'group:g-1', 'group:g-2'];
const APP_TARGETS = ['AllApplications', 'payroll', 'portal'];
const DOMAINS = ['adatum.com', 'fabrikam.com', '*.fabrikam.com', 'tailspin.com', 'hr.fabrikam.com'];

interface Setting {
  accessType: 'allowed' | 'blocked';
  targets: { target: string; targetType: string }[];
}
interface Collaboration {
  usersAndGroups?: Setting;
  applications?: Setting;
}
interface RawFile {
  crossTenantAccess: { default: { b2bCollaborationInbound?: Collaboration }; partners: { partner: string; b2bCollaborationInbound?: Collaboration }[] };
  externalCollaboration: { allowInvitesFrom: string; allowedDomains?: string[]; blockedDomains?: string[] };
  conditionalAccess: unknown[];
}

const userTarget = (t: string) => (t.startsWith('group:') ? { target: t.slice(6), targetType: 'group' } : { target: t, targetType: 'user' });
const appTarget = (t: string) => ({ target: t, targetType: 'application' });
const setting = (pool: string[], toTarget: (t: string) => Setting['targets'][number]) =>
  fc.record({ accessType: fc.constantFrom('allowed' as const, 'blocked' as const), targets: fc.uniqueArray(fc.constantFrom(...pool), { minLength: 1, maxLength: 3 }).map((ts) => ts.map(toTarget)) });
const collaboration = fc.record({ usersAndGroups: setting(USER_TARGETS, userTarget), applications: setting(APP_TARGETS, appTarget) }, { requiredKeys: [] });

const caUsers = fc.oneof(
  fc.record({ includeUsers: fc.subarray(['All', 'GuestsOrExternalUsers', 'u-1', 'u-2'], { minLength: 1 }), excludeUsers: fc.subarray(['u-2', 'GuestsOrExternalUsers']) }),
  fc.record({ includeGroups: fc.subarray(['g-1', 'g-2'], { minLength: 1 }) }),
  fc.record({
    includeGuestsOrExternalUsers: fc.record({
      guestOrExternalUserTypes: fc.subarray(['b2bCollaborationGuest', 'b2bCollaborationMember', 'internalGuest'], { minLength: 1 }),
      externalTenants: fc.oneof(fc.constant({ membershipKind: 'all' }), fc.record({ membershipKind: fc.constant('enumerated'), members: fc.subarray(['fabrikam', 'tailspin'], { minLength: 1 }) })),
    }),
  }),
);
const caApps = fc.record({ includeApplications: fc.oneof(fc.constant(['All']), fc.constant(['None']), fc.subarray(['payroll', 'portal'], { minLength: 1 })), excludeApplications: fc.subarray(['portal']) });
const caControls = fc.oneof(fc.constant(['block']), fc.subarray(['mfa', 'compliantDevice', 'domainJoinedDevice'], { minLength: 1 }));
let caCounter = 0;
const caPolicyArb = (state: fc.Arbitrary<string>) =>
  fc.record({ state, users: caUsers, apps: caApps, controls: caControls, operator: fc.constantFrom('AND', 'OR') }).map((o) => caPolicy(`ca-${caCounter++}`, o as Parameters<typeof caPolicy>[1]));

const rawFile = fc.record({
  crossTenantAccess: fc.record({
    default: fc.record({ b2bCollaborationInbound: collaboration }, { requiredKeys: [] }),
    partners: fc.oneof(fc.constant([]), collaboration.map((c) => [{ partner: 'fabrikam', b2bCollaborationInbound: c }])),
  }),
  externalCollaboration: fc.oneof(
    fc.record({ allowInvitesFrom: fc.constantFrom('none', 'adminsAndGuestInviters', 'adminsGuestInvitersAndAllMembers', 'everyone') }),
    fc.record({ allowInvitesFrom: fc.constant('everyone'), blockedDomains: fc.uniqueArray(fc.constantFrom(...DOMAINS), { minLength: 1, maxLength: 2 }) }),
    fc.record({ allowInvitesFrom: fc.constant('everyone'), allowedDomains: fc.uniqueArray(fc.constantFrom(...DOMAINS), { minLength: 1, maxLength: 3 }) }),
  ),
  conditionalAccess: fc.array(caPolicyArb(fc.constantFrom('enabled', 'disabled', 'reportOnly')), { maxLength: 3 }),
}) as unknown as fc.Arbitrary<RawFile>;

const question = fc.record({
  email: fc.constantFrom('alice@fabrikam.com', 'bob@hr.fabrikam.com', 'carol@adatum.com', 'dan@tailspin.com'),
  id: fc.constantFrom('u-1', 'u-2', 'u-3'),
  groups: fc.subarray(['g-1', 'g-2']),
  app: fc.constantFrom('payroll', 'portal'),
  assurance: fc.record({ mfa: fc.boolean(), compliantDevice: fc.boolean(), domainJoinedDevice: fc.boolean() }),
  inviter: fc.record({ kind: fc.constantFrom('admin' as const, 'member' as const, 'guest' as const), id: fc.constant('someone') }),
});
type Question = { email: string; id: string; groups: string[]; app: string; assurance: Assurance; inviter: Inviter };

function decisions(raw: RawFile, q: Question): Decision[] {
  const p = policy(raw as PolicyFile);
  const subject = guest(p, q.email, { id: q.id, groups: q.groups });
  return [decideInvitation(p, q.inviter, subject), decideRedemption(p, subject), decideSignIn({ policy: p, subject, appId: q.app, assurance: q.assurance })];
}

/** Every inbound setting of a file, wherever it sits. */
function settingsOf(raw: RawFile): Setting[] {
  const collaborations = [raw.crossTenantAccess.default.b2bCollaborationInbound, ...raw.crossTenantAccess.partners.map((p) => p.b2bCollaborationInbound)];
  return collaborations.flatMap((c) => [c?.usersAndGroups, c?.applications]).filter((s): s is Setting => s !== undefined);
}

/** One tightening of `raw` (a copy), chosen by `pick`; undefined when that kind has nothing to tighten. */
const tightenings: { name: string; apply: (raw: RawFile, pick: number, extra: unknown) => boolean }[] = [
  {
    name: 'a blocked domain',
    apply: (raw, pick) => {
      const domain = DOMAINS[pick % DOMAINS.length]!;
      const ec = raw.externalCollaboration;
      if (ec.allowedDomains) {
        // With an allow-list, blocking a domain means taking it off the list.
        if (ec.allowedDomains.length < 2) return false;
        ec.allowedDomains.splice(pick % ec.allowedDomains.length, 1);
      } else ec.blockedDomains = [...new Set([...(ec.blockedDomains ?? []), domain])];
      return true;
    },
  },
  {
    name: 'an enabled blocking CA policy',
    apply: (raw, _pick, extra) => {
      raw.conditionalAccess.push(extra);
      return true;
    },
  },
  {
    name: 'a blocked inbound target',
    apply: (raw, pick) => {
      const blocked = settingsOf(raw).filter((s) => s.accessType === 'blocked');
      if (blocked.length === 0) return false;
      const s = blocked[pick % blocked.length]!;
      const isApps = s.targets[0]!.targetType === 'application';
      const pool = isApps ? APP_TARGETS : USER_TARGETS;
      const target = (isApps ? appTarget : userTarget)(pool[pick % pool.length]!);
      if (!s.targets.some((t) => t.target === target.target && t.targetType === target.targetType)) s.targets.push(target);
      return true;
    },
  },
  {
    name: 'a shorter allow-list of targets',
    apply: (raw, pick) => {
      const allowed = settingsOf(raw).filter((s) => s.accessType === 'allowed' && s.targets.length > 1);
      if (allowed.length === 0) return false;
      const s = allowed[pick % allowed.length]!;
      s.targets.splice(pick % s.targets.length, 1);
      return true;
    },
  },
];

const blockingPolicy = caPolicyArb(fc.constant('enabled')).map((p) => ({ ...(p as object), grantControls: { operator: 'OR', builtInControls: ['block'] } }));

describe('collaboration policy properties', () => {
  for (const tightening of tightenings) {
    it(`adding ${tightening.name} never loosens a decision`, () => {
      let applied = 0;
      fc.assert(
        fc.property(rawFile, question, fc.nat(), blockingPolicy, (raw, q, pick, extra) => {
          const before = decisions(raw, q);
          const tightened = structuredClone(raw);
          if (!tightening.apply(tightened, pick, extra)) return;
          applied += 1;
          const after = decisions(tightened, q);
          before.forEach((decision, i) => {
            const label = ['invitation', 'redemption', 'sign-in'][i];
            assert.ok(RANK[after[i]!.effect] >= RANK[decision.effect], `${label}: ${decision.effect} became ${after[i]!.effect}`);
          });
        }),
        { numRuns: NUM_RUNS },
      );
      assert.ok(applied > NUM_RUNS / 4, `the tightening applied in ${applied} of ${NUM_RUNS} runs`);
    });
  }

  it('an enabled blocking policy that covers the user and app denies the sign-in', () => {
    fc.assert(
      fc.property(rawFile, question, (raw, q) => {
        const tightened = structuredClone(raw);
        tightened.conditionalAccess.push(caPolicy('block-all', { controls: ['block'] }));
        const [, , signIn] = decisions(tightened, q);
        assert.equal(signIn!.effect, 'deny');
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('decisions are deterministic', () => {
    fc.assert(
      fc.property(rawFile, question, (raw, q) => {
        assert.deepEqual(decisions(raw, q), decisions(structuredClone(raw), q));
      }),
      { numRuns: NUM_RUNS },
    );
  });
});
