/**
 * `/groups`, their members, `/users/{id}/memberOf` and app role assignments: what each accepts
 * and refuses (roles, malformed bodies, unknown objects), what the directory audit log records,
 * and what deleting a user or resetting its redemption does to its memberships and assignments.
 * Every response is checked against the OpenAPI document.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { guestUserPrincipalName } from '../../src/directory/users.ts';
import type { TestPortico } from '../helpers/portico.ts';
import { DAEMON, EXTRA_APPS, GraphClient, OpenApiChecker, appToken, errorCode, errorMessage, startGraphPortico } from './graph-harness.ts';

const DEFAULT_ACCESS = '00000000-0000-0000-0000-000000000000';

type Json = Record<string, unknown>;

describe('management API: groups, members and app role assignments', () => {
  let portico: TestPortico;
  let graph: GraphClient;
  let checker: OpenApiChecker;
  /** Group.ReadWrite.All, AppRoleAssignment.ReadWrite.All, AuditLog.Read.All */
  let admin: string;
  /** User.ReadWrite.All (users, assignments) without any group role. */
  let userAdmin: string;
  let guestCount = 0;

  before(async () => {
    portico = await startGraphPortico();
    checker = await OpenApiChecker.fetch(portico);
    graph = new GraphClient(portico, checker);
    admin = await appToken(portico, EXTRA_APPS.groupAdmin);
    userAdmin = await appToken(portico, DAEMON);
  });
  after(() => portico.dispose());

  const newGuest = async (name = `guest${++guestCount}`) =>
    portico.portico.users.create({
      tenantId: 'contoso',
      userType: 'Guest',
      userPrincipalName: guestUserPrincipalName(`${name}@adatum.com`, 'contoso.example'),
      displayName: name,
      mail: `${name}@adatum.com`,
      creationType: 'Invitation',
      externalUserState: 'PendingAcceptance',
    });
  const createGroup = async (displayName: string, extra: Json = {}) => {
    const response = await graph.call('POST', '/groups', { token: admin, body: { displayName, mailEnabled: false, securityEnabled: true, ...extra } });
    assert.equal(response.status, 201, JSON.stringify(response.body));
    return response.body! as Json & { id: string };
  };
  const addMember = (groupId: string, userId: string, base = graph.base, segment = 'directoryObjects') =>
    graph.call('POST', `/groups/${groupId}/members/$ref`, { token: admin, body: { '@odata.id': `${base}/${segment}/${userId}` } });
  const assign = (userId: string, resourceId: string, token = admin, extra: Json = {}) =>
    graph.call('POST', `/users/${userId}/appRoleAssignments`, { token, body: { principalId: userId, resourceId, appRoleId: DEFAULT_ACCESS, ...extra } });
  const auditEntries = async () => (await graph.call('GET', '/auditLogs/directoryAudits?$top=50', { token: admin })).body!['value'] as {
    activityDisplayName: string;
    category: string;
    targetResources: { id: string; type: string; displayName: string | null; modifiedProperties: { displayName: string; newValue: string | null }[] }[];
  }[];

  it('creates, reads, lists with paging, updates and deletes groups', async () => {
    const first = await createGroup('Fabrikam partners', { description: 'Everyone from Fabrikam', mailNickname: 'fabrikam-partners' });
    assert.equal(first['@odata.context'], `${graph.base}/$metadata#groups/$entity`);
    assert.equal(first['displayName'], 'Fabrikam partners');
    assert.equal(first['description'], 'Everyone from Fabrikam');
    assert.equal(first['mailNickname'], 'fabrikam-partners');
    assert.equal(first['securityEnabled'], true);
    assert.equal(first['mailEnabled'], false);
    assert.deepEqual(first['groupTypes'], []);
    const second = await createGroup('Payroll auditors');
    assert.equal(second['mailNickname'], 'Payrollauditors', 'derived from displayName when absent');
    assert.equal(second['description'], null);
    const third = await createGroup('Temporary');

    const read = await graph.call('GET', `/groups/${first.id}`, { token: admin });
    assert.equal(read.status, 200);
    assert.equal(read.body!['displayName'], 'Fabrikam partners');

    const pages: string[][] = [];
    let next: string | undefined = `${graph.base}/groups?$top=2`;
    while (next) {
      const response = await graph.call('GET', next, { token: admin });
      assert.equal(response.status, 200);
      pages.push((response.body!['value'] as { id: string }[]).map((g) => g.id));
      next = response.body!['@odata.nextLink'] as string | undefined;
    }
    assert.deepEqual(pages.map((page) => page.length), [2, 1]);
    assert.deepEqual(pages.flat().sort(), [first.id, second.id, third.id].sort(), 'every group once');

    const patch = await graph.call('PATCH', `/groups/${second.id}`, { token: admin, body: { displayName: 'Payroll reviewers', description: 'Read-only payroll' } });
    assert.equal(patch.status, 204);
    const patched = await graph.call('GET', `/groups/${second.id}`, { token: admin });
    assert.equal(patched.body!['displayName'], 'Payroll reviewers');
    assert.equal(patched.body!['description'], 'Read-only payroll');
    assert.equal(patched.body!['mailNickname'], 'Payrollauditors', 'untouched properties stay');

    assert.equal((await graph.call('DELETE', `/groups/${third.id}`, { token: admin })).status, 204);
    const gone = await graph.call('GET', `/groups/${third.id}`, { token: admin });
    assert.equal(gone.status, 404);
    assert.equal(errorCode(gone), 'Request_ResourceNotFound');
    assert.equal((await graph.call('DELETE', `/groups/${third.id}`, { token: admin })).status, 404);
    assert.equal((await graph.call('PATCH', `/groups/${third.id}`, { token: admin, body: { displayName: 'x' } })).status, 404);

    const entries = await auditEntries();
    const added = entries.find((e) => e.activityDisplayName === 'Add group' && e.targetResources[0]?.id === first.id);
    assert.ok(added, 'Add group recorded');
    assert.equal(added.category, 'GroupManagement');
    assert.equal(added.targetResources[0]!.type, 'Group');
    const updated = entries.find((e) => e.activityDisplayName === 'Update group' && e.targetResources[0]?.id === second.id);
    assert.deepEqual(
      updated?.targetResources[0]!.modifiedProperties.map((p) => [p.displayName, p.newValue]),
      [
        ['displayName', '"Payroll reviewers"'],
        ['description', '"Read-only payroll"'],
      ],
    );
    assert.ok(entries.some((e) => e.activityDisplayName === 'Delete group' && e.targetResources[0]?.id === third.id && e.category === 'GroupManagement'));
  });

  it('adds members by directoryObjects or users reference, lists them and memberOf, and removes them', async () => {
    const group = await createGroup('Adatum contractors');
    const other = await createGroup('Adatum managers');
    const [amy, ben] = [await newGuest('amy'), await newGuest('ben')];

    assert.equal((await addMember(group.id, amy.id)).status, 204);
    assert.equal((await addMember(group.id, ben.id, graph.base, 'users')).status, 204);
    assert.equal((await addMember(other.id, amy.id, 'https://graph.microsoft.com/v1.0')).status, 204, "Graph's own base is accepted too");

    const twice = await addMember(group.id, amy.id);
    assert.equal(twice.status, 400);
    assert.equal(errorCode(twice), 'Request_BadRequest');
    assert.match(errorMessage(twice), /One or more added object references already exist/);

    const unknown = await addMember(group.id, '00000000-0000-4000-8000-000000000000');
    assert.equal(unknown.status, 404);
    assert.equal(errorCode(unknown), 'Request_ResourceNotFound');
    assert.equal((await addMember('00000000-0000-4000-8000-000000000000', amy.id)).status, 404, 'unknown group');

    const members = await graph.call('GET', `/groups/${group.id}/members`, { token: admin });
    assert.equal(members.status, 200);
    const value = members.body!['value'] as { id: string; '@odata.type': string }[];
    assert.deepEqual(value.map((m) => m.id).sort(), [amy.id, ben.id].sort());
    assert.ok(value.every((m) => m['@odata.type'] === '#microsoft.graph.user'));
    const paged = await graph.call('GET', `/groups/${group.id}/members?$top=1`, { token: admin });
    assert.equal((paged.body!['value'] as unknown[]).length, 1);
    assert.ok(typeof paged.body!['@odata.nextLink'] === 'string');

    const memberOf = await graph.call('GET', `/users/${amy.id}/memberOf`, { token: admin });
    assert.equal(memberOf.status, 200);
    assert.deepEqual((memberOf.body!['value'] as { id: string }[]).map((g) => g.id).sort(), [group.id, other.id].sort());
    assert.deepEqual(await portico.portico.groups.groupIdsOf('contoso', amy.id), [group.id, other.id].sort());
    assert.equal((await graph.call('GET', '/users/00000000-0000-4000-8000-000000000000/memberOf', { token: admin })).status, 404);

    assert.equal((await graph.call('DELETE', `/groups/${group.id}/members/${amy.id}/$ref`, { token: admin })).status, 204);
    const again = await graph.call('DELETE', `/groups/${group.id}/members/${amy.id}/$ref`, { token: admin });
    assert.equal(again.status, 404);
    assert.deepEqual(((await graph.call('GET', `/groups/${group.id}/members`, { token: admin })).body!['value'] as { id: string }[]).map((m) => m.id), [ben.id]);

    const entries = await auditEntries();
    const addEntry = entries.find((e) => e.activityDisplayName === 'Add member to group' && e.targetResources[0]?.id === amy.id);
    assert.deepEqual(addEntry?.targetResources.map((t) => t.type), ['User', 'Group']);
    assert.equal(addEntry?.category, 'GroupManagement');
    const removeEntry = entries.find((e) => e.activityDisplayName === 'Remove member from group' && e.targetResources[0]?.id === amy.id);
    assert.equal(removeEntry?.targetResources[1]?.id, group.id);

    // Deleting a group removes its memberships.
    assert.equal((await graph.call('DELETE', `/groups/${other.id}`, { token: admin })).status, 204);
    assert.deepEqual(await portico.portico.groups.groupIdsOf('contoso', amy.id), []);
  });

  it('assigns users and groups to apps, lists and removes assignments', async () => {
    const cleo = await newGuest('cleo');
    const created = await assign(cleo.id, 'contoso-web');
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const assignment = created.body! as Json & { id: string };
    assert.deepEqual(
      { ...assignment, id: undefined, createdDateTime: undefined, '@odata.context': undefined },
      {
        id: undefined,
        '@odata.context': undefined,
        createdDateTime: undefined,
        principalId: cleo.id,
        principalType: 'User',
        principalDisplayName: 'cleo',
        resourceId: 'contoso-web',
        resourceDisplayName: 'Contoso intranet',
        appRoleId: DEFAULT_ACCESS,
      },
    );
    assert.equal(await portico.portico.assignments.isAssigned('contoso', cleo.id, 'contoso-web'), true);
    assert.equal(await portico.portico.assignments.isAssigned('contoso', cleo.id, 'contoso-spa'), false);

    const duplicate = await assign(cleo.id, 'contoso-web');
    assert.equal(duplicate.status, 400);
    assert.match(errorMessage(duplicate), /already exists/);

    const unknownApp = await assign(cleo.id, 'no-such-app');
    assert.equal(unknownApp.status, 400);
    assert.equal(errorCode(unknownApp), 'Request_BadRequest');
    assert.match(errorMessage(unknownApp), /'no-such-app'/);
    const otherRole = await assign(cleo.id, 'contoso-spa', admin, { appRoleId: '11111111-1111-4111-8111-111111111111' });
    assert.equal(otherRole.status, 400);
    assert.match(errorMessage(otherRole), /default access role/);
    const wrongPrincipal = await assign(cleo.id, 'contoso-spa', admin, { principalId: '00000000-0000-4000-8000-000000000001' });
    assert.equal(wrongPrincipal.status, 400);
    assert.match(errorMessage(wrongPrincipal), /'principalId'/);
    assert.equal((await assign('00000000-0000-4000-8000-000000000000', 'contoso-web')).status, 404, 'unknown user');

    // User.ReadWrite.All grants user assignments too, as in Graph.
    assert.equal((await assign(cleo.id, 'contoso-spa', userAdmin)).status, 201);
    const list = await graph.call('GET', `/users/${cleo.id}/appRoleAssignments`, { token: admin });
    assert.equal(list.status, 200);
    assert.deepEqual((list.body!['value'] as { resourceId: string }[]).map((a) => a.resourceId).sort(), ['contoso-spa', 'contoso-web']);

    assert.equal((await graph.call('DELETE', `/users/${cleo.id}/appRoleAssignments/${assignment.id}`, { token: admin })).status, 204);
    assert.equal((await graph.call('DELETE', `/users/${cleo.id}/appRoleAssignments/${assignment.id}`, { token: admin })).status, 404);
    assert.equal(await portico.portico.assignments.isAssigned('contoso', cleo.id, 'contoso-web'), false);

    // Through a group: a member of an assigned group is assigned.
    const group = await createGroup('Intranet users');
    assert.equal((await addMember(group.id, cleo.id)).status, 204);
    const groupAssignment = await graph.call('POST', `/groups/${group.id}/appRoleAssignments`, {
      token: admin,
      body: { principalId: group.id, resourceId: 'contoso-web', appRoleId: DEFAULT_ACCESS },
    });
    assert.equal(groupAssignment.status, 201);
    assert.equal(groupAssignment.body!['principalType'], 'Group');
    assert.equal(await portico.portico.assignments.isAssigned('contoso', cleo.id, 'contoso-web'), true);
    const groupList = await graph.call('GET', `/groups/${group.id}/appRoleAssignments`, { token: admin });
    assert.deepEqual((groupList.body!['value'] as { id: string }[]).map((a) => a.id), [groupAssignment.body!['id']]);
    // A deleted group stops granting access.
    assert.equal((await graph.call('DELETE', `/groups/${group.id}`, { token: admin })).status, 204);
    assert.equal(await portico.portico.assignments.isAssigned('contoso', cleo.id, 'contoso-web'), false);

    const entries = await auditEntries();
    const add = entries.find((e) => e.activityDisplayName === 'Add app role assignment to user' && e.targetResources[0]?.id === cleo.id && e.targetResources[1]?.id === 'contoso-web');
    assert.equal(add?.category, 'ApplicationManagement');
    assert.deepEqual(add?.targetResources.map((t) => [t.type, t.id]), [
      ['User', cleo.id],
      ['ServicePrincipal', 'contoso-web'],
    ]);
    assert.ok(entries.some((e) => e.activityDisplayName === 'Remove app role assignment from user' && e.targetResources[0]?.id === cleo.id));
    assert.ok(entries.some((e) => e.activityDisplayName === 'Add app role assignment to group' && e.targetResources[0]?.id === group.id));
  });

  it('drops the memberships and assignments of a deleted user', async () => {
    const dev = await newGuest('dev');
    const group = await createGroup('Leavers');
    assert.equal((await addMember(group.id, dev.id)).status, 204);
    assert.equal((await assign(dev.id, 'contoso-web')).status, 201);
    assert.equal((await graph.call('DELETE', `/users/${dev.id}`, { token: userAdmin })).status, 204);
    assert.deepEqual(await portico.portico.groups.groupIdsOf('contoso', dev.id), []);
    assert.deepEqual(await portico.portico.assignments.listFor('contoso', dev.id), []);
    assert.deepEqual((await graph.call('GET', `/groups/${group.id}/members`, { token: admin })).body!['value'], []);
  });

  it('keeps memberships and assignments across a reset of redemption (same object id)', async () => {
    const invited = await graph.call('POST', '/invitations', { token: userAdmin, body: { invitedUserEmailAddress: 'eve@adatum.com', inviteRedirectUrl: 'https://apps.contoso.example/' } });
    assert.equal(invited.status, 201);
    const userId = String((invited.body!['invitedUser'] as { id: string }).id);
    const group = await createGroup('Resettable');
    assert.equal((await addMember(group.id, userId)).status, 204);
    assert.equal((await assign(userId, 'contoso-web')).status, 201);

    const reset = await graph.call('POST', '/invitations', {
      token: userAdmin,
      body: { invitedUserEmailAddress: 'eve@fabrikam.com', inviteRedirectUrl: 'https://apps.contoso.example/', resetRedemption: true, invitedUser: { id: userId } },
    });
    assert.equal(reset.status, 201, JSON.stringify(reset.body));
    assert.equal((reset.body!['invitedUser'] as { id: string }).id, userId);
    const memberOf = await graph.call('GET', `/users/${userId}/memberOf`, { token: admin });
    assert.deepEqual((memberOf.body!['value'] as { id: string }[]).map((g) => g.id), [group.id]);
    const assignments = await graph.call('GET', `/users/${userId}/appRoleAssignments`, { token: admin });
    assert.deepEqual((assignments.body!['value'] as { resourceId: string }[]).map((a) => a.resourceId), ['contoso-web']);
    assert.equal(await portico.portico.assignments.isAssigned('contoso', userId, 'contoso-web'), true);
  });

  it('refuses callers without the role: 403 Authorization_RequestDenied', async () => {
    const group = await createGroup('Role checks');
    const fay = await newGuest('fay');
    const reader = await appToken(portico, EXTRA_APPS.reader);
    const groupReader = await appToken(portico, EXTRA_APPS.groupReader);
    const inviter = await appToken(portico, EXTRA_APPS.inviter);
    const denied = async (method: string, path: string, token: string, body?: unknown) => {
      const response = await graph.call(method, path, { token, ...(body === undefined ? {} : { body }) });
      assert.equal(response.status, 403, `${method} ${path}`);
      assert.equal(errorCode(response), 'Authorization_RequestDenied');
    };
    await denied('GET', '/groups', reader);
    await denied('GET', `/users/${fay.id}/memberOf`, reader);
    await denied('POST', '/groups', groupReader, { displayName: 'Nope' });
    await denied('PATCH', `/groups/${group.id}`, groupReader, { displayName: 'Nope' });
    await denied('DELETE', `/groups/${group.id}`, groupReader);
    await denied('POST', `/groups/${group.id}/members/$ref`, groupReader, { '@odata.id': `${graph.base}/directoryObjects/${fay.id}` });
    await denied('DELETE', `/groups/${group.id}/members/${fay.id}/$ref`, groupReader);
    await denied('POST', '/groups', userAdmin, { displayName: 'Nope' });
    await denied('POST', `/users/${fay.id}/appRoleAssignments`, groupReader, { principalId: fay.id, resourceId: 'contoso-web', appRoleId: DEFAULT_ACCESS });
    await denied('POST', `/users/${fay.id}/appRoleAssignments`, inviter, { principalId: fay.id, resourceId: 'contoso-web', appRoleId: DEFAULT_ACCESS });
    await denied('GET', `/users/${fay.id}/appRoleAssignments`, inviter);
    // Reading is allowed with the read roles.
    assert.equal((await graph.call('GET', '/groups', { token: groupReader })).status, 200);
    assert.equal((await graph.call('GET', `/groups/${group.id}/members`, { token: groupReader })).status, 200);
    assert.equal((await graph.call('GET', `/users/${fay.id}/appRoleAssignments`, { token: reader })).status, 200);
  });

  it('refuses malformed bodies with a 400 Graph error that names the problem', async () => {
    const group = await createGroup('Malformed');
    const fay = await newGuest('gus');
    const bad = async (method: string, path: string, body: unknown, message: RegExp) => {
      const response = await graph.call(method, path, { token: admin, body });
      assert.equal(response.status, 400, `${method} ${path} ${JSON.stringify(body).slice(0, 80)}`);
      assert.equal(errorCode(response), 'Request_BadRequest');
      assert.match(errorMessage(response), message);
    };
    await bad('POST', '/groups', {}, /'displayName' is required/);
    await bad('POST', '/groups', { displayName: '   ' }, /'displayName': must not be empty/);
    await bad('POST', '/groups', { displayName: 'x', mailNickname: 'has space' }, /'mailNickname'/);
    await bad('POST', '/groups', { displayName: 'x', mailEnabled: true }, /'mailEnabled'/);
    await bad('POST', '/groups', { displayName: 'x', groupTypes: ['Unified'] }, /'groupTypes'.*security groups/);
    await bad('POST', '/groups', { displayName: 'x', visibility: 'Public' }, /'visibility' does not exist/);
    await bad('POST', '/groups', [{ displayName: 'x' }], /must be a JSON object/);
    await bad('PATCH', `/groups/${group.id}`, {}, /must set displayName/);
    await bad('PATCH', `/groups/${group.id}`, { securityEnabled: 'yes' }, /'securityEnabled'/);
    await bad('POST', `/groups/${group.id}/members/$ref`, {}, /@odata\.id/);
    await bad('POST', `/groups/${group.id}/members/$ref`, { '@odata.id': fay.id }, /'@odata.id'/);
    await bad('POST', `/groups/${group.id}/members/$ref`, { '@odata.id': `https://evil.example/v1.0/directoryObjects/${fay.id}` }, /'@odata.id'/);
    await bad('POST', `/groups/${group.id}/members/$ref`, { '@odata.id': `${graph.base}/directoryObjects/${fay.id}`, extra: 1 }, /@odata\.id/);
    await bad('POST', `/users/${fay.id}/appRoleAssignments`, { principalId: fay.id }, /'resourceId' is required/);
    await bad('POST', `/users/${fay.id}/appRoleAssignments`, { principalId: fay.id, resourceId: 42 }, /'resourceId'/);
    const notJson = await graph.call('POST', '/groups', { token: admin, rawBody: '{"displayName":', contentType: 'application/json' });
    assert.equal(notJson.status, 400);
    assert.match(errorMessage(notJson), /not valid JSON/);
    const form = await graph.call('POST', '/groups', { token: admin, rawBody: 'displayName=x', contentType: 'application/x-www-form-urlencoded' });
    assert.equal(form.status, 415);
    const query = await graph.call('GET', '/groups?$filter=x', { token: admin });
    assert.equal(errorCode(query), 'Request_UnsupportedQuery');
  });

  it('answered only in shapes the OpenAPI document declares', () => {
    for (const expected of [
      'POST /groups → 201',
      'GET /groups → 200',
      'GET /groups/{id} → 200',
      'PATCH /groups/{id} → 204',
      'DELETE /groups/{id} → 204',
      'GET /groups/{id}/members → 200',
      'POST /groups/{id}/members/$ref → 204',
      'POST /groups/{id}/members/$ref → 400',
      'DELETE /groups/{id}/members/{memberId}/$ref → 204',
      'GET /users/{id}/memberOf → 200',
      'POST /users/{id}/appRoleAssignments → 201',
      'GET /users/{id}/appRoleAssignments → 200',
      'DELETE /users/{id}/appRoleAssignments/{assignmentId} → 204',
      'POST /groups/{id}/appRoleAssignments → 201',
      'GET /auditLogs/directoryAudits → 200',
    ]) {
      assert.ok(checker.seen.has(expected), expected);
    }
  });
});
