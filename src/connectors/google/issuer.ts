import type { IssuerPolicy } from '../oidc/code-flow.ts';

/**
 * Google documents two spellings of its ID tokens' `iss`: `https://accounts.google.com` and the
 * bare host `accounts.google.com`. Both are accepted, and nothing else: the bare form is derived
 * from the discovered issuer's own host, never configured apart. The authorization response's
 * `iss` parameter (RFC 9207) is only ever the discovered issuer.
 */
export function googleIssuers(): IssuerPolicy {
  return {
    parameter: (iss, metadata) => iss === metadata.issuer,
    token: (iss, _claims, metadata) => iss === metadata.issuer || iss === bareIssuer(metadata.issuer),
  };
}

export const bareIssuer = (issuer: string): string => new URL(issuer).host;
