import type { Request, RequestHandler, Response } from 'express';
import type { GraphRole } from '../config/types.ts';
import type { AccessTokenVerifier, GraphCaller } from './access-token.ts';
import { GraphError } from './errors.ts';

const CALLER = Symbol('graph caller');
/** Set once the delegated-access gate has admitted a signed-in user's request (delegated-access.ts). */
const DELEGATED_ADMITTED = Symbol('delegated request admitted');

export const ROLES = {
  invite: ['User.Invite.All', 'User.ReadWrite.All'],
  readUsers: ['User.Read.All', 'User.ReadWrite.All'],
  writeUsers: ['User.ReadWrite.All'],
  readAudit: ['AuditLog.Read.All'],
  readGroups: ['Group.Read.All', 'Group.ReadWrite.All'],
  writeGroups: ['Group.ReadWrite.All'],
  // As in Graph: reading a user's assignments is reading the user; granting one needs its own role.
  readAssignments: ['User.Read.All', 'User.ReadWrite.All', 'AppRoleAssignment.ReadWrite.All'],
  writeAssignments: ['AppRoleAssignment.ReadWrite.All', 'User.ReadWrite.All'],
  writeGroupAssignments: ['AppRoleAssignment.ReadWrite.All', 'Group.ReadWrite.All'],
  readPolicy: ['Policy.Read.All'],
} as const satisfies Record<string, readonly GraphRole[]>;

export const insufficientPrivileges = (): GraphError =>
  new GraphError(403, 'Authorization_RequestDenied', 'Insufficient privileges to complete the operation.');

/** Verifies the bearer token and keeps the caller for the handlers; 401 otherwise. */
export function authenticate(verifier: AccessTokenVerifier): RequestHandler {
  return async (req, res, next) => {
    (res.locals as Record<symbol, GraphCaller>)[CALLER] = await verifier.verify(req.get('authorization'));
    next();
  };
}

export function callerOf(res: Response): GraphCaller {
  const caller = (res.locals as Record<symbol, GraphCaller | undefined>)[CALLER];
  if (!caller) throw new Error('unreachable: a management API route ran without authentication');
  return caller;
}

/** Marks a signed-in user's request as decided by the delegated-access rules. */
export function admitDelegated(res: Response): void {
  (res.locals as Record<symbol, boolean>)[DELEGATED_ADMITTED] = true;
}

export const hasAnyRole = (caller: GraphCaller, roles: readonly GraphRole[]): boolean => roles.some((role) => caller.roles.has(role));

/**
 * 403 `Authorization_RequestDenied` unless the caller holds one of `roles`. A signed-in user holds
 * no roles: their request gets here only once the delegated-access rules admitted it (scopes and
 * guest access), and anything they did not admit is refused here too.
 */
export function requireRole(roles: readonly GraphRole[]): RequestHandler {
  return (_req: Request, res, next) => {
    const caller = callerOf(res);
    if (caller.delegated) {
      if ((res.locals as Record<symbol, boolean | undefined>)[DELEGATED_ADMITTED] !== true) throw insufficientPrivileges();
    } else if (!hasAnyRole(caller, roles)) throw insufficientPrivileges();
    next();
  };
}
