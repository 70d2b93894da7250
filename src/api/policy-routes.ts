/**
 * `POST /policies/explain` (Portico's own): what the collaboration policy of the caller's tenant
 * decides for a user, and why — the same answer as `portico policy explain`.
 */
import { Router } from 'express';
import { guestUserPrincipalName } from '../directory/users.ts';
import { explainAccess, ExplainError } from '../policy/explain.ts';
import { staticPolicySource } from '../policy/subject.ts';
import { ROLES, callerOf, requireRole } from './authorization.ts';
import type { ApiContext } from './context.ts';
import { badRequest } from './errors.ts';
import { policyExplanationSchema, explainPolicyRequest } from './policy-shapes.ts';
import { jsonBody, onlyQuery, parseBody } from './request.ts';

export function policyRoutes(context: ApiContext): Router {
  const router = Router();

  router.post('/policies/explain', requireRole(ROLES.readPolicy), jsonBody, async (req, res) => {
    onlyQuery(req, []);
    const caller = callerOf(res);
    const body = parseBody(explainPolicyRequest, req);
    const tenant = caller.tenant;
    try {
      const explanation = await explainAccess(
        // Without a live source, the policy the caller's token was checked against.
        {
          policies: context.policies ?? staticPolicySource([tenant]),
          tenant,
          users: context.users,
          groups: context.groups,
          guestUserPrincipalName,
          porticoTenants: context.porticoTenants,
        },
        // An admin app asks, so invitations are judged as if it invited.
        { tenantId: tenant.id, ...body, inviter: { kind: 'admin', id: caller.app.id } },
      );
      res.json(policyExplanationSchema.parse(explanation));
    } catch (error) {
      if (error instanceof ExplainError) throw badRequest(`${error.message.charAt(0).toUpperCase()}${error.message.slice(1)}.`);
      throw error;
    }
  });

  return router;
}
