import type { Request } from 'express';
import type { AppRoleAssignments } from '../directory/app-role-assignments.ts';
import type { AuditLog } from '../directory/audit.ts';
import type { SignInLog } from '../directory/sign-in-log.ts';
import type { GroupDirectory } from '../directory/groups.ts';
import type { InvitationService } from '../directory/invitations.ts';
import type { UserDirectory } from '../directory/users.ts';
import { requestIdOf } from '../http/express-app.ts';
import type { AuthenticatorStore } from '../mfa/authenticator-store.ts';
import type { PasskeyStore } from '../mfa/passkeys.ts';
import type { Clock } from '../shared/clock.ts';
import type { PolicySource } from '../policy/types.ts';
import type { SkipTokens } from './paging.ts';

/** What the route modules share. */
export interface ApiContext {
  /** `{PUBLIC_URL}/graph/v1.0` */
  readonly baseUrl: string;
  readonly users: UserDirectory;
  readonly invitations: InvitationService;
  readonly audit: AuditLog;
  readonly signIns: SignInLog;
  readonly groups: GroupDirectory;
  readonly assignments: AppRoleAssignments;
  /** Second-factor methods (authenticator apps), for the admin list and reset. */
  readonly authenticators: AuthenticatorStore;
  /** Passkeys, listed and deleted beside the app. */
  readonly passkeys: PasskeyStore;
  readonly skipTokens: SkipTokens;
  /** The collaboration policy in force; without it, the caller's tenant config is read. */
  readonly policies?: PolicySource;
  /** The issuer of each tenant of this Portico → its id (for explaining cross-tenant sign-ins). */
  readonly porticoTenants: ReadonlyMap<string, string>;
  readonly clock: Clock;
}

/** The request id doubles as the audit log's correlation id. */
export const correlationIdOf = (req: Request): string => requestIdOf(req);

/** A next link: the same query options plus the sealed position. */
export function nextLinkFor(baseUrl: string, path: string, options: Readonly<Record<string, string | undefined>>, skipToken: string): string {
  // Option names stay literal (`$top`, not `%24top`) as in Graph's own next links.
  const query = Object.entries({ ...options, $skiptoken: skipToken })
    .flatMap(([name, value]) => (value === undefined ? [] : [`${name}=${encodeURIComponent(value)}`]))
    .join('&');
  return `${baseUrl}${path}?${query}`;
}
