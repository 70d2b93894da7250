import { createHmac, randomBytes, randomInt, timingSafeEqual } from 'node:crypto';

export const CODE_DIGITS = 8;
const CODE_SPACE = 10 ** CODE_DIGITS;
const FORMAT = 'v1';

/** A uniformly random 8-digit code (leading zeros kept). */
export const newCode = (): string => String(randomInt(0, CODE_SPACE)).padStart(CODE_DIGITS, '0');

/** What the guest typed, with the spaces and dashes people put in codes removed; undefined when it cannot be a code. */
export function cleanCode(input: string): string | undefined {
  const code = input.replace(/[\s-]/g, '');
  return code.length === CODE_DIGITS && /^[0-9]+$/.test(code) ? code : undefined;
}

const mac = (salt: Buffer, challengeKey: string, code: string): Buffer =>
  createHmac('sha256', salt).update(challengeKey).update('\u0000').update(code).digest();

/**
 * The stored form of a code: HMAC-SHA256 under a random per-challenge salt, over the challenge
 * key and the code, so a stored hash neither reveals the code at a glance nor matches it for any
 * other challenge.
 */
export function hashCode(challengeKey: string, code: string): string {
  const salt = randomBytes(16);
  return `${FORMAT}$${salt.toString('base64url')}$${mac(salt, challengeKey, code).toString('base64url')}`;
}

export function codeMatches(stored: string, challengeKey: string, code: string): boolean {
  const [format, salt, expected] = stored.split('$');
  if (format !== FORMAT || salt === undefined || expected === undefined) return false;
  const want = Buffer.from(expected, 'base64url');
  const got = mac(Buffer.from(salt, 'base64url'), challengeKey, code);
  return want.length === got.length && timingSafeEqual(want, got);
}
