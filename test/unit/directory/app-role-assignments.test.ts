import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AppRoleAssignments, AssignmentError, DEFAULT_ACCESS_ROLE_ID } from '../../../src/directory/app-role-assignments.ts';
import { GroupDirectory, GroupError } from '../../../src/directory/groups.ts';
import { UserDirectory } from '../../../src/directory/users.ts';
import { ManualClock } from '../../../src/shared/clock.ts';
import { createMemoryStore } from '../../../src/storage/memory/memory-store.ts';

const APPS: Record<string, { id: string; name: string }[]> = {
  contoso: [
    { id: 'contoso-web', name: 'Contoso intranet' },
    { id: 'contoso-spa', name: 'Contoso expenses' },
  ],
  northwind: [{ id: 'contoso-web', name: 'Northwind app with the same client id' }],
};

function directory() {
  const clock = new ManualClock();
  const store = createMemoryStore({ clock });
  const users = new UserDirectory({ store, clock });
  const groups = new GroupDirectory({ store, clock, users });
  const assignments = new AppRoleAssignments({ store, clock, groups, apps: (tenantId) => APPS[tenantId] ?? [] });
  const guest = (tenantId: string, name: string) =>
    users.create({ tenantId, userType: 'Guest', userPrincipalName: `${name}_adatum.com#EXT#@${tenantId}.example`, displayName: name, mail: `${name}@adatum.com` });
  return { clock, users, groups, assignments, guest };
}

describe('app role assignments', () => {
  it('assigns a member of an assigned group, and stops when the membership or the group assignment goes', async () => {
    const { groups, assignments, guest } = directory();
    const alice = await guest('contoso', 'alice');
    const bob = await guest('contoso', 'bob');
    const group = await groups.create({ tenantId: 'contoso', displayName: 'Intranet users' });
    await groups.addMember('contoso', group.id, alice.id);
    assert.equal(await assignments.isAssigned('contoso', alice.id, 'contoso-web'), false, 'nothing assigned yet');

    const assignment = await assignments.assign('contoso', { id: group.id, type: 'Group', displayName: group.displayName }, 'contoso-web');
    assert.equal(assignment.appRoleId, DEFAULT_ACCESS_ROLE_ID);
    assert.equal(assignment.resourceDisplayName, 'Contoso intranet');
    assert.equal(await assignments.isAssigned('contoso', alice.id, 'contoso-web'), true, 'through the group');
    assert.equal(await assignments.isAssigned('contoso', alice.id, 'contoso-spa'), false, 'only to the assigned app');
    assert.equal(await assignments.isAssigned('contoso', bob.id, 'contoso-web'), false, 'not a member');
    assert.equal(await assignments.isAssigned('northwind', alice.id, 'contoso-web'), false, 'never across tenants');

    await groups.removeMember('contoso', group.id, alice.id);
    assert.equal(await assignments.isAssigned('contoso', alice.id, 'contoso-web'), false, 'membership removed');
    await groups.addMember('contoso', group.id, alice.id);
    await assignments.remove('contoso', group.id, assignment.id);
    assert.equal(await assignments.isAssigned('contoso', alice.id, 'contoso-web'), false, 'group assignment removed');
  });

  it('assigns a user directly, once per app, and only to apps of the tenant with the default role', async () => {
    const { assignments, guest } = directory();
    const alice = await guest('contoso', 'alice');
    const principal = { id: alice.id, type: 'User' as const, displayName: 'alice' };
    const assignment = await assignments.assign('contoso', principal, 'contoso-spa');
    assert.equal(await assignments.isAssigned('contoso', alice.id, 'contoso-spa'), true);
    await assert.rejects(assignments.assign('contoso', principal, 'contoso-spa'), (e: unknown) => e instanceof AssignmentError && e.code === 'already_assigned');
    await assert.rejects(assignments.assign('contoso', principal, 'payroll'), (e: unknown) => e instanceof AssignmentError && e.code === 'unknown_app' && /'payroll'/.test(e.message));
    await assert.rejects(
      assignments.assign('contoso', principal, 'contoso-web', '11111111-1111-4111-8111-111111111111'),
      (e: unknown) => e instanceof AssignmentError && e.code === 'unknown_role',
    );
    await assert.rejects(assignments.remove('northwind', alice.id, assignment.id), (e: unknown) => e instanceof AssignmentError && e.code === 'assignment_not_found');
    assert.equal(await assignments.removeAllFor('contoso', alice.id), 1);
    assert.equal(await assignments.isAssigned('contoso', alice.id, 'contoso-spa'), false);
    // Removing an assignment frees the pair for a new one.
    await assignments.assign('contoso', principal, 'contoso-spa');
  });

  it('keeps memberships cheap to read and consistent when a user or group goes', async () => {
    const { users, groups, guest } = directory();
    const alice = await guest('contoso', 'alice');
    const [one, two] = [await groups.create({ tenantId: 'contoso', displayName: 'One' }), await groups.create({ tenantId: 'contoso', displayName: 'Two' })];
    await groups.addMember('contoso', one.id, alice.id);
    await groups.addMember('contoso', two.id, alice.id);
    await assert.rejects(groups.addMember('contoso', one.id, alice.id), (e: unknown) => e instanceof GroupError && e.code === 'already_member');
    await assert.rejects(groups.addMember('contoso', one.id, 'no-such-user'), (e: unknown) => e instanceof GroupError && e.code === 'user_not_found');
    await assert.rejects(groups.addMember('northwind', one.id, alice.id), (e: unknown) => e instanceof GroupError && e.code === 'group_not_found');
    assert.deepEqual(await groups.groupIdsOf('contoso', alice.id), [one.id, two.id].sort());

    assert.ok(await groups.delete('contoso', two.id));
    assert.deepEqual(await groups.groupIdsOf('contoso', alice.id), [one.id]);
    await users.delete('contoso', alice.id);
    assert.deepEqual(await groups.listMembers('contoso', one.id), [], 'a deleted user is not listed even before cleanup');
    assert.equal(await groups.removeUserEverywhere('contoso', alice.id), 1);
    assert.deepEqual(await groups.groupIdsOf('contoso', alice.id), []);
  });
});
