/**
 * A user's second factor: one authenticator app (TOTP) and its recovery codes, per tenant and
 * user, on the document store.
 *
 * Everything of one user lives in one record, so each change (a code accepted, a recovery code
 * used, the method deleted) is one atomic `update` or `delete`: two requests racing with the same
 * code see exactly one success. Secrets are sealed at rest when `keys.encryptionSecret` is set.
 *
 * Wrong codes are limited per user (default 5 per 5 minutes). A code's attempt is reserved before
 * it is compared and handed back when the code turns out right, so however many guesses race, at
 * most the limit of them are ever compared, and correct codes never count against the user.
 */
import { randomUUID } from 'node:crypto';
import type { Clock } from '../shared/clock.ts';
import { PorticoError } from '../shared/errors.ts';
import { sealerFor, type Sealed, type Sealer } from '../shared/sealing.ts';
import { AlreadyExistsError, NotFoundError } from '../storage/errors.ts';
import type { DocumentStore } from '../storage/ports.ts';
import { generateRecoveryCodes, hashRecoveryCode, matchRecoveryCode, normaliseRecoveryCode } from './recovery-codes.ts';
import { cleanTotpCode, generateTotpSecret, verifyTotp } from './totp.ts';

const AUTHENTICATORS = 'mfa-authenticators';
const ENROLMENTS = 'mfa-enrolments';
const FAILURES = 'mfa-failures';
const SEALING_PURPOSE = 'mfa-totp/v1';

export const ENROLMENT_TTL_SECONDS = 600;

/** A method as the management API lists it: never the secret. */
export interface AuthenticatorMethod {
  readonly kind: 'softwareOath';
  readonly id: string;
  readonly createdDateTime: string;
}

export type Throttled = { readonly status: 'throttled'; readonly retryAfterSeconds: number };

export type ConfirmEnrolmentResult =
  | { readonly status: 'confirmed'; readonly method: AuthenticatorMethod; readonly recoveryCodes: readonly string[] }
  | { readonly status: 'invalid' }
  /** No enrolment pending (never started, expired after 10 minutes, or already confirmed). */
  | { readonly status: 'expired' }
  /** The user has a method already; an administrator resets it before a new one is enrolled. */
  | { readonly status: 'already_enrolled' }
  | Throttled;

export type VerifyResult =
  | { readonly status: 'ok'; readonly timeStep: number }
  | { readonly status: 'invalid' }
  /** The right code for a time step already used (or one before it): someone may have seen it. */
  | { readonly status: 'replayed' }
  | { readonly status: 'no_method' }
  | Throttled;

export type RecoveryCodeResult =
  | { readonly status: 'ok'; readonly remaining: number }
  /** Wrong, or used before. */
  | { readonly status: 'invalid' }
  | { readonly status: 'no_method' }
  | Throttled;

export interface PendingEnrolment {
  readonly secret: string;
  readonly expiresAt: number;
}

export interface RateLimit {
  readonly maxWrongCodes: number;
  readonly windowSeconds: number;
}

export const DEFAULT_RATE_LIMIT: RateLimit = { maxWrongCodes: 5, windowSeconds: 300 };

/** A stored secret that cannot be opened: the encryption secret is missing or another one. */
export class AuthenticatorUnreadableError extends PorticoError {
  constructor(message: string) {
    super('authenticator_unreadable', message, { status: 500, expose: false });
  }
}

/** A secret as stored: sealed when an encryption secret is configured, as it is otherwise. */
type StoredSecret = { readonly sealed: Sealed } | { readonly plain: string };

interface StoredTotp {
  readonly id: string;
  readonly secret: StoredSecret;
  readonly createdDateTime: string;
  /** The last time step accepted: only a later one is accepted next. */
  readonly lastUsedStep: number;
}

interface StoredAuthenticators {
  readonly tenantId: string;
  readonly userId: string;
  /** Absent when the user's first method was a passkey: the record then holds only the recovery codes. */
  readonly totp?: StoredTotp;
  /** Hashes of the recovery codes not used yet. */
  readonly recoveryCodes: readonly string[];
}

interface StoredEnrolment {
  readonly secret: StoredSecret;
  readonly expiresAt: number;
}

const userKey = (tenantId: string, userId: string): string => JSON.stringify([tenantId, userId]);

export class AuthenticatorStore {
  readonly #store: DocumentStore;
  readonly #clock: Clock;
  readonly #sealer: Sealer | undefined;
  readonly #limit: RateLimit;

  constructor(options: { store: DocumentStore; clock: Clock; encryptionSecret?: string | undefined; rateLimit?: RateLimit }) {
    this.#store = options.store;
    this.#clock = options.clock;
    this.#sealer = sealerFor(options.encryptionSecret, SEALING_PURPOSE);
    this.#limit = options.rateLimit ?? DEFAULT_RATE_LIMIT;
  }

  /**
   * A new secret for the user to add to an app, pending for 10 minutes until a code from it
   * confirms it. Starting again replaces the pending secret.
   */
  async startEnrolment(tenantId: string, userId: string): Promise<PendingEnrolment> {
    const secret = generateTotpSecret();
    const expiresAt = this.#clock.now() + ENROLMENT_TTL_SECONDS * 1000;
    const key = userKey(tenantId, userId);
    await this.#store.put<StoredEnrolment>(ENROLMENTS, key, { secret: this.#sealSecret(secret, `${key}:pending`), expiresAt }, { ttlSeconds: ENROLMENT_TTL_SECONDS });
    return { secret, expiresAt };
  }

  /** The pending enrolment, to show its QR code again (after a wrong code, say). */
  async pendingEnrolment(tenantId: string, userId: string): Promise<PendingEnrolment | undefined> {
    const key = userKey(tenantId, userId);
    const record = await this.#store.get<StoredEnrolment>(ENROLMENTS, key);
    if (!record || record.value.expiresAt <= this.#clock.now()) return undefined;
    return { secret: this.#openSecret(record.value.secret, `${key}:pending`), expiresAt: record.value.expiresAt };
  }

  /**
   * The first valid code from the pending secret makes it the user's method, with fresh recovery
   * codes (returned once, stored hashed). The confirming code's step counts as used.
   */
  async confirmEnrolment(tenantId: string, userId: string, code: string): Promise<ConfirmEnrolmentResult> {
    if (cleanTotpCode(code) === undefined) return { status: 'invalid' };
    const key = userKey(tenantId, userId);
    const pending = await this.pendingEnrolment(tenantId, userId);
    if (!pending) return { status: 'expired' };
    if (await this.hasMethod(tenantId, userId)) return { status: 'already_enrolled' };
    const throttled = await this.#reserveAttempt(key);
    if (throttled) return throttled;
    const match = await verifyTotp(pending.secret, code, this.#clock);
    if (!match) return { status: 'invalid' };
    await this.#returnAttempt(key);

    const recoveryCodes = generateRecoveryCodes();
    const id = randomUUID();
    const totp: StoredTotp = {
      id,
      secret: this.#sealSecret(pending.secret, `${key}:${id}`),
      createdDateTime: new Date(this.#clock.now()).toISOString(),
      lastUsedStep: match.timeStep,
    };
    try {
      await this.#store.create<StoredAuthenticators>(
        AUTHENTICATORS,
        key,
        { tenantId, userId, totp, recoveryCodes: recoveryCodes.map(hashRecoveryCode) },
        { tags: [`tenant:${tenantId}`] },
      );
    } catch (error) {
      // A parallel confirmation won: its recovery codes are the ones shown.
      if (error instanceof AlreadyExistsError) return { status: 'already_enrolled' };
      throw error;
    }
    await this.#store.delete(ENROLMENTS, key);
    return { status: 'confirmed', method: methodOf(totp), recoveryCodes };
  }

  /** Checks a code from the user's app; each time step is accepted once, and only after the last one accepted. */
  async verify(tenantId: string, userId: string, code: string): Promise<VerifyResult> {
    const key = userKey(tenantId, userId);
    const totp = (await this.#store.get<StoredAuthenticators>(AUTHENTICATORS, key))?.value.totp;
    if (!totp) return { status: 'no_method' };
    // Something that cannot be a code is a typo, not a guess: it costs no attempt.
    if (cleanTotpCode(code) === undefined) return { status: 'invalid' };
    const throttled = await this.#reserveAttempt(key);
    if (throttled) return throttled;
    const match = await verifyTotp(this.#openSecret(totp.secret, `${key}:${totp.id}`), code, this.#clock);
    if (!match) return { status: 'invalid' };

    // Set inside the updater, which the store may run more than once.
    let outcome = 'no_method' as 'ok' | 'replayed' | 'no_method';
    try {
      await this.#store.update<StoredAuthenticators>(AUTHENTICATORS, key, (current) => {
        if (current.totp?.id !== totp.id) {
          outcome = 'no_method';
          return current;
        }
        if (match.timeStep <= current.totp.lastUsedStep) {
          outcome = 'replayed';
          return current;
        }
        outcome = 'ok';
        return { ...current, totp: { ...current.totp, lastUsedStep: match.timeStep } };
      });
    } catch (error) {
      // Deleted by an administrator meanwhile.
      if (!(error instanceof NotFoundError)) throw error;
      outcome = 'no_method';
    }
    // A replayed code keeps its attempt: it is a right code in the wrong hands as often as not.
    if (outcome !== 'ok') return { status: outcome };
    await this.#returnAttempt(key);
    return { status: 'ok', timeStep: match.timeStep };
  }

  /** Signs in with a recovery code instead of the app (or a passkey); each code works once. */
  async useRecoveryCode(tenantId: string, userId: string, input: string): Promise<RecoveryCodeResult> {
    const key = userKey(tenantId, userId);
    if (!(await this.hasRecoveryCodes(tenantId, userId))) return { status: 'no_method' };
    if (normaliseRecoveryCode(input) === undefined) return { status: 'invalid' };
    const throttled = await this.#reserveAttempt(key);
    if (throttled) return throttled;
    let remaining: number | undefined;
    try {
      await this.#store.update<StoredAuthenticators>(AUTHENTICATORS, key, (current) => {
        const used = matchRecoveryCode(current.recoveryCodes, input);
        remaining = used === undefined ? undefined : current.recoveryCodes.length - 1;
        return used === undefined ? current : { ...current, recoveryCodes: current.recoveryCodes.filter((hash) => hash !== used) };
      });
    } catch (error) {
      if (!(error instanceof NotFoundError)) throw error;
      return { status: 'no_method' };
    }
    if (remaining === undefined) return { status: 'invalid' };
    await this.#returnAttempt(key);
    return { status: 'ok', remaining };
  }

  /** True when the user has an authenticator app. */
  async hasMethod(tenantId: string, userId: string): Promise<boolean> {
    return (await this.#store.get<StoredAuthenticators>(AUTHENTICATORS, userKey(tenantId, userId)))?.value.totp !== undefined;
  }

  /** True when the user has recovery codes (from the app's enrolment or the first passkey's), used or not. */
  async hasRecoveryCodes(tenantId: string, userId: string): Promise<boolean> {
    return (await this.#store.get(AUTHENTICATORS, userKey(tenantId, userId))) !== undefined;
  }

  /**
   * Recovery codes for a user whose first method is a passkey: created only when the user has
   * none (no app, no earlier passkey), and returned once. Undefined when the user has some already,
   * so the first method enrolled, whichever it is, is the one that brings them.
   */
  async createRecoveryCodes(tenantId: string, userId: string): Promise<string[] | undefined> {
    const recoveryCodes = generateRecoveryCodes();
    try {
      await this.#store.create<StoredAuthenticators>(
        AUTHENTICATORS,
        userKey(tenantId, userId),
        { tenantId, userId, recoveryCodes: recoveryCodes.map(hashRecoveryCode) },
        { tags: [`tenant:${tenantId}`] },
      );
    } catch (error) {
      if (error instanceof AlreadyExistsError) return undefined;
      throw error;
    }
    return recoveryCodes;
  }

  /**
   * Deletes recovery codes that no longer go with any method (the user's last passkey was
   * deleted), so the next method enrolled brings fresh ones. An app's record is left alone.
   */
  async dropRecoveryCodesWithoutMethod(tenantId: string, userId: string): Promise<boolean> {
    const key = userKey(tenantId, userId);
    const record = await this.#store.get<StoredAuthenticators>(AUTHENTICATORS, key);
    // An app is only ever added by `create`, so a record without one cannot gain one meanwhile.
    if (!record || record.value.totp) return false;
    return this.#store.delete(AUTHENTICATORS, key);
  }

  async listMethods(tenantId: string, userId: string): Promise<AuthenticatorMethod[]> {
    const totp = (await this.#store.get<StoredAuthenticators>(AUTHENTICATORS, userKey(tenantId, userId)))?.value.totp;
    return totp ? [methodOf(totp)] : [];
  }

  /**
   * Administrator reset: deletes the method with its recovery codes (and any pending enrolment),
   * so the user enrols afresh. With `methodId`, only when that is the user's method. True when
   * something was deleted.
   */
  async reset(tenantId: string, userId: string, methodId?: string): Promise<boolean> {
    const key = userKey(tenantId, userId);
    const record = await this.#store.get<StoredAuthenticators>(AUTHENTICATORS, key);
    if (!record || (methodId !== undefined && record.value.totp?.id !== methodId)) return false;
    await this.#store.delete(ENROLMENTS, key);
    return this.#store.delete(AUTHENTICATORS, key);
  }

  /**
   * Takes one attempt from the user's allowance, or says how long to wait when none is left.
   * The window starts with the first attempt and lasts `windowSeconds`.
   */
  async #reserveAttempt(key: string): Promise<Throttled | undefined> {
    const { maxWrongCodes, windowSeconds } = this.#limit;
    for (let round = 0; round < 3; round++) {
      try {
        await this.#store.create(FAILURES, key, { count: 1 }, { ttlSeconds: windowSeconds });
        return undefined;
      } catch (error) {
        if (!(error instanceof AlreadyExistsError)) throw error;
      }
      let allowed = false;
      try {
        await this.#store.update<{ count: number }>(FAILURES, key, (current) => {
          allowed = current.count < maxWrongCodes;
          return allowed ? { count: current.count + 1 } : current;
        });
      } catch (error) {
        // The window ended between create and update: start a new one.
        if (error instanceof NotFoundError) continue;
        throw error;
      }
      if (allowed) return undefined;
      const record = await this.#store.get(FAILURES, key);
      const waitMs = record?.expiresAt === undefined ? windowSeconds * 1000 : record.expiresAt - this.#clock.now();
      return { status: 'throttled', retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000)) };
    }
    // Windows ending under our feet three times running: refuse rather than compare unlimited.
    return { status: 'throttled', retryAfterSeconds: 1 };
  }

  /** Gives back the attempt a right code took: only wrong codes count. */
  async #returnAttempt(key: string): Promise<void> {
    try {
      await this.#store.update<{ count: number }>(FAILURES, key, (current) => ({ count: Math.max(0, current.count - 1) }));
    } catch (error) {
      if (!(error instanceof NotFoundError)) throw error;
    }
  }

  #sealSecret(secret: string, context: string): StoredSecret {
    return this.#sealer ? { sealed: this.#sealer.seal(secret, context) } : { plain: secret };
  }

  #openSecret(stored: StoredSecret, context: string): string {
    if ('plain' in stored) return stored.plain;
    if (!this.#sealer) throw new AuthenticatorUnreadableError('authenticator secrets are encrypted but keys.encryptionSecret is not set');
    try {
      return this.#sealer.open(stored.sealed, context);
    } catch (error) {
      throw new AuthenticatorUnreadableError(
        `an authenticator secret cannot be decrypted: is keys.encryptionSecret the one it was sealed with? (${error instanceof Error ? error.message : String(error)})`,
      );
    }
  }
}

const methodOf = (totp: StoredTotp): AuthenticatorMethod => ({ kind: 'softwareOath', id: totp.id, createdDateTime: totp.createdDateTime });
