import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { ConnectorState, UpstreamIdentity } from '../connectors/types.ts';
import type { Clock } from '../shared/clock.ts';
import { PorticoError } from '../shared/errors.ts';
import type { DocumentStore } from '../storage/ports.ts';

/**
 * The sign-in flow between the provider's authorization request and its resume, kept in the
 * store (not in memory) so it survives a restart and works when the upstream sends the browser
 * back to another instance. Steps change only through the named transitions below; anything else
 * is an IllegalStepError.
 */
export type FlowStep =
  /** Waiting for the guest's email (identifier-first). */
  | 'identify'
  /** Several IdPs apply: waiting for the guest to pick one. */
  | 'choose'
  /** Sent to an upstream IdP, waiting for it to send the browser back. */
  | 'upstream'
  /** A passcode was mailed: waiting for it. */
  | 'code'
  /** The upstream identified the guest: waiting to be mapped to a user and resumed. */
  | 'identified'
  /** An invited guest is signed in upstream: waiting for them to accept the invitation. */
  | 'consent'
  /** Conditional access wants MFA that the upstream did not give (or is not trusted for): Portico's own second factor. */
  | 'mfa';

export interface SignInFlow {
  readonly uid: string;
  readonly tenantId: string;
  readonly clientId: string;
  readonly step: FlowStep;
  /** SHA-256 of the secret in the browser's flow cookie: the flow belongs to that browser. */
  readonly browserKeyHash: string;
  /** Anti-CSRF token every form of the flow carries. */
  readonly csrf: string;
  readonly email?: string;
  /** The partner organisation when known: its branding is shown from then on. */
  readonly partnerId?: string;
  readonly candidates?: readonly string[];
  readonly connectorId?: string;
  readonly connectorState?: ConnectorState;
  readonly identity?: UpstreamIdentity;
  /** The user who is asked to accept an invitation (step `consent`). */
  readonly consentUserId?: string;
  /** The user who must pass Portico's second factor (step `mfa`). */
  readonly mfaUserId?: string;
  /** Portico's second factor was passed in this flow: it counts as MFA from then on. */
  readonly porticoMfa?: boolean;
  /** How (RFC 8176): a one-time code (`otp`, the default), or a passkey kept on its device (`hwk`) or synced (`swk`). */
  readonly porticoMfaMethod?: PorticoMfaMethod;
  readonly hints: {
    readonly loginHint?: string;
    readonly domainHint?: string;
    readonly idp?: string;
    /** The redemption this sign-in belongs to (a redeem link was opened). */
    readonly redemption?: string;
    /** The app asked for MFA (`acr_values` or an essential `acr` claim): step-up. */
    readonly mfa?: boolean;
  };
  readonly createdAt: number;
}

export type PorticoMfaMethod = 'otp' | 'hwk' | 'swk';

export class IllegalStepError extends PorticoError {
  constructor(from: FlowStep, transition: string) {
    super('illegal_step', `sign-in step '${transition}' is not allowed while the flow is at '${from}'`, { status: 400 });
  }
}

const COLLECTION = 'signin-flows';

const sha256 = (value: string): string => createHash('sha256').update(value).digest('base64url');

/** Which steps each transition may start from. */
const ALLOWED: Record<string, readonly FlowStep[]> = {
  identify: ['identify', 'choose', 'upstream', 'code'],
  offer: ['identify', 'choose', 'upstream', 'code'],
  startUpstream: ['identify', 'choose', 'upstream', 'code'],
  awaitCode: ['identify', 'choose', 'upstream', 'code'],
  identified: ['upstream', 'code'],
  askConsent: ['identified'],
  requireMfa: ['identified'],
  mfaPassed: ['mfa'],
  restart: ['identify', 'choose', 'upstream', 'code', 'identified', 'consent', 'mfa'],
};

export class FlowStore {
  readonly #store: DocumentStore;
  readonly #clock: Clock;
  readonly #ttlSeconds: number;

  constructor(options: { store: DocumentStore; clock: Clock; ttlSeconds: number }) {
    this.#store = options.store;
    this.#clock = options.clock;
    this.#ttlSeconds = options.ttlSeconds;
  }

  /** A new flow and the browser key to put in the flow cookie. */
  async begin(input: { uid: string; tenantId: string; clientId: string; hints: SignInFlow['hints'] }): Promise<{ flow: SignInFlow; browserKey: string }> {
    const browserKey = randomBytes(24).toString('base64url');
    const flow: SignInFlow = {
      uid: input.uid,
      tenantId: input.tenantId,
      clientId: input.clientId,
      step: 'identify',
      browserKeyHash: sha256(browserKey),
      csrf: randomBytes(24).toString('base64url'),
      hints: input.hints,
      createdAt: this.#clock.now(),
    };
    await this.#store.put(COLLECTION, flow.uid, flow, { ttlSeconds: this.#ttlSeconds });
    return { flow, browserKey };
  }

  async get(uid: string): Promise<SignInFlow | undefined> {
    return (await this.#store.get<SignInFlow>(COLLECTION, uid))?.value;
  }

  /** The flow, only when `browserKey` is the one this flow was begun with. */
  async getForBrowser(uid: string, browserKey: string | undefined): Promise<SignInFlow | undefined> {
    if (!browserKey) return undefined;
    const flow = await this.get(uid);
    return flow && belongsTo(flow, browserKey) ? flow : undefined;
  }

  identify(uid: string, change: { email: string; partnerId?: string | undefined }): Promise<SignInFlow> {
    return this.#transition(uid, 'identify', (flow) => ({
      ...withoutUpstream(flow),
      step: 'identify',
      email: change.email,
      ...(change.partnerId ? { partnerId: change.partnerId } : {}),
    }));
  }

  offer(uid: string, candidates: readonly string[]): Promise<SignInFlow> {
    return this.#transition(uid, 'offer', (flow) => ({ ...withoutUpstream(flow), step: 'choose', candidates }));
  }

  startUpstream(uid: string, change: { connectorId: string; state: ConnectorState; partnerId?: string | undefined }): Promise<SignInFlow> {
    return this.#transition(uid, 'startUpstream', (flow) => ({
      ...withoutUpstream(flow),
      step: 'upstream',
      connectorId: change.connectorId,
      connectorState: change.state,
      ...(change.partnerId ? { partnerId: change.partnerId } : {}),
    }));
  }

  awaitCode(uid: string, change: { connectorId: string; email: string }): Promise<SignInFlow> {
    return this.#transition(uid, 'awaitCode', (flow) => ({
      ...withoutUpstream(flow),
      step: 'code',
      connectorId: change.connectorId,
      email: change.email,
    }));
  }

  identified(uid: string, identity: UpstreamIdentity): Promise<SignInFlow> {
    return this.#transition(uid, 'identified', (flow) => {
      if (flow.connectorId !== identity.connectorId) throw new IllegalStepError(flow.step, 'identified by another IdP');
      const { connectorState: _spent, ...rest } = flow;
      return { ...rest, step: 'identified', identity };
    });
  }

  askConsent(uid: string, userId: string): Promise<SignInFlow> {
    return this.#transition(uid, 'askConsent', (flow) => ({ ...flow, step: 'consent', consentUserId: userId }));
  }

  requireMfa(uid: string, userId: string): Promise<SignInFlow> {
    return this.#transition(uid, 'requireMfa', (flow) => ({ ...flow, step: 'mfa', mfaUserId: userId }));
  }

  /** The second factor was passed: back to `identified`, where the sign-in is decided again, now with MFA. */
  mfaPassed(uid: string, method: PorticoMfaMethod = 'otp'): Promise<SignInFlow> {
    return this.#transition(uid, 'mfaPassed', (flow) => {
      const { mfaUserId: _user, ...rest } = flow;
      return { ...rest, step: 'identified', porticoMfa: true, ...(method === 'otp' ? {} : { porticoMfaMethod: method }) };
    });
  }

  /** "Try another way": back to the email step, forgetting the upstream attempt. */
  restart(uid: string): Promise<SignInFlow> {
    return this.#transition(uid, 'restart', (flow) => {
      const { identity: _identity, candidates: _candidates, consentUserId: _consent, mfaUserId: _mfa, porticoMfa: _passed, porticoMfaMethod: _how, ...rest } = withoutUpstream(flow);
      return { ...rest, step: 'identify' };
    });
  }

  async end(uid: string): Promise<void> {
    await this.#store.delete(COLLECTION, uid);
  }

  #transition(uid: string, name: string, next: (flow: SignInFlow) => SignInFlow): Promise<SignInFlow> {
    return this.#store.update<SignInFlow>(COLLECTION, uid, (flow) => {
      if (!ALLOWED[name]!.includes(flow.step)) throw new IllegalStepError(flow.step, name);
      return next(flow);
    });
  }
}

function withoutUpstream(flow: SignInFlow): SignInFlow {
  const { connectorId: _id, connectorState: _state, ...rest } = flow;
  return rest;
}

function belongsTo(flow: SignInFlow, browserKey: string): boolean {
  const expected = Buffer.from(flow.browserKeyHash);
  const actual = Buffer.from(sha256(browserKey));
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

export function csrfMatches(flow: SignInFlow, presented: unknown): boolean {
  if (typeof presented !== 'string') return false;
  const expected = Buffer.from(flow.csrf);
  const actual = Buffer.from(presented);
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}
