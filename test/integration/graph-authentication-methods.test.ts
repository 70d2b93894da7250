/**
 * `/users/{id}/authentication`: an administrator's daemon lists a user's authenticator app and
 * deletes it, which is audited; the user's second factor is then gone from the store. Every
 * response is checked against the OpenAPI document.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { totpCodeAt } from '../../src/mfa/totp.ts';
import type { TestPortico } from '../helpers/portico.ts';
import { DAEMON, EXTRA_APPS, GraphClient, NORTHWIND_DAEMON, OpenApiChecker, appToken, errorCode, startGraphPortico } from './graph-harness.ts';

describe('management API: authentication methods', () => {
  let portico: TestPortico;
  let graph: GraphClient;
  let token: string;
  let user: { id: string; userPrincipalName: string };
  let secret: string;

  before(async () => {
    portico = await startGraphPortico();
    graph = new GraphClient(portico, await OpenApiChecker.fetch(portico));
    token = await appToken(portico, DAEMON);
    user = await portico.portico.users.create({ tenantId: 'contoso', userType: 'Member', userPrincipalName: 'nora@contoso.example', displayName: 'Nora', mail: 'nora@contoso.example' });
    const { authenticators } = portico.portico;
    ({ secret } = await authenticators.startEnrolment('contoso', user.id));
    const confirmed = await authenticators.confirmEnrolment('contoso', user.id, await totpCodeAt(secret, Date.now()));
    assert.equal(confirmed.status, 'confirmed');
  });
  after(() => portico.dispose());

  const methodsOf = async (key: string, bearer = token) => graph.call('GET', `/users/${encodeURIComponent(key)}/authentication/methods`, { token: bearer });

  it('lists the authenticator app as a softwareOathAuthenticationMethod, never its secret', async () => {
    const response = await methodsOf(user.id);
    assert.equal(response.status, 200);
    const [method, ...rest] = response.body!['value'] as Record<string, unknown>[];
    assert.deepEqual(rest, []);
    assert.equal(method!['@odata.type'], '#microsoft.graph.softwareOathAuthenticationMethod');
    assert.match(String(method!['id']), /^[0-9a-f-]{36}$/);
    assert.ok(Math.abs(Date.parse(String(method!['createdDateTime'])) - Date.now()) < 60_000);
    assert.match(String(response.body!['@odata.context']), new RegExp(`\\$metadata#users\\('${user.id}'\\)/authentication/methods$`));
    assert.ok(!JSON.stringify(response.body).includes(secret), 'the secret is never in an answer');
    // By user principal name too, and for a reader.
    const byUpn = await methodsOf(user.userPrincipalName, await appToken(portico, EXTRA_APPS.reader));
    assert.equal(byUpn.status, 200);
    assert.deepEqual(byUpn.body!['value'], response.body!['value']);
  });

  it('lets only User.ReadWrite.All delete it, audits the deletion, and the user has no second factor left', async () => {
    const [method] = (await methodsOf(user.id)).body!['value'] as { id: string }[];
    const path = `/users/${user.id}/authentication/softwareOathMethods/${method!.id}`;

    const reader = await graph.call('DELETE', path, { token: await appToken(portico, EXTRA_APPS.reader) });
    assert.equal(reader.status, 403);
    assert.equal(errorCode(reader), 'Authorization_RequestDenied');
    const otherTenant = await graph.call('DELETE', path, { token: await appToken(portico, NORTHWIND_DAEMON, { tenant: 'northwind' }) });
    assert.equal(otherTenant.status, 404, 'a user of another tenant does not exist here');
    assert.equal((await graph.call('DELETE', `/users/${user.id}/authentication/softwareOathMethods/not-the-id`, { token })).status, 404);
    assert.equal(await portico.portico.authenticators.hasMethod('contoso', user.id), true, 'refusals changed nothing');

    const deleted = await graph.call('DELETE', path, { token });
    assert.equal(deleted.status, 204);
    assert.deepEqual((await methodsOf(user.id)).body!['value'], []);
    assert.equal(await portico.portico.authenticators.hasMethod('contoso', user.id), false);
    assert.deepEqual(await portico.portico.authenticators.verify('contoso', user.id, await totpCodeAt(secret, Date.now() + 30_000)), { status: 'no_method' });
    const again = await graph.call('DELETE', path, { token });
    assert.equal(again.status, 404);
    assert.equal(errorCode(again), 'Request_ResourceNotFound');

    const audits = (await graph.call('GET', '/auditLogs/directoryAudits?$top=5', { token })).body!['value'] as Record<string, unknown>[];
    const entry = audits.find((a) => a['activityDisplayName'] === 'Admin deleted security info');
    assert.ok(entry, JSON.stringify(audits.map((a) => a['activityDisplayName'])));
    assert.equal(entry['category'], 'UserManagement');
    assert.equal(entry['operationType'], 'Delete');
    assert.equal(entry['correlationId'], deleted.headers.get('x-request-id'), 'the request id is the correlation id');
    assert.deepEqual((entry['targetResources'] as { id: string }[]).map((t) => t.id), [user.id]);
    assert.deepEqual(entry['additionalDetails'], [{ key: 'methodType', value: 'softwareOath' }, { key: 'methodId', value: method!.id }]);
    assert.deepEqual((entry['initiatedBy'] as { app: { appId: string } }).app.appId, DAEMON.id);
    assert.ok(!JSON.stringify(audits).includes(secret));
  });

  it('answers 404 for a user that does not exist and refuses query options', async () => {
    const missing = await methodsOf('00000000-0000-4000-8000-000000000000');
    assert.equal(missing.status, 404);
    const query = await graph.call('GET', `/users/${user.id}/authentication/methods?$top=1`, { token });
    assert.equal(query.status, 400);
    assert.equal(errorCode(query), 'Request_UnsupportedQuery');
  });
});
