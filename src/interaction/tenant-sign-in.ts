import { createHash } from 'node:crypto';
import type { PartnerConfig, TenantConfig } from '../config/types.ts';
import type { Connector } from '../connectors/types.ts';
import { brandingStylesheet, type BrandingInput } from '../ui/branding.ts';
import type { PageBranding } from '../ui/layout.ts';
import type { IdpSummary } from './home-realm.ts';

/** The key of the tenant's own branding among partner ids (which are slugs, so cannot clash). */
export const TENANT_BRANDING_KEY = '_tenant';

/**
 * What the sign-in flow knows of one tenant: its connectors, partners and branding, built once
 * from config at start-up.
 */
export class TenantSignIn {
  readonly tenantBaseUrl: string;
  readonly summaries: readonly IdpSummary[];
  readonly #tenant: TenantConfig;
  readonly #connectors: ReadonlyMap<string, Connector>;
  readonly #partnerByDomain: ReadonlyMap<string, PartnerConfig>;
  readonly #partnerById: ReadonlyMap<string, PartnerConfig>;
  readonly #stylesheets: ReadonlyMap<string, { css: string; version: string }>;

  constructor(tenant: TenantConfig, connectors: readonly Connector[], tenantBaseUrl: string) {
    this.#tenant = tenant;
    this.tenantBaseUrl = tenantBaseUrl;
    this.#connectors = new Map(connectors.map((c) => [c.id, c]));
    this.summaries = connectors.map((c) => ({ id: c.id, group: c.group, domains: c.domains }));
    this.#partnerById = new Map(tenant.partners.map((p) => [p.id, p]));
    this.#partnerByDomain = new Map(tenant.partners.flatMap((p) => p.domains.map((d) => [d, p] as const)));
    const stylesheets = new Map<string, { css: string; version: string }>();
    const add = (key: string, branding: BrandingInput | undefined) => {
      if (!branding) return;
      const css = brandingStylesheet(branding);
      stylesheets.set(key, { css, version: createHash('sha256').update(css).digest('base64url').slice(0, 10) });
    };
    add(TENANT_BRANDING_KEY, tenant.branding);
    for (const partner of tenant.partners) add(partner.id, partner.branding);
    this.#stylesheets = stylesheets;
  }

  connector(id: string): Connector | undefined {
    return this.#connectors.get(id);
  }

  partnerForDomain(domain: string): PartnerConfig | undefined {
    return this.#partnerByDomain.get(domain.toLowerCase());
  }

  partnerOfConnector(connectorId: string): string | undefined {
    return this.#tenant.identityProviders.find((idp) => idp.id === connectorId)?.partner;
  }

  /** Minutes an email passcode of this connector is valid, for the page that asks for it. */
  codeLifetimeMinutes(connectorId: string): number {
    const config = this.#tenant.identityProviders.find((idp) => idp.id === connectorId);
    return config && 'codeLifetimeMinutes' in config && typeof config.codeLifetimeMinutes === 'number' ? config.codeLifetimeMinutes : 10;
  }

  callbackUrl(connector: Connector): string {
    return `${this.tenantBaseUrl}/federation/${connector.id}/${connector.capability === 'saml-post' ? 'acs' : 'callback'}`;
  }

  stylesheet(key: string): string | undefined {
    return this.#stylesheets.get(key)?.css;
  }

  /**
   * The look of a sign-in page: the guest's home organisation's once it is known (Portico's
   * default when that organisation has none), the tenant's own until then.
   */
  brandingFor(partnerId: string | undefined): PageBranding {
    const partner = partnerId ? this.#partnerById.get(partnerId) : undefined;
    if (partner) return this.#branding(partner.id, partner.displayName, partner.branding);
    if (partnerId) return { organisation: this.#tenant.displayName };
    return this.#branding(TENANT_BRANDING_KEY, this.#tenant.displayName, this.#tenant.branding);
  }

  #branding(key: string, organisation: string, branding: BrandingInput | undefined): PageBranding {
    const sheet = this.#stylesheets.get(key);
    return {
      organisation,
      ...(sheet ? { stylesheet: `/branding/${this.#tenant.id}/${key}.css?v=${sheet.version}` } : {}),
      ...(branding?.logoUrl ? { logoUrl: branding.logoUrl } : {}),
      ...(branding?.signInText ? { signInText: branding.signInText } : {}),
    };
  }
}
