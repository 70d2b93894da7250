/**
 * How strongly and how recently a guest signed in, as apps ask for it: step-up (`acr_values`
 * naming the MFA profile makes Portico ask for its own second factor and say so in `acr`/`amr`),
 * and conditional access sign-in frequency (a session older than it must sign in again, and its
 * refresh tokens stop working). Driven through email passcodes over a real SMTP sink, with
 * Portico's clock moved by hand.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import * as client from 'openid-client';
import { parse, stringify } from 'yaml';
import { totpCodeAt } from '../../src/mfa/totp.ts';
import { ACR_MFA, ACR_SFA } from '../../src/shared/assurance.ts';
import { ManualClock } from '../../src/shared/clock.ts';
import { EXAMPLE_CONFIG, startTestPortico, type TestPortico } from '../helpers/portico.ts';
import { relyingParty } from '../helpers/relying-party.ts';
import { passcodeIn, SignInSession } from '../helpers/sign-in.ts';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp.ts';
import { editTenant, guest } from './policy-harness.ts';

const WEB = { id: 'contoso-web', secret: 'demo-web-secret', redirectUri: 'http://localhost:8080/callback' };
const SPA = { id: 'contoso-spa', redirectUri: 'http://localhost:5173/callback' };
const HOUR_MS = 3600_000;

/** The example tenant with guests asked to sign in again every hour in the intranet. */
async function contosoWithHourlySignIn(): Promise<string> {
  const tenant = parse(await readFile(`${EXAMPLE_CONFIG}tenants/contoso.yaml`, 'utf8')) as Record<string, unknown>;
  tenant['conditionalAccess'] = [
    {
      id: 'guests-hourly',
      displayName: 'Guests sign in again every hour',
      state: 'enabled',
      conditions: { users: { includeUsers: ['GuestsOrExternalUsers'] }, applications: { includeApplications: [WEB.id] } },
      sessionControls: { signInFrequency: { value: 1, type: 'hours' } },
    },
  ];
  return stringify(tenant);
}

describe('sign-in assurance: step-up and sign-in frequency', () => {
  let smtp: SmtpSink;
  let portico: TestPortico;
  const clock = new ManualClock(Date.now());

  before(async () => {
    smtp = await startSmtpSink();
    portico = await startTestPortico({
      backend: 'sqlite',
      clock,
      brokerYaml: `mail:\n  transport: smtp\n  from: Contoso <no-reply@contoso.example>\n  smtp:\n    host: 127.0.0.1\n    port: ${smtp.port}\n    secure: false\n`,
      tenantFiles: { contoso: await contosoWithHourlySignIn() },
    });
  });
  after(async () => {
    await portico.dispose();
    await smtp.close();
  });

  /** An invited guest who already accepted, signing in with a passcode at an adatum.com address. */
  const acceptedGuest = (name: string) => guest(portico, `${name}@adatum.com`, 'Accepted');

  async function passcodeSignIn(session: SignInSession, email: string, extra: Record<string, string> = {}) {
    await session.start({ login_hint: email, ...extra });
    assert.match(session.page, /Enter your code/);
    const mail = await smtp.nextMessageTo(email);
    return session.submit('code', { code: passcodeIn(mail.parsed.text ?? '') });
  }

  it('an app asking for MFA with acr_values gets Portico\'s second factor, and says so in acr and amr', async () => {
    await acceptedGuest('stella');
    const session = new SignInSession(await relyingParty(portico.issuer, WEB.id, WEB.secret), WEB.redirectUri);
    await passcodeSignIn(session, 'stella@adatum.com', { acr_values: ACR_MFA });
    const secret = /data-testid="totp-secret">([A-Z2-7 ]+)</.exec(session.page)?.[1]?.replaceAll(' ', '');
    assert.ok(secret, 'the authenticator set-up page shows the key');
    await session.submit('mfa', { code: await totpCodeAt(secret, clock.now()) });
    assert.match(session.page, /data-testid="recovery-codes"/);
    await session.submit('mfa/done', {});
    const tokens = await session.tokens();
    const claims = tokens.claims();
    assert.equal(claims?.['acr'], ACR_MFA);
    assert.deepEqual([...(claims?.['amr'] as string[])].sort(), ['mfa', 'otp']);
  });

  it('without step-up an email passcode is single-factor', async () => {
    await acceptedGuest('sam');
    const session = new SignInSession(await relyingParty(portico.issuer, WEB.id, WEB.secret), WEB.redirectUri);
    await passcodeSignIn(session, 'sam@adatum.com');
    const claims = (await session.tokens()).claims();
    assert.equal(claims?.['acr'], ACR_SFA);
    assert.deepEqual(claims?.['amr'], ['otp']);
  });

  it('a session older than the sign-in frequency signs in again, and its refresh token stops working', async () => {
    await acceptedGuest('frida');
    const config = await relyingParty(portico.issuer, WEB.id, WEB.secret);
    const session = new SignInSession(config, WEB.redirectUri);
    await passcodeSignIn(session, 'frida@adatum.com');
    const first = await session.tokens();
    assert.ok(first.refresh_token);

    // Within the hour: single sign-on back to the app, and refresh works.
    clock.advance(HOUR_MS / 2);
    await session.start();
    assert.equal(session.atApp, true, 'the session is still fresh enough for single sign-on');
    const refreshed = await client.refreshTokenGrant(config, first.refresh_token);
    assert.ok(refreshed.refresh_token);

    // Past the hour: the session no longer signs in silently, and the refresh is refused.
    clock.advance(HOUR_MS);
    await assert.rejects(client.refreshTokenGrant(config, refreshed.refresh_token), (error: unknown) => {
      assert.equal((error as { error?: string }).error, 'invalid_grant');
      return true;
    });
    await session.start();
    assert.equal(session.atApp, false, 'a new sign-in is asked for');
    assert.match(session.page, /Enter your code|Email address/);
    const log = portico.logs.lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    assert.ok(log.some((entry) => entry['msg'] === 'refresh refused by policy' && entry['rule'] === 'sign-in frequency'));
  });

  it('single sign-on into another app meets the policy in force for that app', async () => {
    await acceptedGuest('sunny');
    const web = new SignInSession(await relyingParty(portico.issuer, WEB.id, WEB.secret), WEB.redirectUri);
    await passcodeSignIn(web, 'sunny@adatum.com');
    assert.equal(web.atApp, true);
    // The same browser opens the expenses app: no policy on it, so single sign-on.
    const spa = new SignInSession(await relyingParty(portico.issuer, SPA.id), SPA.redirectUri, web.browser);
    await spa.start();
    assert.equal(spa.atApp, true, 'signed in to the second app without a new sign-in');

    // Conditional access now blocks guests in the expenses app: the session no longer gets in silently.
    await editTenant(portico, (doc) =>
      doc.addIn(
        ['conditionalAccess'],
        doc.createNode({
          id: 'no-guests-in-expenses',
          displayName: 'No guests in expenses',
          state: 'enabled',
          conditions: { users: { includeUsers: ['GuestsOrExternalUsers'] }, applications: { includeApplications: [SPA.id] } },
          grantControls: { builtInControls: ['block'] },
        }),
      ),
    );
    await spa.start();
    assert.equal(spa.atApp, false, 'the policy asks for a new sign-in, where it is enforced');
    await spa.submit('email', { email: 'sunny@adatum.com' });
    await spa.submit('code', { code: passcodeIn((await smtp.nextMessageTo('sunny@adatum.com')).parsed.text ?? '') });
    assert.match(spa.page, /data-testid="policy-blocked"/);
    // The intranet is not affected.
    await web.start();
    assert.equal(web.atApp, true);
  });
});
