/**
 * What a partner says about the sign-in (MFA done, device compliant or hybrid-joined) counts only
 * where this tenant's inbound trust accepts it; otherwise it is dropped, never satisfies a policy
 * and never reaches a token. Portico's own second factor always counts.
 */
import { inboundTrustFor } from './cross-tenant.ts';
import type { Assurance, Organisation, TenantPolicy, TraceEntry } from './types.ts';

const MFA_ACR = new Set(['https://refeds.org/profile/mfa', 'http://schemas.microsoft.com/claims/multipleauthn']);

export interface UpstreamClaims {
  /** An email passcode proves a mailbox only: its claims never count as MFA. */
  readonly kind: string;
  readonly amr: readonly string[];
  readonly acr?: string | undefined;
  readonly device?: { readonly compliant?: boolean | undefined; readonly hybridJoined?: boolean | undefined } | undefined;
}

/** Where each part of the assurance came from, for the sign-in log and the token. */
export interface TrustedAssurance extends Assurance {
  readonly mfaSource?: 'upstream' | 'portico';
  readonly dropped: readonly ('mfa' | 'compliantDevice' | 'domainJoinedDevice')[];
  readonly trace: readonly TraceEntry[];
}

export const upstreamClaimsMfa = (claims: UpstreamClaims): boolean =>
  claims.kind !== 'email-otp' && (claims.amr.includes('mfa') || (claims.acr !== undefined && MFA_ACR.has(claims.acr)));

export function trustedAssurance(policy: TenantPolicy, organisation: Organisation, claims: UpstreamClaims, porticoMfa = false): TrustedAssurance {
  const layer = 'crossTenantAccess.inboundTrust';
  // A member signing in to its own tenant: its claims are this tenant's own.
  const { trust, rule } =
    organisation.kind === 'home'
      ? { trust: { isMfaAccepted: true, isCompliantDeviceAccepted: true, isHybridAzureADJoinedDeviceAccepted: true }, rule: 'own tenant' }
      : inboundTrustFor(policy, organisation);
  const said = {
    mfa: upstreamClaimsMfa(claims),
    compliantDevice: claims.device?.compliant === true,
    domainJoinedDevice: claims.device?.hybridJoined === true,
  };
  const accepted = { mfa: trust.isMfaAccepted, compliantDevice: trust.isCompliantDeviceAccepted, domainJoinedDevice: trust.isHybridAzureADJoinedDeviceAccepted };
  const names = { mfa: 'MFA', compliantDevice: 'compliant device', domainJoinedDevice: 'hybrid-joined device' } as const;
  const trace: TraceEntry[] = [];
  const dropped: TrustedAssurance['dropped'][number][] = [];
  for (const key of ['mfa', 'compliantDevice', 'domainJoinedDevice'] as const) {
    if (!said[key]) continue;
    if (accepted[key]) trace.push({ layer, rule, matched: true, effect: 'allow', detail: `the partner's ${names[key]} claim is trusted` });
    else {
      dropped.push(key);
      trace.push({ layer, rule, matched: true, effect: 'none', detail: `the partner's ${names[key]} claim is not trusted: dropped` });
    }
  }
  if (porticoMfa) trace.push({ layer, rule: 'portico', matched: true, effect: 'allow', detail: "MFA done with Portico's own second factor" });
  const upstreamMfa = said.mfa && accepted.mfa;
  return {
    mfa: upstreamMfa || porticoMfa,
    compliantDevice: said.compliantDevice && accepted.compliantDevice,
    domainJoinedDevice: said.domainJoinedDevice && accepted.domainJoinedDevice,
    ...(upstreamMfa ? { mfaSource: 'upstream' as const } : porticoMfa ? { mfaSource: 'portico' as const } : {}),
    dropped,
    trace,
  };
}
