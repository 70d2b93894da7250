/**
 * Emails from upstreams are input from another organisation: they reach sign-in logs, invitation
 * matching and the guest's UPN. One that could smuggle a header line, hide a second address or
 * imitate another domain is dropped rather than repaired, so it can never link to an existing user.
 */
import { normaliseEmail as normaliseAddress } from '../../shared/email.ts';

// Control characters (C0 and C1), invisible formatting (bidi overrides, zero-width characters),
// line and paragraph separators.
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u;

/**
 * The normalised address, by the rules every part of Portico uses (shared/email.ts: trimmed, NFC,
 * domain lowercased, one `@`, no control characters, a plain ASCII DNS domain so look-alike
 * letters such as Cyrillic "о" for Latin "o" are refused), or undefined. Claims are untyped, so
 * anything but a string is refused too, as are invisible formatting characters.
 */
export function normaliseEmail(value: unknown): string | undefined {
  if (typeof value !== 'string' || INVISIBLE.test(value)) return undefined;
  return normaliseAddress(value);
}

/**
 * Whether an upstream's verified flag says yes. JSON `true` is the standard form; the string
 * "true" is accepted too because some providers (Amazon Cognito, older Okta and ADFS setups)
 * serialise every claim as a string. Anything else, including "1" or "yes", is no.
 */
export const assertsTrue = (value: unknown): boolean => value === true || value === 'true';

/** The email and whether it counts as verified: an unsafe address is neither kept nor verified. */
export function emailFrom(value: unknown, verified: boolean): { email?: string; emailVerified: boolean } {
  const email = normaliseEmail(value);
  return email === undefined ? { emailVerified: false } : { email, emailVerified: verified };
}
