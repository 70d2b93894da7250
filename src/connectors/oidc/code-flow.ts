/**
 * The OpenID Connect authorization code flow (PKCE S256, state, nonce) shared by the `oidc`,
 * `google` and `microsoft` kinds. openid-client does the protocol mechanics: discovery, the
 * authorization URL, client authentication, the token request and its error responses, userinfo.
 * Portico does the checks openid-client cannot be configured to do right (see id-token.ts): the
 * ID token is taken out of the token response before openid-client reads it and verified here.
 */
import * as client from 'openid-client';
import type { JWTPayload } from 'jose';
import type { Clock } from '../../shared/clock.ts';
import { UpstreamError, type ConnectorGroup, type ConnectorState, type RedirectConnector, type StartContext, type UpstreamFetch, type UpstreamIdentity } from '../types.ts';
import {
  fromConnectorState,
  newRedirectState,
  readAuthorizationResponse,
  toConnectorState,
  type RedirectState,
} from './authorization-response.ts';
import type { Cached } from './cached.ts';
import { insecureAllowed, metadataCache } from './discovery.ts';
import { verifyIdToken } from './id-token.ts';
import { JwksCache } from './jwks.ts';
import { boundedFetch } from '../../shared/bounded-fetch.ts';
import { asCustomFetch, upstreamFailure } from './upstream-http.ts';

/** Which issuers a connector accepts; the presets differ only here and in claim mapping. */
export interface IssuerPolicy {
  /** The RFC 9207 `iss` authorization response parameter, before the code is exchanged. */
  parameter(iss: string, metadata: client.ServerMetadata): boolean;
  /** The ID token's `iss`, given its other claims and the `iss` parameter when one was sent. */
  token(iss: string, claims: JWTPayload, metadata: client.ServerMetadata, parameter: string | undefined): boolean;
}

/** The plain rule: both equal the issuer of the discovery document. */
export const exactIssuer: IssuerPolicy = {
  parameter: (iss, metadata) => iss === metadata.issuer,
  token: (iss, _claims, metadata) => iss === metadata.issuer,
};

export interface CodeFlowSettings {
  readonly connectorId: string;
  /** The issuer, or a full `.well-known/openid-configuration` URL (Microsoft's multi-tenant documents). */
  readonly discoveryUrl: URL;
  readonly checkMetadata?: (metadata: client.ServerMetadata) => void;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly clientAuth: 'client_secret_basic' | 'client_secret_post';
  readonly scopes: readonly string[];
  readonly timeoutSeconds: number;
  readonly issuers: IssuerPolicy;
  /** Given the ID token's claims, whether userinfo should fill in what it lacks (false: never ask). */
  readonly wantsUserinfo: (idTokenClaims: JWTPayload) => boolean;
  /** Extra authorization request parameters (Google's `hd` hint …). */
  readonly authorizationParams?: Readonly<Record<string, string>>;
}

export interface VerifiedSignIn {
  /** The issuer of the discovery document the sign-in was checked against. */
  readonly metadataIssuer: string;
  readonly idToken: JWTPayload & { readonly iss: string; readonly sub: string };
  /** Userinfo claims, when asked for; the ID token's claims win over them. */
  readonly userinfo?: Readonly<Record<string, unknown>>;
}

export class OidcCodeFlow {
  readonly #settings: CodeFlowSettings;
  readonly #fetch: UpstreamFetch;
  readonly #clock: Clock;
  readonly #metadata: Cached<client.ServerMetadata>;
  readonly #jwks: JwksCache;
  readonly #allowHttp: boolean;

  constructor(settings: CodeFlowSettings, deps: { readonly fetch: UpstreamFetch; readonly clock: Clock }) {
    this.#settings = settings;
    this.#fetch = boundedFetch(settings.timeoutSeconds * 1000, deps.fetch);
    this.#clock = deps.clock;
    this.#allowHttp = insecureAllowed(settings.discoveryUrl);
    this.#metadata = metadataCache(
      {
        connectorId: settings.connectorId,
        url: settings.discoveryUrl,
        clientId: settings.clientId,
        fetch: this.#fetch,
        timeoutSeconds: settings.timeoutSeconds,
        ...(settings.checkMetadata ? { check: settings.checkMetadata } : {}),
      },
      deps.clock,
    );
    this.#jwks = new JwksCache({
      connectorId: settings.connectorId,
      jwksUri: async () => (await this.#metadata.get()).jwks_uri!,
      fetch: this.#fetch,
      clock: deps.clock,
    });
  }

  /** The discovery document (fetched on first use, then cached). */
  metadata(): Promise<client.ServerMetadata> {
    return this.#metadata.get();
  }

  async start(context: StartContext): Promise<{ readonly redirectUrl: string; readonly state: ConnectorState }> {
    const metadata = await this.#metadata.get();
    const { state, codeChallenge } = await newRedirectState(context, true);
    const parameters: Record<string, string> = {
      ...this.#settings.authorizationParams,
      redirect_uri: state.redirectUri,
      response_type: 'code',
      scope: this.#settings.scopes.join(' '),
      state: state.state,
      nonce: state.nonce!,
      code_challenge: codeChallenge,
      code_challenge_method: 'S256',
    };
    if (context.loginHint) parameters['login_hint'] = context.loginHint;
    if (context.locale) parameters['ui_locales'] = context.locale;
    const url = client.buildAuthorizationUrl(this.#configuration(metadata, this.#fetch), parameters);
    return { redirectUrl: url.href, state: toConnectorState(state) };
  }

  async complete(callbackUrl: URL, connectorState: ConnectorState, context: StartContext): Promise<VerifiedSignIn> {
    const { connectorId } = this.#settings;
    const expected = fromConnectorState(connectorState, connectorId, true);
    const metadata = await this.#metadata.get();
    const { code, iss: issParameter } = readAuthorizationResponse(callbackUrl, expected, context, connectorId, {
      required: metadata.authorization_response_iss_parameter_supported === true,
      accepts: (iss) => this.#settings.issuers.parameter(iss, metadata),
    });

    const { tokens, idToken: rawIdToken, configuration } = await this.#exchange(metadata, code, expected);
    if (rawIdToken === undefined) throw new UpstreamError('invalid_response', connectorId, 'token: no id_token');
    const idToken = await verifyIdToken(rawIdToken, {
      connectorId,
      clientId: this.#settings.clientId,
      nonce: expected.nonce!,
      advertisedAlgs: metadata.id_token_signing_alg_values_supported,
      issuerAccepted: (iss, claims) => this.#settings.issuers.token(iss, claims, metadata, issParameter),
      jwks: this.#jwks,
      clock: this.#clock,
    });

    const metadataIssuer = metadata.issuer;
    if (!metadata.userinfo_endpoint || !this.#settings.wantsUserinfo(idToken)) return { metadataIssuer, idToken };
    try {
      const userinfo = await client.fetchUserInfo(configuration, tokens.access_token, idToken.sub);
      return { metadataIssuer, idToken, userinfo: { ...userinfo } };
    } catch (error) {
      throw upstreamFailure(connectorId, 'userinfo', error);
    }
  }

  async #exchange(metadata: client.ServerMetadata, code: string, expected: RedirectState) {
    // The ID token is set aside before openid-client parses the response: its own checks would
    // refuse what Portico must accept (Google's bare issuer, Entra's tenant issuers) and skip what
    // Portico must refuse (unsigned tokens); verifyIdToken does all of them instead.
    let idToken: string | undefined;
    const tokenEndpoint = new URL(metadata.token_endpoint!).href;
    const setAside: UpstreamFetch = async (input, init) => {
      const response = await this.#fetch(input, init);
      if (String(input) !== tokenEndpoint || response.status !== 200) return response;
      const body = (await response.json()) as Record<string, unknown>;
      if (body && typeof body === 'object' && 'id_token' in body) {
        if (typeof body['id_token'] === 'string') idToken = body['id_token'];
        delete body['id_token'];
      }
      return new Response(JSON.stringify(body), { status: 200, headers: { 'content-type': 'application/json' } });
    };
    const configuration = this.#configuration(metadata, setAside);
    try {
      const tokens = await client.genericGrantRequest(configuration, 'authorization_code', {
        code,
        redirect_uri: expected.redirectUri,
        code_verifier: expected.codeVerifier,
      });
      return { tokens, idToken, configuration };
    } catch (error) {
      throw upstreamFailure(this.#settings.connectorId, 'token', error);
    }
  }

  #configuration(metadata: client.ServerMetadata, fetchImpl: UpstreamFetch): client.Configuration {
    const { clientId, clientSecret, clientAuth, timeoutSeconds } = this.#settings;
    const auth = clientAuth === 'client_secret_post' ? client.ClientSecretPost(clientSecret) : client.ClientSecretBasic(clientSecret);
    const configuration = new client.Configuration(metadata, clientId, { client_secret: clientSecret }, auth);
    configuration[client.customFetch] = asCustomFetch(fetchImpl);
    configuration.timeout = timeoutSeconds;
    if (this.#allowHttp) client.allowInsecureRequests(configuration);
    return configuration;
  }
}

/**
 * The RedirectConnector of an OIDC-based kind: what differs between oidc, google and microsoft is
 * only their metadata and how a verified sign-in becomes an UpstreamIdentity.
 */
export function codeFlowConnector<K extends 'oidc' | 'google' | 'microsoft'>(
  meta: { id: string; kind: K; displayName: string; group: ConnectorGroup; domains: readonly string[] },
  flow: OidcCodeFlow,
  toIdentity: (signIn: VerifiedSignIn) => UpstreamIdentity,
): RedirectConnector<K> {
  return {
    ...meta,
    capability: 'redirect',
    start: (context) => flow.start(context),
    handleCallback: async (callbackUrl, state, context) => toIdentity(await flow.complete(callbackUrl, state, context)),
  };
}
