/**
 * The authentication context classes Portico issues (`acr`), from the REFEDS assurance profiles
 * that federations already understand, and how a relying party asks for MFA (step-up).
 */
export const ACR_MFA = 'https://refeds.org/profile/mfa';
export const ACR_SFA = 'https://refeds.org/profile/sfa';
export const ACR_VALUES = [ACR_SFA, ACR_MFA] as const;

/**
 * Whether an authorization request asks for MFA: `acr_values` naming the MFA profile, or the
 * `claims` parameter asking for it as the ID token's `acr` (`value` or `values`).
 */
export function requestsMfa(params: Readonly<Record<string, unknown>>): boolean {
  const acrValues = typeof params['acr_values'] === 'string' ? params['acr_values'].split(' ') : [];
  if (acrValues.includes(ACR_MFA)) return true;
  const claims = params['claims'];
  if (typeof claims !== 'string') return false;
  try {
    const acr = (JSON.parse(claims) as { id_token?: { acr?: { value?: unknown; values?: unknown } } }).id_token?.acr;
    return acr?.value === ACR_MFA || (Array.isArray(acr?.values) && acr.values.includes(ACR_MFA));
  } catch {
    // The provider rejects a malformed claims parameter before any interaction starts.
    return false;
  }
}
