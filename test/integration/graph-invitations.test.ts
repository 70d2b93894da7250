/**
 * Invitations through the management API against Portico in-process (SQLite) with a real SMTP
 * sink: the daemon's token by client credentials, the guest created at once, the mail in two
 * languages with the customised message escaped, resend, revoke, reset redemption, single-use
 * redemption through the service, a mail outage, and the audit log. Every response is checked
 * against the OpenAPI document.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { TestPortico } from '../helpers/portico.ts';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp.ts';
import { DAEMON, EXTRA_APPS, GraphClient, OpenApiChecker, appToken, errorCode, errorMessage, startGraphPortico, ticketOf } from './graph-harness.ts';

describe('management API: invitations', () => {
  let smtp: SmtpSink;
  let portico: TestPortico;
  let graph: GraphClient;
  let checker: OpenApiChecker;
  let token: string;

  before(async () => {
    smtp = await startSmtpSink();
    portico = await startGraphPortico({
      brokerYaml: `mail:\n  transport: smtp\n  from: Contoso <no-reply@contoso.example>\n  smtp:\n    host: 127.0.0.1\n    port: ${smtp.port}\n    secure: false\n`,
    });
    checker = await OpenApiChecker.fetch(portico);
    graph = new GraphClient(portico, checker);
    token = await appToken(portico, DAEMON);
  });
  after(async () => {
    await portico.dispose();
    await smtp.close();
  });

  const invite = (body: Record<string, unknown>, as = token) =>
    graph.call('POST', '/invitations', { token: as, body: { inviteRedirectUrl: 'https://apps.contoso.example/welcome', ...body } });

  it('invites a guest: 201 with the redeem URL, the guest exists at once, pending acceptance', async () => {
    const response = await invite({ invitedUserEmailAddress: 'Alice@Adatum.COM', invitedUserDisplayName: 'Alice Adatum' });
    assert.equal(response.status, 201);
    const body = response.body!;
    assert.equal(body['invitedUserEmailAddress'], 'Alice@adatum.com', 'normalised: domain lowercased');
    assert.equal(body['status'], 'PendingAcceptance');
    assert.equal(body['sendInvitationMessage'], false);
    assert.equal(body['inviteRedirectUrl'], 'https://apps.contoso.example/welcome');
    assert.match(String(body['inviteRedeemUrl']), new RegExp(`^http://127\\.0\\.0\\.1:${portico.port}/contoso/v2\\.0/redeem\\?ticket=[A-Za-z0-9_-]{43}$`));
    const userId = String((body['invitedUser'] as { id: string }).id);

    const user = await graph.call('GET', `/users/${userId}`, { token });
    assert.equal(user.status, 200);
    assert.equal(user.body!['userType'], 'Guest');
    assert.equal(user.body!['externalUserState'], 'PendingAcceptance');
    assert.equal(user.body!['creationType'], 'Invitation');
    assert.equal(user.body!['userPrincipalName'], 'alice_adatum.com#EXT#@contoso.example');
    assert.equal(user.body!['displayName'], 'Alice Adatum');
    const byUpn = await graph.call('GET', `/users/${encodeURIComponent('alice_adatum.com#EXT#@contoso.example')}`, { token });
    assert.equal(byUpn.body!['id'], userId);

    const again = await invite({ invitedUserEmailAddress: 'alice@adatum.com' });
    assert.equal(again.status, 201);
    assert.equal((again.body!['invitedUser'] as { id: string }).id, userId, 'an existing guest keeps its object id');
    assert.notEqual(again.body!['id'], body['id'], 'but gets a new invitation');
    assert.equal(smtp.received.length, 0, 'sendInvitationMessage defaults to false');
  });

  it('mails the invitation in English, naming the inviting app and the organisation, with the message escaped', async () => {
    const message = 'Welcome <script>alert(1)</script> & see you "soon"';
    const response = await invite({
      invitedUserEmailAddress: 'bob@adatum.com',
      sendInvitationMessage: true,
      invitedUserMessageInfo: { customizedMessageBody: message, ccRecipients: [{ emailAddress: { address: 'manager@adatum.com' } }] },
    });
    assert.equal(response.status, 201);
    assert.equal(response.body!['status'], 'PendingAcceptance');
    const redeemUrl = String(response.body!['inviteRedeemUrl']);
    const mail = await smtp.nextMessageTo('bob@adatum.com');
    assert.equal(mail.parsed.subject, 'Contoso payroll sync invited you to access applications within Contoso');
    assert.ok(mail.parsed.text?.includes(redeemUrl), 'the text part carries the redeem link');
    assert.ok(mail.parsed.text?.includes(message), 'the text part has the message as written');
    const html = String(mail.parsed.html);
    assert.ok(html.includes(`href="${redeemUrl}"`));
    assert.ok(!html.includes('<script>'), 'no markup from the message reaches the HTML');
    assert.ok(html.includes('Welcome &lt;script&gt;alert(1)&lt;/script&gt; &amp; see you &quot;soon&quot;'));
    assert.ok(html.includes('#0f6cbd'), "the tenant's primary colour");
    const copy = await smtp.nextMessageTo('manager@adatum.com');
    assert.equal(copy.parsed.subject, mail.parsed.subject, 'the cc recipient gets the same mail');
  });

  it('mails German for messageLanguage de-DE, and falls back to English for a language without a template', async () => {
    await invite({ invitedUserEmailAddress: 'carla@adatum.com', sendInvitationMessage: true, invitedUserMessageInfo: { messageLanguage: 'de-DE' } });
    const german = await smtp.nextMessageTo('carla@adatum.com');
    assert.equal(german.parsed.subject, 'Contoso payroll sync hat Sie zu Anwendungen von Contoso eingeladen');
    assert.match(german.parsed.text ?? '', /Einladung annehmen/);
    assert.match(String(german.parsed.html), /<html lang="de">/);

    await invite({ invitedUserEmailAddress: 'dan@adatum.com', sendInvitationMessage: true, invitedUserMessageInfo: { messageLanguage: 'pt-BR' } });
    const fallback = await smtp.nextMessageTo('dan@adatum.com');
    assert.match(fallback.parsed.subject ?? '', /invited you to access applications within Contoso/);
  });

  it('resend issues a new link and kills the old one; revoke kills the link and keeps the guest', async () => {
    const created = await invite({ invitedUserEmailAddress: 'erin@adatum.com' });
    const id = String(created.body!['id']);
    const oldTicket = ticketOf(created.body!['inviteRedeemUrl']);
    assert.equal((await portico.portico.invitations.checkTicket('contoso', oldTicket)).ok, true);

    const resent = await graph.call('POST', `/invitations/${id}/resend`, { token });
    assert.equal(resent.status, 200);
    const newTicket = ticketOf(resent.body!['inviteRedeemUrl']);
    assert.notEqual(newTicket, oldTicket);
    assert.deepEqual(await portico.portico.invitations.checkTicket('contoso', oldTicket), { ok: false, reason: 'revoked' });
    assert.equal((await portico.portico.invitations.checkTicket('contoso', newTicket)).ok, true);
    const mail = await smtp.nextMessageTo('erin@adatum.com');
    assert.ok(mail.parsed.text?.includes(newTicket), 'resend mails the new link');

    const read = await graph.call('GET', `/invitations/${id}`, { token });
    assert.equal(read.status, 200);
    assert.equal(read.body!['inviteRedeemUrl'], null, 'the link is stored hashed: it cannot be read back');

    const revoked = await graph.call('POST', `/invitations/${id}/revoke`, { token });
    assert.equal(revoked.status, 200);
    assert.equal(revoked.body!['status'], 'Revoked');
    assert.deepEqual(await portico.portico.invitations.checkTicket('contoso', newTicket), { ok: false, reason: 'revoked' });
    const userId = String((created.body!['invitedUser'] as { id: string }).id);
    assert.equal((await graph.call('GET', `/users/${userId}`, { token })).status, 200, 'the guest stays');
    const resendRevoked = await graph.call('POST', `/invitations/${id}/resend`, { token });
    assert.equal(resendRevoked.status, 400);
    assert.equal(errorCode(resendRevoked), 'Request_BadRequest');
    assert.equal((await graph.call('GET', '/invitations/00000000-0000-4000-8000-000000000000', { token })).status, 404);
  });

  it('redeems once: two redemptions at the same moment, exactly one wins; the guest is Accepted', async () => {
    const created = await invite({ invitedUserEmailAddress: 'frank@adatum.com' });
    const ticket = ticketOf(created.body!['inviteRedeemUrl']);
    const userId = String((created.body!['invitedUser'] as { id: string }).id);
    const attempts = await Promise.all(Array.from({ length: 8 }, () => portico.portico.invitations.redeem('contoso', ticket, userId, { correlationId: 'test-race' })));
    assert.equal(attempts.filter((a) => a.ok).length, 1);
    assert.deepEqual(
      attempts.filter((a) => !a.ok).map((a) => (a.ok ? '' : a.reason)),
      Array.from({ length: 7 }, () => 'used'),
    );
    assert.deepEqual(await portico.portico.invitations.checkTicket('contoso', ticket), { ok: false, reason: 'used' });
    const user = await graph.call('GET', `/users/${userId}`, { token });
    assert.equal(user.body!['externalUserState'], 'Accepted');
    assert.ok(Date.parse(String(user.body!['externalUserStateChangeDateTime'])) >= Date.parse(String(user.body!['createdDateTime'])));
    const invitation = await graph.call('GET', `/invitations/${created.body!['id']}`, { token });
    assert.equal(invitation.body!['status'], 'Completed');
    const resend = await graph.call('POST', `/invitations/${created.body!['id']}/resend`, { token });
    assert.equal(resend.status, 400);
    assert.match(errorMessage(resend), /already been redeemed/);
  });

  it('resets redemption: same object id, identities cleared, new address and UPN, old links dead', async () => {
    const created = await invite({ invitedUserEmailAddress: 'gina@adatum.com' });
    const userId = String((created.body!['invitedUser'] as { id: string }).id);
    const oldTicket = ticketOf(created.body!['inviteRedeemUrl']);
    // Gina signed in with a passcode once: her identity is linked.
    const linked = await portico.portico.users.linkIdentity('contoso', userId, { signInType: 'emailAddress', issuer: 'mail', issuerAssignedId: 'gina@adatum.com' });
    assert.ok(linked);

    const inviterOnly = await appToken(portico, EXTRA_APPS.inviter);
    const refused = await invite({ invitedUserEmailAddress: 'gina@fabrikam.com', resetRedemption: true, invitedUser: { id: userId } }, inviterOnly);
    assert.equal(refused.status, 403, 'User.Invite.All alone cannot reset redemption');
    assert.equal(errorCode(refused), 'Authorization_RequestDenied');

    const reset = await invite({ invitedUserEmailAddress: 'gina@fabrikam.com', resetRedemption: true, invitedUser: { id: userId } });
    assert.equal(reset.status, 201);
    assert.equal((reset.body!['invitedUser'] as { id: string }).id, userId);
    assert.equal(reset.body!['resetRedemption'], true);
    const user = await graph.call('GET', `/users/${userId}`, { token });
    assert.equal(user.body!['mail'], 'gina@fabrikam.com');
    assert.equal(user.body!['userPrincipalName'], 'gina_fabrikam.com#EXT#@contoso.example');
    assert.deepEqual(user.body!['identities'], []);
    assert.equal(user.body!['externalUserState'], 'PendingAcceptance');
    assert.equal(
      await portico.portico.users.findByIdentity('contoso', { signInType: 'emailAddress', issuer: 'mail', issuerAssignedId: 'gina@adatum.com' }),
      undefined,
      'the old identity no longer signs in as this user',
    );
    assert.deepEqual(await portico.portico.invitations.checkTicket('contoso', oldTicket), { ok: false, reason: 'revoked' });
    assert.equal((await portico.portico.invitations.checkTicket('contoso', ticketOf(reset.body!['inviteRedeemUrl']))).ok, true);

    const missing = await invite({ invitedUserEmailAddress: 'x@adatum.com', resetRedemption: true, invitedUser: { id: '00000000-0000-4000-8000-000000000000' } });
    assert.equal(missing.status, 404);
    const noUser = await invite({ invitedUserEmailAddress: 'x@adatum.com', resetRedemption: true });
    assert.equal(noUser.status, 400);
    assert.match(errorMessage(noUser), /invitedUser/);
  });

  it('keeps the invitation when the mail cannot be sent (status Error), and resends it once SMTP is back', async () => {
    smtp.refuseNext(1);
    const created = await invite({ invitedUserEmailAddress: 'hana@adatum.com', sendInvitationMessage: true });
    assert.equal(created.status, 201);
    assert.equal(created.body!['status'], 'Error');
    const id = String(created.body!['id']);
    const ticket = ticketOf(created.body!['inviteRedeemUrl']);
    assert.equal((await portico.portico.invitations.checkTicket('contoso', ticket)).ok, true, 'the link works even though the mail did not go');
    const user = await graph.call('GET', `/users/${String((created.body!['invitedUser'] as { id: string }).id)}`, { token });
    assert.equal(user.body!['externalUserState'], 'PendingAcceptance');
    assert.equal((await graph.call('GET', `/invitations/${id}`, { token })).body!['status'], 'Error');

    const resent = await graph.call('POST', `/invitations/${id}/resend`, { token });
    assert.equal(resent.status, 200);
    assert.equal(resent.body!['status'], 'PendingAcceptance');
    const mail = await smtp.nextMessageTo('hana@adatum.com');
    assert.ok(mail.parsed.text?.includes(String(resent.body!['inviteRedeemUrl'])));
  });

  it('records every action in the audit log, newest first, with the request id and without any ticket', async () => {
    const created = await invite({ invitedUserEmailAddress: 'ivan@adatum.com' });
    const id = String(created.body!['id']);
    const userId = String((created.body!['invitedUser'] as { id: string }).id);
    const resent = await graph.call('POST', `/invitations/${id}/resend`, { token });
    await graph.call('POST', `/invitations/${id}/revoke`, { token });
    const second = await invite({ invitedUserEmailAddress: 'ivan@adatum.com' });
    await portico.portico.invitations.redeem('contoso', ticketOf(second.body!['inviteRedeemUrl']), userId, { correlationId: 'redeem-ivan' });
    await graph.call('PATCH', `/users/${userId}`, { token, body: { displayName: 'Ivan Adatum' } });
    const deleted = await graph.call('DELETE', `/users/${userId}`, { token });
    assert.equal(deleted.status, 204);

    const log = await graph.call('GET', '/auditLogs/directoryAudits?$top=7', { token });
    assert.equal(log.status, 200);
    const entries = log.body!['value'] as Record<string, unknown>[];
    assert.deepEqual(
      entries.map((e) => e['activityDisplayName']),
      ['Delete user', 'Update user', 'Redeem external user invite', 'Invite external user', 'Revoke external user invite', 'Resend external user invite', 'Invite external user'],
    );
    assert.ok(entries.every((e) => e['result'] === 'success'));
    assert.equal(entries[0]!['correlationId'], deleted.headers.get('x-request-id'), 'the request id is the correlation id');
    assert.equal(entries[2]!['correlationId'], 'redeem-ivan');
    assert.deepEqual(entries[2]!['initiatedBy'], { app: null, user: { id: userId, displayName: 'ivan@adatum.com', userPrincipalName: 'ivan_adatum.com#EXT#@contoso.example' } });
    assert.deepEqual(entries[6]!['initiatedBy'], { app: { appId: 'contoso-daemon', displayName: 'Contoso payroll sync' }, user: null });
    assert.deepEqual(
      (entries[1]!['targetResources'] as { modifiedProperties: unknown }[])[0]!.modifiedProperties,
      [{ displayName: 'displayName', oldValue: '"ivan@adatum.com"', newValue: '"Ivan Adatum"' }],
    );
    const text = JSON.stringify(log.body);
    for (const redeemUrl of [created.body!['inviteRedeemUrl'], resent.body!['inviteRedeemUrl'], second.body!['inviteRedeemUrl']]) {
      assert.ok(!text.includes(ticketOf(redeemUrl)), 'no ticket in the audit log');
    }
    assert.ok(!text.includes('demo-daemon-secret') && !text.includes(token.slice(-20)), 'no secret or token in the audit log');

    const auditor = await appToken(portico, EXTRA_APPS.auditor);
    assert.equal((await graph.call('GET', '/auditLogs/directoryAudits?$top=1', { token: auditor })).status, 200);
    const reader = await appToken(portico, EXTRA_APPS.reader);
    const denied = await graph.call('GET', '/auditLogs/directoryAudits', { token: reader });
    assert.equal(denied.status, 403);
  });

  it('pages the audit log with next links', async () => {
    const first = await graph.call('GET', '/auditLogs/directoryAudits?$top=2', { token });
    const nextLink = String(first.body!['@odata.nextLink']);
    assert.match(nextLink, /^http:\/\/127\.0\.0\.1:\d+\/graph\/v1\.0\/auditLogs\/directoryAudits\?\$top=2&\$skiptoken=/);
    const second = await graph.call('GET', nextLink, { token });
    assert.equal(second.status, 200);
    const ids = [...(first.body!['value'] as { id: string }[]), ...(second.body!['value'] as { id: string }[])].map((e) => e.id);
    assert.equal(new Set(ids).size, 4, 'pages do not overlap');
    const all = await graph.call('GET', '/auditLogs/directoryAudits?$top=4', { token });
    assert.deepEqual((all.body!['value'] as { id: string }[]).map((e) => e.id), ids, 'two pages of 2 are the first page of 4');
  });

  it('answered only in shapes the OpenAPI document declares', () => {
    assert.ok(checker.checked >= 40, `checked ${checker.checked} responses`);
    for (const expected of ['POST /invitations → 201', 'POST /invitations/{id}/resend → 200', 'POST /invitations/{id}/revoke → 200', 'GET /auditLogs/directoryAudits → 200']) {
      assert.ok(checker.seen.has(expected), expected);
    }
  });
});
