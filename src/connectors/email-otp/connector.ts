import type { Clock } from '../../shared/clock.ts';
import { errorMessage } from '../../shared/errors.ts';
import type { Logger } from '../../shared/logger.ts';
import { UpstreamError, type CodeConnector, type Mailer, type PasscodeChallenge, type PasscodeStore, type SendCodeResult, type UpstreamIdentity } from '../types.ts';
import { normaliseEmail, type NormalisedEmail } from './email-address.ts';
import { challengeKey, hourlyCounter, type CounterKind, type Scope } from './keys.ts';
import { passcodeMessage } from './message.ts';
import { cleanCode, codeMatches, hashCode, newCode } from './passcode.ts';
import { EMAIL_OTP_DISPLAY_NAME, type EmailOtpConfig } from './schema.ts';

/** Wrong entries a code survives: the 5th kills it, whatever comes after. */
export const MAX_WRONG_ATTEMPTS = 5;
const HOUR_SECONDS = 3600;

export interface EmailOtpDeps {
  readonly tenantId: string;
  readonly tenantDisplayName: string;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly passcodes: PasscodeStore;
  readonly mailer: Mailer;
}

/**
 * Email one-time passcodes. The connector never learns whether an address is invited or known:
 * every well-formed address within the limits gets a code and the same answer, so the sign-in
 * page cannot be used to discover who is in the directory.
 */
export function createEmailOtpConnector(config: EmailOtpConfig, deps: EmailOtpDeps): CodeConnector<'email-otp'> {
  const { clock, passcodes, mailer } = deps;
  const scope: Scope = { tenantId: deps.tenantId, connectorId: config.id };
  const logger = deps.logger.child({ connector: config.id, kind: 'email-otp' });
  const lifetimeMs = config.codeLifetimeMinutes * 60_000;

  const fail = (code: UpstreamError['code'], message: string, cause?: unknown): UpstreamError =>
    new UpstreamError(code, config.id, message, cause === undefined ? undefined : { cause });

  function addressOf(input: string): NormalisedEmail {
    const address = normaliseEmail(input);
    // The input is not logged: it may be anything, including what the guest meant as a password.
    if (!address) throw fail('incomplete_identity', 'the email address is not a plain, well-formed address');
    return address;
  }

  /** Counts one event against an hourly limit; the seconds until it resets when over it. */
  async function overLimit(kind: CounterKind, subject: string, limit: number, now: number): Promise<number | undefined> {
    const counter = hourlyCounter(scope, kind, subject, now);
    const count = await passcodes.hit(counter.name, HOUR_SECONDS);
    return count > limit ? counter.resetsInSeconds : undefined;
  }

  const usable = (challenge: PasscodeChallenge | undefined, flowId: string, address: NormalisedEmail, now: number): challenge is PasscodeChallenge =>
    challenge !== undefined && challenge.expiresAt > now && challenge.flowId === flowId && challenge.email.toLowerCase() === address.key;

  function throttled(reason: 'resend' | 'ip' | 'address', retryAfterSeconds: number, address: NormalisedEmail): SendCodeResult {
    logger.info({ event: 'passcode_throttled', reason, emailDomain: address.domain, retryAfterSeconds }, 'passcode request throttled');
    return { status: 'throttled', retryAfterSeconds };
  }

  return {
    id: config.id,
    kind: 'email-otp',
    capability: 'code',
    displayName: config.displayName ?? EMAIL_OTP_DISPLAY_NAME,
    group: 'emailOtp',
    domains: config.domains,

    async send(input): Promise<SendCodeResult> {
      const address = addressOf(input.email);
      const now = clock.now();
      const key = challengeKey(scope, input.flowId, address.key);

      const pending = await passcodes.get(key);
      if (usable(pending, input.flowId, address, now)) {
        const waitMs = pending.sentAt + config.resendAfterSeconds * 1000 - now;
        if (waitMs > 0) return throttled('resend', Math.ceil(waitMs / 1000), address);
      }
      const ipWait = await overLimit('send-ip', input.clientIp, config.maxCodesPerIpPerHour, now);
      if (ipWait !== undefined) return throttled('ip', ipWait, address);
      const addressWait = await overLimit('send-address', address.key, config.maxCodesPerAddressPerHour, now);
      if (addressWait !== undefined) return throttled('address', addressWait, address);

      const code = newCode();
      // Saved before mailing, so the code works as soon as the mail can arrive; replaces (and so
      // retires) any earlier code of this flow and address.
      await passcodes.save(
        key,
        { hash: hashCode(key, code), email: address.email, flowId: input.flowId, expiresAt: now + lifetimeMs, attempts: 0, sentAt: now },
        config.codeLifetimeMinutes * 60,
      );
      try {
        await mailer.send({ to: address.email, ...passcodeMessage({ tenantDisplayName: input.tenantDisplayName || deps.tenantDisplayName, code, lifetimeMinutes: config.codeLifetimeMinutes }) });
      } catch (error) {
        // Nobody has this code: withdraw it, which also lifts the resend wait so the guest can
        // try again at once. The hourly counters keep the hit, so a broken mail server cannot be
        // used to send unlimited attempts.
        await passcodes.consume(key).catch(() => undefined);
        throw fail('upstream_unavailable', `the passcode mail could not be sent: ${errorMessage(error)}`, error);
      }
      logger.info({ event: 'passcode_sent', emailDomain: address.domain }, 'passcode sent');
      return { status: 'sent' };
    },

    async verify(input): Promise<UpstreamIdentity> {
      const now = clock.now();
      // Counted before anything else, so malformed input costs an attempt too.
      const ipWait = await overLimit('verify-ip', input.clientIp, config.maxVerifyAttemptsPerIpPerHour, now);
      if (ipWait !== undefined) {
        logger.warn({ event: 'passcode_verify_throttled', retryAfterSeconds: ipWait }, 'too many passcode entries from one client');
        throw fail('throttled', `too many passcode entries from this client; retry in ${ipWait} s`);
      }
      const address = addressOf(input.email);
      const key = challengeKey(scope, input.flowId, address.key);
      const challenge = await passcodes.get(key);
      if (!usable(challenge, input.flowId, address, now)) throw fail('code_expired', 'no passcode is pending for this sign-in and address');
      if (challenge.attempts >= MAX_WRONG_ATTEMPTS) throw fail('too_many_attempts', 'the passcode was entered wrongly too often');

      const code = cleanCode(input.code);
      // Something that cannot be a code is a typo, not a guess: it costs no attempt.
      if (code === undefined) throw fail('invalid_code', 'the entry is not an 8-digit code');

      // The attempt is counted before the comparison: however many guesses race, at most
      // MAX_WRONG_ATTEMPTS of them are ever compared with the code. (Should a resend replace the
      // challenge in between, the code just read is still one mailed to this address for this
      // flow, so accepting it proves the same thing.)
      const attempt = await passcodes.recordFailure(key);
      if (attempt === undefined) throw fail('code_expired', 'the passcode was used or replaced meanwhile');
      if (attempt > MAX_WRONG_ATTEMPTS) throw fail('too_many_attempts', 'the passcode was entered wrongly too often');
      if (!codeMatches(challenge.hash, key, code)) {
        if (attempt === MAX_WRONG_ATTEMPTS) {
          logger.warn({ event: 'passcode_locked', emailDomain: address.domain }, 'passcode entered wrongly too often');
          throw fail('too_many_attempts', 'the passcode was entered wrongly too often');
        }
        throw fail('invalid_code', 'wrong passcode');
      }
      if (!(await passcodes.consume(key))) throw fail('code_expired', 'the passcode was already used');

      logger.info({ event: 'passcode_verified', emailDomain: address.domain }, 'passcode verified');
      return {
        connectorId: config.id,
        kind: 'email-otp',
        issuer: 'mail',
        subject: address.key,
        idp: 'mail',
        email: address.email,
        // They read the mail: control of the mailbox is proven.
        emailVerified: true,
        // One factor, however it is delivered: never `mfa`.
        amr: ['otp'],
        rawClaims: { email: address.email },
      };
    },
  };
}
