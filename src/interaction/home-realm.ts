/**
 * Home-realm discovery: which upstream IdPs can sign in a guest, from what Portico knows so far
 * (an `idp` hint, a domain hint, the email typed). Pure: the same input gives the same answer and
 * a trace of why.
 */

export type IdpGroup = 'federation' | 'social' | 'emailOtp';

export interface IdpSummary {
  readonly id: string;
  readonly group: IdpGroup;
  /** Email domains routed to this IdP; empty means "any domain, as a fallback of its group". */
  readonly domains: readonly string[];
}

export interface DiscoveryInput {
  readonly idps: readonly IdpSummary[];
  readonly redemptionOrder: readonly IdpGroup[];
  readonly email?: string | undefined;
  readonly domainHint?: string | undefined;
  readonly idpHint?: string | undefined;
}

export interface Discovery {
  /** In the order they should be offered; one means "go straight there". */
  readonly candidates: readonly string[];
  readonly trace: readonly string[];
}

export const emailDomain = (email: string): string => email.slice(email.lastIndexOf('@') + 1).toLowerCase();

export function discoverHomeRealm(input: DiscoveryInput): Discovery {
  const trace: string[] = [];
  if (input.idpHint) {
    const hinted = input.idps.find((idp) => idp.id === input.idpHint);
    if (hinted) return { candidates: [hinted.id], trace: [`idp hint '${input.idpHint}' names a configured IdP`] };
    trace.push(`idp hint '${input.idpHint}' names no configured IdP: ignored`);
  }

  const domain = input.domainHint?.toLowerCase() ?? (input.email ? emailDomain(input.email) : undefined);
  if (domain) {
    const routed = input.idps.find((idp) => idp.domains.includes(domain));
    if (routed) {
      trace.push(`domain '${domain}' is routed to '${routed.id}'`);
      return { candidates: [routed.id], trace };
    }
    trace.push(`no IdP is configured for domain '${domain}'`);
  }

  // Nothing claims the domain: offer the redemption order's groups, each with its IdPs that take
  // any domain. Email passcodes need an address to send to.
  const candidates: string[] = [];
  for (const group of input.redemptionOrder) {
    for (const idp of input.idps) {
      if (idp.group !== group || idp.domains.length > 0) continue;
      if (group === 'emailOtp' && !input.email) continue;
      candidates.push(idp.id);
    }
  }
  trace.push(
    candidates.length
      ? `redemption order ${input.redemptionOrder.join(' → ')} offers: ${candidates.join(', ')}`
      : `redemption order ${input.redemptionOrder.join(' → ')} offers nothing`,
  );
  return { candidates, trace };
}
