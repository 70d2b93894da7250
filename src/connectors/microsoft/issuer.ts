/**
 * Entra's multi-tenant discovery documents (`organizations`, `common`) name their issuer
 * `https://login.microsoftonline.com/{tenantid}/v2.0`: each token's `iss` must be that template
 * with the token's own `tid` put in. openid-client does this only when discovery starts at
 * Microsoft's real host, so Portico always does it itself; the tenant check is what stops a token
 * of one tenant from passing as another's.
 */
import type * as client from 'openid-client';
import type { IssuerPolicy } from '../oidc/code-flow.ts';
import { CONSUMERS_TENANT_ID, TENANT_ID, type MicrosoftConfig } from './schema.ts';

const TEMPLATE = '{tenantid}';

export const issuerTemplate = (authority: string): string => `${new URL(authority).origin}/${TEMPLATE}/v2.0`;
export const tenantIssuer = (authority: string, tenantId: string): string => issuerTemplate(authority).replace(TEMPLATE, tenantId);

/** The issuer the audience's discovery document must announce. */
export const expectedMetadataIssuer = (config: Pick<MicrosoftConfig, 'audience' | 'authority'>): string =>
  config.audience === 'consumers' ? tenantIssuer(config.authority, CONSUMERS_TENANT_ID) : issuerTemplate(config.authority);

export function checkMetadata(config: Pick<MicrosoftConfig, 'audience' | 'authority'>): (metadata: client.ServerMetadata) => void {
  const expected = expectedMetadataIssuer(config);
  return (metadata) => {
    if (metadata.issuer !== expected) throw new Error(`issuer is not the expected ${config.audience} issuer`);
  };
}

/** Whether the audience admits accounts of this tenant at all. */
function audienceAdmits(audience: MicrosoftConfig['audience'], tenantId: string): boolean {
  if (audience === 'consumers') return tenantId === CONSUMERS_TENANT_ID;
  if (audience === 'organizations') return tenantId !== CONSUMERS_TENANT_ID;
  return true;
}

export function microsoftIssuers(config: Pick<MicrosoftConfig, 'audience' | 'authority'>): IssuerPolicy {
  const issuerOfTenant = (iss: string): string | undefined => {
    const prefix = `${new URL(config.authority).origin}/`;
    if (!iss.startsWith(prefix) || !iss.endsWith('/v2.0')) return undefined;
    const tenantId = iss.slice(prefix.length, -'/v2.0'.length);
    return TENANT_ID.test(tenantId) && tenantIssuer(config.authority, tenantId) === iss ? tenantId : undefined;
  };
  return {
    parameter: (iss) => {
      const tenantId = issuerOfTenant(iss);
      return tenantId !== undefined && audienceAdmits(config.audience, tenantId);
    },
    token: (iss, claims, _metadata, parameter) => {
      const tid = claims['tid'];
      if (typeof tid !== 'string' || !TENANT_ID.test(tid) || !audienceAdmits(config.audience, tid)) return false;
      if (iss !== tenantIssuer(config.authority, tid)) return false;
      return parameter === undefined || parameter === iss;
    },
  };
}
