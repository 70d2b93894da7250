import { timingSafeEqual } from 'node:crypto';

/** Compares secrets (state, nonce) without leaking through timing where they differ. */
export function sameString(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}
