import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { startTestPortico, type TestPortico } from '../helpers/portico.ts';
import { relyingParty } from '../helpers/relying-party.ts';
import { passcodeIn, SignInSession } from '../helpers/sign-in.ts';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp.ts';
import { guestUserPrincipalName } from '../../src/directory/users.ts';

const WEB = { id: 'contoso-web', secret: 'demo-web-secret', redirectUri: 'http://localhost:8080/callback' };

describe('guest sign-in with an email one-time passcode', () => {
  let smtp: SmtpSink;
  let portico: TestPortico;

  before(async () => {
    smtp = await startSmtpSink();
    portico = await startTestPortico({
      backend: 'sqlite',
      brokerYaml: `mail:\n  transport: smtp\n  from: Contoso <no-reply@contoso.example>\n  smtp:\n    host: 127.0.0.1\n    port: ${smtp.port}\n    secure: false\n`,
    });
  });
  after(async () => {
    await portico.dispose();
    await smtp.close();
    await rm(portico.dataDir, { recursive: true, force: true });
    await rm(portico.configDir, { recursive: true, force: true });
  });

  async function session() {
    return new SignInSession(await relyingParty(portico.issuer, WEB.id, WEB.secret), WEB.redirectUri);
  }

  it('signs in an invited guest with a mailed passcode: Guest user, UPN, idp mail, amr otp', async () => {
    const invited = await portico.portico.users.create({
      tenantId: 'contoso',
      userType: 'Guest',
      userPrincipalName: guestUserPrincipalName('alice@adatum.com', 'contoso.example'),
      displayName: 'Alice Adatum',
      mail: 'alice@adatum.com',
      creationType: 'Invitation',
      externalUserState: 'PendingAcceptance',
    });
    const s = await session();
    await s.start();
    assert.match(s.page, /Sign in to Contoso/);
    assert.match(s.page, /<label for="email">/);
    await s.submit('email', { email: 'Alice@Adatum.com' });
    assert.match(s.page, /Enter your code/, 'adatum.com has no IdP of its own: the passcode is the way');
    const mail = await smtp.nextMessageTo('alice@adatum.com');
    assert.match(mail.parsed.subject ?? '', /Contoso/);
    await s.submit('code', { code: passcodeIn(mail.parsed.text ?? '') });
    // Just-in-time redemption: an invited guest accepts the invitation before joining.
    assert.match(s.page, /data-testid="consent"/);
    assert.match(s.page, /Contoso invites you/);
    assert.equal((await portico.portico.users.get('contoso', invited.id))?.externalUserState, 'PendingAcceptance', 'nothing accepted yet');
    await s.submit('consent', {});
    const tokens = await s.tokens();
    const claims = tokens.claims()!;
    assert.equal(claims.sub, invited.id);
    assert.equal(claims['oid'], invited.id);
    assert.equal(claims['tid'], 'contoso');
    assert.equal(claims['user_type'], 'Guest');
    assert.equal(claims['idp'], 'mail');
    assert.equal(claims['preferred_username'], 'alice_adatum.com#EXT#@contoso.example');
    assert.deepEqual(claims.amr, ['otp'], 'an email passcode is one factor, never mfa');
    const stored = await portico.portico.users.get('contoso', invited.id);
    assert.equal(stored?.externalUserState, 'Accepted');
    assert.deepEqual(stored?.identities, [{ signInType: 'emailAddress', issuer: 'mail', issuerAssignedId: 'alice@adatum.com' }]);
  });

  it('tells someone who was not invited so, with the same mail step as an invited guest', async () => {
    const s = await session();
    await s.start({ login_hint: 'mallory@adatum.com' });
    assert.match(s.page, /Enter your code/, 'login_hint skips the email step');
    const mail = await smtp.nextMessageTo('mallory@adatum.com');
    const response = await s.submit('code', { code: passcodeIn(mail.parsed.text ?? '') });
    assert.equal(response.status, 403);
    assert.match(s.page, /data-testid="not-invited"/);
    assert.match(s.page, /mallory@adatum.com has not been invited to Contoso/);
    assert.match(s.page, /Correlation id/);
    assert.equal((await portico.portico.users.list('contoso')).filter((u) => u.mail === 'mallory@adatum.com').length, 0, 'no half-made user');
  });

  it('refuses a wrong code with a clear message and accepts the right one after', async () => {
    await portico.portico.users.create({
      tenantId: 'contoso',
      userType: 'Guest',
      userPrincipalName: guestUserPrincipalName('bob@adatum.com', 'contoso.example'),
      displayName: 'Bob',
      mail: 'bob@adatum.com',
      externalUserState: 'PendingAcceptance',
    });
    const s = await session();
    await s.start({ login_hint: 'bob@adatum.com' });
    const code = passcodeIn((await smtp.nextMessageTo('bob@adatum.com')).parsed.text ?? '');
    const wrong = code === '00000000' ? '11111111' : '00000000';
    const refused = await s.submit('code', { code: wrong });
    assert.equal(refused.status, 400);
    assert.match(s.page, /role="alert"/);
    assert.match(s.page, /That code is not right/);
    await s.submit('code', { code });
    await s.submit('consent', {});
    assert.equal((await s.tokens()).claims()?.['user_type'], 'Guest');
  });

  it('refuses a form post without the CSRF token, and a flow used from another browser', async () => {
    const s = await session();
    await s.start();
    const forged = await s.submit('email', { email: 'eve@adatum.com' }, { csrf: 'forged' });
    assert.equal(forged.status, 403);

    const victim = await session();
    await victim.start();
    const attacker = await session();
    // The attacker replays the victim's page URL and token without the victim's flow cookie.
    const stolen = await attacker.browser.fetch(victim.url);
    assert.equal(stolen.status, 400);
    assert.match(await stolen.text(), /This sign-in has expired/);
  });

  it('lets an invited guest decline: the app gets access_denied and the invitation stays pending', async () => {
    const invited = await portico.portico.users.create({
      tenantId: 'contoso',
      userType: 'Guest',
      userPrincipalName: guestUserPrincipalName('erin@adatum.com', 'contoso.example'),
      displayName: 'Erin',
      mail: 'erin@adatum.com',
      externalUserState: 'PendingAcceptance',
    });
    const s = await session();
    await s.start({ login_hint: 'erin@adatum.com' });
    await s.submit('code', { code: passcodeIn((await smtp.nextMessageTo('erin@adatum.com')).parsed.text ?? '') });
    assert.match(s.page, /data-testid="decline"/);
    await s.submit('decline', {});
    assert.ok(s.atApp);
    assert.equal(s.url.searchParams.get('error'), 'access_denied');
    assert.equal((await portico.portico.users.get('contoso', invited.id))?.externalUserState, 'PendingAcceptance');
  });

  it('lets "try another way" go back to the email step', async () => {
    const s = await session();
    await s.start({ login_hint: 'carol@adatum.com' });
    assert.match(s.page, /Enter your code/);
    await s.submit('restart', {});
    assert.match(s.page, /<input type="email"/);
  });

  it('keeps the flow in the store: the sign-in finishes on a restarted instance', async () => {
    await portico.portico.users.create({
      tenantId: 'contoso',
      userType: 'Guest',
      userPrincipalName: guestUserPrincipalName('dan@adatum.com', 'contoso.example'),
      displayName: 'Dan',
      mail: 'dan@adatum.com',
      externalUserState: 'PendingAcceptance',
    });
    const s = await session();
    await s.start({ login_hint: 'dan@adatum.com' });
    const code = passcodeIn((await smtp.nextMessageTo('dan@adatum.com')).parsed.text ?? '');
    await portico.stop();
    portico = await startTestPortico({ backend: 'sqlite', dataDir: portico.dataDir, configDir: portico.configDir, port: portico.port });
    await s.submit('code', { code });
    await s.submit('consent', {});
    assert.equal((await s.tokens()).claims()?.['preferred_username'], 'dan_adatum.com#EXT#@contoso.example');
  });
});
