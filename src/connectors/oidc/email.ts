/**
 * Emails from upstreams are input from another organisation: they reach sign-in logs, invitation
 * matching and the guest's UPN. One that could smuggle a header line, hide a second address or
 * imitate another domain is dropped rather than repaired, so it can never link to an existing user.
 */
import { DNS_NAME } from '../../config/primitives.ts';

// Control characters, invisible formatting (bidi overrides, zero-width joiners), line and paragraph
// separators, and any whitespace inside the address.
const UNSAFE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\s]/u;

/**
 * The normalised address (NFC, surrounding spaces trimmed, domain lowercased), or undefined when
 * the value is not a single safe address. The domain must be plain ASCII: an internationalised
 * domain arrives as its punycode (xn--) form or not at all, which shuts out look-alike letters
 * (Cyrillic "о" for Latin "o", fullwidth forms) that would read as someone else's domain.
 */
export function normaliseEmail(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  // Checked before trimming, so a trailing CR/LF is refused rather than silently cut off.
  if (/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u.test(value)) return undefined;
  const address = value.trim().normalize('NFC');
  if (address.length > 254 || UNSAFE.test(address)) return undefined;
  const at = address.indexOf('@');
  if (at <= 0 || at !== address.lastIndexOf('@')) return undefined;
  const local = address.slice(0, at);
  const domain = address.slice(at + 1).toLowerCase();
  if (local.length > 64 || local.startsWith('.') || local.endsWith('.') || local.includes('..')) return undefined;
  if (/["(),:;<>[\\\]]/.test(local)) return undefined;
  if (!DNS_NAME.test(domain)) return undefined;
  return `${local}@${domain}`;
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
