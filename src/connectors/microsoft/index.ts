import type { ConnectorModule } from '../registry.ts';
import type { RedirectConnector } from '../types.ts';
import { OidcCodeFlow, codeFlowConnector } from '../oidc/code-flow.ts';
import { microsoftIdentity } from './identity.ts';
import { checkMetadata, microsoftIssuers } from './issuer.ts';
import { microsoftSchema, type MicrosoftConfig } from './schema.ts';

export { CONSUMERS_TENANT_ID, microsoftSchema, type MicrosoftConfig } from './schema.ts';

function createMicrosoft(config: MicrosoftConfig, deps: Parameters<ConnectorModule<'microsoft'>['create']>[1]): RedirectConnector<'microsoft'> {
  const authority = new URL(config.authority).origin;
  const flow = new OidcCodeFlow(
    {
      connectorId: config.id,
      // The full document URL: the multi-tenant issuer is a template, never equal to the URL.
      discoveryUrl: new URL(`${authority}/${config.audience}/v2.0/.well-known/openid-configuration`),
      checkMetadata: checkMetadata(config),
      clientId: config.clientId,
      clientSecret: config.clientSecret,
      clientAuth: config.clientAuth,
      scopes: config.scopes,
      timeoutSeconds: config.timeoutSeconds,
      issuers: microsoftIssuers(config),
      // Entra's userinfo lives on Graph, for Graph's audience; the ID token has all Portico reads.
      wantsUserinfo: () => false,
    },
    deps,
  );
  return codeFlowConnector(
    { id: config.id, kind: 'microsoft', displayName: config.displayName ?? 'Microsoft', group: config.audience === 'organizations' ? 'federation' : 'social', domains: config.domains },
    flow,
    (signIn) => microsoftIdentity(config, signIn),
  );
}

export const microsoftConnector: ConnectorModule<'microsoft', typeof microsoftSchema> = {
  kind: 'microsoft',
  schema: microsoftSchema,
  create: async (config, deps) => createMicrosoft(config, deps),
};
