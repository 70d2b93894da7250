/**
 * `/users/{id}/appRoleAssignments` and `/groups/{id}/appRoleAssignments`: list, grant (POST) and
 * remove (DELETE `…/{assignmentId}`) a principal's assignments to the tenant's apps, as Graph has
 * them. `resourceId` is the app's client id; the only role is default access.
 */
import { Router, type Request } from 'express';
import { AssignmentError, type PrincipalType } from '../directory/app-role-assignments.ts';
import { appTarget, groupTarget, userTarget, type Activity, type TargetResource } from '../directory/audit.ts';
import type { GraphRole } from '../config/types.ts';
import { ROLES, callerOf, requireRole } from './authorization.ts';
import { correlationIdOf, type ApiContext } from './context.ts';
import { badRequest, notFound } from './errors.ts';
import { createAppRoleAssignmentRequest, toGraphAppRoleAssignment } from './group-shapes.ts';
import { jsonBody, onlyQuery, parseBody } from './request.ts';

interface Principal {
  readonly id: string;
  readonly displayName: string;
  readonly target: TargetResource;
}

interface PrincipalKind {
  readonly segment: 'users' | 'groups';
  readonly type: PrincipalType;
  readonly read: readonly GraphRole[];
  readonly write: readonly GraphRole[];
  readonly added: Activity;
  readonly removed: Activity;
  readonly find: (context: ApiContext, tenantId: string, key: string) => Promise<Principal | undefined>;
}

const KINDS: readonly PrincipalKind[] = [
  {
    segment: 'users',
    type: 'User',
    read: ROLES.readAssignments,
    write: ROLES.writeAssignments,
    added: 'addUserAssignment',
    removed: 'removeUserAssignment',
    find: async (context, tenantId, key) => {
      const user = key.includes('@') ? await context.users.findByUserPrincipalName(tenantId, key) : await context.users.get(tenantId, key);
      return user && { id: user.id, displayName: user.displayName, target: userTarget(user) };
    },
  },
  {
    segment: 'groups',
    type: 'Group',
    read: ROLES.readGroups,
    write: ROLES.writeGroupAssignments,
    added: 'addGroupAssignment',
    removed: 'removeGroupAssignment',
    find: async (context, tenantId, key) => {
      const group = await context.groups.get(tenantId, key);
      return group && { id: group.id, displayName: group.displayName, target: groupTarget(group) };
    },
  },
];

const assignmentErrorToGraph = (error: unknown): unknown =>
  error instanceof AssignmentError ? (error.code === 'assignment_not_found' ? notFound(error.message) : badRequest(error.message)) : error;

export function appRoleAssignmentRoutes(context: ApiContext): Router {
  const router = Router();
  const { assignments } = context;

  for (const kind of KINDS) {
    const base = `/${kind.segment}/:id/appRoleAssignments`;
    const findPrincipal = async (tenantId: string, key: string): Promise<Principal> => {
      const principal = await kind.find(context, tenantId, key);
      if (!principal) throw notFound(`Resource '${key}' does not exist or one of its queried reference-property objects are not present.`);
      return principal;
    };
    const entity = `${context.baseUrl}/$metadata#${kind.segment}('{id}')/appRoleAssignments`;

    router.get(base, requireRole(kind.read), async (req, res) => {
      onlyQuery(req, ['$select']);
      const tenantId = callerOf(res).tenant.id;
      const principal = await findPrincipal(tenantId, idOf(req));
      const list = await assignments.listFor(tenantId, principal.id);
      res.json({
        '@odata.context': entity.replace('{id}', principal.id),
        value: list.map((assignment) => toGraphAppRoleAssignment(assignment, principal.displayName)),
      });
    });

    router.post(base, requireRole(kind.write), jsonBody, async (req, res) => {
      onlyQuery(req, []);
      const caller = callerOf(res);
      const body = parseBody(createAppRoleAssignmentRequest, req);
      const principal = await findPrincipal(caller.tenant.id, idOf(req));
      if (body.principalId !== principal.id) {
        throw badRequest(`Invalid value for property 'principalId': must be the id of the ${kind.type.toLowerCase()} in the path ('${principal.id}').`);
      }
      let assignment;
      try {
        assignment = await assignments.assign(caller.tenant.id, { id: principal.id, type: kind.type, displayName: principal.displayName }, body.resourceId, body.appRoleId);
      } catch (error) {
        throw assignmentErrorToGraph(error);
      }
      await context.audit.record(caller.tenant.id, {
        activity: kind.added,
        actor: caller.actor,
        correlationId: correlationIdOf(req),
        targets: [principal.target, appTarget({ id: assignment.resourceId, name: assignment.resourceDisplayName })],
      });
      res.status(201).json({ '@odata.context': `${entity.replace('{id}', principal.id)}/$entity`, ...toGraphAppRoleAssignment(assignment, principal.displayName) });
    });

    router.delete(`${base}/:assignmentId`, requireRole(kind.write), async (req, res) => {
      onlyQuery(req, []);
      const caller = callerOf(res);
      const principal = await findPrincipal(caller.tenant.id, idOf(req));
      let removed;
      try {
        removed = await assignments.remove(caller.tenant.id, principal.id, String(req.params['assignmentId']));
      } catch (error) {
        throw assignmentErrorToGraph(error);
      }
      await context.audit.record(caller.tenant.id, {
        activity: kind.removed,
        actor: caller.actor,
        correlationId: correlationIdOf(req),
        targets: [principal.target, appTarget({ id: removed.resourceId, name: removed.resourceDisplayName })],
      });
      res.status(204).end();
    });
  }

  return router;
}

const idOf = (req: Request): string => String(req.params['id']);
