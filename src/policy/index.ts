export { automaticConsent, inboundTrustFor, redemptionOrderFor } from './cross-tenant.ts';
export { describeRequirement, evaluateConditionalAccess, isSatisfied } from './conditional-access.ts';
export { combine, decideInvitation, decideRedemption, decideSignIn, type SignInQuestion } from './decide.ts';
export { domainMatches } from './external-collaboration.ts';
export { describeOrganisation, resolveOrganisation } from './organisation.ts';
export { homeOrganisationOf, policyNamesGroups, policyOf, staticPolicySource, subjectOf } from './subject.ts';
export { trustedAssurance, upstreamClaimsMfa, type TrustedAssurance, type UpstreamClaims } from './trust.ts';
export * from './types.ts';
