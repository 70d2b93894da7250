import type { ConnectorModule } from '../registry.ts';
import type { RedirectConnector } from '../types.ts';
import { OidcCodeFlow, codeFlowConnector } from '../oidc/code-flow.ts';
import { googleIdentity } from './identity.ts';
import { googleIssuers } from './issuer.ts';
import { googleSchema, type GoogleConfig } from './schema.ts';

export { googleSchema, type GoogleConfig } from './schema.ts';

function createGoogle(config: GoogleConfig, deps: Parameters<ConnectorModule<'google'>['create']>[1]): RedirectConnector<'google'> {
  const onlyDomain = config.hostedDomains?.length === 1 ? config.hostedDomains[0] : undefined;
  const flow = new OidcCodeFlow(
    {
      connectorId: config.id,
      discoveryUrl: new URL(config.issuer),
      clientId: config.clientId,
      clientSecret: config.clientSecret,
      clientAuth: config.clientAuth,
      scopes: config.scopes,
      timeoutSeconds: config.timeoutSeconds,
      issuers: googleIssuers(),
      wantsUserinfo: (claims) => claims['email'] === undefined,
      // `hd` on the request only narrows Google's account chooser; the `hd` claim is what is enforced.
      ...(onlyDomain ? { authorizationParams: { hd: onlyDomain } } : {}),
    },
    deps,
  );
  return codeFlowConnector(
    { id: config.id, kind: 'google', displayName: config.displayName ?? 'Google', group: 'social', domains: config.domains },
    flow,
    (signIn) => googleIdentity(config, signIn),
  );
}

export const googleConnector: ConnectorModule<'google', typeof googleSchema> = {
  kind: 'google',
  schema: googleSchema,
  create: async (config, deps) => createGoogle(config, deps),
};
