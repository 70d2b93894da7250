import { UpstreamError, type UpstreamIdentity } from '../types.ts';
import { mergedClaims, profileOf, textClaim } from '../oidc/claims.ts';
import type { VerifiedSignIn } from '../oidc/code-flow.ts';
import { assertsTrue, emailFrom } from '../oidc/email.ts';
import type { GoogleConfig } from './schema.ts';

const PROFILE = { name: 'name', givenName: 'given_name', familyName: 'family_name' };

export function googleIdentity(config: GoogleConfig, signIn: VerifiedSignIn): UpstreamIdentity {
  const claims = mergedClaims(signIn.idToken, signIn.userinfo);
  const hostedDomain = textClaim(signIn.idToken, 'hd')?.toLowerCase();
  if (config.hostedDomains && (hostedDomain === undefined || !config.hostedDomains.includes(hostedDomain))) {
    throw new UpstreamError('invalid_response', config.id, `hd ${hostedDomain === undefined ? 'absent' : 'not in hostedDomains'}`);
  }
  return {
    connectorId: config.id,
    kind: 'google',
    // One identity whichever spelling Google used: the key is always the https issuer.
    issuer: signIn.metadataIssuer,
    subject: signIn.idToken.sub,
    idp: 'google.com',
    ...emailFrom(claims['email'], assertsTrue(claims['email_verified'])),
    ...profileOf(claims, PROFILE),
    rawClaims: claims,
  };
}
