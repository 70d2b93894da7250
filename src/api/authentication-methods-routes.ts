/**
 * `/users/{id}/authentication`: an administrator lists a user's second-factor methods and deletes
 * an authenticator app or a passkey (the user then enrols again at the next sign-in when no method
 * is left), as Graph has them.
 */
import { Router, type Request, type RequestHandler } from 'express';
import { userTarget } from '../directory/audit.ts';
import type { User } from '../directory/users.ts';
import { ROLES, callerOf, requireRole } from './authorization.ts';
import { toGraphAuthenticationMethod } from './authentication-methods-shapes.ts';
import { correlationIdOf, type ApiContext } from './context.ts';
import { notFound } from './errors.ts';
import { onlyQuery } from './request.ts';

export function authenticationMethodRoutes(context: ApiContext): Router {
  const router = Router();
  const { users, authenticators, passkeys } = context;

  const findUser = async (tenantId: string, key: string): Promise<User> => {
    const user = key.includes('@') ? await users.findByUserPrincipalName(tenantId, key) : await users.get(tenantId, key);
    if (!user) throw notFound(`Resource '${key}' does not exist or one of its queried reference-property objects are not present.`);
    return user;
  };

  router.get('/users/:id/authentication/methods', requireRole(ROLES.readUsers), async (req, res) => {
    onlyQuery(req, []);
    const user = await findUser(callerOf(res).tenant.id, param(req, 'id'));
    const methods = [...(await authenticators.listMethods(user.tenantId, user.id)), ...(await passkeys.listPasskeys(user.tenantId, user.id))];
    res.json({
      '@odata.context': `${context.baseUrl}/$metadata#users('${user.id}')/authentication/methods`,
      value: methods.map(toGraphAuthenticationMethod),
    });
  });

  /** An admin deletes one of a user's second factors: audited as Entra's "Admin deleted security info". */
  const deleteMethod =
    (methodType: 'softwareOath' | 'fido2', remove: (tenantId: string, userId: string, methodId: string) => Promise<boolean>): RequestHandler =>
    async (req, res) => {
      onlyQuery(req, []);
      const caller = callerOf(res);
      const user = await findUser(caller.tenant.id, param(req, 'id'));
      const methodId = param(req, 'methodId');
      if (!(await remove(user.tenantId, user.id, methodId))) {
        throw notFound(`Authentication method '${methodId}' does not exist for user '${user.id}'.`);
      }
      await context.audit.record(caller.tenant.id, {
        activity: 'deleteSecurityInfo',
        actor: caller.actor,
        correlationId: correlationIdOf(req),
        targets: [userTarget(user)],
        details: { methodType, methodId },
      });
      res.status(204).end();
    };
  router.delete('/users/:id/authentication/softwareOathMethods/:methodId', requireRole(ROLES.writeUsers), deleteMethod('softwareOath', (t, u, m) => authenticators.reset(t, u, m)));
  router.delete('/users/:id/authentication/fido2Methods/:methodId', requireRole(ROLES.writeUsers), deleteMethod('fido2', (t, u, m) => passkeys.remove(t, u, m)));

  return router;
}

const param = (req: Request, name: string): string => String(req.params[name]);
