import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { Router, type Request, type Response } from 'express';
import * as client from 'openid-client';
import type { UpstreamIdentity } from '../connectors/types.ts';
import type { User, UserDirectory } from '../directory/users.ts';
import { requestIdOf } from '../http/express-app.ts';
import type { Clock } from '../shared/clock.ts';
import { sameEmail } from '../shared/email.ts';
import type { Logger } from '../shared/logger.ts';
import type { DocumentStore } from '../storage/ports.ts';
import { html } from '../ui/html.ts';
import { renderPage, type PageBranding } from '../ui/layout.ts';
import { format, messagesFor, type MessageKey } from '../ui/messages.ts';
import { objectIdentityOf } from './guest-resolution.ts';
import type { Decision, HomeOrganisation } from '../policy/index.ts';

/** The client id of Portico's own redemption "app": reserved, no tenant app may use it. */
export const REDEMPTION_CLIENT_ID = 'portico-redeem';
export const redemptionCallbackPath = (tenantId: string): string => `/${tenantId}/v2.0/redeem/callback`;

export type TicketProblem = 'expired' | 'revoked' | 'used' | 'unknown';

export interface PendingInvitation {
  readonly id: string;
  readonly userId: string;
  readonly invitedUserEmailAddress: string;
  readonly inviteRedirectUrl: string;
  readonly invitedBy?: { readonly displayName?: string };
}

/** What the sign-in flow needs of invitations (implemented by the invitation service). */
export interface RedemptionPort {
  checkTicket(tenantId: string, token: string): Promise<{ ok: true; invitation: PendingInvitation } | { ok: false; reason: TicketProblem }>;
  redeem(
    tenantId: string,
    token: string,
    userId: string,
    context: { correlationId: string; home?: HomeOrganisation },
  ): Promise<{ ok: true } | { ok: false; reason: RedemptionRefusal }>;
  /** Just-in-time redemption: the invited guest opened an app directly and accepted. */
  acceptWithoutTicket(tenantId: string, userId: string, context: { correlationId: string; home?: HomeOrganisation }): Promise<void>;
  /** Collaboration policy on redeeming now; undefined when none applies. */
  redemptionDecision(tenantId: string, user: User, home?: HomeOrganisation): Decision | undefined;
}

export type RedemptionRefusal = TicketProblem | 'other-user' | 'blocked_by_policy';

interface RedemptionStart {
  readonly tenantId: string;
  readonly ticket: string;
  readonly invitationId: string;
  readonly inviteRedirectUrl: string;
  readonly browserKeyHash: string;
  readonly codeVerifier: string;
}

const STARTS = 'redemption-starts';
const COOKIE = 'portico_redeem';
const sha256 = (value: string): string => createHash('sha256').update(value).digest('base64url');

export interface RedemptionDeps {
  readonly store: DocumentStore;
  readonly invitations: RedemptionPort;
  readonly users: UserDirectory;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly publicUrl: string;
  readonly ttlSeconds: number;
  readonly secureCookies: boolean;
  readonly tenantExists: (tenantId: string) => boolean;
  readonly branding: (tenantId: string) => PageBranding;
  readonly displayName: (tenantId: string) => string;
}

/**
 * Redeem links: `{tenant}/v2.0/redeem?ticket=…` starts a sign-in through the provider (as
 * Portico's own redemption app, with the invited address as login hint, so the redemption order
 * picks the IdP); the sign-in flow then checks the identity against the invitation and asks the
 * guest to accept; the callback lands on the invitation's redirect URL.
 */
export function redemptionRoutes(deps: RedemptionDeps): Router {
  const router = Router();

  router.get('/:tenant/v2.0/redeem', async (req, res) => {
    const tenantId = String(req.params['tenant']);
    if (!deps.tenantExists(tenantId)) {
      res.status(404).type('text').send('unknown organisation');
      return;
    }
    const ticket = typeof req.query['ticket'] === 'string' ? req.query['ticket'] : '';
    const check = ticket ? await deps.invitations.checkTicket(tenantId, ticket) : ({ ok: false, reason: 'unknown' } as const);
    if (!check.ok) {
      deps.logger.info({ requestId: requestIdOf(req), tenant: tenantId, reason: check.reason }, 'redeem link refused');
      ticketProblemPage(deps, req, res, tenantId, check.reason);
      return;
    }
    const browserKey = randomBytes(24).toString('base64url');
    const state = randomBytes(24).toString('base64url');
    const codeVerifier = client.randomPKCECodeVerifier();
    const start: RedemptionStart = {
      tenantId,
      ticket,
      invitationId: check.invitation.id,
      inviteRedirectUrl: check.invitation.inviteRedirectUrl,
      browserKeyHash: sha256(browserKey),
      codeVerifier,
    };
    await deps.store.put(STARTS, state, start, { ttlSeconds: deps.ttlSeconds });
    res.cookie(COOKIE, browserKey, {
      httpOnly: true,
      sameSite: 'lax',
      secure: deps.secureCookies,
      path: `/${tenantId}/v2.0/`,
      maxAge: deps.ttlSeconds * 1000,
    });
    const issuer = `${deps.publicUrl}/${tenantId}/v2.0`;
    const authorize = new URL(`${issuer}/auth`);
    authorize.search = new URLSearchParams({
      client_id: REDEMPTION_CLIENT_ID,
      response_type: 'code',
      scope: 'openid',
      redirect_uri: `${deps.publicUrl}${redemptionCallbackPath(tenantId)}`,
      state,
      code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: 'S256',
      login_hint: check.invitation.invitedUserEmailAddress,
      redemption: state,
      // A fresh sign-in: the invitation binds the identity presented now, not an old session's.
      prompt: 'login',
    }).toString();
    res.redirect(303, authorize.href);
  });

  router.get('/:tenant/v2.0/redeem/callback', async (req, res) => {
    const tenantId = String(req.params['tenant']);
    const state = typeof req.query['state'] === 'string' ? req.query['state'] : '';
    const start = state ? (await deps.store.get<RedemptionStart>(STARTS, state))?.value : undefined;
    if (!start || start.tenantId !== tenantId || !browserMatches(req, start)) {
      ticketProblemPage(deps, req, res, tenantId, 'unknown');
      return;
    }
    await deps.store.delete(STARTS, state);
    res.clearCookie(COOKIE, { path: `/${tenantId}/v2.0/` });
    if (typeof req.query['error'] === 'string') {
      // Declined (or refused): the invitation stays pending and can be redeemed later.
      const m = messagesFor();
      res.status(200).type('html').send(
        renderPage({
          title: m.declinedTitle,
          branding: deps.branding(tenantId),
          correlationId: requestIdOf(req),
          body: html`<h1 data-testid="declined">${m.declinedTitle}</h1><p>${format(m.declinedBody, { org: deps.displayName(tenantId) })}</p>`,
        }),
      );
      return;
    }
    // A page that moves on by itself rather than a redirect: this request ends a chain that began
    // with the consent form, and CSP form-action would stop a redirect to the invitation's URL.
    const m = messagesFor();
    const title = format(m.continueTo, { idp: new URL(start.inviteRedirectUrl).host });
    res.status(200).type('html').send(
      renderPage({
        title,
        branding: deps.branding(tenantId),
        head: html`<meta http-equiv="refresh" content="0;url=${start.inviteRedirectUrl}">`,
        body: html`<h1>${title}</h1><p><a href="${start.inviteRedirectUrl}" data-testid="continue">${title}</a></p>`,
      }),
    );
  });

  return router;
}

function browserMatches(req: Request, start: RedemptionStart): boolean {
  const key = readCookie(req, COOKIE);
  if (!key) return false;
  const expected = Buffer.from(start.browserKeyHash);
  const actual = Buffer.from(sha256(key));
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

function readCookie(req: Request, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [key, ...rest] = part.trim().split('=');
    if (key === name) return decodeURIComponent(rest.join('='));
  }
  return undefined;
}

function ticketProblemPage(deps: RedemptionDeps, req: Request, res: Response, tenantId: string, reason: TicketProblem): void {
  const m = messagesFor();
  const body = m[`ticket_${reason}` as MessageKey];
  res.status(reason === 'unknown' ? 404 : 410).type('html').send(
    renderPage({
      title: m.ticketProblemTitle,
      branding: deps.tenantExists(tenantId) ? deps.branding(tenantId) : undefined,
      correlationId: requestIdOf(req),
      body: html`<h1 data-testid="ticket-${reason}">${m.ticketProblemTitle}</h1><p>${format(body, { org: deps.tenantExists(tenantId) ? deps.displayName(tenantId) : '' })}</p>`,
    }),
  );
}

export type RedemptionCheck =
  | { readonly outcome: 'consent'; readonly user: User }
  | {
      readonly outcome: 'refused';
      readonly page: { readonly title: MessageKey; readonly body: MessageKey; readonly values: Record<string, string>; readonly testId: string };
      /** Set when collaboration policy refused: its trace goes to the sign-in log. */
      readonly decision?: Decision;
      /** The invited user the policy refused, so the sign-in log entry names them. */
      readonly user?: User;
    };

/**
 * At the end of a redemption sign-in: the identity must present a verified email equal to the
 * invited address (case-insensitive) and must not belong to another user; otherwise nothing is
 * linked. Linking happens when the guest accepts (`acceptRedemption`).
 */
export async function checkRedemptionIdentity(
  deps: Pick<RedemptionDeps, 'store' | 'invitations' | 'users'>,
  input: { tenantId: string; redemption: string; identity: UpstreamIdentity; home: HomeOrganisation },
): Promise<RedemptionCheck> {
  const start = (await deps.store.get<RedemptionStart>(STARTS, input.redemption))?.value;
  if (!start || start.tenantId !== input.tenantId) {
    return { outcome: 'refused', page: { title: 'ticketProblemTitle', body: 'ticket_unknown', values: {}, testId: 'ticket-unknown' } };
  }
  const check = await deps.invitations.checkTicket(input.tenantId, start.ticket);
  if (!check.ok) {
    return { outcome: 'refused', page: { title: 'ticketProblemTitle', body: `ticket_${check.reason}`, values: {}, testId: `ticket-${check.reason}` } };
  }
  const invited = check.invitation.invitedUserEmailAddress;
  const { identity } = input;
  if (!identity.email || !identity.emailVerified || !sameEmail(identity.email, invited)) {
    return { outcome: 'refused', page: { title: 'wrongIdentityTitle', body: 'wrongIdentityBody', values: { invited }, testId: 'wrong-identity' } };
  }
  const owner = await deps.users.findByIdentity(input.tenantId, objectIdentityOf(identity));
  if (owner && owner.id !== check.invitation.userId) {
    return { outcome: 'refused', page: { title: 'wrongIdentityTitle', body: 'identityTakenBody', values: { invited }, testId: 'identity-taken' } };
  }
  const user = await deps.users.get(input.tenantId, check.invitation.userId);
  if (!user) return { outcome: 'refused', page: { title: 'ticketProblemTitle', body: 'ticket_revoked', values: {}, testId: 'ticket-revoked' } };
  const decision = deps.invitations.redemptionDecision(input.tenantId, user, input.home);
  if (decision?.effect === 'deny') {
    return { outcome: 'refused', page: { title: 'policyBlockedTitle', body: 'policyBlockedBody', values: {}, testId: 'policy-blocked' }, decision, user };
  }
  return { outcome: 'consent', user };
}

/** The guest accepted: use the ticket up (exactly once), then link the identity. */
export async function acceptRedemption(
  deps: Pick<RedemptionDeps, 'store' | 'invitations' | 'users'>,
  input: { tenantId: string; redemption: string; userId: string; identity: UpstreamIdentity; home: HomeOrganisation; correlationId: string },
): Promise<{ ok: true } | { ok: false; reason: RedemptionRefusal }> {
  const start = (await deps.store.get<RedemptionStart>(STARTS, input.redemption))?.value;
  if (!start) return { ok: false, reason: 'unknown' };
  const redeemed = await deps.invitations.redeem(input.tenantId, start.ticket, input.userId, { correlationId: input.correlationId, home: input.home });
  if (!redeemed.ok) return redeemed;
  const existing = await deps.users.findByIdentity(input.tenantId, objectIdentityOf(input.identity));
  if (!existing) await deps.users.linkIdentity(input.tenantId, input.userId, objectIdentityOf(input.identity));
  return { ok: true };
}

export interface ConsentView {
  readonly org: string;
  readonly inviter?: string | undefined;
  readonly privacyStatementUrl?: string | undefined;
  readonly termsOfUseUrl?: string | undefined;
}

/** The consent page body: who invites, their privacy statement and terms, Accept or Decline. */
export function consentBody(view: ConsentView, actionBase: string, csrf: string) {
  const m = messagesFor();
  return html`<h1 data-testid="consent">${format(m.consentTitle, { org: view.org })}</h1>
<p>${view.inviter ? format(m.consentInvitedBy, { org: view.org, inviter: view.inviter }) : format(m.consentIntro, { org: view.org })}</p>
<p>${format(m.consentData, { org: view.org })}</p>
${view.privacyStatementUrl ? html`<p><a href="${view.privacyStatementUrl}" target="_blank" rel="noopener noreferrer">${format(m.privacyStatement, { org: view.org })}</a></p>` : ''}
${view.termsOfUseUrl ? html`<p><a href="${view.termsOfUseUrl}" target="_blank" rel="noopener noreferrer">${format(m.termsOfUse, { org: view.org })}</a></p>` : ''}
<div class="actions">
<form method="post" action="${actionBase}/consent"><input type="hidden" name="csrf" value="${csrf}"><button type="submit" data-testid="accept">${m.accept}</button></form>
<form method="post" action="${actionBase}/decline"><input type="hidden" name="csrf" value="${csrf}"><button type="submit" class="secondary" data-testid="decline">${m.decline}</button></form>
</div>`;
}
