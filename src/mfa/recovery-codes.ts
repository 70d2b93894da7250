/**
 * Recovery codes: ten single-use codes like `7k3mq-x9d2p`, shown once and stored only as hashes.
 * Each has 50 random bits (10 characters of a 32-letter alphabet), far beyond guessing within any
 * rate limit, so a plain SHA-256 suffices: there is no low-entropy input for a slow hash to protect.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export const RECOVERY_CODE_COUNT = 10;
/** Crockford's base32: no i, l, o or u, so nothing reads as something else. */
const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';
const GROUP = 5;

/** `count` fresh codes, formatted `xxxxx-xxxxx`. */
export function generateRecoveryCodes(count: number = RECOVERY_CODE_COUNT): string[] {
  return Array.from({ length: count }, () => {
    // 32 letters: the low 5 bits of a random byte pick one without bias.
    const letters = [...randomBytes(GROUP * 2)].map((byte) => ALPHABET[byte & 31]!).join('');
    return `${letters.slice(0, GROUP)}-${letters.slice(GROUP)}`;
  });
}

/**
 * The code as typed, made canonical: case, spaces and hyphens do not matter, and the letters
 * Crockford's alphabet leaves out are read as the digits they look like. Undefined when it cannot
 * be a recovery code.
 */
export function normaliseRecoveryCode(input: string): string | undefined {
  const letters = input
    .toLowerCase()
    .replace(/[\s-]+/g, '')
    .replace(/[o]/g, '0')
    .replace(/[il]/g, '1');
  return letters.length === GROUP * 2 && [...letters].every((c) => ALPHABET.includes(c)) ? letters : undefined;
}

/** What is stored: the hash of the canonical code. Throws on something that is not a code. */
export function hashRecoveryCode(code: string): string {
  const canonical = normaliseRecoveryCode(code);
  if (canonical === undefined) throw new TypeError('not a recovery code');
  return digest(canonical).toString('base64url');
}

/**
 * The stored hash `input` matches, or undefined. Every hash is compared, in constant time, so
 * the answer's timing says nothing about which code (if any) was close.
 */
export function matchRecoveryCode(hashes: readonly string[], input: string): string | undefined {
  const canonical = normaliseRecoveryCode(input);
  if (canonical === undefined) return undefined;
  const candidate = digest(canonical);
  let match: string | undefined;
  for (const hash of hashes) {
    const stored = Buffer.from(hash, 'base64url');
    if (stored.length === candidate.length && timingSafeEqual(stored, candidate) && match === undefined) match = hash;
  }
  return match;
}

// The prefix keeps these hashes apart from any other SHA-256 of the same letters.
const digest = (canonical: string): Buffer => createHash('sha256').update(`portico-recovery-code/v1:${canonical}`).digest();
