/**
 * What every step of the sign-in flow's HTTP side shares: its dependencies, the tenant it runs
 * for, the flow cookie that ties a flow to one browser, CSRF-checked form posts, and the context
 * and error pages every step renders.
 */
import type { Request, Response } from 'express';
import type Provider from 'oidc-provider';
import { errors } from 'oidc-provider';
import type { TenantConfig } from '../config/types.ts';
import type { SignInLog } from '../directory/sign-in-log.ts';
import type { UserDirectory } from '../directory/users.ts';
import { requestIdOf } from '../http/express-app.ts';
import type { AuthenticatorStore } from '../mfa/authenticator-store.ts';
import type { PasskeyStore } from '../mfa/passkeys.ts';
import type { Clock } from '../shared/clock.ts';
import type { Logger } from '../shared/logger.ts';
import type { DocumentStore } from '../storage/ports.ts';
import { html } from '../ui/html.ts';
import { renderPage } from '../ui/layout.ts';
import { format, messagesFor, type MessageKey } from '../ui/messages.ts';
import { messagePage, type SignInPageContext } from '../ui/sign-in-pages.ts';
import type { AccessPolicyDeps } from './access-policy.ts';
import { csrfMatches, type FlowStore, type SignInFlow } from './flow.ts';
import type { RedemptionPort } from './redemption.ts';
import type { TenantSignIn } from './tenant-sign-in.ts';

export interface InteractionTenant {
  readonly provider: Provider;
  readonly tenant: TenantConfig;
  readonly csp: string;
  readonly signIn: TenantSignIn;
}

export interface InteractionDeps {
  readonly tenantFor: (tenantId: string) => InteractionTenant | undefined;
  readonly flows: FlowStore;
  readonly users: UserDirectory;
  readonly logger: Logger;
  readonly secureCookies: boolean;
  /** Seconds a sign-in may take; the flow cookie lives as long. */
  readonly flowSeconds: number;
  /**
   * A sign-in step that takes a user id and signs that user in with no credential. Only the test
   * harness passes this (startPortico({ testLogin })); the server entry point never does, and no
   * config key or environment variable can turn it on.
   */
  readonly testLogin?: { readonly users: UserDirectory } | undefined;
  /** Invitations: redeem links and the consent an invited guest gives before joining. */
  readonly redemption?: {
    readonly invitations: RedemptionPort;
    readonly store: DocumentStore;
    readonly consentLinks: (tenantId: string) => { privacyStatementUrl?: string | undefined; termsOfUseUrl?: string | undefined };
    /** Who invited the user (the latest pending invitation's inviter), named on the consent page. */
    readonly inviterOf?: (tenantId: string, userId: string) => Promise<string | undefined>;
  };
  /** Where every sign-in that reaches a decision is recorded (`auditLogs/signIns`). */
  readonly signInLog?: SignInLog | undefined;
  /** Who is assigned to which app: apps with `assignmentRequired` sign in no one else. */
  readonly assignments?: { isAssigned(tenantId: string, userId: string, appId: string): Promise<boolean> } | undefined;
  /** Collaboration policy: cross-tenant access, conditional access, trust in partners' claims. */
  readonly access?: AccessPolicyDeps | undefined;
  /** Portico's own second factor, for conditional access that wants MFA the upstream did not give. */
  readonly authenticators?: AuthenticatorStore | undefined;
  /** Passkeys (WebAuthn) as a second factor beside the authenticator app; needs `authenticators` (recovery codes). */
  readonly passkeys?: PasskeyStore | undefined;
  /** The time of sign-ins (`auth_time`), which sign-in frequency is measured against. */
  readonly clock?: Clock | undefined;
}

const FLOW_COOKIE = 'portico_flow';

export const t = (target: InteractionTenant, key: MessageKey, values: Record<string, string> = {}): string =>
  format(messagesFor()[key], { org: target.tenant.displayName, ...values });

export const actionBase = (target: InteractionTenant, flow: SignInFlow): string => `/${target.tenant.id}/v2.0/interaction/${flow.uid}`;

export function pageContext(target: InteractionTenant, req: Request, flow: SignInFlow): SignInPageContext {
  return {
    messages: messagesFor(),
    org: target.tenant.displayName,
    actionBase: actionBase(target, flow),
    csrf: flow.csrf,
    branding: target.signIn.brandingFor(flow.partnerId),
    correlationId: requestIdOf(req),
  };
}

export const clientIp = (req: Request): string => req.ip ?? req.socket.remoteAddress ?? 'unknown';

/**
 * The flow cookie ties each sign-in flow to the browser that began it: `uid.key` entries, one per
 * flow in progress, so sign-ins in several tabs (or apps) of one browser each keep their own.
 * Oldest entries go first beyond a few.
 */
const FLOW_ENTRIES = 5;
const ENTRY_SEPARATOR = '~';

type FlowEntry = { readonly uid: string; readonly key: string };

function writeFlowCookie(deps: InteractionDeps, res: Response, tenantId: string, entries: readonly FlowEntry[]): void {
  const options = { httpOnly: true, sameSite: 'lax' as const, secure: deps.secureCookies, path: `/${tenantId}/v2.0/` };
  if (entries.length === 0) {
    res.clearCookie(FLOW_COOKIE, options);
    return;
  }
  const value = entries.map(({ uid, key }) => `${uid}.${key}`).join(ENTRY_SEPARATOR);
  res.cookie(FLOW_COOKIE, value, { ...options, maxAge: deps.flowSeconds * 1000 });
}

export function setFlowCookie(deps: InteractionDeps, req: Request, res: Response, tenantId: string, uid: string, key: string): void {
  const others = readFlowCookie(req).filter((entry) => entry.uid !== uid);
  writeFlowCookie(deps, res, tenantId, [...others, { uid, key }].slice(-FLOW_ENTRIES));
}

/** Forgets one flow (it ended); the browser's other sign-ins in progress keep theirs. */
export function clearFlowCookie(deps: InteractionDeps, req: Request, res: Response, tenantId: string, uid: string): void {
  writeFlowCookie(deps, res, tenantId, readFlowCookie(req).filter((entry) => entry.uid !== uid));
}

/** The browser's flows in progress, oldest first. */
export function readFlowCookie(req: Request): FlowEntry[] {
  const header = req.headers.cookie ?? '';
  for (const part of header.split(';')) {
    const [name, ...rest] = part.trim().split('=');
    if (name !== FLOW_COOKIE) continue;
    return decodeURIComponent(rest.join('='))
      .split(ENTRY_SEPARATOR)
      .flatMap((entry) => {
        const dot = entry.indexOf('.');
        return dot > 0 ? [{ uid: entry.slice(0, dot), key: entry.slice(dot + 1) }] : [];
      });
  }
  return [];
}

export const browserKeyFor = (req: Request, uid: string): string | undefined => readFlowCookie(req).find((entry) => entry.uid === uid)?.key;

/** The flow of a form post, after the browser and CSRF checks; answers the request itself otherwise. */
export async function flowForPost(deps: InteractionDeps, req: Request, res: Response): Promise<{ target: InteractionTenant; flow: SignInFlow } | undefined> {
  const target = tenantOr404(deps, req, res);
  if (!target) return undefined;
  const uid = String(req.params['uid']);
  const flow = await deps.flows.getForBrowser(uid, browserKeyFor(req, uid));
  if (!flow || flow.tenantId !== target.tenant.id) {
    expired(res, req, target, 400);
    return undefined;
  }
  if (!csrfMatches(flow, req.body?.csrf)) {
    deps.logger.warn({ requestId: requestIdOf(req), tenant: target.tenant.id }, 'sign-in form without a valid CSRF token');
    res.status(403).type('html').send(
      messagePage(pageContext(target, req, flow), { title: t(target, 'errorTitle'), body: t(target, 'errorBody'), testId: 'csrf' }),
    );
    return undefined;
  }
  return { target, flow };
}

export function tenantOr404(deps: InteractionDeps, req: Request, res: Response): InteractionTenant | undefined {
  const target = deps.tenantFor(String(req.params['tenant']));
  if (!target) {
    res.status(404).type('html').send(
      renderPage({ title: 'Not found', correlationId: requestIdOf(req), body: html`<h1>Unknown organisation</h1><p>There is no such organisation here.</p>` }),
    );
    return undefined;
  }
  res.setHeader('Content-Security-Policy', target.csp);
  return target;
}

export function expired(res: Response, req: Request, target: InteractionTenant, status: number): void {
  res.status(status).type('html').send(
    renderPage({
      title: t(target, 'expiredTitle'),
      correlationId: requestIdOf(req),
      branding: target.signIn.brandingFor(undefined),
      body: html`<h1 data-testid="expired">${t(target, 'expiredTitle')}</h1><p>${t(target, 'expiredBody')}</p>`,
    }),
  );
}

export async function interactionOrExpired(target: InteractionTenant, req: Request, res: Response) {
  try {
    const details = await target.provider.interactionDetails(req, res);
    if (details.uid !== req.params['uid']) throw new errors.SessionNotFound('interaction mismatch');
    return details;
  } catch (error) {
    if (!(error instanceof errors.SessionNotFound)) throw error;
    expired(res, req, target, 400);
    return undefined;
  }
}
