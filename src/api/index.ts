/**
 * The management API at `{PUBLIC_URL}/graph/v1.0`, in Microsoft Graph's names and shapes:
 * invitations, users and the directory audit log of the tenant that issued the caller's token.
 */
import { Router, type RequestHandler } from 'express';
import type { TenantConfig } from '../config/types.ts';
import type { AppRoleAssignments } from '../directory/app-role-assignments.ts';
import type { AuditLog } from '../directory/audit.ts';
import type { SignInLog } from '../directory/sign-in-log.ts';
import type { GroupDirectory } from '../directory/groups.ts';
import type { InvitationService } from '../directory/invitations.ts';
import type { UserDirectory } from '../directory/users.ts';
import type { AuthenticatorStore } from '../mfa/authenticator-store.ts';
import type { PasskeyStore } from '../mfa/passkeys.ts';
import type { PolicySource } from '../policy/types.ts';
import type { Clock } from '../shared/clock.ts';
import type { Logger } from '../shared/logger.ts';
import type { DocumentStore } from '../storage/ports.ts';
import { porticoTenantIssuers } from '../interaction/access-policy.ts';
import { AccessTokenVerifier, type KeySource } from './access-token.ts';
import { rateLimit } from './rate-limit.ts';
import { appRoleAssignmentRoutes } from './app-role-assignments-routes.ts';
import { auditRoutes } from './audit-routes.ts';
import { authenticationMethodRoutes } from './authentication-methods-routes.ts';
import { authenticate } from './authorization.ts';
import type { ApiContext } from './context.ts';
import { delegatedAccess } from './delegated-access.ts';
import { badRequest, graphErrorHandler } from './errors.ts';
import { groupRoutes } from './groups-routes.ts';
import { invitationRoutes } from './invitations-routes.ts';
import { meRoutes } from './me-routes.ts';
import { openApiDocument } from './openapi.ts';
import { policyRoutes } from './policy-routes.ts';
import { SkipTokens } from './paging.ts';
import { userRoutes } from './users-routes.ts';

export { AccessTokenVerifier, type GraphCaller } from './access-token.ts';
export { openApiDocument } from './openapi.ts';

export interface GraphApiDeps {
  readonly publicUrl: string;
  readonly tenants: readonly TenantConfig[];
  readonly store: DocumentStore;
  readonly keys: KeySource;
  readonly keyRefreshSeconds: number;
  readonly users: UserDirectory;
  readonly invitations: InvitationService;
  readonly audit: AuditLog;
  readonly signInLog: SignInLog;
  readonly groups: GroupDirectory;
  readonly assignments: AppRoleAssignments;
  readonly authenticators: AuthenticatorStore;
  readonly passkeys: PasskeyStore;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Requests per minute each caller may make (`managementApi.requestsPerMinute`). */
  readonly requestsPerMinute: number;
  /** The collaboration policy in force (live when the config is watched). */
  readonly policies?: PolicySource;
}

export const GRAPH_PATH = '/graph/v1.0';
export const OPENAPI_PATH = `${GRAPH_PATH}/$metadata/openapi.json`;

/** The express router serving the API (and its OpenAPI document) under `/graph/v1.0`. */
export async function graphApi(deps: GraphApiDeps): Promise<Router> {
  const baseUrl = `${deps.publicUrl}${GRAPH_PATH}`;
  const context: ApiContext = {
    baseUrl,
    users: deps.users,
    invitations: deps.invitations,
    audit: deps.audit,
    signIns: deps.signInLog,
    groups: deps.groups,
    assignments: deps.assignments,
    authenticators: deps.authenticators,
    passkeys: deps.passkeys,
    skipTokens: await SkipTokens.open(deps.store),
    clock: deps.clock,
    ...(deps.policies ? { policies: deps.policies } : {}),
    porticoTenants: porticoTenantIssuers(deps.publicUrl, deps.tenants.map((t) => t.id)),
  };
  const verifier = new AccessTokenVerifier({
    publicUrl: deps.publicUrl,
    tenants: deps.tenants,
    keys: deps.keys,
    clock: deps.clock,
    refreshSeconds: deps.keyRefreshSeconds,
    users: deps.users,
  });
  const document = JSON.stringify(openApiDocument(baseUrl));
  const now = () => new Date(deps.clock.now());

  const api = Router({ caseSensitive: false });
  // The document describes the API and holds nothing secret: no token needed to read it.
  api.get('/$metadata/openapi.json', (_req, res) => {
    res.type('application/json').send(document);
  });
  api.use(authenticate(verifier));
  api.use(rateLimit(deps.store, deps.requestsPerMinute));
  // Signed-in users (delegated tokens) pass this gate or nothing; apps go straight on.
  api.use(delegatedAccess(context));
  api.use(meRoutes(context));
  api.use(invitationRoutes(context));
  api.use(userRoutes(context));
  api.use(authenticationMethodRoutes(context));
  api.use(auditRoutes(context));
  api.use(groupRoutes(context));
  api.use(appRoleAssignmentRoutes(context));
  api.use(policyRoutes(context));
  const unknownSegment: RequestHandler = (req) => {
    throw badRequest(`Unsupported request: ${req.method} ${GRAPH_PATH}${req.path}.`);
  };
  api.use(unknownSegment);
  api.use(graphErrorHandler(deps.logger, now));

  const router = Router();
  router.use(GRAPH_PATH, api);
  return router;
}
