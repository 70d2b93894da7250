/**
 * Portico's own second factor in the sign-in flow (step `mfa`): on first need the guest sets up an
 * authenticator app or a passkey and gets recovery codes; afterwards a code, the passkey or a
 * recovery code passes it. Passing moves the flow back to `identified`, where the sign-in is
 * decided again, now with MFA.
 */
import express, { Router, type Request, type Response } from 'express';
import { requestIdOf } from '../http/express-app.ts';
import type { AuthenticatorStore } from '../mfa/authenticator-store.ts';
import { format, messagesFor } from '../ui/messages.ts';
import { recoveryCodesPage } from '../ui/mfa-pages.ts';
import { actionBase, flowForPost, pageContext, type InteractionDeps, type InteractionTenant } from './context.ts';
import { renderMfa, type MfaView } from './mfa-page.ts';
import { renderStep } from './render-step.ts';
import type { SignInFlow } from './flow.ts';
import { recordSignIn, refused } from './sign-in-recording.ts';

export function mfaStepRoutes(deps: InteractionDeps): Router {
  const router = Router();
  const base = '/:tenant/v2.0/interaction/:uid';
  const form = express.urlencoded({ extended: false, limit: '8kb', parameterLimit: 20 });

  router.post(`${base}/mfa`, form, async (req, res) => {
    const context = await mfaStepForPost(deps, req, res);
    if (!context) return;
    const { target, flow, userId, authenticators } = context;
    const code = typeof req.body.code === 'string' ? req.body.code : '';
    const m = messagesFor();
    const enrolled = await authenticators.hasMethod(target.tenant.id, userId);
    if (!enrolled) {
      const result = await authenticators.confirmEnrolment(target.tenant.id, userId, code);
      if (result.status === 'confirmed') {
        const passed = await deps.flows.mfaPassed(flow.uid);
        deps.logger.info({ requestId: requestIdOf(req), tenant: target.tenant.id, user: userId }, 'authenticator enrolled');
        res.type('html').send(recoveryCodesPage(pageContext(target, req, passed), { action: `${actionBase(target, passed)}/mfa/done`, codes: result.recoveryCodes }));
        return;
      }
      if (result.status === 'already_enrolled') {
        await renderMfa(deps, target, req, res, flow, {});
        return;
      }
      const error = result.status === 'throttled' ? format(m.throttled, { seconds: result.retryAfterSeconds }) : result.status === 'expired' ? m.mfa_enrolment_expired : m.mfa_invalid_code;
      await mfaFailed(deps, target, req, res, flow, { error }, result.status === 'throttled' ? 429 : 400);
      return;
    }
    const result = await authenticators.verify(target.tenant.id, userId, code);
    if (result.status === 'ok') {
      await deps.flows.mfaPassed(flow.uid);
      res.redirect(303, `${actionBase(target, flow)}/continue`);
      return;
    }
    const error = result.status === 'throttled' ? format(m.throttled, { seconds: result.retryAfterSeconds }) : result.status === 'replayed' ? m.mfa_replayed : m.mfa_invalid_code;
    await mfaFailed(deps, target, req, res, flow, { error }, result.status === 'throttled' ? 429 : 400);
  });

  router.post(`${base}/mfa/recovery`, form, async (req, res) => {
    const context = await mfaStepForPost(deps, req, res);
    if (!context) return;
    const { target, flow, userId, authenticators } = context;
    const code = typeof req.body.recoveryCode === 'string' ? req.body.recoveryCode : '';
    const result = await authenticators.useRecoveryCode(target.tenant.id, userId, code);
    if (result.status === 'ok') {
      deps.logger.info({ requestId: requestIdOf(req), tenant: target.tenant.id, user: userId, remaining: result.remaining }, 'recovery code used');
      await deps.flows.mfaPassed(flow.uid);
      res.redirect(303, `${actionBase(target, flow)}/continue`);
      return;
    }
    const m = messagesFor();
    const recoveryError = result.status === 'throttled' ? format(m.throttled, { seconds: result.retryAfterSeconds }) : m.mfa_invalid_recovery_code;
    await mfaFailed(deps, target, req, res, flow, { recoveryError }, result.status === 'throttled' ? 429 : 400);
  });

  // Passkeys: the credential made or used in the browser, posted by /assets/passkey.js.
  const passkeyForm = express.urlencoded({ extended: false, limit: '32kb', parameterLimit: 5 });
  router.post(`${base}/mfa/passkey/register`, passkeyForm, (req, res) => passkeyPosted(deps, req, res, 'register'));
  router.post(`${base}/mfa/passkey/authenticate`, passkeyForm, (req, res) => passkeyPosted(deps, req, res, 'authenticate'));

  // The recovery codes were shown once; the sign-in goes on from `identified`.
  router.post(`${base}/mfa/done`, form, async (req, res) => {
    const context = await flowForPost(deps, req, res);
    if (!context) return;
    res.redirect(303, `${actionBase(context.target, context.flow)}/continue`);
  });

  return router;
}

async function mfaStepForPost(
  deps: InteractionDeps,
  req: Request,
  res: Response,
): Promise<{ target: InteractionTenant; flow: SignInFlow; userId: string; authenticators: AuthenticatorStore } | undefined> {
  const context = await flowForPost(deps, req, res);
  if (!context) return undefined;
  const { target, flow } = context;
  if (flow.step !== 'mfa' || !flow.mfaUserId || !deps.authenticators) {
    await renderStep(deps, target, req, res, flow, 400);
    return undefined;
  }
  return { target, flow, userId: flow.mfaUserId, authenticators: deps.authenticators };
}

/**
 * The credential a passkey ceremony made in the browser: a first passkey registered (recovery
 * codes shown when it is the first method) or a passkey used; either passes the second factor,
 * as a code would. Registration is for a user with no method yet.
 */
async function passkeyPosted(deps: InteractionDeps, req: Request, res: Response, ceremony: 'register' | 'authenticate'): Promise<void> {
  const context = await mfaStepForPost(deps, req, res);
  if (!context) return;
  const { target, flow, userId, authenticators } = context;
  const passkeys = deps.passkeys;
  const tenantId = target.tenant.id;
  if (!passkeys || (ceremony === 'register' && ((await authenticators.hasMethod(tenantId, userId)) || (await passkeys.hasPasskey(tenantId, userId))))) {
    await renderStep(deps, target, req, res, flow, 400);
    return;
  }
  let response: unknown;
  try {
    response = JSON.parse(typeof req.body.credential === 'string' ? req.body.credential : '');
  } catch {
    response = undefined;
  }
  const input = { tenantId, userId, flowId: flow.uid, response };
  const result = ceremony === 'register' ? await passkeys.verifyRegistration(input) : await passkeys.verifyAuthentication(input);
  const log = { requestId: requestIdOf(req), tenant: tenantId, user: userId };
  if (result.status === 'registered' || result.status === 'ok') {
    const passed = await deps.flows.mfaPassed(flow.uid, result.amr);
    deps.logger.info({ ...log, passkey: result.passkey.id }, ceremony === 'register' ? 'passkey registered' : 'passkey used');
    if (result.status === 'registered' && result.recoveryCodes) {
      res.type('html').send(recoveryCodesPage(pageContext(target, req, passed), { action: `${actionBase(target, passed)}/mfa/done`, codes: result.recoveryCodes }));
      return;
    }
    res.redirect(303, `${actionBase(target, passed)}/continue`);
    return;
  }
  // The library's reason helps an operator; quoted values (challenges, origins) are left out.
  const detail = 'detail' in result ? result.detail.replace(/"[^"]*"/g, '"…"').slice(0, 200) : undefined;
  deps.logger.info({ ...log, ceremony, status: result.status, detail }, 'passkey refused');
  const m = messagesFor();
  const passkeyError = result.status === 'expired' ? m.passkey_expired : result.status === 'already_registered' ? m.passkey_already_registered : m.passkey_failed;
  await mfaFailed(deps, target, req, res, flow, { passkeyError }, 400);
}

async function mfaFailed(deps: InteractionDeps, target: InteractionTenant, req: Request, res: Response, flow: SignInFlow, view: MfaView, status: number) {
  const user = flow.mfaUserId ? await deps.users.get(target.tenant.id, flow.mfaUserId) : undefined;
  await recordSignIn(deps.signInLog, target, req, flow, { identity: flow.identity, user, outcome: refused('mfa-failed') });
  await renderMfa(deps, target, req, res, flow, view, status);
}
