/** The page of the second-factor step: set up an authenticator app or passkey, or use one. */
import type { Request, Response } from 'express';
import { qrCodeSvg } from '../mfa/qr.ts';
import { totpUri } from '../mfa/totp.ts';
import { totpChallengePage, totpEnrolmentPage } from '../ui/mfa-pages.ts';
import { expired, pageContext, type InteractionDeps, type InteractionTenant } from './context.ts';
import type { SignInFlow } from './flow.ts';

export async function renderMfa(
  deps: InteractionDeps,
  target: InteractionTenant,
  req: Request,
  res: Response,
  flow: SignInFlow,
  view: MfaView,
  status = 200,
): Promise<void> {
  const ctx = pageContext(target, req, flow);
  const authenticators = deps.authenticators;
  const userId = flow.mfaUserId;
  if (!authenticators || !userId) {
    expired(res, req, target, 400);
    return;
  }
  const { passkeyError, ...codeErrors } = view;
  const tenantId = target.tenant.id;
  const hasApp = await authenticators.hasMethod(tenantId, userId);
  // A passkey, when the user has one, is offered first (with the app's code, if any, below it).
  const passkeyOptions = deps.passkeys ? await deps.passkeys.authenticationOptions({ tenantId, userId, flowId: flow.uid }) : undefined;
  if (hasApp || passkeyOptions) {
    const passkey = passkeyOptions ? { ceremony: 'authenticate' as const, action: `${ctx.actionBase}/mfa/passkey/authenticate`, options: passkeyOptions, error: passkeyError } : undefined;
    res
      .status(status)
      .type('html')
      .send(totpChallengePage(ctx, { ...(hasApp ? { action: `${ctx.actionBase}/mfa` } : {}), recoveryAction: `${ctx.actionBase}/mfa/recovery`, passkey, ...codeErrors }));
    return;
  }
  const enrolment = (await authenticators.pendingEnrolment(target.tenant.id, userId)) ?? (await authenticators.startEnrolment(target.tenant.id, userId));
  const user = await deps.users.get(target.tenant.id, userId);
  const account = user?.mail ?? user?.userPrincipalName ?? userId;
  const qrSvg = await qrCodeSvg(totpUri({ secret: enrolment.secret, tenantDisplayName: target.tenant.displayName, account }));
  // The other choice on the set-up page: a passkey instead of the app.
  const passkey = deps.passkeys
    ? {
        ceremony: 'register' as const,
        action: `${ctx.actionBase}/mfa/passkey/register`,
        options: await deps.passkeys.registrationOptions({ tenantId, userId, flowId: flow.uid, rpName: target.tenant.displayName, userName: account, userDisplayName: user?.displayName ?? account }),
        error: passkeyError,
      }
    : undefined;
  res
    .status(status)
    .type('html')
    .send(totpEnrolmentPage(ctx, { action: `${ctx.actionBase}/mfa`, qrSvg, secret: enrolment.secret, account, passkey, ...(view.error ? { error: view.error } : {}) }));
}

/** Errors shown on the second-factor page: the app's code, a recovery code, or a passkey. */
export type MfaView = { error?: string; recoveryError?: string; passkeyError?: string };
