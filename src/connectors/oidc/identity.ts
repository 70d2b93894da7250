import { UpstreamError, type UpstreamIdentity } from '../types.ts';
import { mergedClaims, profileOf, textClaim } from './claims.ts';
import type { VerifiedSignIn } from './code-flow.ts';
import { assertsTrue, emailFrom } from './email.ts';
import type { OidcConfig } from './schema.ts';

/** A generic OpenID Connect sign-in as Portico's identity, through the configured claim names. */
export function oidcIdentity(config: OidcConfig, signIn: VerifiedSignIn): UpstreamIdentity {
  const names = config.claims;
  const claims = mergedClaims(signIn.idToken, signIn.userinfo);
  // The key of the identity comes from the signed ID token only.
  const subject = names.subject === 'sub' ? signIn.idToken.sub : textClaim(signIn.idToken, names.subject);
  if (subject === undefined) throw new UpstreamError('incomplete_identity', config.id, `id_token has no usable ${names.subject} claim`);
  return {
    connectorId: config.id,
    kind: 'oidc',
    issuer: signIn.idToken.iss,
    subject,
    idp: config.idp ?? config.issuer,
    ...emailFrom(claims[names.email], assertsTrue(claims[names.emailVerified])),
    ...profileOf(claims, names),
    rawClaims: claims,
  };
}
