/** `GET /me`: the signed-in user's own object, as Graph has it; only with a delegated token. */
import { Router, type RequestHandler } from 'express';
import { ROLES, callerOf, requireRole } from './authorization.ts';
import type { ApiContext } from './context.ts';
import { badRequest } from './errors.ts';
import { onlyQuery } from './request.ts';
import { toGraphUser } from './shapes.ts';

/** Graph's answer to `/me` with an app-only token: there is no signed-in user to be. */
const delegatedOnly: RequestHandler = (_req, res, next) => {
  if (!callerOf(res).delegated) throw badRequest('/me request is only valid with delegated authentication flow.');
  next();
};

export function meRoutes(context: ApiContext): Router {
  const router = Router();
  router.get('/me', delegatedOnly, requireRole(ROLES.readUsers), (req, res) => {
    onlyQuery(req, ['$select']);
    // Read when the token was verified, for this request: the user as the directory has them now.
    const { user } = callerOf(res).delegated!;
    res.json({ '@odata.context': `${context.baseUrl}/$metadata#users/$entity`, ...toGraphUser(user) });
  });
  return router;
}
