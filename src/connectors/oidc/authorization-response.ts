/**
 * What a redirect connector remembers between `start` and the callback, and the checks on the
 * browser's return trip: the flow, the callback URL (one per connector, so a response meant for
 * another IdP is refused: mix-up defence), `state`, the RFC 9207 `iss` parameter, then the IdP's
 * own error. Shared by the OIDC kinds and Facebook.
 */
import * as client from 'openid-client';
import { UpstreamError, type ConnectorState, type StartContext } from '../types.ts';
import { sameString } from './same-string.ts';

export interface RedirectState {
  readonly flowId: string;
  readonly redirectUri: string;
  readonly state: string;
  readonly codeVerifier: string;
  /** Absent for plain OAuth 2.0 (Facebook). */
  readonly nonce?: string;
}

export async function newRedirectState(context: StartContext, withNonce: boolean): Promise<{ state: RedirectState; codeChallenge: string }> {
  const codeVerifier = client.randomPKCECodeVerifier();
  const state: RedirectState = {
    flowId: context.flowId,
    redirectUri: context.callbackUrl,
    state: client.randomState(),
    codeVerifier,
    ...(withNonce ? { nonce: client.randomNonce() } : {}),
  };
  return { state, codeChallenge: await client.calculatePKCECodeChallenge(codeVerifier) };
}

export const toConnectorState = (state: RedirectState): ConnectorState => ({ ...state });

export function fromConnectorState(value: ConnectorState, connectorId: string, withNonce: boolean): RedirectState {
  const text = (key: string) => {
    const v = value[key];
    if (typeof v !== 'string' || v.length === 0) throw new UpstreamError('invalid_response', connectorId, `connector state lacks ${key}`);
    return v;
  };
  return {
    flowId: text('flowId'),
    redirectUri: text('redirectUri'),
    state: text('state'),
    codeVerifier: text('codeVerifier'),
    ...(withNonce ? { nonce: text('nonce') } : {}),
  };
}

export interface IssuerParameterRule {
  /** The IdP says it sends `iss` (RFC 9207): then its absence is an error. */
  readonly required: boolean;
  /** Whether a present `iss` names this IdP. Checked even when not advertised. */
  readonly accepts: (iss: string) => boolean;
}

const ERROR_CODE = /^[\x20-\x21\x23-\x5B\x5D-\x7E]{1,64}$/;
const SINGLE = ['state', 'code', 'iss', 'error'];

/** Returns the authorization code (and `iss` when sent) or throws the matching UpstreamError. */
export function readAuthorizationResponse(
  callbackUrl: URL,
  expected: RedirectState,
  context: StartContext,
  connectorId: string,
  issuer: IssuerParameterRule,
): { readonly code: string; readonly iss: string | undefined } {
  const refuse = (message: string) => new UpstreamError('invalid_response', connectorId, `callback: ${message}`);
  if (expected.flowId !== context.flowId) throw refuse('state belongs to another sign-in flow');
  if (expected.redirectUri !== context.callbackUrl) throw refuse('state was issued for another callback URL');
  const own = new URL(context.callbackUrl);
  if (callbackUrl.origin !== own.origin || callbackUrl.pathname !== own.pathname) throw refuse('response arrived at another callback URL');
  const params = callbackUrl.searchParams;
  for (const name of SINGLE) if (params.getAll(name).length > 1) throw refuse(`repeated ${name} parameter`);

  const state = params.get('state');
  if (state === null || !sameString(state, expected.state)) throw refuse('state mismatch');

  const iss = params.get('iss') ?? undefined;
  if (iss === undefined ? issuer.required : !issuer.accepts(iss)) throw refuse(iss === undefined ? 'iss parameter missing' : 'iss parameter names another issuer');

  const error = params.get('error');
  if (error !== null) {
    throw new UpstreamError('upstream_denied', connectorId, `IdP answered error=${ERROR_CODE.test(error) ? error : '(malformed)'}`);
  }
  const code = params.get('code');
  if (!code) throw refuse('no code');
  return { code, iss };
}
