/**
 * An app with `assignmentRequired`: a guest who is not assigned to it (directly or through a
 * group) is refused after proving who they are, before the invitation consent; an assigned one
 * signs in. Driven through the email passcode flow with a real SMTP sink.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { parse, stringify } from 'yaml';
import { EXAMPLE_CONFIG, startTestPortico, type TestPortico } from '../helpers/portico.ts';
import { relyingParty } from '../helpers/relying-party.ts';
import { passcodeIn, SignInSession } from '../helpers/sign-in.ts';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp.ts';
import { guest } from './policy-harness.ts';

const WEB = { id: 'contoso-web', secret: 'demo-web-secret', redirectUri: 'http://localhost:8080/callback' };

/** The example contoso tenant with the intranet app restricted to assigned guests. */
async function contosoWithAssignmentRequired(): Promise<string> {
  const tenant = parse(await readFile(`${EXAMPLE_CONFIG}tenants/contoso.yaml`, 'utf8')) as { apps: { id: string; assignmentRequired?: boolean }[] };
  const web = tenant.apps.find((app) => app.id === WEB.id);
  assert.ok(web);
  web.assignmentRequired = true;
  return stringify(tenant);
}

describe('sign-in to an app that requires assignment', () => {
  let smtp: SmtpSink;
  let portico: TestPortico;

  before(async () => {
    smtp = await startSmtpSink();
    portico = await startTestPortico({
      backend: 'sqlite',
      brokerYaml: `mail:\n  transport: smtp\n  from: Contoso <no-reply@contoso.example>\n  smtp:\n    host: 127.0.0.1\n    port: ${smtp.port}\n    secure: false\n`,
      tenantFiles: { contoso: await contosoWithAssignmentRequired() },
    });
  });
  after(async () => {
    await portico.dispose();
    await smtp.close();
  });

  const invitedGuest = (name: string) => guest(portico, `${name}@adatum.com`, 'PendingAcceptance');

  /** Starts at the app and enters the mailed passcode; returns the response to the code step. */
  async function signInWithPasscode(email: string) {
    const session = new SignInSession(await relyingParty(portico.issuer, WEB.id, WEB.secret), WEB.redirectUri);
    await session.start({ login_hint: email });
    assert.match(session.page, /Enter your code/);
    const mail = await smtp.nextMessageTo(email);
    const response = await session.submit('code', { code: passcodeIn(mail.parsed.text ?? '') });
    return { session, response };
  }

  it('refuses an invited guest who is not assigned, before the consent, and says whom to ask', async () => {
    const guest = await invitedGuest('ursula');
    const { session, response } = await signInWithPasscode('ursula@adatum.com');
    assert.equal(response.status, 403);
    assert.match(session.page, /data-testid="not-assigned"/);
    assert.match(session.page, /You have not been given access to Contoso intranet/);
    assert.match(session.page, /Ask the person at Contoso who invited you/);
    assert.match(session.page, /Correlation id/);
    assert.doesNotMatch(session.page, /data-testid="consent"/);
    assert.equal(session.atApp, false);
    const stored = await portico.portico.users.get('contoso', guest.id);
    assert.equal(stored?.externalUserState, 'PendingAcceptance', 'the invitation is not accepted by a refused sign-in');
    assert.equal(stored?.lastSignIn, undefined);
    const refusal = portico.logs.lines.map((line) => JSON.parse(line) as Record<string, unknown>).find((entry) => entry['msg'] === 'sign-in refused' && entry['user'] === guest.id);
    assert.equal(refusal?.['outcome'], 'not-assigned');
  });

  it('signs in a guest assigned directly', async () => {
    const guest = await invitedGuest('dora');
    await portico.portico.assignments.assign('contoso', { id: guest.id, type: 'User', displayName: guest.displayName }, WEB.id);
    const { session } = await signInWithPasscode('dora@adatum.com');
    assert.match(session.page, /data-testid="consent"/, 'an invited guest still accepts the invitation first');
    await session.submit('consent', {});
    assert.equal((await session.tokens()).claims()?.sub, guest.id);
  });

  it('signs in a guest assigned through a group, and refuses them again once removed from it', async () => {
    const guest = await invitedGuest('gary');
    const group = await portico.portico.groups.create({ tenantId: 'contoso', displayName: 'Intranet guests' });
    await portico.portico.groups.addMember('contoso', group.id, guest.id);
    await portico.portico.assignments.assign('contoso', { id: group.id, type: 'Group', displayName: group.displayName }, WEB.id);
    const first = await signInWithPasscode('gary@adatum.com');
    await first.session.submit('consent', {});
    assert.equal((await first.session.tokens()).claims()?.sub, guest.id);

    await portico.portico.groups.removeMember('contoso', group.id, guest.id);
    const second = await signInWithPasscode('gary@adatum.com');
    assert.equal(second.response.status, 403);
    assert.match(second.session.page, /data-testid="not-assigned"/);
  });
});
