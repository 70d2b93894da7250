import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { AuthenticatorStore, AuthenticatorUnreadableError, ENROLMENT_TTL_SECONDS } from '../../../src/mfa/authenticator-store.ts';
import { totpCodeAt, totpStepAt } from '../../../src/mfa/totp.ts';
import { ManualClock } from '../../../src/shared/clock.ts';
import { createMemoryStore } from '../../../src/storage/memory/memory-store.ts';
import type { DocumentStore } from '../../../src/storage/ports.ts';
import { openSqliteStore } from '../../../src/storage/sqlite/sqlite-store.ts';

const dir = mkdtempSync(join(tmpdir(), 'portico-mfa-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const ENCRYPTION_SECRET = 'an-encryption-secret-of-32-chars-or-more';
/** 10 s into a step. */
const T = Date.UTC(2026, 2, 14, 9, 26, 40);
const STEP_MS = 30_000;
const TENANT = 'contoso';
const USER = '6f1c2a0e-0000-4000-8000-000000000001';

interface Backend {
  readonly store: DocumentStore;
  /** Every byte the backend keeps on disk, for checks of what is at rest; undefined in memory. */
  readonly bytesAtRest: () => string | undefined;
  readonly close: () => Promise<void>;
}

let files = 0;
const BACKENDS: Record<string, (clock: ManualClock) => Backend> = {
  memory: (clock) => {
    const store = createMemoryStore({ clock });
    return { store, bytesAtRest: () => undefined, close: () => store.close() };
  },
  sqlite: (clock) => {
    const folder = join(dir, `db-${++files}`);
    const store = openSqliteStore({ path: join(folder, 'portico.db'), clock });
    return {
      store,
      // The database and its write-ahead log: a value lives in one or the other.
      bytesAtRest: () => readdirSync(folder).map((name) => readFileSync(join(folder, name)).toString('latin1')).join(''),
      close: () => store.close(),
    };
  },
};

for (const [backendName, open] of Object.entries(BACKENDS)) {
  describe(`AuthenticatorStore on the ${backendName} store`, () => {
    async function withStore(
      test: (f: { mfa: AuthenticatorStore; clock: ManualClock; backend: Backend; reopen: (secret?: string) => AuthenticatorStore }) => Promise<void>,
      options: { readonly sealed: boolean } = { sealed: true },
    ): Promise<void> {
      const clock = new ManualClock(T);
      const backend = open(clock);
      const reopen = (secret?: string) => new AuthenticatorStore({ store: backend.store, clock, encryptionSecret: secret });
      try {
        await test({ mfa: reopen(options.sealed ? ENCRYPTION_SECRET : undefined), clock, backend, reopen });
      } finally {
        await backend.close();
      }
    }

    /** Enrols USER at the clock's time; the secret and the recovery codes. */
    async function enrol(mfa: AuthenticatorStore, clock: ManualClock, userId = USER) {
      const { secret } = await mfa.startEnrolment(TENANT, userId);
      const result = await mfa.confirmEnrolment(TENANT, userId, await totpCodeAt(secret, clock.now()));
      assert.equal(result.status, 'confirmed');
      if (result.status !== 'confirmed') throw new Error('unreachable');
      return { secret, ...result };
    }

    it('confirms an enrolment with the first valid code and hands out ten recovery codes once', () =>
      withStore(async ({ mfa, clock }) => {
        assert.equal(await mfa.hasMethod(TENANT, USER), false);
        const started = await mfa.startEnrolment(TENANT, USER);
        assert.match(started.secret, /^[A-Z2-7]{32}$/);
        assert.equal(started.expiresAt, T + ENROLMENT_TTL_SECONDS * 1000);
        assert.deepEqual(await mfa.pendingEnrolment(TENANT, USER), started, 'the pending secret can be shown again');

        const wrong = (Number(await totpCodeAt(started.secret, clock.now())) + 1) % 1_000_000;
        assert.deepEqual(await mfa.confirmEnrolment(TENANT, USER, String(wrong).padStart(6, '0')), { status: 'invalid' });
        assert.equal(await mfa.hasMethod(TENANT, USER), false);

        const confirmed = await mfa.confirmEnrolment(TENANT, USER, await totpCodeAt(started.secret, clock.now()));
        assert.equal(confirmed.status, 'confirmed');
        if (confirmed.status !== 'confirmed') return;
        assert.equal(confirmed.recoveryCodes.length, 10);
        assert.equal(confirmed.method.kind, 'softwareOath');
        assert.equal(confirmed.method.createdDateTime, new Date(T).toISOString());
        assert.deepEqual(await mfa.listMethods(TENANT, USER), [confirmed.method]);
        assert.equal(await mfa.hasMethod(TENANT, USER), true);
        assert.equal(await mfa.pendingEnrolment(TENANT, USER), undefined);
        assert.deepEqual(await mfa.confirmEnrolment(TENANT, USER, await totpCodeAt(started.secret, clock.now())), { status: 'expired' }, 'confirmed once only');

        // A second app needs an administrator's reset first.
        const again = await mfa.startEnrolment(TENANT, USER);
        assert.deepEqual(await mfa.confirmEnrolment(TENANT, USER, await totpCodeAt(again.secret, clock.now())), { status: 'already_enrolled' });
        assert.deepEqual(await mfa.listMethods(TENANT, USER), [confirmed.method]);
      }));

    it('lets a pending enrolment expire after 10 minutes', () =>
      withStore(async ({ mfa, clock }) => {
        const { secret } = await mfa.startEnrolment(TENANT, USER);
        clock.advance(ENROLMENT_TTL_SECONDS * 1000 + 1);
        assert.equal(await mfa.pendingEnrolment(TENANT, USER), undefined);
        assert.deepEqual(await mfa.confirmEnrolment(TENANT, USER, await totpCodeAt(secret, clock.now())), { status: 'expired' });
      }));

    it('accepts each time step once and only after the last one used', () =>
      withStore(async ({ mfa, clock }) => {
        const { secret } = await enrol(mfa, clock);
        const enrolCode = await totpCodeAt(secret, T);
        assert.deepEqual(await mfa.verify(TENANT, USER, enrolCode), { status: 'replayed' }, 'the confirming code is used up');

        clock.advance(STEP_MS);
        const next = await totpCodeAt(secret, clock.now());
        assert.deepEqual(await mfa.verify(TENANT, USER, next), { status: 'ok', timeStep: totpStepAt(clock.now()) });
        assert.deepEqual(await mfa.verify(TENANT, USER, next), { status: 'replayed' });

        // One step on, the previous code is still inside the window but older than the last used.
        clock.advance(STEP_MS);
        assert.deepEqual(await mfa.verify(TENANT, USER, next), { status: 'replayed' });
        assert.equal((await mfa.verify(TENANT, USER, await totpCodeAt(secret, clock.now()))).status, 'ok');
        assert.deepEqual(await mfa.verify(TENANT, USER, '12 34'), { status: 'invalid' });
        assert.deepEqual(await mfa.verify(TENANT, 'someone-else', next), { status: 'no_method' });
        assert.deepEqual(await mfa.verify('fabrikam', USER, next), { status: 'no_method' }, 'tenants are apart');
      }));

    it('lets exactly one of several parallel uses of the same code through', () =>
      withStore(async ({ mfa, clock }) => {
        const { secret } = await enrol(mfa, clock);
        clock.advance(STEP_MS);
        const code = await totpCodeAt(secret, clock.now());
        const results = await Promise.all(Array.from({ length: 5 }, () => mfa.verify(TENANT, USER, code)));
        assert.deepEqual(results.map((r) => r.status).sort(), ['ok', 'replayed', 'replayed', 'replayed', 'replayed']);
      }));

    it('limits wrong codes to 5 per 5 minutes per user; right codes do not count', () =>
      withStore(async ({ mfa, clock }) => {
        const { secret } = await enrol(mfa, clock);
        const wrong = async () => String((Number(await totpCodeAt(secret, clock.now())) + 500_000) % 1_000_000).padStart(6, '0');
        for (let i = 0; i < 4; i++) assert.deepEqual(await mfa.verify(TENANT, USER, await wrong()), { status: 'invalid' });
        clock.advance(STEP_MS);
        assert.equal((await mfa.verify(TENANT, USER, await totpCodeAt(secret, clock.now()))).status, 'ok', 'a right code after 4 wrong ones');
        assert.deepEqual(await mfa.verify(TENANT, USER, await wrong()), { status: 'invalid' }, 'the fifth wrong code is still compared');

        clock.advance(STEP_MS);
        const throttled = await mfa.verify(TENANT, USER, await totpCodeAt(secret, clock.now()));
        assert.equal(throttled.status, 'throttled', 'even the right code waits');
        if (throttled.status === 'throttled') assert.equal(throttled.retryAfterSeconds, 300 - 2 * 30);
        assert.equal((await mfa.useRecoveryCode(TENANT, USER, 'aaaaa-aaaaa')).status, 'throttled', 'recovery codes share the limit');
        assert.equal((await mfa.verify(TENANT, 'another-user', await wrong())).status, 'no_method');

        clock.advance(300 * 1000);
        assert.equal((await mfa.verify(TENANT, USER, await totpCodeAt(secret, clock.now()))).status, 'ok', 'a new window');
      }));

    it('compares at most 5 of many parallel guesses', () =>
      withStore(async ({ mfa, clock }) => {
        const { secret } = await enrol(mfa, clock);
        const right = Number(await totpCodeAt(secret, clock.now()));
        // Far from the right code, so no guess happens to be a neighbouring step's code either.
        const guesses = Array.from({ length: 20 }, (_, i) => String((right + 1000 + i) % 1_000_000).padStart(6, '0'));
        const results = await Promise.all(guesses.map((guess) => mfa.verify(TENANT, USER, guess)));
        const statuses = results.map((r) => r.status);
        assert.equal(statuses.filter((s) => s === 'invalid').length, 5, JSON.stringify(statuses));
        assert.equal(statuses.filter((s) => s === 'throttled').length, 15);
      }));

    it('takes each recovery code once, however it is typed', () =>
      withStore(async ({ mfa, clock }) => {
        const { recoveryCodes } = await enrol(mfa, clock);
        const [first, second] = recoveryCodes as [string, string];
        assert.deepEqual(await mfa.useRecoveryCode(TENANT, USER, first.toUpperCase()), { status: 'ok', remaining: 9 });
        assert.deepEqual(await mfa.useRecoveryCode(TENANT, USER, first), { status: 'invalid' }, 'used up');
        const racing = await Promise.all([1, 2, 3].map(() => mfa.useRecoveryCode(TENANT, USER, second)));
        assert.deepEqual(racing.map((r) => r.status).sort(), ['invalid', 'invalid', 'ok']);
        assert.deepEqual(await mfa.useRecoveryCode(TENANT, USER, 'not a code'), { status: 'invalid' });
        assert.deepEqual(await mfa.useRecoveryCode(TENANT, 'someone-else', first), { status: 'no_method' });
      }));

    it('resets: the method and its recovery codes are gone and the user enrols afresh', () =>
      withStore(async ({ mfa, clock }) => {
        const { method, recoveryCodes, secret } = await enrol(mfa, clock);
        assert.equal(await mfa.reset(TENANT, USER, 'another-method-id'), false);
        assert.equal(await mfa.reset('fabrikam', USER, method.id), false);
        assert.equal(await mfa.hasMethod(TENANT, USER), true);
        assert.equal(await mfa.reset(TENANT, USER, method.id), true);
        assert.equal(await mfa.reset(TENANT, USER, method.id), false);
        assert.deepEqual(await mfa.listMethods(TENANT, USER), []);
        clock.advance(STEP_MS);
        assert.deepEqual(await mfa.verify(TENANT, USER, await totpCodeAt(secret, clock.now())), { status: 'no_method' });
        assert.deepEqual(await mfa.useRecoveryCode(TENANT, USER, recoveryCodes[0]!), { status: 'no_method' });
        const renewed = await enrol(mfa, clock);
        assert.notEqual(renewed.method.id, method.id);
        assert.notEqual(renewed.secret, secret);
      }));

    it('seals secrets at rest when an encryption secret is given, bound to their user', () =>
      withStore(async ({ mfa, clock, backend, reopen }) => {
        const pending = await mfa.startEnrolment(TENANT, 'pending-user');
        const { secret, method } = await enrol(mfa, clock);
        const everything = async (collection: string, user: string) => JSON.stringify(await backend.store.get(collection, JSON.stringify([TENANT, user])));
        const stored = await everything('mfa-authenticators', USER);
        assert.match(stored, /"sealed"/);
        assert.ok(!stored.includes(secret), 'the method record holds no plain secret');
        assert.ok(!(await everything('mfa-enrolments', 'pending-user')).includes(pending.secret), 'nor does a pending enrolment');
        const disk = backend.bytesAtRest();
        if (disk !== undefined) {
          assert.ok(disk.includes(method.id), 'the check reads the real files');
          assert.ok(!disk.includes(secret) && !disk.includes(pending.secret), 'no plain secret on disk');
        }

        clock.advance(STEP_MS);
        const code = await totpCodeAt(secret, clock.now());
        await assert.rejects(reopen(undefined).verify(TENANT, USER, code), AuthenticatorUnreadableError);
        await assert.rejects(reopen('another-secret-of-more-than-32-characters').verify(TENANT, USER, code), AuthenticatorUnreadableError);
        // Copied onto another user, the sealed secret does not open: it is bound to its record.
        const record = await backend.store.get(`mfa-authenticators`, JSON.stringify([TENANT, USER]));
        await backend.store.put('mfa-authenticators', JSON.stringify([TENANT, 'intruder']), { ...(record!.value as object), userId: 'intruder' });
        await assert.rejects(mfa.verify(TENANT, 'intruder', code), AuthenticatorUnreadableError);
        assert.equal((await mfa.verify(TENANT, USER, code)).status, 'ok');
      }));

    it('keeps the secret as it is without an encryption secret', () =>
      withStore(async ({ mfa, clock, backend }) => {
        const { secret } = await enrol(mfa, clock);
        assert.ok(JSON.stringify(await backend.store.get('mfa-authenticators', JSON.stringify([TENANT, USER]))).includes(secret));
        clock.advance(STEP_MS);
        assert.equal((await mfa.verify(TENANT, USER, await totpCodeAt(secret, clock.now()))).status, 'ok');
      }, { sealed: false }));
  });
}
