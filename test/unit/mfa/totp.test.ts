import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { ManualClock } from '../../../src/shared/clock.ts';
import { cleanTotpCode, generateTotpSecret, totpCodeAt, totpStepAt, totpUri, verifyTotp } from '../../../src/mfa/totp.ts';

const run = promisify(execFile);
/** 10 s into a 30 s step, so ±30 s stays one step away and ±60 s two. */
const T = Date.UTC(2026, 2, 14, 9, 26, 40);

/** The code oathtool (liboath, an independent RFC 6238 implementation) computes at `epochMs`. */
async function oathtool(secret: string, epochMs: number): Promise<string> {
  const now = new Date(epochMs).toISOString().replace('T', ' ').replace(/\.\d{3}Z$/, ' UTC');
  const { stdout } = await run('oathtool', ['--totp', '-b', '--now', now, secret]);
  return stdout.trim();
}

describe('TOTP', () => {
  it('generates 160-bit base32 secrets, different every time', () => {
    const secrets = new Set(Array.from({ length: 20 }, generateTotpSecret));
    assert.equal(secrets.size, 20);
    for (const secret of secrets) {
      assert.match(secret, /^[A-Z2-7]{32}$/, '32 base32 characters are exactly 160 bits');
    }
  });

  it('computes the same codes as oathtool', async () => {
    const secret = generateTotpSecret();
    for (const at of [T, T + 30_000, Date.UTC(2030, 11, 31, 23, 59, 59)]) {
      const mine = await totpCodeAt(secret, at);
      assert.match(mine, /^\d{6}$/);
      assert.equal(mine, await oathtool(secret, at), new Date(at).toISOString());
    }
  });

  it('accepts a code one step early or late and returns the step it belongs to', async () => {
    const secret = generateTotpSecret();
    const code = await oathtool(secret, T);
    const clock = new ManualClock(T);
    for (const offset of [-30_000, 0, 30_000]) {
      clock.set(T + offset);
      assert.deepEqual(await verifyTotp(secret, code, clock), { timeStep: totpStepAt(T) }, `offset ${offset} ms`);
    }
  });

  it('refuses a code two steps away, a code of another secret and what is not a code', async () => {
    const secret = generateTotpSecret();
    const code = await totpCodeAt(secret, T);
    const clock = new ManualClock(T - 60_000);
    assert.equal(await verifyTotp(secret, code, clock), undefined, 'two steps early');
    clock.set(T + 60_000);
    assert.equal(await verifyTotp(secret, code, clock), undefined, 'two steps late');
    clock.set(T);
    assert.equal(await verifyTotp(generateTotpSecret(), code, clock), undefined);
    for (const junk of ['', '12345', '1234567', 'abcdef', `${code}0`]) assert.equal(await verifyTotp(secret, junk, clock), undefined, junk);
  });

  it('takes a code with the space apps show in the middle', async () => {
    const secret = generateTotpSecret();
    const code = await totpCodeAt(secret, T);
    assert.ok(await verifyTotp(secret, `${code.slice(0, 3)} ${code.slice(3)}`, new ManualClock(T)));
    assert.equal(cleanTotpCode(' 123 456 '), '123456');
    assert.equal(cleanTotpCode('12-3456'), undefined);
  });

  it('builds the otpauth URI with the tenant as issuer and Portico (tenant):account as label', () => {
    const uri = totpUri({ secret: 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP', tenantDisplayName: 'Contoso Ltd', account: 'alice_adatum.com#EXT#@contoso.example' });
    const url = new URL(uri);
    assert.equal(url.protocol, 'otpauth:');
    assert.equal(url.host, 'totp');
    const [issuerPart, account, ...rest] = url.pathname.slice(1).split(':');
    assert.deepEqual(rest, [], 'exactly one literal colon in the label');
    assert.equal(decodeURIComponent(issuerPart!), 'Portico (Contoso Ltd)');
    assert.equal(decodeURIComponent(account!), 'alice_adatum.com#EXT#@contoso.example');
    assert.equal(url.searchParams.get('secret'), 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP');
    assert.equal(url.searchParams.get('issuer'), 'Contoso Ltd');
    assert.match(uri, /issuer=Contoso%20Ltd/, 'spaces as %20: some apps show a + literally');
    assert.equal(url.searchParams.get('digits'), '6');
    assert.equal(url.searchParams.get('period'), '30');
    assert.equal(url.searchParams.get('algorithm'), 'SHA1');
  });
});
