/**
 * Who may call the management API: tokens from the tenant's own token endpoint for the Graph
 * resource, with the role each operation needs. Forged, expired, mis-addressed and foreign
 * tokens are refused with 401 and Graph's error shape; a missing role is a 403.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { decodeJwt, importJWK, SignJWT, type JWTPayload } from 'jose';
import * as client from 'openid-client';
import type { TestPortico } from '../helpers/portico.ts';
import { relyingParty } from '../helpers/relying-party.ts';
import { DAEMON, EXTRA_APPS, GraphClient, NORTHWIND_DAEMON, OpenApiChecker, appToken, errorCode, graphResource, startGraphPortico } from './graph-harness.ts';

describe('management API: authentication and roles', () => {
  let portico: TestPortico;
  let graph: GraphClient;
  let checker: OpenApiChecker;
  let issuer: string;

  before(async () => {
    portico = await startGraphPortico();
    checker = await OpenApiChecker.fetch(portico);
    graph = new GraphClient(portico, checker);
    issuer = portico.issuer;
  });
  after(() => portico.dispose());

  /** A token signed with the tenant's real current ES256 key, with claims of the test's choosing. */
  async function forged(claims: JWTPayload, header: { typ?: string } = {}): Promise<string> {
    const set = await portico.portico.keys.load('contoso');
    const key = set!.keys.find((k) => k.alg === 'ES256' && k.state === 'current')!;
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({
      iss: issuer,
      aud: graphResource(portico),
      sub: DAEMON.id,
      iat: now,
      exp: now + 600,
      jti: randomBytes(8).toString('hex'),
      tid: 'contoso',
      client_id: DAEMON.id,
      roles: ['User.Invite.All', 'User.ReadWrite.All', 'AuditLog.Read.All'],
      ...claims,
    })
      .setProtectedHeader({ alg: 'ES256', kid: key.kid, typ: header.typ ?? 'at+jwt' })
      .sign(await importJWK(key.privateJwk as never, 'ES256'));
  }

  const expectUnauthorized = async (token: string | undefined, why: string) => {
    const response = await graph.call('GET', '/users', token === undefined ? {} : { token });
    assert.equal(response.status, 401, why);
    assert.equal(errorCode(response), 'InvalidAuthenticationToken', why);
    assert.match(response.headers.get('www-authenticate') ?? '', /^Bearer error="invalid_token"/, why);
    const inner = (response.body!['error'] as { innerError: Record<string, string> }).innerError;
    assert.equal(inner['request-id'], response.headers.get('x-request-id'), why);
  };

  it('gives a daemon with app roles a Graph token: ES256, at+jwt, roles, audience and issuer of the tenant', async () => {
    const token = await appToken(portico, DAEMON);
    const [header] = token.split('.');
    assert.deepEqual(
      { alg: JSON.parse(Buffer.from(header!, 'base64url').toString()).alg, typ: JSON.parse(Buffer.from(header!, 'base64url').toString()).typ },
      { alg: 'ES256', typ: 'at+jwt' },
    );
    const claims = decodeJwt(token);
    assert.equal(claims.aud, graphResource(portico));
    assert.equal(claims.iss, issuer);
    assert.equal(claims['tid'], 'contoso');
    assert.deepEqual(claims['roles'], ['User.Invite.All', 'User.ReadWrite.All', 'AuditLog.Read.All', 'Policy.Read.All']);
    assert.equal((await graph.call('GET', '/users', { token })).status, 200);
  });

  it('keeps the default resource sane: the single API first, Graph for a daemon with roles and no API', async () => {
    assert.equal(decodeJwt(await appToken(portico, DAEMON, { resource: null })).aud, 'api://contoso/payroll', 'contoso-daemon keeps its payroll default');
    const reader = decodeJwt(await appToken(portico, EXTRA_APPS.reader, { resource: null }));
    assert.equal(reader.aud, graphResource(portico));
    assert.deepEqual(reader['roles'], ['User.Read.All']);
    // A payroll token carries no roles and is not accepted by the API.
    const payroll = await appToken(portico, DAEMON, { resource: 'api://contoso/payroll' });
    assert.equal(decodeJwt(payroll)['roles'], undefined);
    await expectUnauthorized(payroll, 'a token for another audience');
  });

  it('refuses the Graph resource to an app without roles', async () => {
    const config = await relyingParty(issuer, EXTRA_APPS.none.id, EXTRA_APPS.none.secret);
    await assert.rejects(client.clientCredentialsGrant(config, { resource: graphResource(portico) }), (error: { error?: string }) => error.error === 'invalid_target');
  });

  it('answers 401 with WWW-Authenticate for a missing, malformed, forged or expired token', async () => {
    await expectUnauthorized(undefined, 'no token');
    await expectUnauthorized('not-a-jwt', 'garbage');
    const real = await appToken(portico, DAEMON);
    const [h, p, s] = real.split('.');
    const payload = JSON.parse(Buffer.from(p!, 'base64url').toString());
    const tampered = `${h}.${Buffer.from(JSON.stringify({ ...payload, client_id: EXTRA_APPS.admin.id })).toString('base64url')}.${s}`;
    await expectUnauthorized(tampered, 'altered claims');
    const none = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'at+jwt' })).toString('base64url')}.${p}.`;
    await expectUnauthorized(none, 'alg none');
    const stranger = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    const strangerToken = await new SignJWT(payload).setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: 'stranger' }).sign(stranger);
    await expectUnauthorized(strangerToken, 'a key that is not the tenant’s');
    const hmac = await new SignJWT(payload).setProtectedHeader({ alg: 'HS256', typ: 'at+jwt' }).sign(randomBytes(32));
    await expectUnauthorized(hmac, 'a symmetric algorithm');
    await expectUnauthorized(await forged({ exp: Math.floor(Date.now() / 1000) - 120, iat: Math.floor(Date.now() / 1000) - 4000 }), 'expired');
    await expectUnauthorized(await forged({}, { typ: 'JWT' }), 'not an access token (typ)');
    await expectUnauthorized(await forged({ aud: 'api://contoso/payroll' }), 'wrong audience');
    await expectUnauthorized(await forged({ client_id: 'unknown-app' }), 'an app the tenant does not have');
    await expectUnauthorized(await forged({ iss: 'http://127.0.0.1:1/contoso/v2.0' }), 'another issuer');
    // The signature is right, so this proves the claims are checked, not just the key.
    assert.equal((await graph.call('GET', '/users', { token: await forged({}) })).status, 200);
  });

  it('answers 403 Authorization_RequestDenied to a caller without the role the operation needs', async () => {
    const reader = await appToken(portico, EXTRA_APPS.reader);
    const inviter = await appToken(portico, EXTRA_APPS.inviter);
    const auditor = await appToken(portico, EXTRA_APPS.auditor);
    const body = { invitedUserEmailAddress: 'zoe@adatum.com', inviteRedirectUrl: 'https://apps.contoso.example/' };
    const denied = [
      await graph.call('POST', '/invitations', { token: reader, body }),
      await graph.call('GET', '/users', { token: inviter }),
      await graph.call('GET', '/users', { token: auditor }),
      await graph.call('PATCH', '/users/00000000-0000-4000-8000-000000000000', { token: reader, body: { displayName: 'x' } }),
      await graph.call('DELETE', '/users/00000000-0000-4000-8000-000000000000', { token: inviter }),
      await graph.call('GET', '/auditLogs/directoryAudits', { token: inviter }),
    ];
    for (const response of denied) {
      assert.equal(response.status, 403);
      assert.equal(errorCode(response), 'Authorization_RequestDenied');
    }
    assert.equal((await graph.call('POST', '/invitations', { token: inviter, body })).status, 201);
    assert.equal((await graph.call('GET', '/users', { token: reader })).status, 200);
  });

  it('honours only the roles the app still has in the config, whatever the token claims', async () => {
    const token = await forged({ client_id: EXTRA_APPS.reader.id, roles: ['User.Read.All', 'User.ReadWrite.All'] });
    assert.equal((await graph.call('GET', '/users', { token })).status, 200);
    assert.equal((await graph.call('DELETE', '/users/00000000-0000-4000-8000-000000000000', { token })).status, 403);
  });

  it('keeps tenants apart: a token names its tenant, and sees only that directory', async () => {
    const contoso = await appToken(portico, DAEMON);
    const northwind = await appToken(portico, NORTHWIND_DAEMON, { tenant: 'northwind' });
    const created = await graph.call('POST', '/invitations', {
      token: contoso,
      body: { invitedUserEmailAddress: 'yara@adatum.com', inviteRedirectUrl: 'https://apps.contoso.example/' },
    });
    const userId = String((created.body!['invitedUser'] as { id: string }).id);
    assert.equal((await graph.call('GET', `/users/${userId}`, { token: northwind })).status, 404);
    assert.equal((await graph.call('DELETE', `/users/${userId}`, { token: northwind })).status, 404);
    assert.equal((await graph.call('GET', `/invitations/${String(created.body!['id'])}`, { token: northwind })).status, 404);
    const list = await graph.call('GET', '/users', { token: northwind });
    assert.deepEqual(list.body!['value'], []);
    const ticket = new URL(String(created.body!['inviteRedeemUrl'])).searchParams.get('ticket')!;
    assert.deepEqual(await portico.portico.invitations.checkTicket('northwind', ticket), { ok: false, reason: 'unknown' });
    assert.equal((await graph.call('GET', `/users/${userId}`, { token: contoso })).status, 200);
  });

  it('keeps accepting tokens after a key rotation', async () => {
    await portico.portico.keys.rotate('contoso', 3600);
    await portico.portico.providers.refreshKeys();
    const token = await appToken(portico, DAEMON);
    assert.equal((await graph.call('GET', '/users', { token })).status, 200);
  });

  it('serves its OpenAPI document without a token, and refuses unknown operations in Graph shape', async () => {
    const response = await fetch(`${graph.base}/$metadata/openapi.json`);
    const document = (await response.json()) as { paths: Record<string, unknown> };
    assert.deepEqual(Object.keys(document.paths).sort(), [
      '/auditLogs/directoryAudits',
      '/auditLogs/signIns',
      '/auditLogs/signIns/{id}',
      '/groups',
      '/groups/{id}',
      '/groups/{id}/appRoleAssignments',
      '/groups/{id}/appRoleAssignments/{assignmentId}',
      '/groups/{id}/members',
      '/groups/{id}/members/$ref',
      '/groups/{id}/members/{memberId}/$ref',
      '/invitations',
      '/invitations/{id}',
      '/invitations/{id}/resend',
      '/invitations/{id}/revoke',
      '/me',
      '/policies/explain',
      '/users',
      '/users/{id}',
      '/users/{id}/appRoleAssignments',
      '/users/{id}/appRoleAssignments/{assignmentId}',
      '/users/{id}/authentication/fido2Methods/{methodId}',
      '/users/{id}/authentication/methods',
      '/users/{id}/authentication/softwareOathMethods/{methodId}',
      '/users/{id}/memberOf',
    ]);
    const token = await appToken(portico, DAEMON);
    const unknown = await graph.call('GET', '/applications', { token });
    assert.equal(unknown.status, 400);
    assert.equal(errorCode(unknown), 'Request_BadRequest');
    const put = await graph.call('PUT', '/users', { token, body: {} });
    assert.equal(put.status, 400);
  });
});
