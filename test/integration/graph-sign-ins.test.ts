/**
 * `/auditLogs/signIns`: real email-passcode sign-ins (mail through a real SMTP sink) are recorded
 * and read back by a daemon, every response checked against the OpenAPI document.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { guestUserPrincipalName, type User } from '../../src/directory/users.ts';
import type { SignIn } from '../../src/directory/sign-in-log.ts';
import { entryOf } from '../../src/directory/tenant-log.ts';
import type { TestPortico } from '../helpers/portico.ts';
import { relyingParty } from '../helpers/relying-party.ts';
import { passcodeIn, SignInSession } from '../helpers/sign-in.ts';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp.ts';
import { EXTRA_APPS, GraphClient, NORTHWIND_DAEMON, OpenApiChecker, appToken, errorCode, errorMessage, startGraphPortico } from './graph-harness.ts';

const WEB = { id: 'contoso-web', secret: 'demo-web-secret', redirectUri: 'http://localhost:8080/callback' };

const correlationIdOn = (page: string): string => {
  const match = /data-testid="correlation-id">([^<]+)</.exec(page);
  assert.ok(match, 'the page shows a correlation id');
  return match[1]!;
};

describe('management API: sign-in log', () => {
  let smtp: SmtpSink;
  let portico: TestPortico;
  let graph: GraphClient;
  let token: string;
  let alice: User;
  const passcodes: string[] = [];
  let notInvitedCorrelationId = '';

  before(async () => {
    smtp = await startSmtpSink();
    portico = await startGraphPortico({
      brokerYaml: `mail:\n  transport: smtp\n  from: Contoso <no-reply@contoso.example>\n  smtp:\n    host: 127.0.0.1\n    port: ${smtp.port}\n    secure: false\n`,
    });
    graph = new GraphClient(portico, await OpenApiChecker.fetch(portico));
    token = await appToken(portico, EXTRA_APPS.auditor);
    alice = await portico.portico.users.create({
      tenantId: 'contoso',
      userType: 'Guest',
      userPrincipalName: guestUserPrincipalName('alice@adatum.com', 'contoso.example'),
      displayName: 'Alice Adatum',
      mail: 'alice@adatum.com',
      creationType: 'Invitation',
      externalUserState: 'PendingAcceptance',
    });
    const session = async () => new SignInSession(await relyingParty(portico.issuer, WEB.id, WEB.secret), WEB.redirectUri);

    // Alice, invited: a wrong passcode first, then the right one, then she accepts.
    const s = await session();
    await s.start();
    await s.submit('email', { email: 'alice@adatum.com' });
    const code = passcodeIn((await smtp.nextMessageTo('alice@adatum.com')).parsed.text ?? '');
    // Not a run of zeros: the stored entries' ordering key has one.
    const wrong = String((Number(code) + 1) % 1e8).padStart(8, '0');
    passcodes.push(code, wrong);
    assert.equal((await s.submit('code', { code: wrong })).status, 400);
    await s.submit('code', { code });
    await s.submit('consent', {});
    assert.equal((await s.tokens()).claims()?.sub, alice.id);

    // Mallory was not invited.
    const m = await session();
    await m.start({ login_hint: 'mallory@adatum.com' });
    const malloryCode = passcodeIn((await smtp.nextMessageTo('mallory@adatum.com')).parsed.text ?? '');
    passcodes.push(malloryCode);
    assert.equal((await m.submit('code', { code: malloryCode })).status, 403);
    assert.match(m.page, /data-testid="not-invited"/);
    notInvitedCorrelationId = correlationIdOn(m.page);
  });
  after(async () => {
    await portico.dispose();
    await smtp.close();
  });

  const signIns = async (query = '', bearer = token) => {
    const response = await graph.call('GET', `/auditLogs/signIns${query}`, { token: bearer });
    assert.equal(response.status, 200, JSON.stringify(response.body));
    return response.body as { value: SignIn[]; '@odata.nextLink'?: string };
  };

  it('records the success and each refusal, newest first, in Graph’s signIn shape', async () => {
    const { value } = await signIns();
    assert.deepEqual(value.map((e) => e.status.errorCode), [90072, 0, 1211], 'not invited, signed in, wrong passcode');
    const [refused, success, wrongCode] = value;

    assert.equal(success!.userId, alice.id);
    assert.equal(success!.userPrincipalName, 'alice_adatum.com#EXT#@contoso.example');
    assert.equal(success!.userDisplayName, 'Alice Adatum');
    assert.equal(success!.appId, 'contoso-web');
    assert.equal(success!.appDisplayName, 'Contoso intranet');
    assert.deepEqual(success!.status, { errorCode: 0, failureReason: null, additionalDetails: 'accepted invitation' });
    assert.deepEqual(success!.upstreamIdentityProvider, { connectorId: 'email', idp: 'mail', kind: 'email-otp' });
    assert.equal(success!.userType, 'guest');
    assert.equal(success!.crossTenantAccessType, 'b2bCollaboration');
    assert.equal(success!.resourceTenantId, 'contoso');
    assert.equal(success!.isInteractive, true);
    assert.equal(success!.conditionalAccessStatus, 'notApplied');
    assert.equal(success!.authenticationRequirement, 'singleFactorAuthentication');
    assert.match(success!.ipAddress, /127\.0\.0\.1/);
    assert.ok(success!.correlationId.length > 0);
    assert.ok(Date.parse(success!.createdDateTime) <= Date.now());

    assert.equal(refused!.userId, null, 'no user matched');
    assert.equal(refused!.userPrincipalName, 'mallory@adatum.com', 'the address the guest gave');
    assert.equal(refused!.status.failureReason, 'The account from the identity provider does not exist in the organisation and was not invited.');
    assert.equal(refused!.correlationId, notInvitedCorrelationId, 'the id the person saw on the refusal page');
    assert.deepEqual(refused!.upstreamIdentityProvider, { connectorId: 'email', idp: 'mail', kind: 'email-otp' });

    assert.equal(wrongCode!.userId, null, 'a wrong passcode decides before any user is looked up');
    assert.equal(wrongCode!.status.failureReason, 'The email passcode was wrong.');
    assert.deepEqual(wrongCode!.upstreamIdentityProvider, { connectorId: 'email', idp: null, kind: 'email-otp' });
  });

  it('never stores a passcode', async () => {
    const stored = JSON.stringify((await portico.portico.store.listByTag('sign-ins', 'tenant:contoso')).map((r) => entryOf(r.value as never)));
    assert.ok(stored.includes(alice.id), 'the raw entries were read');
    for (const code of passcodes) assert.ok(!stored.includes(code), 'no passcode in the stored entries');
  });

  it('filters, pages with @odata.nextLink and reads one entry by id', async () => {
    const q = (filter: string) => `?$filter=${encodeURIComponent(filter)}`;
    assert.deepEqual((await signIns(q(`userId eq '${alice.id}'`))).value.map((e) => e.status.errorCode), [0]);
    assert.deepEqual((await signIns(q("appId eq 'contoso-web' and status/errorCode eq 90072"))).value.map((e) => e.userPrincipalName), ['mallory@adatum.com']);
    assert.equal((await signIns(q('createdDateTime ge 2000-01-01T00:00:00Z'))).value.length, 3);
    assert.equal((await signIns(q('createdDateTime ge 2999-01-01T00:00:00Z'))).value.length, 0);

    const first = await signIns('?$top=2');
    assert.equal(first.value.length, 2);
    assert.ok(first['@odata.nextLink']?.includes('$top=2'));
    const rest = await graph.call('GET', first['@odata.nextLink']!, { token });
    assert.equal(rest.status, 200);
    const last = rest.body as { value: SignIn[]; '@odata.nextLink'?: string };
    assert.deepEqual(last.value.map((e) => e.status.errorCode), [1211]);
    assert.equal(last['@odata.nextLink'], undefined);

    const one = await graph.call('GET', `/auditLogs/signIns/${first.value[1]!.id}`, { token });
    assert.equal(one.status, 200);
    assert.equal(one.body!['userId'], alice.id);
    assert.match(String(one.body!['@odata.context']), /\$metadata#auditLogs\/signIns\/\$entity$/);
    const missing = await graph.call('GET', '/auditLogs/signIns/00000000-0000-0000-0000-000000000000', { token });
    assert.equal(missing.status, 404);
    assert.equal(errorCode(missing), 'Request_ResourceNotFound');
  });

  it('refuses an unsupported $filter with a Graph error naming it', async () => {
    const response = await graph.call('GET', `/auditLogs/signIns?$filter=${encodeURIComponent("userDisplayName eq 'Alice'")}`, { token });
    assert.equal(response.status, 400);
    assert.equal(errorCode(response), 'Request_UnsupportedQuery');
    assert.match(errorMessage(response), /userDisplayName eq 'Alice'/);
  });

  it('needs AuditLog.Read.All, and shows a tenant only its own sign-ins', async () => {
    const reader = await appToken(portico, EXTRA_APPS.reader);
    for (const path of ['/auditLogs/signIns', `/auditLogs/signIns/${(await signIns()).value[0]!.id}`]) {
      const denied = await graph.call('GET', path, { token: reader });
      assert.equal(denied.status, 403, path);
      assert.equal(errorCode(denied), 'Authorization_RequestDenied');
    }
    const northwind = await appToken(portico, NORTHWIND_DAEMON, { tenant: 'northwind' });
    assert.deepEqual((await signIns('', northwind)).value, []);
  });
});
