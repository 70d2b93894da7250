/**
 * `/users/{id}/authentication` with passkeys: a user whose first method is a passkey (registered
 * through the store with a software authenticator) is listed with a fido2AuthenticationMethod;
 * deleting it is audited, and with the last method gone the recovery codes go too. Every response
 * is checked against the OpenAPI document.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { TestPortico } from '../helpers/portico.ts';
import { SoftwareAuthenticator } from '../helpers/software-authenticator.ts';
import { DAEMON, EXTRA_APPS, GraphClient, OpenApiChecker, appToken, errorCode, startGraphPortico } from './graph-harness.ts';

describe('management API: passkeys', () => {
  let portico: TestPortico;
  let graph: GraphClient;
  let token: string;
  let user: { id: string };
  let passkeyId: string;

  before(async () => {
    portico = await startGraphPortico();
    graph = new GraphClient(portico, await OpenApiChecker.fetch(portico));
    token = await appToken(portico, DAEMON);
    user = await portico.portico.users.create({ tenantId: 'contoso', userType: 'Member', userPrincipalName: 'pia@contoso.example', displayName: 'Pia', mail: 'pia@contoso.example' });
    const { passkeys } = portico.portico;
    const options = await passkeys.registrationOptions({ tenantId: 'contoso', userId: user.id, flowId: 'test-flow', rpName: 'Contoso', userName: 'pia@contoso.example', userDisplayName: 'Pia' });
    const authenticator = new SoftwareAuthenticator({ origin: new URL(portico.portico.url).origin });
    const registered = await passkeys.verifyRegistration({ tenantId: 'contoso', userId: user.id, flowId: 'test-flow', response: authenticator.register(options) });
    assert.equal(registered.status, 'registered', JSON.stringify(registered));
    assert.ok(registered.status === 'registered' && registered.recoveryCodes?.length === 10);
    passkeyId = registered.passkey.id;
  });
  after(() => portico.dispose());

  const methodsOf = async (bearer = token) => graph.call('GET', `/users/${user.id}/authentication/methods`, { token: bearer });

  it('lists the passkey as a fido2AuthenticationMethod with its name and creation time, never its key', async () => {
    const response = await methodsOf(await appToken(portico, EXTRA_APPS.reader));
    assert.equal(response.status, 200);
    assert.deepEqual(response.body!['value'], [
      { '@odata.type': '#microsoft.graph.fido2AuthenticationMethod', id: passkeyId, displayName: 'Passkey', createdDateTime: (response.body!['value'] as { createdDateTime: string }[])[0]!.createdDateTime },
    ]);
    assert.ok(Math.abs(Date.parse((response.body!['value'] as { createdDateTime: string }[])[0]!.createdDateTime) - Date.now()) < 60_000);
    assert.ok(!/publicKey|counter/.test(JSON.stringify(response.body)));
  });

  it('lets only User.ReadWrite.All delete it, audits the deletion, and the recovery codes go with the last method', async () => {
    const path = `/users/${user.id}/authentication/fido2Methods/${passkeyId}`;
    assert.equal((await graph.call('DELETE', path, { token: await appToken(portico, EXTRA_APPS.reader) })).status, 403);
    assert.equal((await graph.call('DELETE', `/users/${user.id}/authentication/fido2Methods/not-the-id`, { token })).status, 404);
    // An app's id is not a passkey's: the two kinds are deleted at their own paths.
    assert.equal((await graph.call('DELETE', `/users/${user.id}/authentication/softwareOathMethods/${passkeyId}`, { token })).status, 404);
    assert.equal(await portico.portico.passkeys.hasPasskey('contoso', user.id), true, 'refusals changed nothing');

    const deleted = await graph.call('DELETE', path, { token });
    assert.equal(deleted.status, 204);
    assert.deepEqual((await methodsOf()).body!['value'], []);
    assert.equal(await portico.portico.authenticators.hasRecoveryCodes('contoso', user.id), false);
    const again = await graph.call('DELETE', path, { token });
    assert.equal(again.status, 404);
    assert.equal(errorCode(again), 'Request_ResourceNotFound');

    const audits = (await graph.call('GET', '/auditLogs/directoryAudits?$top=5', { token })).body!['value'] as Record<string, unknown>[];
    const entry = audits.find((a) => a['activityDisplayName'] === 'Admin deleted security info');
    assert.ok(entry, JSON.stringify(audits.map((a) => a['activityDisplayName'])));
    assert.equal(entry['correlationId'], deleted.headers.get('x-request-id'));
    assert.deepEqual(entry['additionalDetails'], [{ key: 'methodType', value: 'fido2' }, { key: 'methodId', value: passkeyId }]);
  });
});
