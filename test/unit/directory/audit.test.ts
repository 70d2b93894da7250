import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AuditLog, changed, userTarget, type Actor } from '../../../src/directory/audit.ts';
import { ManualClock } from '../../../src/shared/clock.ts';
import { createMemoryStore } from '../../../src/storage/memory/memory-store.ts';

const ACTOR: Actor = { kind: 'app', appId: 'contoso-daemon', displayName: 'Contoso payroll sync' };
const USER = { id: 'u1', displayName: 'Alice', userPrincipalName: 'alice_adatum.com#EXT#@contoso.example' };
const DAY = 24 * 3600 * 1000;

describe('directory audit log', () => {
  it('records Graph-shaped entries, newest first, in order even within one millisecond', async () => {
    const clock = new ManualClock();
    const audit = new AuditLog({ store: createMemoryStore({ clock }), clock, retentionDays: () => 30 });
    await audit.record('contoso', { activity: 'invite', actor: ACTOR, correlationId: 'r1', targets: [userTarget(USER)] });
    await audit.record('contoso', { activity: 'updateUser', actor: ACTOR, correlationId: 'r2', targets: [userTarget(USER, [changed('displayName', 'Alice', 'Alice A')])] });
    await audit.record('contoso', {
      activity: 'redeem',
      actor: { kind: 'user', id: 'u1', displayName: 'Alice' },
      correlationId: 'r3',
      result: 'failure',
      resultReason: 'The invitation link has expired.',
      targets: [userTarget(USER)],
    });
    const { entries, next } = await audit.list('contoso', { top: 10 });
    assert.equal(next, undefined);
    assert.deepEqual(entries.map((e) => e.correlationId), ['r3', 'r2', 'r1']);
    const [redeem, update, invite] = entries;
    assert.deepEqual(
      { ...invite, id: undefined },
      {
        id: undefined,
        category: 'UserManagement',
        correlationId: 'r1',
        result: 'success',
        resultReason: '',
        activityDisplayName: 'Invite external user',
        activityDateTime: new Date(clock.now()).toISOString(),
        loggedByService: 'Invited Users',
        operationType: 'Add',
        initiatedBy: { app: { appId: 'contoso-daemon', displayName: 'Contoso payroll sync' }, user: null },
        targetResources: [{ id: 'u1', displayName: 'Alice', type: 'User', userPrincipalName: USER.userPrincipalName, modifiedProperties: [] }],
        additionalDetails: [],
      },
    );
    assert.deepEqual(update!.targetResources[0]!.modifiedProperties, [{ displayName: 'displayName', oldValue: '"Alice"', newValue: '"Alice A"' }]);
    assert.deepEqual(redeem!.initiatedBy, { app: null, user: { id: 'u1', displayName: 'Alice', userPrincipalName: null } });
    assert.equal(redeem!.result, 'failure');
  });

  it('pages by position: entries added meanwhile do not shift the next page', async () => {
    const clock = new ManualClock();
    const audit = new AuditLog({ store: createMemoryStore({ clock }), clock, retentionDays: () => 30 });
    for (let i = 1; i <= 5; i++) {
      clock.advance(1000);
      await audit.record('contoso', { activity: 'invite', actor: ACTOR, correlationId: `r${i}`, targets: [] });
    }
    const first = await audit.list('contoso', { top: 2 });
    assert.deepEqual(first.entries.map((e) => e.correlationId), ['r5', 'r4']);
    await audit.record('contoso', { activity: 'invite', actor: ACTOR, correlationId: 'r6', targets: [] });
    const second = await audit.list('contoso', { top: 2, after: first.next! });
    assert.deepEqual(second.entries.map((e) => e.correlationId), ['r3', 'r2']);
    const last = await audit.list('contoso', { top: 2, after: second.next! });
    assert.deepEqual(last.entries.map((e) => e.correlationId), ['r1']);
    assert.equal(last.next, undefined);
  });

  it('keeps entries for the tenant’s retention, and apart per tenant', async () => {
    const clock = new ManualClock();
    const audit = new AuditLog({ store: createMemoryStore({ clock }), clock, retentionDays: (tenantId) => (tenantId === 'contoso' ? 2 : 30) });
    await audit.record('contoso', { activity: 'deleteUser', actor: ACTOR, correlationId: 'c', targets: [] });
    await audit.record('northwind', { activity: 'deleteUser', actor: ACTOR, correlationId: 'n', targets: [] });
    assert.deepEqual((await audit.list('contoso', { top: 10 })).entries.map((e) => e.correlationId), ['c']);
    clock.advance(2 * DAY - 1000);
    assert.equal((await audit.list('contoso', { top: 10 })).entries.length, 1);
    clock.advance(2000);
    assert.deepEqual((await audit.list('contoso', { top: 10 })).entries, [], 'gone after 2 days');
    assert.deepEqual((await audit.list('northwind', { top: 10 })).entries.map((e) => e.correlationId), ['n'], 'northwind keeps 30 days');
  });
});
