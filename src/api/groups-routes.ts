/**
 * `/groups` (create, list with `$top` and paging, get, update, delete), their members
 * (`/members`, `/members/$ref`) and `/users/{id}/memberOf`, as Graph has them. Members are users.
 */
import { Router, type Request } from 'express';
import { changed, groupTarget, userTarget } from '../directory/audit.ts';
import { GroupError, type Group } from '../directory/groups.ts';
import type { User } from '../directory/users.ts';
import { ROLES, callerOf, requireRole } from './authorization.ts';
import { correlationIdOf, nextLinkFor, type ApiContext } from './context.ts';
import { badRequest, notFound } from './errors.ts';
import { createGroupRequest, memberReferenceRequest, toGraphGroup, toGraphMember, toGraphMemberOf, updateGroupRequest } from './group-shapes.ts';
import { parseTop } from './paging.ts';
import { jsonBody, onlyQuery, parseBody, singleQuery } from './request.ts';

/** Membership errors as Graph words them: a second add is Graph's 400 "already exist". */
export function groupErrorToGraph(error: unknown): unknown {
  if (!(error instanceof GroupError)) return error;
  return error.code === 'already_member' ? badRequest(error.message) : notFound(error.message);
}

const rethrowAsGraph = async <T>(work: Promise<T>): Promise<T> => {
  try {
    return await work;
  } catch (error) {
    throw groupErrorToGraph(error);
  }
};

const positionOf = (item: { createdDateTime: string; id: string }): string => `${item.createdDateTime}|${item.id}`;

export function groupRoutes(context: ApiContext): Router {
  const router = Router();
  const { groups, users } = context;

  const findGroup = async (tenantId: string, id: string): Promise<Group> => {
    const group = await groups.get(tenantId, id);
    if (!group) throw notFound(`Resource '${id}' does not exist or one of its queried reference-property objects are not present.`);
    return group;
  };
  const findUser = async (tenantId: string, key: string): Promise<User> => {
    const user = key.includes('@') ? await users.findByUserPrincipalName(tenantId, key) : await users.get(tenantId, key);
    if (!user) throw notFound(`Resource '${key}' does not exist or one of its queried reference-property objects are not present.`);
    return user;
  };

  /** A page of `items` (already in position order) with a sealed next link, as `/users` pages. */
  const page = <T extends { createdDateTime: string; id: string }>(req: Request, tenantId: string, collection: string, path: string, items: readonly T[]) => {
    const topText = singleQuery(req, '$top');
    const top = parseTop(topText);
    const binding = { tenantId, collection, query: JSON.stringify([topText ?? null]) };
    const skipToken = singleQuery(req, '$skiptoken');
    const after = skipToken === undefined ? undefined : context.skipTokens.open(binding, skipToken);
    const rest = after === undefined ? items : items.filter((item) => positionOf(item) > after);
    const taken = rest.slice(0, top);
    const last = taken.at(-1);
    return {
      items: taken,
      ...(rest.length > taken.length && last ? { '@odata.nextLink': nextLinkFor(context.baseUrl, path, { $top: topText }, context.skipTokens.seal(binding, positionOf(last))) } : {}),
    };
  };

  router.post('/groups', requireRole(ROLES.writeGroups), jsonBody, async (req, res) => {
    onlyQuery(req, []);
    const caller = callerOf(res);
    const body = parseBody(createGroupRequest, req);
    const group = await groups.create({
      tenantId: caller.tenant.id,
      displayName: body.displayName,
      securityEnabled: body.securityEnabled,
      ...(body.description === undefined ? {} : { description: body.description }),
      ...(body.mailNickname === undefined ? {} : { mailNickname: body.mailNickname }),
    });
    await context.audit.record(caller.tenant.id, {
      activity: 'addGroup',
      actor: caller.actor,
      correlationId: correlationIdOf(req),
      targets: [groupTarget(group, [changed('displayName', undefined, group.displayName)])],
    });
    res.status(201).json({ '@odata.context': `${context.baseUrl}/$metadata#groups/$entity`, ...toGraphGroup(group) });
  });

  router.get('/groups', requireRole(ROLES.readGroups), async (req, res) => {
    // $select is accepted and ignored, as on /users.
    onlyQuery(req, ['$top', '$skiptoken', '$select']);
    const tenantId = callerOf(res).tenant.id;
    const { items, ...next } = page(req, tenantId, 'groups', '/groups', await groups.list(tenantId));
    res.json({ '@odata.context': `${context.baseUrl}/$metadata#groups`, ...next, value: items.map(toGraphGroup) });
  });

  router.get('/groups/:id', requireRole(ROLES.readGroups), async (req, res) => {
    onlyQuery(req, ['$select']);
    const group = await findGroup(callerOf(res).tenant.id, idOf(req));
    res.json({ '@odata.context': `${context.baseUrl}/$metadata#groups/$entity`, ...toGraphGroup(group) });
  });

  router.patch('/groups/:id', requireRole(ROLES.writeGroups), jsonBody, async (req, res) => {
    onlyQuery(req, []);
    const caller = callerOf(res);
    const changes = parseBody(updateGroupRequest, req);
    const before = await findGroup(caller.tenant.id, idOf(req));
    const after = await groups.update(caller.tenant.id, before.id, changes);
    if (!after) throw notFound(`Resource '${idOf(req)}' does not exist.`);
    const properties = (['displayName', 'description', 'mailNickname', 'securityEnabled'] as const).flatMap((name) =>
      changes[name] === undefined ? [] : [changed(name, before[name], after[name])],
    );
    await context.audit.record(caller.tenant.id, { activity: 'updateGroup', actor: caller.actor, correlationId: correlationIdOf(req), targets: [groupTarget(after, properties)] });
    res.status(204).end();
  });

  router.delete('/groups/:id', requireRole(ROLES.writeGroups), async (req, res) => {
    onlyQuery(req, []);
    const caller = callerOf(res);
    const group = await findGroup(caller.tenant.id, idOf(req));
    await groups.delete(caller.tenant.id, group.id);
    // A deleted group must not keep granting its former members access to an app.
    const assignments = await context.assignments.removeAllFor(caller.tenant.id, group.id);
    await context.audit.record(caller.tenant.id, {
      activity: 'deleteGroup',
      actor: caller.actor,
      correlationId: correlationIdOf(req),
      targets: [groupTarget(group)],
      details: { removedAppRoleAssignments: String(assignments) },
    });
    res.status(204).end();
  });

  router.get('/groups/:id/members', requireRole(ROLES.readGroups), async (req, res) => {
    onlyQuery(req, ['$top', '$skiptoken', '$select']);
    const tenantId = callerOf(res).tenant.id;
    const group = await findGroup(tenantId, idOf(req));
    const members = await rethrowAsGraph(groups.listMembers(tenantId, group.id));
    const { items, ...next } = page(req, tenantId, `groups/${group.id}/members`, `/groups/${group.id}/members`, members);
    res.json({ '@odata.context': `${context.baseUrl}/$metadata#directoryObjects`, ...next, value: items.map(toGraphMember) });
  });

  router.post('/groups/:id/members/$ref', requireRole(ROLES.writeGroups), jsonBody, async (req, res) => {
    onlyQuery(req, []);
    const caller = callerOf(res);
    const group = await findGroup(caller.tenant.id, idOf(req));
    const userId = referencedUserId(context.baseUrl, req.body);
    const user = await findUser(caller.tenant.id, userId);
    await rethrowAsGraph(groups.addMember(caller.tenant.id, group.id, user.id));
    await context.audit.record(caller.tenant.id, {
      activity: 'addMember',
      actor: caller.actor,
      correlationId: correlationIdOf(req),
      targets: [userTarget(user), groupTarget(group)],
    });
    res.status(204).end();
  });

  router.delete('/groups/:id/members/:memberId/$ref', requireRole(ROLES.writeGroups), async (req, res) => {
    onlyQuery(req, []);
    const caller = callerOf(res);
    const group = await findGroup(caller.tenant.id, idOf(req));
    const memberId = String(req.params['memberId']);
    await rethrowAsGraph(groups.removeMember(caller.tenant.id, group.id, memberId));
    const user = await users.get(caller.tenant.id, memberId);
    await context.audit.record(caller.tenant.id, {
      activity: 'removeMember',
      actor: caller.actor,
      correlationId: correlationIdOf(req),
      targets: [user ? userTarget(user) : { id: memberId, displayName: null, type: 'User', userPrincipalName: null, modifiedProperties: [] }, groupTarget(group)],
    });
    res.status(204).end();
  });

  router.get('/users/:id/memberOf', requireRole(ROLES.readGroups), async (req, res) => {
    onlyQuery(req, ['$select']);
    const tenantId = callerOf(res).tenant.id;
    const user = await findUser(tenantId, idOf(req));
    const memberOf = await groups.groupsOf(tenantId, user.id);
    res.json({ '@odata.context': `${context.baseUrl}/$metadata#directoryObjects`, value: memberOf.map(toGraphMemberOf) });
  });

  return router;
}

/**
 * The user id in a `$ref` body: `{baseUrl}/directoryObjects/{id}` or `{baseUrl}/users/{id}`, or
 * the same under Graph's own base, so scripts written for Entra work once their host is changed
 * or not at all.
 */
function referencedUserId(baseUrl: string, body: unknown): string {
  // parseBody drops `@odata.` annotations, which here are the payload: read the raw body.
  const parsed = memberReferenceRequest.safeParse(body);
  if (!parsed.success) throw badRequest("The request body must be {\"@odata.id\": \"{baseUrl}/directoryObjects/{userId}\"}.");
  const reference = parsed.data['@odata.id'];
  for (const base of [baseUrl, 'https://graph.microsoft.com/v1.0']) {
    const match = new RegExp(`^${escapeRegExp(base)}/(?:directoryObjects|users)/([^/?#]+)$`, 'i').exec(reference);
    if (match) {
      try {
        return decodeURIComponent(match[1]!);
      } catch {
        break;
      }
    }
  }
  throw badRequest(`Invalid value for property '@odata.id': '${reference.slice(0, 200)}' is not ${baseUrl}/directoryObjects/{id}.`);
}

const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

const idOf = (req: Request): string => String(req.params['id']);
