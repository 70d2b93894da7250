/**
 * What a signed-in user may do on the management API with a delegated token (`scp`): the
 * operations below, each within the token's scopes, and for guests within the tenant's
 * `externalCollaboration.guestUserAccess`, read live so an edit applies at the next request.
 * Anything not listed (writes, audit logs, policy, app role assignments…) stays app-only.
 *
 * The gate runs before the routes and admits a request (`admitDelegated`) or refuses it with
 * Graph's 403 `Authorization_RequestDenied` naming why; `requireRole` refuses any user request
 * it did not admit, so a route added later is app-only until it is listed here.
 */
import { Router, type Request, type RequestHandler } from 'express';
import type { GraphScope, TenantConfig } from '../config/types.ts';
import type { ExternalCollaboration } from '../config/policy.ts';
import type { DelegatedCaller, GraphCaller } from './access-token.ts';
import { admitDelegated, callerOf } from './authorization.ts';
import type { ApiContext } from './context.ts';
import { GraphError } from './errors.ts';

/** Delegated scopes per kind of read, as Microsoft Graph names the least privileged ones. */
export const DELEGATED_SCOPES = {
  readSelf: ['User.Read', 'User.ReadBasic.All', 'User.Read.All'],
  readUsers: ['User.ReadBasic.All', 'User.Read.All'],
  readGroups: ['GroupMember.Read.All', 'Group.Read.All'],
  invite: ['User.Invite.All'],
} as const satisfies Record<string, readonly GraphScope[]>;

/** What a guest's request touches, for `guestUserAccess`. */
type GuestTarget =
  | { readonly kind: 'self' }
  | { readonly kind: 'ownMemberships' }
  | { readonly kind: 'otherUsers' }
  | { readonly kind: 'group'; readonly groupId: string }
  | { readonly kind: 'allGroups' }
  | { readonly kind: 'invite' };

const denied = (message: string): GraphError => new GraphError(403, 'Authorization_RequestDenied', message);

function requireScopes(delegated: DelegatedCaller, scopes: readonly GraphScope[]): void {
  if (scopes.some((scope) => delegated.scopes.has(scope))) return;
  throw denied(`Insufficient privileges to complete the operation. The token's delegated scopes (scp) include none of: ${scopes.join(', ')}.`);
}

export function guestUserAccessOf(context: ApiContext, tenant: TenantConfig): ExternalCollaboration['guestUserAccess'] {
  return (context.policies?.policyFor(tenant.id)?.externalCollaboration ?? tenant.externalCollaboration).guestUserAccess;
}

/** Refuses what `guestUserAccess` does not let a guest read; members and `sameAsMember` pass. */
async function checkGuestAccess(context: ApiContext, caller: GraphCaller, delegated: DelegatedCaller, target: GuestTarget): Promise<void> {
  if (delegated.user.userType !== 'Guest' || target.kind === 'invite') return;
  const access = guestUserAccessOf(context, caller.tenant);
  if (access === 'sameAsMember' || target.kind === 'self') return;
  const rule = `(externalCollaboration.guestUserAccess: ${access})`;
  if (access === 'restricted') throw denied(`Guest users in ${caller.tenant.id} may read only their own user object ${rule}.`);
  const limited = denied(`Guest users in ${caller.tenant.id} may read only their own user object and the groups they are in ${rule}.`);
  if (target.kind === 'ownMemberships') return;
  if (target.kind === 'group') {
    // Read now: a guest removed from a group loses sight of it at once.
    const groups = await context.groups.groupsOf(caller.tenant.id, delegated.user.id);
    if (groups.some((group) => group.id === target.groupId)) return;
  }
  throw limited;
}

/** Whether `key` (object id or user principal name, as routes accept) names the caller. */
const isSelf = (delegated: DelegatedCaller, key: string): boolean =>
  key.includes('@') ? key.toLowerCase() === delegated.user.userPrincipalName.toLowerCase() : key === delegated.user.id;

export function delegatedAccess(context: ApiContext): Router {
  const router = Router();

  /** An operation open to signed-in users: the scopes it needs and what it touches, from the request. */
  const allow =
    (decide: (req: Request, delegated: DelegatedCaller) => { readonly scopes: readonly GraphScope[]; readonly target: GuestTarget }): RequestHandler =>
    async (req, res, next) => {
      const caller = callerOf(res);
      const delegated = caller.delegated!;
      const { scopes, target } = decide(req, delegated);
      requireScopes(delegated, scopes);
      await checkGuestAccess(context, caller, delegated, target);
      admitDelegated(res);
      next('router');
    };
  const idOf = (req: Request): string => String(req.params['id']);

  // App-only callers skip the gate altogether: their roles are checked by the routes.
  router.use((_req, res, next) => next(callerOf(res).delegated ? undefined : 'router'));

  router.get('/me', allow(() => ({ scopes: DELEGATED_SCOPES.readSelf, target: { kind: 'self' } })));
  router.get('/users', allow(() => ({ scopes: DELEGATED_SCOPES.readUsers, target: { kind: 'otherUsers' } })));
  router.get(
    '/users/:id',
    allow((req, delegated) =>
      isSelf(delegated, idOf(req)) ? { scopes: DELEGATED_SCOPES.readSelf, target: { kind: 'self' } } : { scopes: DELEGATED_SCOPES.readUsers, target: { kind: 'otherUsers' } },
    ),
  );
  router.get(
    '/users/:id/memberOf',
    allow((req, delegated) =>
      isSelf(delegated, idOf(req))
        ? { scopes: [...DELEGATED_SCOPES.readSelf, ...DELEGATED_SCOPES.readGroups], target: { kind: 'ownMemberships' } }
        : { scopes: DELEGATED_SCOPES.readGroups, target: { kind: 'otherUsers' } },
    ),
  );
  router.get('/groups', allow(() => ({ scopes: DELEGATED_SCOPES.readGroups, target: { kind: 'allGroups' } })));
  router.get('/groups/:id', allow((req) => ({ scopes: DELEGATED_SCOPES.readGroups, target: { kind: 'group', groupId: idOf(req) } })));
  router.get('/groups/:id/members', allow((req) => ({ scopes: DELEGATED_SCOPES.readGroups, target: { kind: 'group', groupId: idOf(req) } })));
  // Who may invite is the collaboration policy's `allowInvitesFrom`, decided by the invitation service.
  router.post('/invitations', allow(() => ({ scopes: DELEGATED_SCOPES.invite, target: { kind: 'invite' } })));

  router.use((req) => {
    throw denied(`${req.method} ${req.baseUrl}${req.path} is not available to signed-in users (delegated tokens); it needs an app-only token with app roles.`);
  });
  return router;
}
