/**
 * The IdP's discovery document, read lazily through openid-client and cached for an hour. Only
 * the plain metadata is kept: each sign-in builds its own openid-client Configuration from it, so
 * per-call hooks (the bounded fetch, the ID token set aside) never leak between sign-ins.
 */
import * as client from 'openid-client';
import { isLoopbackHost } from '../../config/primitives.ts';
import type { Clock } from '../../shared/clock.ts';
import { UpstreamError, type UpstreamFetch } from '../types.ts';
import { Cached } from './cached.ts';
import { asCustomFetch, upstreamFailure } from './upstream-http.ts';

export const METADATA_TTL_MS = 60 * 60 * 1000;

export interface DiscoverySettings {
  readonly connectorId: string;
  /** The issuer (discovery appended and the issuer compared by openid-client), or a full `.well-known` URL. */
  readonly url: URL;
  readonly clientId: string;
  readonly fetch: UpstreamFetch;
  readonly timeoutSeconds: number;
  /** Extra checks of the document (Microsoft's issuer template); throw to refuse it. */
  readonly check?: (metadata: client.ServerMetadata) => void;
}

/** True when http is acceptable for this URL: only loopback hosts, as for the config's own URLs. */
export const insecureAllowed = (url: URL): boolean => url.protocol === 'http:' && isLoopbackHost(url.hostname);

function endpointProblem(value: unknown, allowHttp: boolean): string | undefined {
  if (typeof value !== 'string' || !URL.canParse(value)) return 'is missing or not a URL';
  const url = new URL(value);
  if (url.protocol === 'https:') return undefined;
  if (url.protocol === 'http:' && allowHttp && isLoopbackHost(url.hostname)) return undefined;
  return 'must use https';
}

async function discover(settings: DiscoverySettings): Promise<client.ServerMetadata> {
  const allowHttp = insecureAllowed(settings.url);
  let configuration: client.Configuration;
  try {
    configuration = await client.discovery(settings.url, settings.clientId, undefined, client.None(), {
      [client.customFetch]: asCustomFetch(settings.fetch),
      timeout: settings.timeoutSeconds,
      execute: allowHttp ? [client.allowInsecureRequests] : [],
    });
  } catch (error) {
    const failure = upstreamFailure(settings.connectorId, 'discovery', error);
    // A document that does not fit is the IdP's (or the config's) fault, not the guest's: to
    // the person it is the same as an IdP that is down.
    throw new UpstreamError('upstream_unavailable', settings.connectorId, failure.message);
  }
  const document = JSON.parse(JSON.stringify(configuration.serverMetadata())) as client.ServerMetadata;
  // A userinfo endpoint Portico may not call is treated as absent rather than failing every sign-in.
  const { userinfo_endpoint: userinfo, ...rest } = document;
  const metadata: client.ServerMetadata = userinfo !== undefined && !endpointProblem(userinfo, allowHttp) ? document : rest;
  for (const key of ['authorization_endpoint', 'token_endpoint', 'jwks_uri'] as const) {
    const problem = endpointProblem(metadata[key], allowHttp);
    if (problem) throw new UpstreamError('upstream_unavailable', settings.connectorId, `discovery: ${key} ${problem}`);
  }
  try {
    settings.check?.(metadata);
  } catch (error) {
    throw new UpstreamError('upstream_unavailable', settings.connectorId, `discovery: ${error instanceof Error ? error.message : String(error)}`);
  }
  return metadata;
}

export const metadataCache = (settings: DiscoverySettings, clock: Clock): Cached<client.ServerMetadata> =>
  new Cached(() => discover(settings), METADATA_TTL_MS, clock);
