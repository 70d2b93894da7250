import { UpstreamError, type UpstreamIdentity } from '../types.ts';
import { profileOf } from '../oidc/claims.ts';
import type { VerifiedSignIn } from '../oidc/code-flow.ts';
import { assertsTrue, emailFrom, normaliseEmail } from '../oidc/email.ts';
import { CONSUMERS_TENANT_ID, type MicrosoftConfig } from './schema.ts';

const PROFILE = { name: 'name', givenName: 'given_name', familyName: 'family_name' };

/**
 * Which emails are trusted as verified:
 * - personal accounts (the consumers tenant): the `email` claim, which Microsoft account
 *   verifies before it is usable;
 * - work and school accounts: only when the token carries `xms_edov: true` (the email's domain is
 *   verified in that tenant). Otherwise Entra's `email` is whatever an administrator typed, which
 *   is how the 2023 "nOAuth" takeovers worked;
 * - `preferred_username`, used as the email only when there is no `email` and it looks like one,
 *   is never verified: it is a sign-in name, not an address anyone proved.
 */
function emailOf(claims: VerifiedSignIn['idToken'], personal: boolean): { email?: string; emailVerified: boolean } {
  if (claims['email'] !== undefined) return emailFrom(claims['email'], personal || assertsTrue(claims['xms_edov']));
  const username = normaliseEmail(claims['preferred_username']);
  return username === undefined ? { emailVerified: false } : { email: username, emailVerified: false };
}

export function microsoftIdentity(config: MicrosoftConfig, signIn: VerifiedSignIn): UpstreamIdentity {
  const claims = signIn.idToken;
  // The issuer policy already required a well-formed tid that matches iss.
  const tid = claims['tid'] as string;
  if (config.allowedTenants && !config.allowedTenants.includes(tid)) {
    throw new UpstreamError('invalid_response', config.id, 'tenant not in allowedTenants');
  }
  const personal = tid === CONSUMERS_TENANT_ID;
  return {
    connectorId: config.id,
    kind: 'microsoft',
    issuer: claims.iss,
    issuerTenantId: tid,
    subject: claims.sub,
    // Entra's own forms: `live.com` for personal accounts, the tenant's v1 STS for work accounts.
    idp: personal ? 'live.com' : `https://sts.windows.net/${tid}/`,
    ...(personal ? {} : { homeTenantId: tid }),
    ...emailOf(claims, personal),
    ...profileOf(claims, PROFILE),
    rawClaims: { ...claims },
  };
}
