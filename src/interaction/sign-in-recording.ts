/**
 * Turns what the sign-in flow knows at a decision into one sign-in log entry, so each place where
 * a sign-in ends records it in one line. Only named facts go in: the flow's app, the upstream's
 * connector and idp, the user's ids and names, a stable failure code. Never a form field, code,
 * token or ticket; an email only as a known user's UPN or the address the guest typed.
 */
import type { Request } from 'express';
import type { Connector, UpstreamIdentity } from '../connectors/types.ts';
import type { PolicyTraceEntry, SignInFailure, SignInLog } from '../directory/sign-in-log.ts';
import { isSignInFailure, SIGN_IN_FAILURES } from '../directory/sign-in-log.ts';
import type { User } from '../directory/users.ts';
import { requestIdOf } from '../http/express-app.ts';
import type { SignInFlow } from './flow.ts';
import type { InteractionTenant } from './context.ts';

export type SignInOutcome =
  | { readonly result: 'success'; readonly detail?: string }
  | { readonly result: 'failure'; readonly failure: SignInFailure; readonly detail?: string };

export interface SignInFacts {
  /** The upstream identity, once the IdP has answered. */
  readonly identity?: UpstreamIdentity | undefined;
  /** The connector, when the upstream failed before giving an identity. */
  readonly connector?: Connector | undefined;
  /** The user the identity resolved to, when one did. */
  readonly user?: User | undefined;
  readonly outcome: SignInOutcome;
  readonly conditionalAccessStatus?: 'success' | 'failure' | 'notApplied';
  readonly policyTrace?: readonly PolicyTraceEntry[];
  /** MFA counted for this sign-in, and who performed it (a trusted upstream, or Portico's own second factor). */
  readonly mfa?: { readonly source: 'upstream' | 'portico' } | undefined;
}

export const succeeded = (detail?: string): SignInOutcome => ({ result: 'success', ...(detail === undefined ? {} : { detail }) });
export const refused = (failure: SignInFailure, detail?: string): SignInOutcome => ({ result: 'failure', failure, ...(detail === undefined ? {} : { detail }) });

/** The failure of a refused redemption, by the refusal page's test id (`ticket-expired`, `wrong-identity` …). */
export const redemptionRefused = (pageTestId: string, detail?: string): SignInOutcome =>
  refused(isSignInFailure(pageTestId) ? pageTestId : 'redemption-refused', detail);

/** Records the attempt in `log` (when the server has one); a store failure fails the request, as every store failure does. */
export async function recordSignIn(
  log: SignInLog | undefined,
  target: InteractionTenant,
  req: Request,
  flow: SignInFlow,
  facts: SignInFacts,
): Promise<void> {
  if (!log) return;
  const { identity, user, outcome } = facts;
  const tenantId = target.tenant.id;
  // Every upstream is outside the tenant: an identity that matched no user is an outsider.
  const member = user?.userType === 'Member';
  const connectorId = identity?.connectorId ?? facts.connector?.id;
  const kind = identity?.kind ?? facts.connector?.kind;
  const failure = outcome.result === 'failure' ? SIGN_IN_FAILURES[outcome.failure] : undefined;
  await log.record(tenantId, {
    userId: user?.id ?? null,
    userPrincipalName: user?.userPrincipalName ?? flow.email ?? null,
    userDisplayName: user?.displayName ?? null,
    appId: flow.clientId,
    appDisplayName: target.tenant.apps.find((app) => app.id === flow.clientId)?.name ?? null,
    ipAddress: req.ip ?? req.socket.remoteAddress ?? '',
    correlationId: requestIdOf(req),
    status: {
      errorCode: failure?.errorCode ?? 0,
      failureReason: failure?.failureReason ?? null,
      additionalDetails: outcome.detail ?? null,
    },
    conditionalAccessStatus: facts.conditionalAccessStatus ?? 'notApplied',
    isInteractive: true,
    resourceTenantId: tenantId,
    homeTenantId: member ? tenantId : (user?.homeTenantId ?? identity?.homeTenantId ?? null),
    crossTenantAccessType: member ? 'none' : 'b2bCollaboration',
    userType: member ? 'member' : 'guest',
    authenticationRequirement: facts.mfa ? 'multiFactorAuthentication' : 'singleFactorAuthentication',
    ...(facts.mfa
      ? {
          authenticationDetails: [
            { authenticationMethod: facts.mfa.source === 'portico' ? 'Authenticator app (TOTP)' : 'Multifactor authentication at the home organisation', succeeded: true, source: facts.mfa.source === 'portico' ? 'portico' : (identity?.idp ?? 'upstream') },
          ],
        }
      : {}),
    upstreamIdentityProvider: connectorId && kind ? { connectorId, idp: identity?.idp ?? null, kind } : null,
    ...(facts.policyTrace ? { policyTrace: facts.policyTrace } : {}),
  });
}
