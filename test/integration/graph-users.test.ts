/**
 * `/users` (filters, `$top`, next links, update, delete) and the refusals of malformed requests:
 * every one a Graph error that names what is wrong, every response checked against the
 * OpenAPI document.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { TestPortico } from '../helpers/portico.ts';
import { DAEMON, EXTRA_APPS, GraphClient, NORTHWIND_DAEMON, OpenApiChecker, appToken, errorCode, errorMessage, startGraphPortico, ticketOf } from './graph-harness.ts';

describe('management API: users and malformed requests', () => {
  let portico: TestPortico;
  let graph: GraphClient;
  let checker: OpenApiChecker;
  let token: string;
  const guests: { id: string; mail: string; ticket: string }[] = [];

  before(async () => {
    portico = await startGraphPortico();
    checker = await OpenApiChecker.fetch(portico);
    graph = new GraphClient(portico, checker);
    token = await appToken(portico, DAEMON);
    for (const name of ['amy', 'ben', 'cleo', 'dev', 'eve']) {
      const response = await graph.call('POST', '/invitations', {
        token,
        body: { invitedUserEmailAddress: `${name}@adatum.com`, inviteRedirectUrl: 'https://apps.contoso.example/' },
      });
      assert.equal(response.status, 201);
      guests.push({ id: String((response.body!['invitedUser'] as { id: string }).id), mail: `${name}@adatum.com`, ticket: ticketOf(response.body!['inviteRedeemUrl']) });
    }
    await portico.portico.users.create({ tenantId: 'contoso', userType: 'Member', userPrincipalName: 'mia@contoso.example', displayName: 'Mia', mail: 'mia@contoso.example' });
    const redeemed = await portico.portico.invitations.redeem('contoso', guests[1]!.ticket, guests[1]!.id, { correlationId: 'setup' });
    assert.ok(redeemed.ok);
  });
  after(() => portico.dispose());

  const list = async (query: string) => {
    const response = await graph.call('GET', `/users${query}`, { token });
    assert.equal(response.status, 200, JSON.stringify(response.body));
    return response.body!['value'] as { id: string; mail: string | null; userType: string }[];
  };
  const refusal = async (path: string, code: string) => {
    const response = await graph.call('GET', path, { token });
    assert.equal(response.status, 400, path);
    assert.equal(errorCode(response), code, path);
    return errorMessage(response);
  };

  it('filters by userType, mail and externalUserState, alone or joined with and', async () => {
    assert.deepEqual((await list(`?$filter=${encodeURIComponent("userType eq 'Guest'")}`)).map((u) => u.mail), guests.map((g) => g.mail));
    assert.deepEqual((await list(`?$filter=${encodeURIComponent("userType eq 'Member'")}`)).map((u) => u.mail), ['mia@contoso.example']);
    assert.deepEqual((await list(`?$filter=${encodeURIComponent("mail eq 'CLEO@adatum.com'")}`)).map((u) => u.id), [guests[2]!.id], 'mail compares case-insensitively');
    assert.deepEqual((await list(`?$filter=${encodeURIComponent("externalUserState eq 'Accepted'")}`)).map((u) => u.id), [guests[1]!.id]);
    assert.deepEqual(
      (await list(`?$filter=${encodeURIComponent("userType eq 'Guest' and externalUserState eq 'PendingAcceptance' and mail eq 'dev@adatum.com'")}`)).map((u) => u.id),
      [guests[3]!.id],
    );
    assert.deepEqual(await list(`?$filter=${encodeURIComponent("mail eq 'o''brien@adatum.com'")}`), [], "'' escapes a quote");
  });

  it('refuses filters it does not support rather than ignoring them', async () => {
    assert.match(await refusal(`/users?$filter=${encodeURIComponent("startswith(mail,'a')")}`, 'Request_UnsupportedQuery'), /Unsupported \$filter/);
    assert.match(await refusal(`/users?$filter=${encodeURIComponent("displayName eq 'Amy'")}`, 'Request_UnsupportedQuery'), /displayName/);
    await refusal(`/users?$filter=${encodeURIComponent("userType eq 'Guest' or userType eq 'Member'")}`, 'Request_UnsupportedQuery');
    await refusal(`/users?$filter=${encodeURIComponent("userType ne 'Guest'")}`, 'Request_UnsupportedQuery');
    await refusal('/users?$skip=2', 'Request_UnsupportedQuery');
    await refusal('/users?$top=1&$top=2', 'Request_BadRequest');
  });

  it('limits $top to 1-999', async () => {
    assert.match(await refusal('/users?$top=0', 'Request_BadRequest'), /between 1 and 999/);
    assert.match(await refusal('/users?$top=1000', 'Request_BadRequest'), /between 1 and 999/);
    await refusal('/users?$top=-1', 'Request_BadRequest');
    await refusal('/users?$top=ten', 'Request_BadRequest');
    assert.equal((await list('?$top=999')).length, 6);
    assert.equal((await list('?$top=1')).length, 1);
  });

  it('pages with @odata.nextLink until the last page, which has none', async () => {
    const filter = encodeURIComponent("userType eq 'Guest'");
    let next: string | undefined = `${graph.base}/users?$filter=${filter}&$top=2`;
    const pages: string[][] = [];
    while (next) {
      const response = await graph.call('GET', next, { token });
      assert.equal(response.status, 200);
      pages.push((response.body!['value'] as { id: string }[]).map((u) => u.id));
      next = response.body!['@odata.nextLink'] as string | undefined;
      if (next) assert.ok(next.includes('$top=2') && next.includes(`$filter=${filter}`), 'the next link keeps the query');
    }
    assert.deepEqual(pages.map((page) => page.length), [2, 2, 1]);
    assert.deepEqual(pages.flat(), guests.map((g) => g.id), 'every guest once, oldest first');
  });

  it('refuses a tampered skip token, and one presented with another query or by another tenant', async () => {
    const first = await graph.call('GET', `/users?$top=2`, { token });
    const nextLink = new URL(String(first.body!['@odata.nextLink']));
    const skipToken = nextLink.searchParams.get('$skiptoken')!;
    const flipped = `${skipToken.slice(0, 20)}${skipToken[20] === 'A' ? 'B' : 'A'}${skipToken.slice(21)}`;
    assert.match(await refusal(`/users?$top=2&$skiptoken=${flipped}`, 'Request_BadRequest'), /\$skiptoken/);
    await refusal(`/users?$top=3&$skiptoken=${skipToken}`, 'Request_BadRequest');
    await refusal(`/users?$top=2&$filter=${encodeURIComponent("userType eq 'Guest'")}&$skiptoken=${skipToken}`, 'Request_BadRequest');
    await refusal('/users?$top=2&$skiptoken=%E2%9C%93', 'Request_BadRequest');
    const northwind = await appToken(portico, NORTHWIND_DAEMON, { tenant: 'northwind' });
    const foreign = await graph.call('GET', `/users?$top=2&$skiptoken=${skipToken}`, { token: northwind });
    assert.equal(foreign.status, 400);
    const again = await graph.call('GET', nextLink.href, { token });
    assert.equal(again.status, 200, 'the untouched link still works');
  });

  it('updates displayName and accountEnabled', async () => {
    const target = guests[0]!;
    const response = await graph.call('PATCH', `/users/${target.id}`, { token, body: { displayName: 'Amy Adatum', accountEnabled: false } });
    assert.equal(response.status, 204);
    const user = await graph.call('GET', `/users/${target.id}`, { token });
    assert.equal(user.body!['displayName'], 'Amy Adatum');
    assert.equal(user.body!['accountEnabled'], false);
    const reader = await appToken(portico, EXTRA_APPS.reader);
    assert.equal((await graph.call('PATCH', `/users/${target.id}`, { token: reader, body: { accountEnabled: true } })).status, 403);
    assert.equal((await graph.call('PATCH', '/users/00000000-0000-4000-8000-000000000000', { token, body: { accountEnabled: true } })).status, 404);
  });

  it('deletes a user with its identity links and revokes its pending invitations', async () => {
    const target = guests[4]!;
    const identity = { signInType: 'emailAddress' as const, issuer: 'mail', issuerAssignedId: target.mail };
    assert.ok(await portico.portico.users.linkIdentity('contoso', target.id, identity));
    const response = await graph.call('DELETE', `/users/${target.id}`, { token });
    assert.equal(response.status, 204);
    assert.equal(response.body, undefined);
    assert.equal((await graph.call('GET', `/users/${target.id}`, { token })).status, 404);
    assert.equal(await portico.portico.users.findByIdentity('contoso', identity), undefined, 'the identity link is gone');
    assert.deepEqual(await portico.portico.invitations.checkTicket('contoso', target.ticket), { ok: false, reason: 'revoked' });
    assert.equal((await graph.call('DELETE', `/users/${target.id}`, { token })).status, 404);
    const [entry] = (await graph.call('GET', '/auditLogs/directoryAudits?$top=1', { token })).body!['value'] as { activityDisplayName: string; additionalDetails: unknown }[];
    assert.equal(entry!.activityDisplayName, 'Delete user');
    assert.deepEqual(entry!.additionalDetails, [{ key: 'revokedInvitations', value: '1' }]);
  });

  it('refuses malformed invitation bodies with a 400 that names the property', async () => {
    const valid = { invitedUserEmailAddress: 'kim@adatum.com', inviteRedirectUrl: 'https://apps.contoso.example/' };
    const cases: [unknown, RegExp][] = [
      [{ invitedUserEmailAddress: 'kim@adatum.com' }, /'inviteRedirectUrl' is required/],
      [{ ...valid, invitedUserEmailAddress: 'kim at adatum' }, /'invitedUserEmailAddress': must be an email address/],
      [{ ...valid, invitedUserEmailAddress: 'kim@adatum.com\r\nBcc: x@evil.example' }, /'invitedUserEmailAddress'/],
      [{ ...valid, inviteRedirectUrl: 'http://apps.contoso.example/' }, /'inviteRedirectUrl': must use https/],
      [{ ...valid, inviteRedirectUrl: '/relative' }, /'inviteRedirectUrl': must be an absolute URL/],
      [{ ...valid, invitedUserType: 'Admin' }, /'invitedUserType': must be one of 'Guest', 'Member'/],
      [{ ...valid, sendInvitationMessage: 'yes' }, /'sendInvitationMessage': expected boolean/],
      [{ ...valid, invitedUserMessageInfo: { messageLanguage: 'not a tag' } }, /'invitedUserMessageInfo.messageLanguage'/],
      [{ ...valid, invitedUserMessageInfo: { customizedMessageBody: 'x'.repeat(5001) } }, /'invitedUserMessageInfo.customizedMessageBody': at most 5000 characters/],
      [
        { ...valid, invitedUserMessageInfo: { ccRecipients: [{ emailAddress: { address: 'a@b.example' } }, { emailAddress: { address: 'c@d.example' } }] } },
        /'invitedUserMessageInfo.ccRecipients'.*at most one cc recipient/,
      ],
      [{ ...valid, invitedUserMessageInfo: { ccRecipients: [{ emailAddress: { address: 'nope' } }] } }, /'invitedUserMessageInfo.ccRecipients\[0\].emailAddress.address'/],
      [{ ...valid, invitedUserEmail: 'kim@adatum.com' }, /Property 'invitedUserEmail' does not exist/],
      [[valid], /must be a JSON object/],
    ];
    for (const [body, message] of cases) {
      const response = await graph.call('POST', '/invitations', { token, body });
      assert.equal(response.status, 400, JSON.stringify(body).slice(0, 80));
      assert.equal(errorCode(response), 'Request_BadRequest');
      assert.match(errorMessage(response), message);
    }
    // What Graph clients send and Portico takes: OData annotations and nulls for unset properties.
    const lenient = await graph.call('POST', '/invitations', { token, body: { '@odata.type': '#microsoft.graph.invitation', ...valid, invitedUserDisplayName: null } });
    assert.equal(lenient.status, 201);
  });

  it('refuses bodies that are not JSON, too large, or an address of a member', async () => {
    const notJson = await graph.call('POST', '/invitations', { token, rawBody: '{"invitedUserEmailAddress":', contentType: 'application/json' });
    assert.equal(notJson.status, 400);
    assert.match(errorMessage(notJson), /not valid JSON/);
    const form = await graph.call('POST', '/invitations', { token, rawBody: 'invitedUserEmailAddress=kim%40adatum.com', contentType: 'application/x-www-form-urlencoded' });
    assert.equal(form.status, 415);
    assert.equal(errorCode(form), 'UnsupportedMediaType');
    const large = await graph.call('POST', '/invitations', {
      token,
      body: { invitedUserEmailAddress: 'kim@adatum.com', inviteRedirectUrl: 'https://apps.contoso.example/', invitedUserDisplayName: 'k'.repeat(40_000) },
    });
    assert.equal(large.status, 413);
    assert.equal(errorCode(large), 'RequestEntityTooLarge');
    const member = await graph.call('POST', '/invitations', { token, body: { invitedUserEmailAddress: 'mia@contoso.example', inviteRedirectUrl: 'https://apps.contoso.example/' } });
    assert.equal(member.status, 400);
    assert.match(errorMessage(member), /belongs to a user of the organisation/);
    const patch = await graph.call('PATCH', `/users/${guests[2]!.id}`, { token, body: { accountEnabled: 'no', mail: 'x@y.example' } });
    assert.equal(patch.status, 400);
    assert.match(errorMessage(patch), /'mail' does not exist/);
    const empty = await graph.call('PATCH', `/users/${guests[2]!.id}`, { token, body: {} });
    assert.equal(empty.status, 400);
    assert.match(errorMessage(empty), /displayName or accountEnabled/);
  });

  it('answered only in shapes the OpenAPI document declares', () => {
    assert.ok(checker.checked >= 50, `checked ${checker.checked} responses`);
    for (const expected of ['GET /users → 200', 'GET /users → 400', 'PATCH /users/{id} → 204', 'DELETE /users/{id} → 204', 'POST /invitations → 413', 'POST /invitations → 415']) {
      assert.ok(checker.seen.has(expected), expected);
    }
  });
});
