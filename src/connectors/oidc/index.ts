import type { ConnectorModule } from '../registry.ts';
import type { RedirectConnector } from '../types.ts';
import { exactIssuer, OidcCodeFlow, codeFlowConnector } from './code-flow.ts';
import { oidcIdentity } from './identity.ts';
import { oidcSchema, type OidcConfig } from './schema.ts';

export { oidcSchema, type OidcConfig } from './schema.ts';

function createOidc(config: OidcConfig, deps: Parameters<ConnectorModule<'oidc'>['create']>[1]): RedirectConnector<'oidc'> {
  const names = config.claims;
  const flow = new OidcCodeFlow(
    {
      connectorId: config.id,
      discoveryUrl: new URL(config.issuer),
      clientId: config.clientId,
      clientSecret: config.clientSecret,
      clientAuth: config.clientAuth,
      scopes: config.scopes,
      timeoutSeconds: config.timeoutSeconds,
      issuers: exactIssuer,
      // Many IdPs keep profile claims out of the ID token when an access token is issued.
      wantsUserinfo: (claims) => claims[names.email] === undefined || claims[names.name] === undefined,
    },
    deps,
  );
  return codeFlowConnector(
    { id: config.id, kind: 'oidc', displayName: config.displayName ?? new URL(config.issuer).hostname, group: 'federation', domains: config.domains },
    flow,
    (signIn) => oidcIdentity(config, signIn),
  );
}

export const oidcConnector: ConnectorModule<'oidc', typeof oidcSchema> = {
  kind: 'oidc',
  schema: oidcSchema,
  create: async (config, deps) => createOidc(config, deps),
};
