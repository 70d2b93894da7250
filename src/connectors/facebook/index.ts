/**
 * Facebook: OAuth 2.0 with PKCE (S256) and `state`, the code exchanged through openid-client's
 * token request, then the person read from Graph `/me`. There is no ID token: the identity rests
 * on the access token having come from Facebook's token endpoint over TLS for this app's code.
 */
import * as client from 'openid-client';
import type { ConnectorModule } from '../registry.ts';
import { UpstreamError, type RedirectConnector, type UpstreamFetch, type UpstreamIdentity } from '../types.ts';
import {
  fromConnectorState,
  newRedirectState,
  readAuthorizationResponse,
  toConnectorState,
} from '../oidc/authorization-response.ts';
import { textClaim } from '../oidc/claims.ts';
import { insecureAllowed } from '../oidc/discovery.ts';
import { emailFrom } from '../oidc/email.ts';
import { boundedFetch } from '../../shared/bounded-fetch.ts';
import { asCustomFetch, upstreamFailure } from '../oidc/upstream-http.ts';
import { readProfile, type GraphProfile } from './graph.ts';
import { facebookSchema, type FacebookConfig } from './schema.ts';

export { facebookSchema, type FacebookConfig } from './schema.ts';
export { appSecretProof } from './graph.ts';

export const FACEBOOK_ISSUER = 'https://www.facebook.com';

function configuration(config: FacebookConfig, fetchImpl: UpstreamFetch): client.Configuration {
  const metadata: client.ServerMetadata = {
    issuer: FACEBOOK_ISSUER,
    authorization_endpoint: config.authorizeUrl,
    token_endpoint: config.tokenUrl,
  };
  const result = new client.Configuration(metadata, config.clientId, { client_secret: config.clientSecret }, client.ClientSecretPost(config.clientSecret));
  result[client.customFetch] = asCustomFetch(fetchImpl);
  result.timeout = config.timeoutSeconds;
  if ([config.authorizeUrl, config.tokenUrl, config.graphUrl].some((url) => insecureAllowed(new URL(url)))) client.allowInsecureRequests(result);
  return result;
}

/**
 * Facebook returns `email` only when the address is confirmed on the account, so a present,
 * well-formed email counts as verified; an account signed up by phone simply has none.
 */
export function facebookIdentity(config: FacebookConfig, profile: GraphProfile): UpstreamIdentity {
  const name = textClaim(profile, 'name');
  const givenName = textClaim(profile, 'first_name');
  const familyName = textClaim(profile, 'last_name');
  return {
    connectorId: config.id,
    kind: 'facebook',
    issuer: FACEBOOK_ISSUER,
    subject: profile.id,
    idp: 'facebook.com',
    ...emailFrom(profile['email'], true),
    ...(name !== undefined ? { name } : {}),
    ...(givenName !== undefined ? { givenName } : {}),
    ...(familyName !== undefined ? { familyName } : {}),
    amr: [],
    rawClaims: { ...profile },
  };
}

function createFacebook(config: FacebookConfig, deps: Parameters<ConnectorModule<'facebook'>['create']>[1]): RedirectConnector<'facebook'> {
  const fetchImpl = boundedFetch(config.timeoutSeconds * 1000, deps.fetch);
  return {
    id: config.id,
    kind: 'facebook',
    capability: 'redirect',
    displayName: config.displayName ?? 'Facebook',
    group: 'social',
    domains: config.domains,
    async start(context) {
      const { state, codeChallenge } = await newRedirectState(context, false);
      const url = client.buildAuthorizationUrl(configuration(config, fetchImpl), {
        redirect_uri: state.redirectUri,
        response_type: 'code',
        scope: config.scopes.join(','),
        state: state.state,
        code_challenge: codeChallenge,
        code_challenge_method: 'S256',
      });
      return { redirectUrl: url.href, state: toConnectorState(state) };
    },
    async handleCallback(callbackUrl, connectorState, context) {
      const expected = fromConnectorState(connectorState, config.id, false);
      const { code } = readAuthorizationResponse(callbackUrl, expected, context, config.id, {
        required: false,
        accepts: (iss) => iss === FACEBOOK_ISSUER,
      });
      let accessToken: string;
      try {
        const tokens = await client.genericGrantRequest(configuration(config, fetchImpl), 'authorization_code', {
          code,
          redirect_uri: expected.redirectUri,
          code_verifier: expected.codeVerifier,
        });
        accessToken = tokens.access_token;
      } catch (error) {
        throw upstreamFailure(config.id, 'token', error);
      }
      if (!accessToken) throw new UpstreamError('invalid_response', config.id, 'token: no access_token');
      const profile = await readProfile({ connectorId: config.id, graphUrl: config.graphUrl, appSecret: config.clientSecret, accessToken, fetch: fetchImpl });
      return facebookIdentity(config, profile);
    },
  };
}

export const facebookConnector: ConnectorModule<'facebook', typeof facebookSchema> = {
  kind: 'facebook',
  schema: facebookSchema,
  create: async (config, deps) => createFacebook(config, deps),
};
