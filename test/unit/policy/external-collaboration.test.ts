import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { externalCollaborationSchema, INVITER_LEVELS, type InviterLevel } from '../../../src/config/policy.ts';
import { domainEntry, domainMatches, inviterEntry } from '../../../src/policy/external-collaboration.ts';
import type { Inviter } from '../../../src/policy/types.ts';

const settings = (input: object) => externalCollaborationSchema.parse(input);

describe('who may invite: allowInvitesFrom × inviter kind', () => {
  const admitted: Record<InviterLevel, Inviter['kind'][]> = {
    none: [],
    adminsAndGuestInviters: ['admin'],
    adminsGuestInvitersAndAllMembers: ['admin', 'member'],
    everyone: ['admin', 'member', 'guest'],
  };
  for (const level of INVITER_LEVELS) {
    for (const kind of ['admin', 'member', 'guest'] as const) {
      const allowed = admitted[level].includes(kind);
      it(`${level}: a ${kind} ${allowed ? 'may' : 'may not'} invite`, () => {
        const entry = inviterEntry(settings({ allowInvitesFrom: level }), { kind, id: `${kind}-1` });
        assert.equal(entry.effect, allowed ? 'allow' : 'deny');
        assert.equal(entry.rule, `externalCollaboration.allowInvitesFrom (${level})`);
        assert.match(entry.detail, new RegExp(`${kind} '${kind}-1' ${allowed ? 'may invite' : 'may not invite guests'}`));
      });
    }
  }

  it('guest inviters may invite at every level but none', () => {
    for (const level of INVITER_LEVELS) {
      const entry = inviterEntry(settings({ allowInvitesFrom: level, guestInviters: ['g-7'] }), { kind: 'guest', id: 'g-7' });
      assert.equal(entry.effect, level === 'none' ? 'deny' : 'allow', level);
      if (level !== 'none') assert.match(entry.detail, /guest inviter 'g-7' may invite/);
    }
    // Being someone else's guest inviter does not help.
    assert.equal(inviterEntry(settings({ allowInvitesFrom: 'adminsAndGuestInviters', guestInviters: ['g-7'] }), { kind: 'member', id: 'm-1' }).effect, 'deny');
  });
});

describe('domain lists', () => {
  const cases: { name: string; pattern: string; domain: string; matches: boolean }[] = [
    { name: 'exact', pattern: 'adatum.com', domain: 'adatum.com', matches: true },
    { name: 'exact does not cover subdomains', pattern: 'adatum.com', domain: 'eu.adatum.com', matches: false },
    { name: 'wildcard covers a subdomain', pattern: '*.adatum.com', domain: 'eu.adatum.com', matches: true },
    { name: 'wildcard covers deeper subdomains', pattern: '*.adatum.com', domain: 'a.eu.adatum.com', matches: true },
    { name: 'wildcard does not cover the apex', pattern: '*.adatum.com', domain: 'adatum.com', matches: false },
    { name: 'wildcard needs a dot boundary', pattern: '*.adatum.com', domain: 'evil-adatum.com', matches: false },
    { name: 'a suffix is not a match', pattern: 'adatum.com', domain: 'notadatum.com', matches: false },
  ];
  for (const c of cases) it(`domainMatches: ${c.name}`, () => assert.equal(domainMatches(c.pattern, c.domain), c.matches));

  const listCases: { name: string; input: object; domain: string; rule: string; effect: 'allow' | 'deny' }[] = [
    { name: 'no list: every domain', input: {}, domain: 'adatum.com', rule: 'externalCollaboration', effect: 'allow' },
    { name: 'blocked domain refused', input: { blockedDomains: ['adatum.com'] }, domain: 'adatum.com', rule: 'externalCollaboration.blockedDomains', effect: 'deny' },
    { name: 'unlisted domain passes a block-list', input: { blockedDomains: ['adatum.com'] }, domain: 'fabrikam.com', rule: 'externalCollaboration.blockedDomains', effect: 'allow' },
    { name: 'blocked subdomain pattern refuses a subdomain', input: { blockedDomains: ['*.adatum.com'] }, domain: 'eu.adatum.com', rule: 'externalCollaboration.blockedDomains', effect: 'deny' },
    { name: 'blocked subdomain pattern lets the apex through', input: { blockedDomains: ['*.adatum.com'] }, domain: 'adatum.com', rule: 'externalCollaboration.blockedDomains', effect: 'allow' },
    { name: 'allow-listed domain passes', input: { allowedDomains: ['fabrikam.com'] }, domain: 'fabrikam.com', rule: 'externalCollaboration.allowedDomains', effect: 'allow' },
    { name: 'anything off the allow-list is refused', input: { allowedDomains: ['fabrikam.com'] }, domain: 'adatum.com', rule: 'externalCollaboration.allowedDomains', effect: 'deny' },
    { name: 'allow-listed pattern admits subdomains only', input: { allowedDomains: ['*.fabrikam.com'] }, domain: 'fabrikam.com', rule: 'externalCollaboration.allowedDomains', effect: 'deny' },
    { name: 'allow-listed pattern admits a subdomain', input: { allowedDomains: ['*.fabrikam.com'] }, domain: 'hr.fabrikam.com', rule: 'externalCollaboration.allowedDomains', effect: 'allow' },
  ];
  for (const c of listCases) {
    it(c.name, () => {
      const entry = domainEntry(settings(c.input), c.domain);
      assert.equal(entry.effect, c.effect);
      assert.equal(entry.rule, c.rule);
      if (c.rule !== 'externalCollaboration') assert.ok(entry.detail.includes(c.domain), entry.detail);
    });
  }

  it('the schema refuses both lists together, and malformed patterns', () => {
    assert.equal(externalCollaborationSchema.safeParse({ allowedDomains: ['a.com'], blockedDomains: ['b.com'] }).success, false);
    for (const bad of ['Adatum.com', '*adatum.com', 'adatum.com.', '*.*.adatum.com', 'http://adatum.com']) {
      assert.equal(externalCollaborationSchema.safeParse({ blockedDomains: [bad] }).success, false, bad);
    }
  });
});
