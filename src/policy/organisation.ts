/** Which organisation a guest comes from, as far as a tenant's config can tell. */
import { CONSUMERS_TENANT_ID } from '../connectors/microsoft/schema.ts';
import type { HomeOrganisation, Organisation, TenantPolicy } from './types.ts';

/**
 * The most specific evidence wins: another tenant of this Portico, the tenant's own domains, the
 * partner of the connector used, then the partner owning the Entra tenant id, SAML entity id or
 * OIDC issuer, and only then the email domain (an IdP's identity is proven; an address only says
 * which mailbox someone controls).
 */
export function resolveOrganisation(policy: TenantPolicy, home: HomeOrganisation): Organisation {
  if (home.porticoTenantId === policy.tenantId) return { kind: 'home', id: policy.tenantId };
  if (home.porticoTenantId) return { kind: 'tenant', id: home.porticoTenantId, via: `tenant '${home.porticoTenantId}' of this Portico` };
  if (!home.partnerId && home.emailDomain && policy.domains?.includes(home.emailDomain)) return { kind: 'home', id: policy.tenantId };
  const partner = (via: string, predicate: (p: TenantPolicy['partners'][number]) => boolean): Organisation | undefined => {
    const found = policy.partners.find(predicate);
    return found ? { kind: 'partner', id: found.id, displayName: found.displayName, via } : undefined;
  };
  const { partnerId, samlEntityId, oidcIssuer, emailDomain } = home;
  // Every personal Microsoft account carries the consumers tenant's tid: it names no organisation,
  // so a partner listing it must not gain (and trust the MFA of) everyone with an outlook.com login.
  const entraTenantId = home.entraTenantId === CONSUMERS_TENANT_ID ? undefined : home.entraTenantId;
  return (
    (partnerId ? partner(`identity provider of partner '${partnerId}'`, (p) => p.id === partnerId) : undefined) ??
    (entraTenantId ? partner(`Entra tenant ${entraTenantId}`, (p) => p.entraTenantIds.includes(entraTenantId)) : undefined) ??
    (samlEntityId ? partner(`SAML entity id ${samlEntityId}`, (p) => p.samlEntityIds.includes(samlEntityId)) : undefined) ??
    (oidcIssuer ? partner(`OIDC issuer ${oidcIssuer}`, (p) => p.oidcIssuers.includes(oidcIssuer)) : undefined) ??
    (emailDomain ? partner(`email domain ${emailDomain}`, (p) => p.domains.includes(emailDomain)) : undefined) ?? {
      kind: 'other',
      via: emailDomain ? `email domain ${emailDomain} belongs to no partner` : 'no partner recognised',
    }
  );
}

/** `fabrikam` for a partner or tenant, for `externalTenants.members` and messages. */
export function organisationId(organisation: Organisation): string | undefined {
  return organisation.kind === 'partner' || organisation.kind === 'tenant' || organisation.kind === 'home' ? organisation.id : undefined;
}

export function describeOrganisation(organisation: Organisation): string {
  switch (organisation.kind) {
    case 'partner':
      return `partner '${organisation.id}' (${organisation.via})`;
    case 'tenant':
      return organisation.via;
    case 'home':
      return `this tenant ('${organisation.id}')`;
    case 'other':
      return `an organisation with no settings of its own (${organisation.via})`;
  }
}
