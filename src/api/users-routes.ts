/** `/users`: get, list (with `$filter`, `$top` and paging), update and delete, as Graph has them. */
import { Router, type Request } from 'express';
import { changed, userTarget } from '../directory/audit.ts';
import type { User } from '../directory/users.ts';
import { ROLES, callerOf, requireRole } from './authorization.ts';
import { correlationIdOf, nextLinkFor, type ApiContext } from './context.ts';
import { notFound } from './errors.ts';
import { matchesFilter, parseUserFilter } from './filter.ts';
import { parseTop } from './paging.ts';
import { jsonBody, onlyQuery, parseBody, singleQuery } from './request.ts';
import { toGraphUser, updateUserRequest } from './shapes.ts';

const positionOf = (user: User): string => `${user.createdDateTime}|${user.id}`;

export function userRoutes(context: ApiContext): Router {
  const router = Router();
  const { users } = context;

  /** By object id, or by user principal name as Graph allows (`/users/alice_x.com%23EXT%23@…`). */
  const find = async (tenantId: string, key: string): Promise<User> => {
    const user = key.includes('@') ? await users.findByUserPrincipalName(tenantId, key) : await users.get(tenantId, key);
    if (!user) throw notFound(`Resource '${key}' does not exist or one of its queried reference-property objects are not present.`);
    return user;
  };

  router.get('/users', requireRole(ROLES.readUsers), async (req, res) => {
    // $select is accepted and ignored: every property is returned, which is what a script selecting
    // a subset reads anyway.
    onlyQuery(req, ['$filter', '$top', '$skiptoken', '$select']);
    const tenantId = callerOf(res).tenant.id;
    const filterText = singleQuery(req, '$filter');
    const topText = singleQuery(req, '$top');
    const filter = parseUserFilter(filterText);
    const top = parseTop(topText);
    const binding = { tenantId, collection: 'users', query: JSON.stringify([filterText ?? null, topText ?? null]) };
    const skipToken = singleQuery(req, '$skiptoken');
    const after = skipToken === undefined ? undefined : context.skipTokens.open(binding, skipToken);
    // Sorted by creation, then id: a position stays valid when users are added or removed.
    const matching = (await users.list(tenantId)).filter((user) => matchesFilter(user, filter) && (after === undefined || positionOf(user) > after));
    const page = matching.slice(0, top);
    const last = page.at(-1);
    res.json({
      '@odata.context': `${context.baseUrl}/$metadata#users`,
      ...(matching.length > page.length && last
        ? { '@odata.nextLink': nextLinkFor(context.baseUrl, '/users', { $filter: filterText, $top: topText }, context.skipTokens.seal(binding, positionOf(last))) }
        : {}),
      value: page.map(toGraphUser),
    });
  });

  router.get('/users/:id', requireRole(ROLES.readUsers), async (req, res) => {
    onlyQuery(req, ['$select']);
    const user = await find(callerOf(res).tenant.id, idOf(req));
    res.json({ '@odata.context': `${context.baseUrl}/$metadata#users/$entity`, ...toGraphUser(user) });
  });

  router.patch('/users/:id', requireRole(ROLES.writeUsers), jsonBody, async (req, res) => {
    onlyQuery(req, []);
    const caller = callerOf(res);
    const changes = parseBody(updateUserRequest, req);
    const before = await find(caller.tenant.id, idOf(req));
    const after = await users.update(caller.tenant.id, before.id, changes);
    if (!after) throw notFound(`Resource '${idOf(req)}' does not exist.`);
    await context.audit.record(caller.tenant.id, {
      activity: 'updateUser',
      actor: caller.actor,
      correlationId: correlationIdOf(req),
      targets: [
        userTarget(after, [
          ...(changes.displayName === undefined ? [] : [changed('displayName', before.displayName, after.displayName)]),
          ...(changes.accountEnabled === undefined ? [] : [changed('accountEnabled', before.accountEnabled, after.accountEnabled)]),
        ]),
      ],
    });
    res.status(204).end();
  });

  router.delete('/users/:id', requireRole(ROLES.writeUsers), async (req, res) => {
    onlyQuery(req, []);
    const caller = callerOf(res);
    const user = await find(caller.tenant.id, idOf(req));
    // Links die before the user does, so no redemption can complete for a user being deleted.
    const revoked = await context.invitations.revokeAllForUser(caller.tenant.id, user.id);
    await users.delete(caller.tenant.id, user.id);
    // One added in a race with this delete is harmless: both are only ever read for users that exist.
    await context.groups.removeUserEverywhere(caller.tenant.id, user.id);
    await context.assignments.removeAllFor(caller.tenant.id, user.id);
    await context.audit.record(caller.tenant.id, {
      activity: 'deleteUser',
      actor: caller.actor,
      correlationId: correlationIdOf(req),
      targets: [userTarget(user)],
      details: { revokedInvitations: String(revoked) },
    });
    res.status(204).end();
  });

  return router;
}

const idOf = (req: Request): string => String(req.params['id']);
