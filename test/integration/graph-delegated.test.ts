/**
 * The management API for signed-in users: an app with delegated `graphScopes` gets a user's token
 * in the authorization code flow (resource={PUBLIC_URL}/graph), and the user acts as themselves,
 * within the token's scopes and, for guests, the tenant's `guestUserAccess`, read live. Invitations
 * by users follow `allowInvitesFrom`. App-only tokens are unchanged.
 */
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { decodeJwt } from 'jose';
import * as client from 'openid-client';
import { parse, stringify } from 'yaml';
import type { Group } from '../../src/directory/groups.ts';
import type { User } from '../../src/directory/users.ts';
import { EXAMPLE_CONFIG, startTestPortico, type TestPortico } from '../helpers/portico.ts';
import { codeFlow, relyingParty } from '../helpers/relying-party.ts';
import { DAEMON, GraphClient, OpenApiChecker, appToken, errorCode, errorMessage, graphResource } from './graph-harness.ts';

const APP = { id: 'contoso-directory', secret: 'directory-secret', redirectUri: 'http://localhost:8080/directory/callback' };
const READ_SCOPES = 'User.Read User.ReadBasic.All GroupMember.Read.All';

type GuestUserAccess = 'sameAsMember' | 'limited' | 'restricted';
type AllowInvitesFrom = 'adminsGuestInvitersAndAllMembers' | 'everyone';

/** The example contoso tenant with an app holding every delegated scope, and the given settings. */
async function contosoYaml(settings: { guestUserAccess: GuestUserAccess; allowInvitesFrom: AllowInvitesFrom }): Promise<string> {
  const tenant = parse(await readFile(`${EXAMPLE_CONFIG}tenants/contoso.yaml`, 'utf8')) as Record<string, unknown> & { apps: unknown[] };
  tenant.apps.push({
    id: APP.id,
    name: 'Contoso directory',
    type: 'web',
    secret: `\${env:CONTOSO_DIRECTORY_SECRET:-${APP.secret}}`,
    redirectUris: [APP.redirectUri],
    graphScopes: ['User.Read', 'User.ReadBasic.All', 'User.Read.All', 'User.Invite.All', 'Group.Read.All', 'GroupMember.Read.All'],
  });
  const collaboration = (tenant['externalCollaboration'] ?? {}) as Record<string, unknown>;
  return stringify({ ...tenant, externalCollaboration: { ...collaboration, ...settings } });
}

describe('management API with delegated tokens', () => {
  let portico: TestPortico;
  let api: GraphClient;
  let checker: OpenApiChecker;
  let member: User;
  let guest: User;
  let other: User;
  let guestGroup: Group;
  let otherGroup: Group;

  /** Edits the tenant file and reloads it, as SIGHUP or the file watch would. */
  const setPolicy = async (settings: { guestUserAccess: GuestUserAccess; allowInvitesFrom: AllowInvitesFrom }) => {
    await writeFile(join(portico.configDir, 'tenants', 'contoso.yaml'), await contosoYaml(settings));
    await portico.portico.liveConfig.reload('test');
    const inForce = portico.portico.policies.policyFor('contoso')?.externalCollaboration;
    assert.equal(inForce?.guestUserAccess, settings.guestUserAccess);
    assert.equal(inForce?.allowInvitesFrom, settings.allowInvitesFrom);
  };

  /** A user's access token for the Graph resource, through the app's sign-in. */
  const userToken = async (user: User, scope: string): Promise<string> => {
    const config = await relyingParty(portico.issuer, APP.id, APP.secret);
    const { tokens } = await codeFlow(config, { userId: user.id, redirectUri: APP.redirectUri, scope: `openid profile ${scope}`, extra: { resource: graphResource(portico) } });
    return tokens.access_token;
  };

  before(async () => {
    portico = await startTestPortico({ backend: 'sqlite', tenantFiles: { contoso: await contosoYaml({ guestUserAccess: 'limited', allowInvitesFrom: 'everyone' }) } });
    checker = await OpenApiChecker.fetch(portico);
    api = new GraphClient(portico, checker);
    const { users, groups } = portico.portico;
    member = await users.create({ tenantId: 'contoso', userType: 'Member', userPrincipalName: 'mia@contoso.example', displayName: 'Mia', mail: 'mia@contoso.example' });
    other = await users.create({ tenantId: 'contoso', userType: 'Member', userPrincipalName: 'olga@contoso.example', displayName: 'Olga', mail: 'olga@contoso.example' });
    guest = await users.create({
      tenantId: 'contoso',
      userType: 'Guest',
      userPrincipalName: 'gus_fabrikam.com#EXT#@contoso.example',
      displayName: 'Gus',
      mail: 'gus@fabrikam.com',
      externalUserState: 'Accepted',
    });
    guestGroup = await groups.create({ tenantId: 'contoso', displayName: 'Partner project' });
    otherGroup = await groups.create({ tenantId: 'contoso', displayName: 'Contoso finance' });
    await groups.addMember('contoso', guestGroup.id, guest.id);
    await groups.addMember('contoso', guestGroup.id, member.id);
    await groups.addMember('contoso', otherGroup.id, other.id);
  });
  after(async () => {
    await portico?.dispose();
  });

  it('issues a JWT with scp, oid, tid and user_type and no roles; .default stands for all the app may ask', async () => {
    const claims = decodeJwt(await userToken(guest, READ_SCOPES));
    assert.equal(claims.aud, graphResource(portico));
    assert.deepEqual(String(claims['scp']).split(' ').sort(), READ_SCOPES.split(' ').sort());
    assert.equal(claims['oid'], guest.id);
    assert.equal(claims.sub, guest.id);
    assert.equal(claims['tid'], 'contoso');
    assert.equal(claims['user_type'], 'Guest');
    assert.equal(claims['roles'], undefined);

    // A refreshed token is the same kind: the refresh token keeps the resource and scopes.
    const config = await relyingParty(portico.issuer, APP.id, APP.secret);
    const signedIn = await codeFlow(config, { userId: guest.id, redirectUri: APP.redirectUri, scope: 'openid offline_access User.Read', extra: { resource: graphResource(portico) } });
    assert.ok(signedIn.tokens.refresh_token, 'a refresh token is issued');
    const refreshed = await client.refreshTokenGrant(config, signedIn.tokens.refresh_token);
    const refreshedClaims = decodeJwt(refreshed.access_token);
    assert.equal(refreshedClaims.aud, graphResource(portico));
    assert.equal(refreshedClaims['scp'], 'User.Read');
    assert.equal((await api.call('GET', '/me', { token: refreshed.access_token })).status, 200);

    const all = decodeJwt(await userToken(member, '.default'));
    assert.deepEqual(String(all['scp']).split(' ').sort(), ['Group.Read.All', 'GroupMember.Read.All', 'User.Invite.All', 'User.Read', 'User.Read.All', 'User.ReadBasic.All']);
    assert.equal(all['user_type'], 'Member');
  });

  it('refuses the Graph resource in sign-in flows to an app without graphScopes', async () => {
    const config = await relyingParty(portico.issuer, 'contoso-spa');
    await assert.rejects(
      codeFlow(config, { userId: member.id, redirectUri: 'http://localhost:5173/callback', scope: 'openid User.Read', extra: { resource: graphResource(portico) } }),
      (error: { error?: string }) => error.error === 'invalid_target',
    );
  });

  it('applies guestUserAccess, read live, to a signed-in guest; members read everything their scopes allow', async () => {
    const guestToken = await userToken(guest, READ_SCOPES);
    const memberToken = await userToken(member, READ_SCOPES);
    const requests = {
      ownObject: `/users/${guest.id}`,
      ownObjectByUpn: `/users/${encodeURIComponent(guest.userPrincipalName)}`,
      me: '/me',
      ownMemberships: `/users/${guest.id}/memberOf`,
      anotherUser: `/users/${other.id}`,
      listUsers: '/users',
      groupTheyAreIn: `/groups/${guestGroup.id}`,
      membersOfTheirGroup: `/groups/${guestGroup.id}/members`,
      groupTheyAreNotIn: `/groups/${otherGroup.id}`,
      membersOfOtherGroup: `/groups/${otherGroup.id}/members`,
      listGroups: '/groups',
    } as const;
    const expected: Record<GuestUserAccess, Record<keyof typeof requests, number>> = {
      sameAsMember: { ownObject: 200, ownObjectByUpn: 200, me: 200, ownMemberships: 200, anotherUser: 200, listUsers: 200, groupTheyAreIn: 200, membersOfTheirGroup: 200, groupTheyAreNotIn: 200, membersOfOtherGroup: 200, listGroups: 200 },
      limited: { ownObject: 200, ownObjectByUpn: 200, me: 200, ownMemberships: 200, anotherUser: 403, listUsers: 403, groupTheyAreIn: 200, membersOfTheirGroup: 200, groupTheyAreNotIn: 403, membersOfOtherGroup: 403, listGroups: 403 },
      restricted: { ownObject: 200, ownObjectByUpn: 200, me: 200, ownMemberships: 403, anotherUser: 403, listUsers: 403, groupTheyAreIn: 403, membersOfTheirGroup: 403, groupTheyAreNotIn: 403, membersOfOtherGroup: 403, listGroups: 403 },
    };
    for (const level of ['restricted', 'limited', 'sameAsMember'] as const) {
      // The same tokens throughout: the setting in force decides, not the one at sign-in.
      await setPolicy({ guestUserAccess: level, allowInvitesFrom: 'everyone' });
      for (const [name, path] of Object.entries(requests) as [keyof typeof requests, string][]) {
        const response = await api.call('GET', path, { token: guestToken });
        assert.equal(response.status, expected[level][name], `guest, ${level}: ${name} → ${response.status} ${JSON.stringify(response.body)}`);
        if (response.status === 403) {
          assert.equal(errorCode(response), 'Authorization_RequestDenied');
          const why =
            level === 'restricted'
              ? 'Guest users in contoso may read only their own user object (externalCollaboration.guestUserAccess: restricted).'
              : 'Guest users in contoso may read only their own user object and the groups they are in (externalCollaboration.guestUserAccess: limited).';
          assert.equal(errorMessage(response), why);
        }
        const asMember = await api.call('GET', path.replace(guest.id, member.id).replace(encodeURIComponent(guest.userPrincipalName), member.userPrincipalName), { token: memberToken });
        assert.equal(asMember.status, 200, `member, ${level}: ${name}`);
      }
    }

    // What a guest reads is what it may read: its own object, and its group's members.
    await setPolicy({ guestUserAccess: 'limited', allowInvitesFrom: 'everyone' });
    const me = await api.call('GET', '/me', { token: guestToken });
    assert.equal(me.body?.['id'], guest.id);
    assert.equal(me.body?.['userType'], 'Guest');
    const memberOf = await api.call('GET', `/users/${guest.id}/memberOf`, { token: guestToken });
    assert.deepEqual((memberOf.body?.['value'] as { id: string }[]).map((group) => group.id), [guestGroup.id]);
    const members = await api.call('GET', `/groups/${guestGroup.id}/members`, { token: guestToken });
    assert.deepEqual((members.body?.['value'] as { id: string }[]).map((user) => user.id).sort(), [guest.id, member.id].sort());
    // Removed from the group, the guest no longer sees it, with the same token.
    await portico.portico.groups.removeMember('contoso', guestGroup.id, guest.id);
    try {
      assert.equal((await api.call('GET', `/groups/${guestGroup.id}`, { token: guestToken })).status, 403);
    } finally {
      await portico.portico.groups.addMember('contoso', guestGroup.id, guest.id);
    }
  });

  it('refuses what the token has no scope for, and app-only operations, to any signed-in user', async () => {
    const selfOnly = await userToken(member, 'User.Read');
    assert.equal((await api.call('GET', '/me', { token: selfOnly })).status, 200);
    assert.equal((await api.call('GET', `/users/${member.id}`, { token: selfOnly })).status, 200);
    for (const path of ['/users', `/users/${other.id}`, `/groups/${guestGroup.id}`]) {
      const refused = await api.call('GET', path, { token: selfOnly });
      assert.equal(refused.status, 403, path);
      assert.equal(errorCode(refused), 'Authorization_RequestDenied');
      assert.match(errorMessage(refused), /delegated scopes \(scp\) include none of: /);
    }
    const invite = await api.call('POST', '/invitations', { token: selfOnly, body: { invitedUserEmailAddress: 'pat@partner.example', inviteRedirectUrl: 'https://localhost/welcome', sendInvitationMessage: false } });
    assert.equal(invite.status, 403);
    assert.match(errorMessage(invite), /none of: User\.Invite\.All/);
    assert.equal(await portico.portico.users.findByUserPrincipalName('contoso', 'pat_partner.example#EXT#@contoso.example'), undefined);

    // Writes, logs and policy stay app-only, whatever the user's scopes.
    const everything = await userToken(member, '.default');
    const appOnly = [
      ['PATCH', `/users/${member.id}`, { displayName: 'Mia the admin' }],
      ['DELETE', `/users/${other.id}`, undefined],
      ['GET', '/auditLogs/directoryAudits', undefined],
      ['GET', `/users/${member.id}/appRoleAssignments`, undefined],
    ] as const;
    for (const [method, path, body] of appOnly) {
      const refused = await api.call(method, path, { token: everything, ...(body ? { body } : {}) });
      assert.equal(refused.status, 403, `${method} ${path}`);
      assert.match(errorMessage(refused), /not available to signed-in users/);
    }
    assert.equal((await portico.portico.users.get('contoso', member.id))?.displayName, 'Mia');
    assert.ok(await portico.portico.users.get('contoso', other.id));
  });

  it('lets users invite as allowInvitesFrom says, and records the user as the actor', async () => {
    const memberToken = await userToken(member, 'User.Invite.All');
    const guestToken = await userToken(guest, 'User.Invite.All');
    const invitation = (email: string) => ({ invitedUserEmailAddress: email, inviteRedirectUrl: 'https://localhost/welcome', sendInvitationMessage: false });

    await setPolicy({ guestUserAccess: 'limited', allowInvitesFrom: 'adminsGuestInvitersAndAllMembers' });
    const byMember = await api.call('POST', '/invitations', { token: memberToken, body: invitation('rita@partner.example') });
    assert.equal(byMember.status, 201, JSON.stringify(byMember.body));
    assert.equal(byMember.body?.['status'], 'PendingAcceptance');
    const stored = await portico.portico.invitations.get('contoso', String(byMember.body?.['id']));
    assert.deepEqual(stored?.invitedBy, { kind: 'user', id: member.id, displayName: 'Mia', userPrincipalName: 'mia@contoso.example' });

    const byGuest = await api.call('POST', '/invitations', { token: guestToken, body: invitation('sam@partner.example') });
    assert.equal(byGuest.status, 403);
    assert.equal(errorCode(byGuest), 'Authorization_RequestDenied');
    assert.match(errorMessage(byGuest), /externalCollaboration\.allowInvitesFrom \(adminsGuestInvitersAndAllMembers\)/);
    assert.equal(await portico.portico.users.findByUserPrincipalName('contoso', 'sam_partner.example#EXT#@contoso.example'), undefined);

    // Resetting a redemption is a user write: not for signed-in users.
    const reset = await api.call('POST', '/invitations', {
      token: memberToken,
      body: { ...invitation('rita@partner.example'), resetRedemption: true, invitedUser: { id: String((byMember.body?.['invitedUser'] as { id: string }).id) } },
    });
    assert.equal(reset.status, 403);

    await setPolicy({ guestUserAccess: 'limited', allowInvitesFrom: 'everyone' });
    const byGuestNow = await api.call('POST', '/invitations', { token: guestToken, body: invitation('sam@partner.example') });
    assert.equal(byGuestNow.status, 201, JSON.stringify(byGuestNow.body));

    const { entries } = await portico.portico.audit.list('contoso', { top: 50 });
    const invites = entries.filter((entry) => entry.activityDisplayName === 'Invite external user');
    const actors = invites.map((entry) => (entry.initiatedBy as { user?: { id: string } }).user?.id);
    assert.ok(actors.includes(member.id), 'the member is the actor of its invitation');
    assert.ok(actors.includes(guest.id), 'the guest is the actor of its invitation and of its refused one');
    const refused = invites.find((entry) => entry.result === 'failure' && (entry.initiatedBy as { user?: { id: string } }).user?.id === guest.id);
    assert.match(String(refused?.resultReason), /allowInvitesFrom \(adminsGuestInvitersAndAllMembers\)/);
  });

  it('stops a token of a disabled user at once', async () => {
    const token = await userToken(other, 'User.Read');
    assert.equal((await api.call('GET', '/me', { token })).status, 200);
    await portico.portico.users.update('contoso', other.id, { accountEnabled: false });
    try {
      const refused = await api.call('GET', '/me', { token });
      assert.equal(refused.status, 401);
      assert.equal(errorCode(refused), 'InvalidAuthenticationToken');
    } finally {
      await portico.portico.users.update('contoso', other.id, { accountEnabled: true });
    }
  });

  it('keeps app-only tokens as they were; /me needs a signed-in user', async () => {
    const token = await appToken(portico, DAEMON);
    const claims = decodeJwt(token);
    assert.equal(claims['scp'], undefined);
    assert.ok(Array.isArray(claims['roles']));
    const users = await api.call('GET', '/users', { token });
    assert.equal(users.status, 200);
    assert.ok((users.body?.['value'] as unknown[]).length >= 3);
    const me = await api.call('GET', '/me', { token });
    assert.equal(me.status, 400);
    assert.equal(errorMessage(me), '/me request is only valid with delegated authentication flow.');
    assert.ok(checker.checked > 0);
  });
});
