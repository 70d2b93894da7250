/**
 * TOTP (RFC 6238) as authenticator apps expect it: SHA-1, 6 digits, 30-second steps, a base32
 * secret of 160 bits. Time comes from the injected clock; the only state a caller keeps is the last
 * time step it accepted, so that a code is never accepted twice.
 */
import { generate, generateSecret, verify } from 'otplib';
import type { Clock } from '../shared/clock.ts';

export const TOTP_PERIOD_SECONDS = 30;
export const TOTP_DIGITS = 6;
/** 20 bytes: RFC 4226's recommended length, what authenticator apps are built for. */
const SECRET_BYTES = 20;
/** One step either side: a phone clock a little off, or a code typed as it changed. */
const WINDOW_STEPS = 1;

/** A new secret, base32 without padding (32 characters). */
export const generateTotpSecret = (): string => generateSecret({ length: SECRET_BYTES });

/**
 * The `otpauth://` URI the QR code carries. The label names the product and the tenant so the
 * entry stands out in an app that holds codes for many services; `issuer` is the tenant's name.
 * Built here rather than with otplib's generateURI, which always prefixes the label with the issuer.
 */
export function totpUri(input: { readonly secret: string; readonly tenantDisplayName: string; readonly account: string }): string {
  // Each label part is encoded on its own: the colon between them must stay literal.
  const label = `${encodeURIComponent(`Portico (${input.tenantDisplayName})`)}:${encodeURIComponent(input.account)}`;
  const query = [
    `secret=${input.secret}`,
    `issuer=${encodeURIComponent(input.tenantDisplayName)}`,
    'algorithm=SHA1',
    `digits=${TOTP_DIGITS}`,
    `period=${TOTP_PERIOD_SECONDS}`,
  ].join('&');
  return `otpauth://totp/${label}?${query}`;
}

/** Digits only, spaces allowed between them (apps show `123 456`); undefined when it cannot be a code. */
export function cleanTotpCode(input: string): string | undefined {
  const code = input.replace(/\s+/g, '');
  return /^\d{6}$/.test(code) ? code : undefined;
}

/** The time step a moment falls in. */
export const totpStepAt = (epochMs: number): number => Math.floor(epochMs / 1000 / TOTP_PERIOD_SECONDS);

/**
 * The time step `code` belongs to when it is the secret's code for the current step or one step
 * either side; undefined otherwise. A match says nothing about reuse: the caller accepts a step
 * only if it is later than the last one it accepted.
 */
export async function verifyTotp(secret: string, code: string, clock: Clock): Promise<{ readonly timeStep: number } | undefined> {
  const cleaned = cleanTotpCode(code);
  if (cleaned === undefined) return undefined;
  const result = await verify({
    secret,
    token: cleaned,
    epoch: Math.floor(clock.now() / 1000),
    period: TOTP_PERIOD_SECONDS,
    digits: TOTP_DIGITS,
    // In seconds: ±one period reaches exactly the neighbouring steps, never two away.
    epochTolerance: WINDOW_STEPS * TOTP_PERIOD_SECONDS,
  });
  return result.valid && 'timeStep' in result ? { timeStep: result.timeStep } : undefined;
}

/** The code an authenticator app shows at `epochMs` (tests and tooling; the server never needs it). */
export const totpCodeAt = (secret: string, epochMs: number): Promise<string> =>
  generate({ secret, epoch: Math.floor(epochMs / 1000), period: TOTP_PERIOD_SECONDS, digits: TOTP_DIGITS });
