/**
 * ID token verification, done by Portico rather than openid-client: openid-client skips the
 * signature of a token from the token endpoint, `azp` with a single audience and an `iat` in the
 * future, and compares `iss` to exactly one string, which cannot express Google's two spellings or
 * Entra's per-tenant issuer. Every check lives here, in one place.
 */
import { decodeProtectedHeader, importJWK, jwtVerify, type JWTPayload } from 'jose';
import type { Clock } from '../../shared/clock.ts';
import { UpstreamError } from '../types.ts';
import { ASYMMETRIC_ALGS, type JwksCache } from './jwks.ts';
import { sameString } from './same-string.ts';

/** Allowed difference between our clock and the IdP's, in seconds. */
export const CLOCK_SKEW_SECONDS = 30;

export interface IdTokenExpectations {
  readonly connectorId: string;
  readonly clientId: string;
  readonly nonce: string;
  /** Algorithms the IdP advertises; intersected with the asymmetric ones. */
  readonly advertisedAlgs: readonly string[] | undefined;
  /** Whether `iss` is one this connector accepts (given the other claims, for tenant templates). */
  readonly issuerAccepted: (iss: string, claims: JWTPayload) => boolean;
  readonly jwks: JwksCache;
  readonly clock: Clock;
}

export async function verifyIdToken(token: string, expect: IdTokenExpectations): Promise<JWTPayload & { iss: string; sub: string }> {
  const refuse = (message: string) => new UpstreamError('invalid_response', expect.connectorId, `id_token: ${message}`);
  // Three parts: a signed JWT, not an encrypted one or anything else.
  if (token.split('.').length !== 3) throw refuse('not a compact JWS');
  let header: ReturnType<typeof decodeProtectedHeader>;
  try {
    header = decodeProtectedHeader(token);
  } catch {
    throw refuse('header is not readable');
  }
  const alg = header.alg;
  const allowed = (expect.advertisedAlgs ?? [...ASYMMETRIC_ALGS]).filter((a) => ASYMMETRIC_ALGS.has(a));
  // Checked before any key lookup, so `none` or HS256 cannot even cause a JWKS fetch.
  if (typeof alg !== 'string' || !allowed.includes(alg)) throw refuse(`alg ${typeof alg === 'string' ? alg.slice(0, 16) : '?'} not allowed`);
  if (header.kid !== undefined && typeof header.kid !== 'string') throw refuse('kid is not a string');

  const jwk = await expect.jwks.keyFor(alg, header.kid);
  let payload: JWTPayload;
  try {
    const key = await importJWK(jwk, alg);
    ({ payload } = await jwtVerify(token, key, {
      algorithms: [alg],
      audience: expect.clientId,
      currentDate: new Date(expect.clock.now()),
      clockTolerance: CLOCK_SKEW_SECONDS,
      requiredClaims: ['iss', 'sub', 'aud', 'exp', 'iat'],
    }));
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    throw refuse(`verification failed (${typeof code === 'string' ? code : error instanceof Error ? error.name : 'error'})`);
  }

  const { iss, sub, azp, iat, nonce, aud } = payload;
  if (typeof iss !== 'string' || !expect.issuerAccepted(iss, payload)) throw refuse('unexpected iss');
  if (typeof sub !== 'string' || sub.length === 0 || sub.length > 255) throw refuse('sub missing or malformed');
  // OIDC Core 3.1.3.7: with several audiences the authorized party must be named, and be us.
  if (Array.isArray(aud) && aud.length > 1 && azp === undefined) throw refuse('several audiences without azp');
  if (azp !== undefined && azp !== expect.clientId) throw refuse('azp is another client');
  if (typeof iat !== 'number' || iat > expect.clock.now() / 1000 + CLOCK_SKEW_SECONDS) throw refuse('iat in the future');
  if (typeof nonce !== 'string' || !sameString(nonce, expect.nonce)) throw refuse('nonce mismatch');
  return { ...payload, iss, sub };
}
