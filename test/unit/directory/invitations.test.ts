/**
 * The invitation lifecycle on real stores (SQLite file and memory) with a clock the tests move:
 * tickets single use under concurrency, expiry, resend and revoke killing links, reset
 * redemption, tenant isolation, and a store that never holds a usable link.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it, it as itOrSkip } from 'node:test';
import { loadConfig } from '../../../src/config/load.ts';
import type { PorticoConfig } from '../../../src/config/types.ts';
import type { Actor } from '../../../src/directory/audit.ts';
import { directoryServices, InvitationError, type Invitation, type InvitationService, type Redemption } from '../../../src/directory/invitations.ts';
import { UserDirectory } from '../../../src/directory/users.ts';
import { createMailer, readOutbox } from '../../../src/mail/index.ts';
import { ManualClock } from '../../../src/shared/clock.ts';
import { silentLogger } from '../../../src/shared/logger.ts';
import { createMemoryStore } from '../../../src/storage/memory/memory-store.ts';
import { openSqliteStore } from '../../../src/storage/sqlite/sqlite-store.ts';
import type { DocumentStore } from '../../../src/storage/ports.ts';
import type { AuditLog } from '../../../src/directory/audit.ts';
import { connectRedis, createRedisStore } from '../../../src/storage/redis/redis-store.ts';
import { Redis } from 'ioredis';
import { deleteKeysWithPrefix, redisAvailability, testKeyPrefix } from '../../helpers/redis.ts';

const DAY = 24 * 3600 * 1000;
const ADMIN: Actor = { kind: 'app', appId: 'contoso-daemon', displayName: 'Contoso payroll sync' };

let root: string;
let config: PorticoConfig;

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'portico-invitations-'));
  await mkdir(join(root, 'config', 'tenants'), { recursive: true });
  await writeFile(join(root, 'config', 'portico.yaml'), 'publicUrl: https://id.example.com\naudit:\n  retentionDays: 10\n');
  await writeFile(
    join(root, 'config', 'tenants', 'contoso.yaml'),
    'id: contoso\ndisplayName: Contoso\ndomains: [contoso.example]\ninvitations:\n  ticketDays: 7\n',
  );
  await writeFile(join(root, 'config', 'tenants', 'northwind.yaml'), 'id: northwind\ndisplayName: Northwind\ndomains: [northwind.example]\n');
  config = (await loadConfig(join(root, 'config'), {})).config;
});
after(() => rm(root, { recursive: true, force: true }));

interface Setup {
  store: DocumentStore;
  clock: ManualClock;
  users: UserDirectory;
  invitations: InvitationService;
  audit: AuditLog;
  outbox: string;
}

function setup(store: DocumentStore, clock: ManualClock, outbox: string): Setup {
  const users = new UserDirectory({ store, clock });
  const mailer = createMailer({ transport: 'outbox', from: 'Portico <no-reply@id.example.com>', outboxDir: outbox }, { logger: silentLogger(), clock });
  return { store, clock, users, outbox, ...directoryServices(config, { store, clock, users, mailer, logger: silentLogger() }) };
}

const invite = (s: Setup, email: string, extra: Partial<Parameters<InvitationService['invite']>[0]> = {}) =>
  s.invitations.invite({
    tenantId: 'contoso',
    email,
    inviteRedirectUrl: 'https://apps.contoso.example/',
    sendInvitationMessage: false,
    invitedBy: ADMIN,
    correlationId: 'test',
    ...extra,
  });

const ticketOf = (url: string): string => new URL(url).searchParams.get('ticket')!;

for (const backend of ['sqlite', 'memory', 'redis'] as const) {
  describe(`invitation lifecycle on ${backend}`, async () => {
    // Nothing here waits for the store's own expiry (ticket expiry is the service's, on the
    // injected clock), so Redis, which expires keys on its own clock, runs the same tests.
    const redis = backend === 'redis' ? await redisAvailability() : undefined;
    const skip = redis && !redis.available ? redis.reason : false;
    const prefix = testKeyPrefix('invitations');
    let s: Setup;
    let dir: string;

    before(async () => {
      if (skip) return;
      dir = await mkdtemp(join(root, `${backend}-`));
      const clock = new ManualClock(Date.UTC(2026, 10, 1));
      const store =
        backend === 'sqlite'
          ? openSqliteStore({ path: join(dir, 'portico.db'), clock })
          : backend === 'memory'
            ? createMemoryStore({ clock })
            : createRedisStore({ client: connectRedis({ mode: 'standalone', url: redis!.available ? redis!.url : '' }), keyPrefix: prefix });
      s = setup(store, clock, join(dir, 'outbox'));
    });
    const it = (name: string, fn: () => Promise<void>) => itOrSkip(name, { skip }, fn);
    after(async () => {
      if (skip) return;
      await s.store.close();
      if (redis?.available) {
        const admin = new Redis(redis.url, { maxRetriesPerRequest: 1 });
        await deleteKeysWithPrefix(admin, prefix);
        await admin.quit();
      }
    });

    it('issues a 256-bit ticket in a redeem URL under the tenant, valid for ticketDays', async () => {
      const issued = await invite(s, 'alice@adatum.com');
      assert.match(issued.inviteRedeemUrl, /^https:\/\/id\.example\.com\/contoso\/v2\.0\/redeem\?ticket=[A-Za-z0-9_-]{43}$/);
      assert.equal(issued.invitation.ticketExpiresDateTime, new Date(s.clock.now() + 7 * DAY).toISOString());
      const check = await s.invitations.checkTicket('contoso', ticketOf(issued.inviteRedeemUrl));
      assert.ok(check.ok);
      assert.equal(check.invitation.id, issued.invitation.id);
      assert.equal(issued.user.externalUserState, 'PendingAcceptance');
    });

    it('lets exactly one of many simultaneous redemptions win', async () => {
      const issued = await invite(s, 'bob@adatum.com');
      const ticket = ticketOf(issued.inviteRedeemUrl);
      const results = await Promise.all(Array.from({ length: 20 }, () => s.invitations.redeem('contoso', ticket, issued.user.id, { correlationId: 'race' })));
      assert.equal(results.filter((r) => r.ok).length, 1);
      assert.ok(results.every((r) => r.ok || r.reason === 'used'));
      assert.equal((await s.users.get('contoso', issued.user.id))?.externalUserState, 'Accepted');
    });

    it('lets exactly one of a redemption and a revocation racing for the same ticket take effect', async () => {
      for (let round = 0; round < 5; round++) {
        const issued = await invite(s, `race${round}@adatum.com`);
        const ticket = ticketOf(issued.inviteRedeemUrl);
        const [redeemed, revoked]: [PromiseSettledResult<Redemption>, PromiseSettledResult<Invitation>] = await Promise.allSettled([
          s.invitations.redeem('contoso', ticket, issued.user.id, { correlationId: 'race' }),
          s.invitations.revoke('contoso', issued.invitation.id, { actor: ADMIN, correlationId: 'race' }),
        ]);
        const redeemWon: boolean = redeemed.status === 'fulfilled' && redeemed.value.ok;
        const revokeWon = revoked.status === 'fulfilled';
        assert.notEqual(redeemWon, revokeWon, `round ${round}: one and only one wins`);
        if (!revokeWon) assert.ok(revoked.status === 'rejected' && revoked.reason instanceof InvitationError && revoked.reason.code === 'already_redeemed');
        const final = await s.invitations.get('contoso', issued.invitation.id);
        assert.equal(final?.status, redeemWon ? 'Completed' : 'Revoked');
      }
    });

    it('leaves exactly one live link when two resends race', async () => {
      const issued = await invite(s, 'twice@adatum.com');
      const results = await Promise.allSettled([1, 2].map(() => s.invitations.resend('contoso', issued.invitation.id, { actor: ADMIN, correlationId: 'twice' })));
      const urls = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value.inviteRedeemUrl] : []));
      assert.ok(urls.length >= 1);
      const live = [];
      for (const url of [issued.inviteRedeemUrl, ...urls]) if ((await s.invitations.checkTicket('contoso', ticketOf(url))).ok) live.push(url);
      assert.equal(live.length, 1);
    });

    it('expires tickets after ticketDays, without using them up, and a resend revives the invitation', async () => {
      const issued = await invite(s, 'carol@adatum.com');
      const ticket = ticketOf(issued.inviteRedeemUrl);
      s.clock.advance(7 * DAY - 1000);
      assert.equal((await s.invitations.checkTicket('contoso', ticket)).ok, true, 'valid until the last second');
      s.clock.advance(2000);
      assert.deepEqual(await s.invitations.checkTicket('contoso', ticket), { ok: false, reason: 'expired' });
      assert.deepEqual(await s.invitations.redeem('contoso', ticket, issued.user.id, { correlationId: 'late' }), { ok: false, reason: 'expired' });
      const resent = await s.invitations.resend('contoso', issued.invitation.id, { actor: ADMIN, correlationId: 'again' });
      assert.deepEqual(await s.invitations.checkTicket('contoso', ticket), { ok: false, reason: 'revoked' });
      const redeemed = await s.invitations.redeem('contoso', ticketOf(resent.inviteRedeemUrl), issued.user.id, { correlationId: 'now' });
      assert.ok(redeemed.ok);
      assert.equal(redeemed.invitation.status, 'Completed');
    });

    it('says unknown for a made-up ticket, another tenant’s ticket, and a ticket of another user’s invitation', async () => {
      assert.deepEqual(await s.invitations.checkTicket('contoso', 'A'.repeat(43)), { ok: false, reason: 'unknown' });
      assert.deepEqual(await s.invitations.checkTicket('contoso', 'not a ticket'), { ok: false, reason: 'unknown' });
      const issued = await invite(s, 'dora@adatum.com');
      const ticket = ticketOf(issued.inviteRedeemUrl);
      assert.deepEqual(await s.invitations.checkTicket('northwind', ticket), { ok: false, reason: 'unknown' });
      const other = await invite(s, 'ed@adatum.com');
      assert.deepEqual(await s.invitations.redeem('contoso', ticket, other.user.id, { correlationId: 'x' }), { ok: false, reason: 'other-user' });
      assert.equal((await s.invitations.checkTicket('contoso', ticket)).ok, true, 'a refused redemption leaves the ticket usable');
    });

    it('resets redemption: same id, identity links gone, pending again at the new address; clashing addresses refused', async () => {
      const issued = await invite(s, 'fay@adatum.com');
      const identity = { signInType: 'federated' as const, issuer: 'https://login.adatum.example', issuerAssignedId: 'fay' };
      assert.ok(await s.users.linkIdentity('contoso', issued.user.id, identity));
      await s.invitations.redeem('contoso', ticketOf(issued.inviteRedeemUrl), issued.user.id, { correlationId: 'x' });
      await invite(s, 'gus@adatum.com');
      await assert.rejects(invite(s, 'gus@adatum.com', { resetRedemptionOf: issued.user.id }), (e: unknown) => e instanceof InvitationError && e.code === 'email_taken');
      assert.equal((await s.users.findByIdentity('contoso', identity))?.id, issued.user.id, 'a refused reset changes nothing');

      s.clock.advance(60_000);
      const reset = await invite(s, 'fay@fabrikam.com', { resetRedemptionOf: issued.user.id });
      assert.equal(reset.user.id, issued.user.id);
      assert.equal(reset.user.userPrincipalName, 'fay_fabrikam.com#EXT#@contoso.example');
      assert.equal(reset.user.externalUserState, 'PendingAcceptance');
      assert.equal(reset.user.externalUserStateChangeDateTime, new Date(s.clock.now()).toISOString());
      assert.deepEqual(reset.user.identities, []);
      assert.equal(await s.users.findByIdentity('contoso', identity), undefined);
      assert.equal(await s.users.findByUserPrincipalName('contoso', 'fay_adatum.com#EXT#@contoso.example'), undefined, 'the old UPN is free');
      assert.ok(await s.users.linkIdentity('contoso', issued.user.id, identity), 'the same identity may redeem again');
      await assert.rejects(invite(s, 'x@adatum.com', { resetRedemptionOf: '00000000-0000-4000-8000-000000000000' }), (e: unknown) => e instanceof InvitationError && e.code === 'user_not_found');
    });

    it('refuses to invite an address that belongs to a member, and to reset a member who was never invited', async () => {
      const member = await s.users.create({ tenantId: 'contoso', userType: 'Member', userPrincipalName: 'hal@contoso.example', displayName: 'Hal', mail: 'hal@contoso.example' });
      await assert.rejects(invite(s, 'HAL@contoso.example'), (e: unknown) => e instanceof InvitationError && e.code === 'member_exists');
      await assert.rejects(invite(s, 'hal@other.example', { resetRedemptionOf: member.id }), (e: unknown) => e instanceof InvitationError && e.code === 'not_external');
    });

    it('keeps the invitation when mail fails (status Error, link valid) and records it in the audit log', async () => {
      const blocked = join(dir, 'not-a-folder');
      await writeFile(blocked, 'a file where the outbox folder should be');
      const broken = setup(s.store, s.clock, blocked);
      const issued = await invite(broken, 'ivy@adatum.com', { sendInvitationMessage: true });
      assert.equal(issued.invitation.status, 'Error');
      assert.equal((await s.invitations.checkTicket('contoso', ticketOf(issued.inviteRedeemUrl))).ok, true);
      const resent = await s.invitations.resend('contoso', issued.invitation.id, { actor: ADMIN, correlationId: 'fixed' });
      assert.equal(resent.invitation.status, 'PendingAcceptance');
      assert.equal(resent.invitation.lastSentDateTime, new Date(s.clock.now()).toISOString());
      const mails = (await readOutbox(s.outbox)).filter((m) => m.recipients.includes('ivy@adatum.com'));
      assert.equal(mails.length, 1);
      assert.ok(mails[0]!.text?.includes(resent.inviteRedeemUrl));
      const { entries } = await s.audit.list('contoso', { top: 2 });
      assert.deepEqual(entries.map((e) => [e.activityDisplayName, e.additionalDetails.find((d) => d.key === 'invitationMail')?.value]), [
        ['Resend external user invite', 'sent'],
        ['Invite external user', 'failed'],
      ]);
    });

    it('redeems just in time: without a link, the guest is Accepted and its pending links stop working', async () => {
      const first = await invite(s, 'kit@adatum.com');
      const second = await invite(s, 'kit@adatum.com');
      await s.invitations.acceptWithoutTicket('contoso', first.user.id, { correlationId: 'jit' });
      assert.equal((await s.users.get('contoso', first.user.id))?.externalUserState, 'Accepted');
      for (const issued of [first, second]) {
        assert.deepEqual(await s.invitations.checkTicket('contoso', ticketOf(issued.inviteRedeemUrl)), { ok: false, reason: 'used' });
        assert.equal((await s.invitations.get('contoso', issued.invitation.id))?.status, 'Completed');
      }
      const [entry] = (await s.audit.list('contoso', { top: 1 })).entries;
      assert.equal(entry?.activityDisplayName, 'Redeem external user invite');
      assert.deepEqual(entry?.additionalDetails, [{ key: 'redemption', value: 'just-in-time' }]);
      await assert.rejects(s.invitations.acceptWithoutTicket('contoso', 'nobody', { correlationId: 'x' }), InvitationError);
    });

    it('records failed redemptions as failures, naming why', async () => {
      const issued = await invite(s, 'jo@adatum.com');
      const ticket = ticketOf(issued.inviteRedeemUrl);
      await s.invitations.redeem('contoso', ticket, issued.user.id, { correlationId: 'first' });
      await s.invitations.redeem('contoso', ticket, issued.user.id, { correlationId: 'second' });
      const { entries } = await s.audit.list('contoso', { top: 2 });
      assert.deepEqual(entries.map((e) => [e.correlationId, e.result, e.resultReason]), [
        ['second', 'failure', 'The invitation link has already been used.'],
        ['first', 'success', ''],
      ]);
    });
  });
}

describe('what the store holds', () => {
  it('never the ticket itself: an SQLite file with invitations, resends and redemptions does not contain one', async () => {
    const dir = await mkdtemp(join(root, 'scan-'));
    const clock = new ManualClock();
    const store = openSqliteStore({ path: join(dir, 'portico.db'), clock });
    const s = setup(store, clock, join(dir, 'outbox'));
    const tickets: string[] = [];
    for (const name of ['kay', 'lou', 'max']) {
      const issued = await invite(s, `${name}@adatum.com`);
      tickets.push(ticketOf(issued.inviteRedeemUrl));
      const resent = await s.invitations.resend('contoso', issued.invitation.id, { actor: ADMIN, correlationId: 'r' });
      tickets.push(ticketOf(resent.inviteRedeemUrl));
    }
    await s.invitations.redeem('contoso', tickets[1]!, (await s.users.findByUserPrincipalName('contoso', 'kay_adatum.com#EXT#@contoso.example'))!.id, { correlationId: 'x' });
    await store.close();
    const files = (await readdir(dir)).filter((name) => name.startsWith('portico.db'));
    const bytes = Buffer.concat(await Promise.all(files.map((name) => readFile(join(dir, name)))));
    assert.ok(bytes.includes('kay_adatum.com'), 'the scan reads the data');
    for (const ticket of tickets) assert.ok(!bytes.includes(ticket), 'no ticket in the database');
  });
});
