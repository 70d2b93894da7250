/**
 * Reading upstream claims defensively: a claim of the wrong type is treated as absent, never
 * coerced, and text is kept only when it is printable.
 */
import type { UpstreamIdentity } from '../types.ts';

export type Claims = Readonly<Record<string, unknown>>;

const UNPRINTABLE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u;
const MAX_TEXT = 256;
const MAX_AMR = 16;

export function textClaim(claims: Claims, name: string): string | undefined {
  const value = claims[name];
  if (typeof value !== 'string' || UNPRINTABLE.test(value)) return undefined;
  const text = value.trim().normalize('NFC');
  return text.length > 0 && text.length <= MAX_TEXT ? text : undefined;
}

export function booleanClaim(claims: Claims, name: string): boolean | undefined {
  const value = claims[name];
  return typeof value === 'boolean' ? value : undefined;
}

/** `amr` as sent, keeping only its string members (RFC 8176 values are short ASCII words). */
export function amrClaim(claims: Claims): string[] {
  const value = claims['amr'];
  if (!Array.isArray(value)) return [];
  return value.filter((v): v is string => typeof v === 'string' && /^[\x21-\x7E]{1,64}$/.test(v)).slice(0, MAX_AMR);
}

export const acrClaim = (claims: Claims): string | undefined => {
  const value = claims['acr'];
  return typeof value === 'string' && /^[\x21-\x7E]{1,256}$/.test(value) ? value : undefined;
};

export interface ProfileClaimNames {
  readonly name: string;
  readonly givenName: string;
  readonly familyName: string;
  readonly deviceCompliant?: string;
  readonly deviceHybridJoined?: string;
}

/** Name parts, amr/acr and device claims: the part of an identity every OIDC kind reads alike. */
export function profileOf(
  claims: Claims,
  names: ProfileClaimNames,
): Pick<UpstreamIdentity, 'name' | 'givenName' | 'familyName' | 'amr' | 'acr' | 'device'> {
  const name = textClaim(claims, names.name);
  const givenName = textClaim(claims, names.givenName);
  const familyName = textClaim(claims, names.familyName);
  const acr = acrClaim(claims);
  const compliant = names.deviceCompliant ? booleanClaim(claims, names.deviceCompliant) : undefined;
  const hybridJoined = names.deviceHybridJoined ? booleanClaim(claims, names.deviceHybridJoined) : undefined;
  return {
    ...(name !== undefined ? { name } : {}),
    ...(givenName !== undefined ? { givenName } : {}),
    ...(familyName !== undefined ? { familyName } : {}),
    amr: amrClaim(claims),
    ...(acr !== undefined ? { acr } : {}),
    ...(compliant !== undefined || hybridJoined !== undefined
      ? { device: { ...(compliant !== undefined ? { compliant } : {}), ...(hybridJoined !== undefined ? { hybridJoined } : {}) } }
      : {}),
  };
}

/** The claims an identity is built from: userinfo fills gaps, the signed ID token always wins. */
export const mergedClaims = (idToken: Claims, userinfo: Claims | undefined): Record<string, unknown> => ({ ...userinfo, ...idToken });
