import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { policyNamesGroups } from '../../../src/policy/subject.ts';
import { caPolicy, policy } from './helpers.ts';

describe('policyNamesGroups: whether a decision needs the user\'s groups', () => {
  it('is false for the defaults and for rules that name only users and apps', () => {
    assert.equal(policyNamesGroups(policy()), false);
    assert.equal(policyNamesGroups(policy({ conditionalAccess: [caPolicy('mfa', { users: { includeUsers: ['GuestsOrExternalUsers'] } })] })), false);
  });

  it('is true when conditional access includes or excludes a group', () => {
    assert.equal(policyNamesGroups(policy({ conditionalAccess: [caPolicy('g', { users: { includeGroups: ['g1'] } })] })), true);
    assert.equal(policyNamesGroups(policy({ conditionalAccess: [caPolicy('g', { users: { includeUsers: ['All'], excludeGroups: ['g2'] } })] })), true);
  });

  it('is true when a cross-tenant target is a group, in the default or a partner entry, inbound or outbound', () => {
    const groupTarget = { accessType: 'allowed', targets: [{ target: 'g1', targetType: 'group' }] };
    assert.equal(policyNamesGroups(policy({ crossTenantAccess: { default: { b2bCollaborationInbound: { usersAndGroups: groupTarget } } } })), true);
    assert.equal(policyNamesGroups(policy({ crossTenantAccess: { partners: [{ partner: 'fabrikam', b2bCollaborationOutbound: { usersAndGroups: groupTarget } }] } })), true);
  });
});
