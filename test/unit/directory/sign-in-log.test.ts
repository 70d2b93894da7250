import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SIGN_IN_FAILURES, SignInLog, type NewSignIn } from '../../../src/directory/sign-in-log.ts';
import { entryOf } from '../../../src/directory/tenant-log.ts';
import { ManualClock } from '../../../src/shared/clock.ts';
import { createMemoryStore } from '../../../src/storage/memory/memory-store.ts';
import type { DocumentStore } from '../../../src/storage/ports.ts';

const DAY = 24 * 3600 * 1000;

const signIn = (overrides: Partial<NewSignIn> = {}): NewSignIn => ({
  userId: 'u1',
  userPrincipalName: 'alice_adatum.com#EXT#@contoso.example',
  userDisplayName: 'Alice',
  appId: 'contoso-web',
  appDisplayName: 'Contoso web',
  ipAddress: '203.0.113.7',
  correlationId: 'r1',
  status: { errorCode: 0, failureReason: null, additionalDetails: 'known-identity' },
  conditionalAccessStatus: 'notApplied',
  isInteractive: true,
  resourceTenantId: 'contoso',
  homeTenantId: null,
  crossTenantAccessType: 'b2bCollaboration',
  userType: 'guest',
  authenticationRequirement: 'singleFactorAuthentication',
  upstreamIdentityProvider: { connectorId: 'mail', idp: 'mail', kind: 'email-otp' },
  ...overrides,
});

function logWith(retentionDays: (tenantId: string) => number = () => 30) {
  const clock = new ManualClock();
  const store: DocumentStore = createMemoryStore({ clock });
  return { clock, store, log: new SignInLog({ store, clock, retentionDays }) };
}

describe('sign-in log', () => {
  it('records entries with an id and the time, and reads them back whole, newest first', async () => {
    const { clock, log } = logWith();
    const first = await log.record('contoso', signIn({ correlationId: 'r1' }));
    const trace = [{ layer: 'crossTenant', rule: 'default', matched: true, effect: 'allow' }];
    const second = await log.record('contoso', signIn({ correlationId: 'r2', policyTrace: trace }));
    assert.match(first.id, /^[0-9a-f-]{36}$/);
    assert.notEqual(first.id, second.id);
    assert.equal(first.createdDateTime, new Date(clock.now()).toISOString());
    const { entries, next } = await log.list('contoso', { top: 10 });
    assert.equal(next, undefined);
    assert.deepEqual(entries, [second, first], 'same millisecond: still in the order they were made');
    assert.deepEqual(entries[0]!.policyTrace, trace);
    assert.deepEqual(await log.get('contoso', first.id), first);
    assert.equal(await log.get('northwind', first.id), undefined, 'another tenant cannot read it by id');
    assert.equal(await log.get('contoso', 'no-such-id'), undefined);
  });

  it('filters by user, app, error code and time, before paging', async () => {
    const { clock, log } = logWith();
    const refused = SIGN_IN_FAILURES['not-invited'];
    await log.record('contoso', signIn({ correlationId: 'a', userId: 'u1', appId: 'contoso-web' }));
    clock.advance(60_000);
    const cutoff = new Date(clock.now()).toISOString();
    await log.record('contoso', signIn({ correlationId: 'b', userId: 'u2', appId: 'contoso-web' }));
    clock.advance(60_000);
    await log.record('contoso', signIn({ correlationId: 'c', userId: null, appId: 'contoso-spa', status: { ...refused, additionalDetails: null } }));
    clock.advance(60_000);
    await log.record('contoso', signIn({ correlationId: 'd', userId: 'U1', appId: 'contoso-spa' }));
    const ids = async (filter: Parameters<SignInLog['list']>[1]['filter']) => (await log.list('contoso', { top: 10, filter })).entries.map((e) => e.correlationId);
    assert.deepEqual(await ids({ userId: 'u1' }), ['d', 'a'], 'ids compare case-insensitively');
    assert.deepEqual(await ids({ appId: 'contoso-spa' }), ['d', 'c']);
    assert.deepEqual(await ids({ errorCode: 90072 }), ['c']);
    assert.deepEqual(await ids({ errorCode: 0, appId: 'contoso-web' }), ['b', 'a']);
    assert.deepEqual(await ids({ createdFrom: cutoff }), ['d', 'c', 'b'], 'ge is inclusive');
    assert.deepEqual(await ids({ createdUntil: cutoff }), ['b', 'a'], 'le is inclusive');
    const first = await log.list('contoso', { top: 1, filter: { userId: 'u1' } });
    assert.deepEqual(first.entries.map((e) => e.correlationId), ['d']);
    assert.ok(first.next, 'a second matching entry remains');
    const second = await log.list('contoso', { top: 1, after: first.next, filter: { userId: 'u1' } });
    assert.deepEqual(second.entries.map((e) => e.correlationId), ['a']);
    assert.equal(second.next, undefined, 'no matching entry after the last one, whatever else is older');
  });

  it('pages by position: entries added meanwhile do not shift the next page', async () => {
    const { clock, log } = logWith();
    for (let i = 1; i <= 5; i++) {
      clock.advance(1000);
      await log.record('contoso', signIn({ correlationId: `r${i}` }));
    }
    const first = await log.list('contoso', { top: 2 });
    assert.deepEqual(first.entries.map((e) => e.correlationId), ['r5', 'r4']);
    await log.record('contoso', signIn({ correlationId: 'r6' }));
    const second = await log.list('contoso', { top: 2, after: first.next });
    assert.deepEqual(second.entries.map((e) => e.correlationId), ['r3', 'r2']);
    const last = await log.list('contoso', { top: 2, after: second.next });
    assert.deepEqual(last.entries.map((e) => e.correlationId), ['r1']);
    assert.equal(last.next, undefined);
  });

  it('keeps entries for the tenant’s retention, and apart per tenant', async () => {
    const { clock, log } = logWith((tenantId) => (tenantId === 'contoso' ? 2 : 30));
    const kept = await log.record('contoso', signIn({ correlationId: 'c' }));
    await log.record('northwind', signIn({ correlationId: 'n', resourceTenantId: 'northwind' }));
    assert.deepEqual((await log.list('contoso', { top: 10 })).entries.map((e) => e.correlationId), ['c']);
    clock.advance(2 * DAY - 1000);
    assert.equal((await log.list('contoso', { top: 10 })).entries.length, 1);
    clock.advance(2000);
    assert.deepEqual((await log.list('contoso', { top: 10 })).entries, [], 'gone after 2 days');
    assert.equal(await log.get('contoso', kept.id), undefined, 'also by id');
    assert.deepEqual((await log.list('northwind', { top: 10 })).entries.map((e) => e.correlationId), ['n'], 'northwind keeps 30 days');
  });

  it('stores entries packed, at less than half their JSON size, and still reads entries stored plain', async () => {
    const { store, log } = logWith();
    const policyTrace = [
      { layer: 'crossTenantAccess.inbound', rule: 'crossTenantAccess.default', matched: true, effect: 'none', detail: 'home organisation: adatum.com belongs to no partner' },
      { layer: 'crossTenantAccess.inbound', rule: 'crossTenantAccess.default.b2bCollaborationInbound.usersAndGroups', matched: true, effect: 'allow', detail: 'allowed: all users' },
      { layer: 'crossTenantAccess.inbound', rule: 'crossTenantAccess.default.b2bCollaborationInbound.applications', matched: true, effect: 'allow', detail: "app 'contoso-web' is allowed" },
    ];
    const recorded = await log.record('contoso', signIn({ correlationId: 'packed', policyTrace }));
    const [stored] = await store.listByTag<Record<string, unknown>>('sign-ins', 'tenant:contoso');
    assert.deepEqual(Object.keys(stored!.value).sort(), ['id', 'order', 'packed', 'tenantId'], 'only bookkeeping is plain');
    assert.ok(!JSON.stringify(stored!.value).includes('alice_adatum.com'), 'the entry itself is not stored plain');
    assert.ok(JSON.stringify(stored!.value).length * 2 < JSON.stringify(recorded).length, `${JSON.stringify(stored!.value).length} B stored for ${JSON.stringify(recorded).length} B of entry`);
    assert.deepEqual(entryOf(stored!.value as never), recorded);

    // As entries were stored before packing: the whole entry plain beside the bookkeeping.
    const legacy = { ...signIn({ correlationId: 'plain' }), id: 'legacy-1', createdDateTime: '2026-01-01T00:00:00.000Z' };
    await store.create('sign-ins', legacy.id, { ...legacy, tenantId: 'contoso', order: '2026-01-01T00:00:00.000Z#000000000001' }, { tags: ['tenant:contoso'] });
    assert.deepEqual(await log.get('contoso', legacy.id), legacy);
    assert.deepEqual((await log.list('contoso', { top: 10 })).entries.map((e) => e.correlationId), ['packed', 'plain']);
  });

  it('has one distinct error code per failure, none of them 0', () => {
    const codes = Object.values(SIGN_IN_FAILURES).map((f) => f.errorCode);
    assert.equal(new Set(codes).size, codes.length);
    assert.ok(codes.every((code) => Number.isInteger(code) && code > 0));
  });
});
