import type { Request } from 'express';
import type { AuditLog } from '../directory/audit.ts';
import type { InvitationService } from '../directory/invitations.ts';
import type { UserDirectory } from '../directory/users.ts';
import { requestIdOf } from '../http/express-app.ts';
import type { Clock } from '../shared/clock.ts';
import type { SkipTokens } from './paging.ts';

/** What the route modules share. */
export interface ApiContext {
  /** `{PUBLIC_URL}/graph/v1.0` */
  readonly baseUrl: string;
  readonly users: UserDirectory;
  readonly invitations: InvitationService;
  readonly audit: AuditLog;
  readonly skipTokens: SkipTokens;
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
