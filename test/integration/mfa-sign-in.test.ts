/**
 * Portico's own second factor where conditional access requires MFA for guests: an email-passcode
 * guest (a passcode is never MFA) enrols an authenticator app on first need, the code checked
 * against Debian's `oathtool` as well as otplib; a code is accepted once only; recovery codes work
 * once each; an admin reset through the API makes the guest enrol again. A guest from a partner
 * whose MFA is trusted passes on the upstream's `amr` without a prompt, and is asked again once
 * the trust is switched off live. Real SMTP, a real OIDC stand-in, a real relying party.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import * as client from 'openid-client';
import { parse, stringify } from 'yaml';
import type { User } from '../../src/directory/users.ts';
import { totpCodeAt } from '../../src/mfa/totp.ts';
import { entryOf } from '../../src/directory/tenant-log.ts';
import { federationTenantYaml } from '../helpers/federation-tenant.ts';
import { freePort } from '../helpers/http.ts';
import { startTestPortico, type TestPortico } from '../helpers/portico.ts';
import type { SignInSession } from '../helpers/sign-in.ts';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp.ts';
import { signInUpstream, startOidcStandIn, type OidcStandIn } from '../helpers/upstreams/index.ts';
import { DAEMON, appToken } from './graph-harness.ts';
import { editTenant, guest, passcodeSignIn, session, signIns, signInsOf, smtpYaml, type WebApp } from './policy-harness.ts';

const run = promisify(execFile);
const PAYROLL: WebApp = { id: 'payroll-web', secret: 'test-app-secret', redirectUri: 'http://localhost:8092/callback' };
const ACR_MFA = 'https://refeds.org/profile/mfa';
const REPLAYED = 'That code was already used.';

const amrOf = (claims: Readonly<Record<string, unknown>>): string[] => (Array.isArray(claims['amr']) ? claims['amr'].map(String) : []);

const secretOn = (page: string): string => {
  const match = /data-testid="totp-secret">([^<]+)</.exec(page);
  assert.ok(match, 'the enrolment page shows the key in text');
  return match[1]!.replace(/\s+/g, '');
};

const recoveryCodesOn = (page: string): string[] => {
  const list = /data-testid="recovery-codes">([\s\S]*?)<\/ol>/.exec(page);
  assert.ok(list, 'the recovery codes are shown');
  return [...list[1]!.matchAll(/<code>([^<]+)<\/code>/g)].map((m) => m[1]!);
};

/** The code an authenticator app shows at `epochMs`, by otplib and by oathtool, which must agree. */
async function codeAt(secret: string, epochMs: number): Promise<string> {
  const ours = await totpCodeAt(secret, epochMs);
  const { stdout } = await run('oathtool', ['--totp', '-b', `--now=@${Math.floor(epochMs / 1000)}`, secret]);
  assert.equal(stdout.trim(), ours, 'otplib and oathtool compute the same code');
  return ours;
}

describe('MFA for guests at sign-in', () => {
  let smtp: SmtpSink;
  let northwind: OidcStandIn;
  let portico: TestPortico;
  let gina: User;
  let ginaSecret = '';
  let enrolmentCode = '';
  let recoveryCodes: string[] = [];

  before(async () => {
    smtp = await startSmtpSink();
    const port = await freePort();
    northwind = await startOidcStandIn({
      accounts: [{ id: 'n-nina', email: 'nina@northwind.example', name: 'Nina Northwind', amr: ['pwd', 'mfa'] }],
      clients: [{ clientId: 'portico-northwind', clientSecret: 'northwind-secret', redirectUris: [`http://127.0.0.1:${port}/contoso/v2.0/federation/northwind/callback`] }],
      claimsInIdToken: true,
    });
    const tenant = parse(
      federationTenantYaml({ northwind: { issuer: northwind.issuer, clientId: 'portico-northwind', clientSecret: 'northwind-secret' }, apps: [PAYROLL], graphDaemon: true }),
    ) as { apps: { id: string; graphRoles?: string[] }[] } & Record<string, unknown>;
    tenant.apps.find((a) => a.id === DAEMON.id)!.graphRoles!.push('AuditLog.Read.All');
    tenant['crossTenantAccess'] = { partners: [{ partner: 'northwind', inboundTrust: { isMfaAccepted: true } }] };
    tenant['conditionalAccess'] = [
      {
        id: 'guests-mfa-payroll',
        displayName: 'Guests need MFA for payroll',
        state: 'enabled',
        conditions: { users: { includeUsers: ['GuestsOrExternalUsers'] }, applications: { includeApplications: [PAYROLL.id] } },
        grantControls: { operator: 'OR', builtInControls: ['mfa'] },
      },
    ];
    portico = await startTestPortico({ backend: 'sqlite', port, brokerYaml: smtpYaml(smtp), tenantFiles: { contoso: stringify(tenant) } });
    gina = await guest(portico, 'gina@adatum.com');
  });
  after(async () => {
    await portico?.dispose();
    await northwind?.stop();
    await smtp?.close();
  });

  /** Nina through Northwind's OIDC IdP, which says she did MFA (`amr: [pwd, mfa]`). */
  async function ninaSignsIn(): Promise<SignInSession> {
    const s = await session(portico, PAYROLL);
    await s.start();
    await s.submit('email', { email: 'nina@northwind.example' });
    assert.ok(s.url.href.startsWith(northwind.issuer), `sent to Northwind, not ${s.url.href}`);
    await s.follow(await signInUpstream({ start: s.url, until: `http://127.0.0.1:${portico.port}/contoso/v2.0/federation/`, browser: s.browser, account: 'n-nina' }));
    return s;
  }

  /** Enrols from the enrolment page the session is on; returns the key, the code used and the recovery codes. */
  async function enrol(s: SignInSession): Promise<{ secret: string; code: string; recovery: string[] }> {
    assert.match(s.page, /data-testid="totp-qr"/);
    const secret = secretOn(s.page);
    assert.match(secret, /^[A-Z2-7]{32}$/, 'a 160-bit base32 key');
    const code = await codeAt(secret, Date.now());
    const confirmed = await s.submit('mfa', { code });
    assert.equal(confirmed.status, 200);
    const recovery = recoveryCodesOn(s.page);
    await s.submit('mfa/done', {});
    return { secret, code, recovery };
  }

  it('sends an email-passcode guest to enrol an authenticator app, then issues tokens saying MFA', async () => {
    const { session: s, response } = await passcodeSignIn(portico, smtp, PAYROLL, 'gina@adatum.com');
    assert.equal(response.status, 200);
    assert.equal(s.atApp, false, 'the passcode alone does not meet the policy');
    const enrolled = await enrol(s);
    ginaSecret = enrolled.secret;
    enrolmentCode = enrolled.code;
    recoveryCodes = enrolled.recovery;
    assert.equal(recoveryCodes.length, 10);
    assert.equal(new Set(recoveryCodes).size, 10, 'the recovery codes are distinct');

    const claims = (await s.tokens()).claims()!;
    assert.equal(claims.sub, gina.id);
    assert.ok(amrOf(claims).includes('mfa') && amrOf(claims).includes('otp'), JSON.stringify(claims.amr));
    assert.equal(claims.acr, ACR_MFA);
    const [entry] = await signInsOf(portico, gina.id, DAEMON);
    assert.equal(entry?.status.errorCode, 0);
    assert.equal(entry?.authenticationRequirement, 'multiFactorAuthentication');
    assert.equal(entry?.conditionalAccessStatus, 'success');
    const stored = (await portico.portico.store.listByTag('sign-ins', 'tenant:contoso')).map((r) => entryOf(r.value as never));
    assert.ok(stored.some((entry) => JSON.stringify(entry).includes(gina.id)), 'the entries were read');
    assert.ok(!JSON.stringify(stored).includes(ginaSecret), 'the key is never logged');
  });

  it('refuses a replayed code, takes a recovery code once only, and a fresh code', async () => {
    const second = await passcodeSignIn(portico, smtp, PAYROLL, 'gina@adatum.com');
    const s = second.session;
    assert.match(s.page, /data-testid="totp-code"/);
    assert.doesNotMatch(s.page, /data-testid="totp-secret"/, 'enrolled: a challenge, not a new key');
    const replay = await s.submit('mfa', { code: enrolmentCode });
    assert.equal(replay.status, 400);
    assert.ok(s.page.includes(REPLAYED), 'the page says the code was already used');
    const [failure] = await signIns(portico, `userId eq '${gina.id}' and status/errorCode eq 1301`, DAEMON);
    assert.ok(failure, 'the replay is in the sign-in log as mfa-failed');

    await s.submit('mfa/recovery', { recoveryCode: recoveryCodes[0]! });
    const claims = (await s.tokens()).claims()!;
    assert.equal(claims.sub, gina.id);
    assert.ok(amrOf(claims).includes('mfa'));

    const third = (await passcodeSignIn(portico, smtp, PAYROLL, 'gina@adatum.com')).session;
    const reused = await third.submit('mfa/recovery', { recoveryCode: recoveryCodes[0]! });
    assert.equal(reused.status, 400);
    assert.match(third.page, /That recovery code is not right, or it was already used/);
    assert.equal(third.atApp, false);
    // The app's next code (within the ±1 step window) is a new one: accepted.
    await third.submit('mfa', { code: await codeAt(ginaSecret, Date.now() + 30_000) });
    assert.equal((await third.tokens()).claims()?.sub, gina.id);
  });

  it('trusts a partner’s MFA only while inbound trust accepts it', async () => {
    const nina = await guest(portico, 'nina@northwind.example');
    const trusted = await ninaSignsIn();
    assert.ok(trusted.atApp, `no prompt: the partner's MFA is trusted (at ${trusted.url.pathname})`);
    const trustedTokens = await trusted.tokens();
    const claims = trustedTokens.claims()!;
    assert.ok(trustedTokens.refresh_token, 'the app gets a refresh token');
    assert.equal(claims.sub, nina.id);
    assert.ok(amrOf(claims).includes('mfa'), JSON.stringify(claims.amr));
    assert.equal(claims.acr, ACR_MFA);
    const [viaPartner] = await signInsOf(portico, nina.id, DAEMON);
    assert.equal(viaPartner?.authenticationRequirement, 'multiFactorAuthentication');
    assert.ok(viaPartner?.policyTrace?.some((e) => /MFA claim is trusted/.test(e.detail ?? '')), JSON.stringify(viaPartner?.policyTrace));

    await editTenant(portico, (doc) => doc.setIn(['crossTenantAccess', 'partners', 0, 'inboundTrust', 'isMfaAccepted'], false));
    try {
      // The refresh token carries the partner's MFA of that sign-in: no longer trusted, it no longer counts.
      await assert.rejects(client.refreshTokenGrant(trusted.config, trustedTokens.refresh_token!), (error: unknown) => {
        assert.equal((error as { error?: string }).error, 'invalid_grant');
        return true;
      });
      const untrusted = await ninaSignsIn();
      assert.equal(untrusted.atApp, false);
      assert.match(untrusted.page, /data-testid="totp-secret"/, "the partner's MFA claim is dropped: Portico asks for its own");
      await enrol(untrusted);
      const afterEnrolment = (await untrusted.tokens()).claims()!;
      assert.ok(amrOf(afterEnrolment).includes('otp') && amrOf(afterEnrolment).includes('mfa'), 'MFA now comes from Portico');
      const [entry] = await signInsOf(portico, nina.id, DAEMON);
      assert.ok(
        entry?.policyTrace?.some((e) => e.layer === 'crossTenantAccess.inboundTrust' && /MFA claim is not trusted/.test(e.detail ?? '')),
        JSON.stringify(entry?.policyTrace),
      );
    } finally {
      await editTenant(portico, (doc) => doc.setIn(['crossTenantAccess', 'partners', 0, 'inboundTrust', 'isMfaAccepted'], true));
    }
  });

  it('makes the guest enrol again after an admin deletes the authenticator app through the API', async () => {
    const token = await appToken(portico, DAEMON);
    const base = `http://127.0.0.1:${portico.port}/graph/v1.0/users/${gina.id}/authentication`;
    const methods = (await (await fetch(`${base}/methods`, { headers: { authorization: `Bearer ${token}` } })).json()) as { value: { id: string }[] };
    assert.equal(methods.value.length, 1);
    const deleted = await fetch(`${base}/softwareOathMethods/${methods.value[0]!.id}`, { method: 'DELETE', headers: { authorization: `Bearer ${token}` } });
    assert.equal(deleted.status, 204);

    const { session: s } = await passcodeSignIn(portico, smtp, PAYROLL, 'gina@adatum.com');
    assert.match(s.page, /data-testid="totp-secret"/, 'a new enrolment');
    const again = await enrol(s);
    assert.notEqual(again.secret, ginaSecret, 'a new key');
    assert.equal((await s.tokens()).claims()?.sub, gina.id);
  });
});
