import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as client from 'openid-client';
import { CookieJar } from '../helpers/http.ts';
import { startTestPortico, type TestPortico } from '../helpers/portico.ts';
import { passcodeIn } from '../helpers/sign-in.ts';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp.ts';

const REDIRECT = 'https://apps.contoso.example/welcome';
const DAEMON = { id: 'contoso-daemon', secret: 'demo-daemon-secret' };

/**
 * A guest redeeming an invitation link in a "browser" (cookie jar, forms posted as a browser
 * would), signing in with an email passcode, accepting, and landing on the invitation's URL.
 */
class Redeemer {
  readonly browser = new CookieJar();
  page = '';
  url!: URL;
  readonly portico: TestPortico;
  constructor(portico: TestPortico) {
    this.portico = portico;
  }
  async open(url: string | URL): Promise<Response> {
    let current = new URL(url);
    for (let hops = 0; hops < 12; hops++) {
      const response = await this.browser.fetch(current);
      if (response.status >= 300 && response.status < 400) {
        current = new URL(response.headers.get('location')!, current);
        continue;
      }
      this.url = current;
      this.page = await response.text();
      return response;
    }
    throw new Error(`too many redirects, last ${current.pathname}`);
  }
  async post(action: string, fields: Record<string, string>): Promise<Response> {
    const target = new RegExp(`action="([^"]*/${action})"`).exec(this.page)?.[1];
    assert.ok(target, `no ${action} form on the page`);
    const csrf = /name="csrf" value="([^"]+)"/.exec(this.page)![1]!;
    const response = await this.browser.fetch(new URL(target, this.url), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ csrf, ...fields }),
    });
    if (response.status >= 300 && response.status < 400) return this.open(new URL(response.headers.get('location')!, this.url));
    this.page = await response.text();
    return response;
  }
}

describe('redeeming an invitation', () => {
  let smtp: SmtpSink;
  let portico: TestPortico;

  before(async () => {
    smtp = await startSmtpSink();
    portico = await startTestPortico({
      backend: 'sqlite',
      brokerYaml: `mail:\n  transport: smtp\n  smtp:\n    host: 127.0.0.1\n    port: ${smtp.port}\n    secure: false\n`,
    });
  });
  after(async () => {
    await portico.dispose();
    await smtp.close();
  });

  async function invite(email: string): Promise<{ redeemUrl: string; userId: string; invitationId: string }> {
    const daemon = await client.discovery(new URL(portico.issuer), DAEMON.id, DAEMON.secret, client.ClientSecretBasic(DAEMON.secret), {
      execute: [client.allowInsecureRequests],
    });
    const token = await client.clientCredentialsGrant(daemon, { resource: `http://127.0.0.1:${portico.port}/graph` });
    const response = await fetch(`http://127.0.0.1:${portico.port}/graph/v1.0/invitations`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token.access_token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ invitedUserEmailAddress: email, inviteRedirectUrl: REDIRECT, sendInvitationMessage: true }),
    });
    assert.equal(response.status, 201, await response.clone().text());
    const body = (await response.json()) as { id: string; inviteRedeemUrl: string; invitedUser: { id: string } };
    const mail = await smtp.nextMessageTo(email);
    assert.ok((mail.parsed.text ?? '').includes(body.inviteRedeemUrl), 'the mail carries the redeem link');
    return { redeemUrl: body.inviteRedeemUrl, userId: body.invitedUser.id, invitationId: body.id };
  }

  async function signInWithPasscode(r: Redeemer, email: string): Promise<void> {
    assert.match(r.page, /Enter your code/, 'the invited address chose the passcode (no IdP for its domain)');
    await r.post('code', { code: passcodeIn((await smtp.nextMessageTo(email)).parsed.text ?? '') });
  }

  it('signs the invited guest in, asks for consent, marks them Accepted and lands on the redirect URL', async () => {
    const { redeemUrl, userId } = await invite('gina@adatum.com');
    const r = new Redeemer(portico);
    await r.open(redeemUrl);
    await signInWithPasscode(r, 'gina@adatum.com');
    assert.match(r.page, /Contoso invites you/);
    assert.match(r.page, /Contoso payroll sync at Contoso has invited you/, 'the consent page names the inviter');
    assert.equal((await portico.portico.users.get('contoso', userId))?.externalUserState, 'PendingAcceptance');
    await r.post('consent', {});
    assert.match(r.page, new RegExp(`<meta http-equiv="refresh" content="0;url=${REDIRECT.replace(/[/.]/g, '\\$&')}">`));
    const user = await portico.portico.users.get('contoso', userId);
    assert.equal(user?.externalUserState, 'Accepted');
    assert.ok(user?.externalUserStateChangeDateTime);
    assert.deepEqual(user?.identities.map((i) => i.issuer), ['mail']);

    const reuse = new Redeemer(portico);
    const second = await reuse.open(redeemUrl);
    assert.equal(second.status, 410);
    assert.match(reuse.page, /already used/);
  });

  it('refuses another identity, naming the invited address, and links nothing', async () => {
    const { redeemUrl, userId } = await invite('hal@adatum.com');
    const r = new Redeemer(portico);
    await r.open(redeemUrl);
    // Try another way, then sign in as someone else.
    await r.post('restart', {});
    await r.post('email', { email: 'mallory@adatum.com' });
    await signInWithPasscode(r, 'mallory@adatum.com');
    assert.match(r.page, /data-testid="wrong-identity"/);
    assert.match(r.page, /The invitation was sent to hal@adatum.com/);
    const user = await portico.portico.users.get('contoso', userId);
    assert.deepEqual(user?.identities, []);
    assert.equal(user?.externalUserState, 'PendingAcceptance');
  });

  it('lets exactly one of two simultaneous redemptions win', async () => {
    const { redeemUrl, userId } = await invite('ivy@adatum.com');
    const a = new Redeemer(portico);
    const b = new Redeemer(portico);
    await a.open(redeemUrl);
    await b.open(redeemUrl);
    // Both mailed a code; each browser reads its own.
    const codeA = passcodeIn((await smtp.nextMessageTo('ivy@adatum.com')).parsed.text ?? '');
    const codeB = passcodeIn((await smtp.nextMessageTo('ivy@adatum.com')).parsed.text ?? '');
    await a.post('code', { code: codeA });
    await b.post('code', { code: codeB });
    assert.match(a.page, /data-testid="consent"/);
    assert.match(b.page, /data-testid="consent"/);
    const [ra, rb] = await Promise.all([a.post('consent', {}), b.post('consent', {})]);
    const statuses = [ra.status, rb.status].sort();
    assert.deepEqual(statuses, [200, 410], 'one lands, one is told the link was used');
    assert.equal((await portico.portico.users.get('contoso', userId))?.externalUserState, 'Accepted');
  });

  it('refuses revoked and unknown links with a page that says so', async () => {
    const { redeemUrl, invitationId } = await invite('jo@adatum.com');
    await portico.portico.invitations.revoke('contoso', invitationId, { actor: { kind: 'app', appId: 'test', displayName: 'test' }, correlationId: 'test' });
    const r = new Redeemer(portico);
    assert.equal((await r.open(redeemUrl)).status, 410);
    assert.match(r.page, /withdrawn/);
    const unknown = new Redeemer(portico);
    assert.equal((await unknown.open(`${portico.issuer}/redeem?ticket=not-a-ticket`)).status, 404);
    assert.match(unknown.page, /not valid/);
  });
});
