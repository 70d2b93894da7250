import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { AuthenticatorStore } from '../../../src/mfa/authenticator-store.ts';
import { CHALLENGE_TTL_SECONDS, PasskeyStore, userHandleOf } from '../../../src/mfa/passkeys.ts';
import { totpCodeAt } from '../../../src/mfa/totp.ts';
import { ManualClock } from '../../../src/shared/clock.ts';
import { createMemoryStore } from '../../../src/storage/memory/memory-store.ts';
import type { DocumentStore } from '../../../src/storage/ports.ts';
import { openSqliteStore } from '../../../src/storage/sqlite/sqlite-store.ts';
import { SoftwareAuthenticator } from '../../helpers/software-authenticator.ts';

const dir = mkdtempSync(join(tmpdir(), 'portico-passkeys-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const PUBLIC_URL = 'https://login.contoso.example';
const ORIGIN = 'https://login.contoso.example';
const T = Date.UTC(2026, 2, 14, 9, 26, 40);
const TENANT = 'contoso';
const USER = '6f1c2a0e-0000-4000-8000-000000000001';
const FLOW = 'flow-1';

let files = 0;
const BACKENDS: Record<string, (clock: ManualClock) => DocumentStore> = {
  memory: (clock) => createMemoryStore({ clock }),
  sqlite: (clock) => openSqliteStore({ path: join(dir, `db-${++files}.db`), clock }),
};

for (const [backendName, open] of Object.entries(BACKENDS)) {
  describe(`PasskeyStore on the ${backendName} store`, () => {
    async function withStore(test: (f: { passkeys: PasskeyStore; authenticators: AuthenticatorStore; clock: ManualClock }) => Promise<void>): Promise<void> {
      const clock = new ManualClock(T);
      const store = open(clock);
      const authenticators = new AuthenticatorStore({ store, clock });
      try {
        await test({ passkeys: new PasskeyStore({ store, clock, publicUrl: PUBLIC_URL, authenticators }), authenticators, clock });
      } finally {
        await store.close();
      }
    }

    const registrationInput = { tenantId: TENANT, userId: USER, flowId: FLOW, rpName: 'Contoso', userName: 'ann_fabrikam.com#EXT#@contoso.example', userDisplayName: 'Ann' };

    /** A passkey registered through the whole ceremony; returns the authenticator and the result. */
    async function registered(passkeys: PasskeyStore, options: { backedUp?: boolean } = {}) {
      const authenticator = new SoftwareAuthenticator({ origin: ORIGIN, ...options });
      const creation = await passkeys.registrationOptions(registrationInput);
      const result = await passkeys.verifyRegistration({ tenantId: TENANT, userId: USER, flowId: FLOW, response: authenticator.register(creation) });
      assert.equal(result.status, 'registered', JSON.stringify(result));
      return { authenticator, result: result as Extract<typeof result, { status: 'registered' }> };
    }

    it('offers registration bound to PUBLIC_URL’s host, the user’s object id, no attestation and required user verification', () =>
      withStore(async ({ passkeys }) => {
        const options = await passkeys.registrationOptions(registrationInput);
        assert.deepEqual(options.rp, { name: 'Contoso', id: 'login.contoso.example' });
        assert.equal(options.user.id, Buffer.from(userHandleOf(USER)).toString('base64url'));
        assert.equal(Buffer.from(options.user.id, 'base64url').toString('hex'), USER.replace(/-/g, ''), 'the 16 bytes of the object id');
        assert.equal(options.user.name, registrationInput.userName);
        assert.equal(options.attestation, 'none');
        assert.equal(options.authenticatorSelection?.residentKey, 'preferred');
        assert.equal(options.authenticatorSelection?.userVerification, 'required');
        assert.deepEqual(options.excludeCredentials, []);
        assert.ok(options.pubKeyCredParams.some((p) => p.alg === -7), 'ES256 is offered');
      }));

    it('registers a passkey, makes recovery codes with the first method, and excludes it next time', () =>
      withStore(async ({ passkeys, authenticators }) => {
        const { authenticator, result } = await registered(passkeys);
        assert.equal(result.passkey.kind, 'fido2');
        assert.equal(result.passkey.createdDateTime, new Date(T).toISOString());
        assert.equal(result.recoveryCodes?.length, 10, 'the first method brings recovery codes');
        assert.equal(await passkeys.hasPasskey(TENANT, USER), true);
        assert.equal(await authenticators.hasMethod(TENANT, USER), false, 'no authenticator app');
        assert.deepEqual(await passkeys.listPasskeys(TENANT, USER), [result.passkey]);

        const again = await passkeys.registrationOptions(registrationInput);
        assert.deepEqual(again.excludeCredentials?.map((c) => c.id), [authenticator.id]);
        const second = await registered(passkeys);
        assert.equal(second.result.recoveryCodes, undefined, 'a second passkey brings no new codes');
        assert.equal((await passkeys.listPasskeys(TENANT, USER)).length, 2);

        // The recovery codes made for the passkey work like an app's.
        const used = await authenticators.useRecoveryCode(TENANT, USER, result.recoveryCodes![0]!);
        assert.deepEqual(used, { status: 'ok', remaining: 9 });
        assert.equal((await authenticators.useRecoveryCode(TENANT, USER, result.recoveryCodes![0]!)).status, 'invalid', 'once only');
      }));

    it('refuses a registration challenge used twice, an expired one, and one from another flow', () =>
      withStore(async ({ passkeys, clock }) => {
        const authenticator = new SoftwareAuthenticator({ origin: ORIGIN });
        const options = await passkeys.registrationOptions(registrationInput);
        const response = authenticator.register(options);
        assert.deepEqual(await passkeys.verifyRegistration({ tenantId: TENANT, userId: USER, flowId: 'another-flow', response }), { status: 'expired' });
        assert.equal((await passkeys.verifyRegistration({ tenantId: TENANT, userId: USER, flowId: FLOW, response })).status, 'registered');
        assert.deepEqual(await passkeys.verifyRegistration({ tenantId: TENANT, userId: USER, flowId: FLOW, response }), { status: 'expired' }, 'the challenge is spent');

        const late = await passkeys.registrationOptions(registrationInput);
        clock.advance((CHALLENGE_TTL_SECONDS + 1) * 1000);
        const lateResponse = new SoftwareAuthenticator({ origin: ORIGIN }).register(late);
        assert.deepEqual(await passkeys.verifyRegistration({ tenantId: TENANT, userId: USER, flowId: FLOW, response: lateResponse }), { status: 'expired' });
      }));

    it('refuses a registration from another origin, without user verification, or malformed, and spends the challenge', () =>
      withStore(async ({ passkeys, authenticators }) => {
        const phished = new SoftwareAuthenticator({ origin: ORIGIN }).register(await passkeys.registrationOptions(registrationInput), { origin: 'https://login.contoso-example.net' });
        const wrongOrigin = await passkeys.verifyRegistration({ tenantId: TENANT, userId: USER, flowId: FLOW, response: phished });
        assert.equal(wrongOrigin.status, 'invalid');
        assert.match((wrongOrigin as { detail: string }).detail, /origin/i);

        const unverified = new SoftwareAuthenticator({ origin: ORIGIN, userVerified: false }).register(await passkeys.registrationOptions(registrationInput));
        const noUv = await passkeys.verifyRegistration({ tenantId: TENANT, userId: USER, flowId: FLOW, response: unverified });
        assert.equal(noUv.status, 'invalid');
        assert.match((noUv as { detail: string }).detail, /user could not be verified|verif/i);

        await passkeys.registrationOptions(registrationInput);
        assert.equal((await passkeys.verifyRegistration({ tenantId: TENANT, userId: USER, flowId: FLOW, response: { id: 'x' } })).status, 'invalid');
        assert.equal((await passkeys.verifyRegistration({ tenantId: TENANT, userId: USER, flowId: FLOW, response: { id: 'x' } })).status, 'expired', 'a failed attempt spends it too');

        assert.equal(await passkeys.hasPasskey(TENANT, USER), false);
        assert.equal(await authenticators.hasRecoveryCodes(TENANT, USER), false, 'no codes without a method');
      }));

    it('authenticates with the passkey once per challenge and moves the counter forward', () =>
      withStore(async ({ passkeys }) => {
        const { authenticator, result } = await registered(passkeys);
        const options = await passkeys.authenticationOptions({ tenantId: TENANT, userId: USER, flowId: FLOW });
        assert.ok(options);
        assert.equal(options.rpId, 'login.contoso.example');
        assert.equal(options.userVerification, 'required');
        assert.deepEqual(options.allowCredentials?.map((c) => c.id), [authenticator.id]);

        const assertion = authenticator.authenticate(options);
        assert.deepEqual(await passkeys.verifyAuthentication({ tenantId: TENANT, userId: USER, flowId: FLOW, response: assertion }), {
          status: 'ok',
          passkey: result.passkey,
          amr: 'hwk',
        });
        assert.deepEqual(await passkeys.verifyAuthentication({ tenantId: TENANT, userId: USER, flowId: FLOW, response: assertion }), { status: 'expired' }, 'challenge reuse is refused');

        // The same assertion against a fresh challenge: the signature covers the old one.
        await passkeys.authenticationOptions({ tenantId: TENANT, userId: USER, flowId: FLOW });
        const replay = await passkeys.verifyAuthentication({ tenantId: TENANT, userId: USER, flowId: FLOW, response: assertion });
        assert.equal(replay.status, 'invalid');
        assert.match((replay as { detail: string }).detail, /challenge/i);

        const next = await passkeys.authenticationOptions({ tenantId: TENANT, userId: USER, flowId: FLOW });
        assert.equal((await passkeys.verifyAuthentication({ tenantId: TENANT, userId: USER, flowId: FLOW, response: authenticator.authenticate(next!) })).status, 'ok');
      }));

    it('refuses an assertion whose counter goes back (a cloned authenticator)', () =>
      withStore(async ({ passkeys }) => {
        const { authenticator } = await registered(passkeys);
        authenticator.counter = 10;
        const first = await passkeys.authenticationOptions({ tenantId: TENANT, userId: USER, flowId: FLOW });
        assert.equal((await passkeys.verifyAuthentication({ tenantId: TENANT, userId: USER, flowId: FLOW, response: authenticator.authenticate(first!) })).status, 'ok');

        authenticator.counter = 5;
        const cloned = await passkeys.authenticationOptions({ tenantId: TENANT, userId: USER, flowId: FLOW });
        const refused = await passkeys.verifyAuthentication({ tenantId: TENANT, userId: USER, flowId: FLOW, response: authenticator.authenticate(cloned!) });
        assert.equal(refused.status, 'invalid');
        assert.match((refused as { detail: string }).detail, /counter/i);

        authenticator.counter = 10; // the same value again: not forward either
        const same = await passkeys.authenticationOptions({ tenantId: TENANT, userId: USER, flowId: FLOW });
        assert.equal((await passkeys.verifyAuthentication({ tenantId: TENANT, userId: USER, flowId: FLOW, response: authenticator.authenticate(same!) })).status, 'invalid');
      }));

    it('refuses an assertion from another origin, an unknown credential, and one without user verification', () =>
      withStore(async ({ passkeys }) => {
        const { authenticator } = await registered(passkeys);
        const options = await passkeys.authenticationOptions({ tenantId: TENANT, userId: USER, flowId: FLOW });
        const wrongOrigin = await passkeys.verifyAuthentication({
          tenantId: TENANT,
          userId: USER,
          flowId: FLOW,
          response: authenticator.authenticate(options!, { origin: 'http://login.contoso.example' }),
        });
        assert.equal(wrongOrigin.status, 'invalid');
        assert.match((wrongOrigin as { detail: string }).detail, /origin/i);

        const stranger = new SoftwareAuthenticator({ origin: ORIGIN });
        const forStranger = await passkeys.authenticationOptions({ tenantId: TENANT, userId: USER, flowId: FLOW });
        assert.deepEqual(await passkeys.verifyAuthentication({ tenantId: TENANT, userId: USER, flowId: FLOW, response: stranger.authenticate(forStranger!) }), {
          status: 'unknown_credential',
        });

        authenticator.userVerified = false;
        const noUv = await passkeys.authenticationOptions({ tenantId: TENANT, userId: USER, flowId: FLOW });
        const presenceOnly = await passkeys.verifyAuthentication({ tenantId: TENANT, userId: USER, flowId: FLOW, response: authenticator.authenticate(noUv!) });
        assert.equal(presenceOnly.status, 'invalid', 'a touch without PIN or biometric is one factor only');
        assert.match((presenceOnly as { detail: string }).detail, /verif/i);
      }));

    it('says a synced passkey is a software key (swk) and has no options for a user without passkeys', () =>
      withStore(async ({ passkeys }) => {
        assert.equal(await passkeys.authenticationOptions({ tenantId: TENANT, userId: USER, flowId: FLOW }), undefined);
        const { authenticator } = await registered(passkeys, { backedUp: true });
        const options = await passkeys.authenticationOptions({ tenantId: TENANT, userId: USER, flowId: FLOW });
        const result = await passkeys.verifyAuthentication({ tenantId: TENANT, userId: USER, flowId: FLOW, response: authenticator.authenticate(options!) });
        assert.equal(result.status, 'ok');
        assert.equal((result as { amr: string }).amr, 'swk');
      }));

    it('deletes a passkey; the last one takes the recovery codes with it, an app keeps its own', () =>
      withStore(async ({ passkeys, authenticators, clock }) => {
        const first = await registered(passkeys);
        const second = await registered(passkeys);
        assert.equal(await passkeys.remove(TENANT, USER, 'no-such-id'), false);
        assert.equal(await passkeys.remove('fabrikam', USER, first.result.passkey.id), false, 'another tenant’s user');
        assert.equal(await passkeys.remove(TENANT, USER, first.result.passkey.id), true);
        assert.equal(await authenticators.hasRecoveryCodes(TENANT, USER), true, 'another passkey is left');
        assert.equal(await passkeys.remove(TENANT, USER, second.result.passkey.id), true);
        assert.equal(await passkeys.hasPasskey(TENANT, USER), false);
        assert.equal(await authenticators.hasRecoveryCodes(TENANT, USER), false, 'the codes went with the last method');
        assert.equal(await passkeys.remove(TENANT, USER, second.result.passkey.id), false);

        // An authenticator app enrolled afterwards brings fresh codes, as before passkeys existed.
        const pending = await authenticators.startEnrolment(TENANT, USER);
        const confirmed = await authenticators.confirmEnrolment(TENANT, USER, await totpCodeAt(pending.secret, clock.now()));
        assert.equal(confirmed.status, 'confirmed');
        const third = await registered(passkeys);
        assert.equal(third.result.recoveryCodes, undefined, 'the app brought the codes');
        assert.equal(await passkeys.remove(TENANT, USER, third.result.passkey.id), true);
        assert.equal(await authenticators.hasMethod(TENANT, USER), true, 'the app and its codes stay');
        assert.equal(await authenticators.hasRecoveryCodes(TENANT, USER), true);
      }));

    it('keeps the first method’s recovery codes: an app confirmed after a passkey is refused as already enrolled', () =>
      withStore(async ({ passkeys, authenticators, clock }) => {
        const pending = await authenticators.startEnrolment(TENANT, USER);
        await registered(passkeys);
        const confirmed = await authenticators.confirmEnrolment(TENANT, USER, await totpCodeAt(pending.secret, clock.now()));
        assert.deepEqual(confirmed, { status: 'already_enrolled' });
        assert.equal(await authenticators.hasMethod(TENANT, USER), false);
        assert.deepEqual(await authenticators.listMethods(TENANT, USER), [], 'the API lists no app');
        assert.deepEqual(await authenticators.verify(TENANT, USER, await totpCodeAt(pending.secret, clock.now())), { status: 'no_method' });
      }));
  });
}
