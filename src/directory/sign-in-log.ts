/**
 * The sign-in log: every interactive sign-in that reached a decision (signed in, or refused and
 * why), in Microsoft Graph's signIn shape so scripts that read Entra's `auditLogs/signIns` read
 * Portico's. Entries are built from named fields only (ids, names, the upstream's idp, a stable
 * failure code), never from form posts or upstream responses: a passcode, code, token or ticket
 * has no way in. An email address appears only as the userPrincipalName of a known user or as the
 * address the guest typed.
 *
 * Entries expire through the store's TTL after the tenant's directory audit retention
 * (`audit.retentionDays`): one setting for both logs.
 *
 * `status.errorCode`: Entra's code where Entra has one with the same meaning (scripts that alert
 * on them keep working), Portico's own from 1000 otherwise.
 *
 * | errorCode | failure               | meaning                                                          |
 * |-----------|-----------------------|------------------------------------------------------------------|
 * | 0         | (success)             | signed in                                                        |
 * | 90072     | not-invited           | the identity is no user of the tenant and self-service is off    |
 * | 50057     | disabled              | the user's account is disabled                                   |
 * | 50105     | not-assigned          | the user is not assigned to the app                              |
 * | 65004     | declined              | the invited guest declined the invitation                        |
 * | 1001      | no-verified-email     | self-service sign-up needs a verified email the IdP did not give |
 * | 1002      | other-identity        | the invited guest already redeemed with another identity         |
 * | 1100      | redemption-refused    | redemption: refused for a reason without a code of its own       |
 * | 1101      | ticket-unknown        | redemption: the invitation link is not valid                     |
 * | 1102      | ticket-expired        | redemption: the invitation link has expired                      |
 * | 1103      | ticket-revoked        | redemption: the link was revoked or replaced                     |
 * | 1104      | ticket-used           | redemption: the link was already used                            |
 * | 1105      | wrong-identity        | redemption: the identity's verified email is not the invited one |
 * | 1106      | identity-taken        | redemption: the identity belongs to another user                 |
 * | 1107      | ticket-other-user     | redemption: the invitation was issued to another user            |
 * | 1201      | upstream_denied       | the IdP answered with an error (cancelled, access denied …)      |
 * | 1202      | upstream_unavailable  | the IdP could not be reached in time                             |
 * | 1203      | invalid_response      | the IdP's answer failed validation (signature, state, replay …)  |
 * | 1204      | incomplete_identity   | the IdP's answer lacks what Portico needs (subject, email …)     |
 * | 1211      | invalid_code          | a wrong email passcode                                           |
 * | 1212      | code_expired          | the email passcode expired                                       |
 * | 1213      | too_many_attempts     | too many wrong passcodes: the code is void                       |
 * | 1214      | throttled             | too many passcode attempts in a short time                       |
 * | 53003     | policy-blocked        | collaboration policy refused (policyTrace says which rule)       |
 * | 53000     | device-required       | conditional access wants a device state no trusted claim shows   |
 * | 1301      | mfa-failed            | Portico's second factor was wrong, replayed or throttled         |
 */
import { randomUUID } from 'node:crypto';
import type { Clock } from '../shared/clock.ts';
import type { DocumentStore } from '../storage/ports.ts';
import { TenantLog } from './tenant-log.ts';

export const SIGN_IN_FAILURES = {
  'not-invited': { errorCode: 90072, failureReason: 'The account from the identity provider does not exist in the organisation and was not invited.' },
  disabled: { errorCode: 50057, failureReason: 'The user account is disabled.' },
  'not-assigned': { errorCode: 50105, failureReason: 'The user is not assigned to the application.' },
  declined: { errorCode: 65004, failureReason: 'The invited guest declined the invitation.' },
  'no-verified-email': { errorCode: 1001, failureReason: 'The identity provider gave no verified email, which self-service sign-up needs.' },
  'other-identity': { errorCode: 1002, failureReason: 'The invited guest already signs in with another identity.' },
  'redemption-refused': { errorCode: 1100, failureReason: 'The invitation could not be redeemed with this identity.' },
  'ticket-unknown': { errorCode: 1101, failureReason: 'The invitation link is not valid.' },
  'ticket-expired': { errorCode: 1102, failureReason: 'The invitation link has expired.' },
  'ticket-revoked': { errorCode: 1103, failureReason: 'The invitation link was revoked or replaced by a newer one.' },
  'ticket-used': { errorCode: 1104, failureReason: 'The invitation link has already been used.' },
  'wrong-identity': { errorCode: 1105, failureReason: "The identity's verified email is not the invited address." },
  'identity-taken': { errorCode: 1106, failureReason: 'The identity already belongs to another user of the organisation.' },
  'ticket-other-user': { errorCode: 1107, failureReason: 'The invitation was issued to another user.' },
  upstream_denied: { errorCode: 1201, failureReason: 'The identity provider answered with an error.' },
  upstream_unavailable: { errorCode: 1202, failureReason: 'The identity provider could not be reached in time.' },
  invalid_response: { errorCode: 1203, failureReason: "The identity provider's answer failed validation." },
  incomplete_identity: { errorCode: 1204, failureReason: "The identity provider's answer lacks a subject or another required claim." },
  invalid_code: { errorCode: 1211, failureReason: 'The email passcode was wrong.' },
  code_expired: { errorCode: 1212, failureReason: 'The email passcode had expired.' },
  too_many_attempts: { errorCode: 1213, failureReason: 'Too many wrong email passcodes.' },
  throttled: { errorCode: 1214, failureReason: 'Too many passcode attempts in a short time.' },
  'policy-blocked': { errorCode: 53003, failureReason: "The organisation's collaboration policy does not allow this sign-in." },
  'device-required': { errorCode: 53000, failureReason: 'Conditional access requires a compliant or hybrid-joined device, and no trusted device claim was presented.' },
  'mfa-failed': { errorCode: 1301, failureReason: 'The second factor was wrong, replayed or throttled.' },
} as const satisfies Record<string, { errorCode: number; failureReason: string }>;

export type SignInFailure = keyof typeof SIGN_IN_FAILURES;

export const isSignInFailure = (value: string): value is SignInFailure => Object.hasOwn(SIGN_IN_FAILURES, value);

/** One step of the policy evaluation behind the decision (filled by the policy engine). */
export interface PolicyTraceEntry {
  readonly layer: string;
  readonly rule: string;
  readonly matched: boolean;
  readonly effect: string;
  readonly detail?: string;
}

/** One authentication method used in the sign-in (for MFA). */
export interface AuthenticationDetail {
  readonly authenticationMethod: string;
  readonly succeeded: boolean;
  /** Who performed it: the upstream IdP or Portico. */
  readonly source: string;
}

/** Graph's signIn, plus Portico's `upstreamIdentityProvider`, `policyTrace` and `authenticationDetails`. */
export interface SignIn {
  readonly id: string;
  readonly createdDateTime: string;
  /** The user's object id; null when the identity matched no user. */
  readonly userId: string | null;
  /** The user's UPN, or the address the guest typed when no user matched. */
  readonly userPrincipalName: string | null;
  readonly userDisplayName: string | null;
  /** The app's client id. */
  readonly appId: string;
  readonly appDisplayName: string | null;
  readonly ipAddress: string;
  /** The request id of the request that decided, shown on the page the person saw. */
  readonly correlationId: string;
  readonly status: {
    readonly errorCode: number;
    readonly failureReason: string | null;
    readonly additionalDetails: string | null;
  };
  readonly conditionalAccessStatus: 'success' | 'failure' | 'notApplied';
  readonly isInteractive: true;
  readonly resourceTenantId: string;
  /** The user's home organisation where known; the tenant itself for members. */
  readonly homeTenantId: string | null;
  readonly crossTenantAccessType: 'b2bCollaboration' | 'none';
  readonly userType: 'guest' | 'member';
  readonly authenticationRequirement: 'singleFactorAuthentication' | 'multiFactorAuthentication';
  readonly upstreamIdentityProvider: {
    readonly connectorId: string;
    /** The `idp` claim; null when the upstream failed before naming one. */
    readonly idp: string | null;
    readonly kind: string;
  } | null;
  readonly policyTrace?: readonly PolicyTraceEntry[];
  readonly authenticationDetails?: readonly AuthenticationDetail[];
}

/** What the caller knows; the log adds the id and the time. */
export type NewSignIn = Omit<SignIn, 'id' | 'createdDateTime'>;

/** The `$filter` subset the API supports; every given clause must hold. */
export interface SignInFilter {
  readonly userId?: string;
  readonly appId?: string;
  readonly errorCode?: number;
  /** ISO 8601 bounds, inclusive. */
  readonly createdFrom?: string;
  readonly createdUntil?: string;
}

const COLLECTION = 'sign-ins';

/** Whether `entry` meets every clause; ids compare case-insensitively, as Entra's GUIDs do. */
export function matchesSignInFilter(entry: SignIn, filter: SignInFilter): boolean {
  const same = (a: string | null, b: string | undefined) => b === undefined || (a ?? '').toLowerCase() === b.toLowerCase();
  const created = Date.parse(entry.createdDateTime);
  return (
    same(entry.userId, filter.userId) &&
    same(entry.appId, filter.appId) &&
    (filter.errorCode === undefined || entry.status.errorCode === filter.errorCode) &&
    (filter.createdFrom === undefined || created >= Date.parse(filter.createdFrom)) &&
    (filter.createdUntil === undefined || created <= Date.parse(filter.createdUntil))
  );
}

export class SignInLog {
  readonly #log: TenantLog<SignIn>;
  readonly #clock: Clock;

  constructor(options: { store: DocumentStore; clock: Clock; retentionDays: (tenantId: string) => number }) {
    this.#log = new TenantLog({ store: options.store, collection: COLLECTION, retentionDays: options.retentionDays });
    this.#clock = options.clock;
  }

  async record(tenantId: string, entry: NewSignIn): Promise<SignIn> {
    const createdDateTime = new Date(this.#clock.now()).toISOString();
    const signIn: SignIn = { id: randomUUID(), createdDateTime, ...entry };
    await this.#log.append(tenantId, signIn, createdDateTime);
    return signIn;
  }

  /** A page of the tenant's entries within retention that match `filter`, newest first; `after` is the previous page's `next`. */
  async list(
    tenantId: string,
    page: { readonly top: number; readonly after?: string | undefined; readonly filter?: SignInFilter },
  ): Promise<{ entries: SignIn[]; next?: string }> {
    const { filter } = page;
    return this.#log.page(tenantId, { top: page.top, after: page.after, ...(filter ? { matches: (entry: SignIn) => matchesSignInFilter(entry, filter) } : {}) });
  }

  async get(tenantId: string, id: string): Promise<SignIn | undefined> {
    return this.#log.get(tenantId, id);
  }
}
