/**
 * Every call to an identity provider goes through a fetch bounded by the connector's own timeout
 * (shared/bounded-fetch.ts, over the fetch the composition root gives), and every failure becomes
 * an UpstreamError. Library errors are summarised, never attached as the
 * cause: openid-client keeps the token endpoint's response body on some of its errors, and a log
 * line must not carry tokens.
 */
import * as client from 'openid-client';
import { UpstreamError, type UpstreamFetch } from '../types.ts';

/** openid-client's fetch hook, over a bounded fetch. */
export const asCustomFetch =
  (fetchImpl: UpstreamFetch): client.CustomFetch =>
  (url, options) =>
    fetchImpl(url, options as RequestInit);

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);
const SAFE_TOKEN = /^[\w.-]{1,64}$/;

function causes(error: unknown): unknown[] {
  const chain: unknown[] = [];
  for (let current = error; current !== undefined && current !== null && chain.length < 8; ) {
    chain.push(current);
    current = (current as { cause?: unknown }).cause;
  }
  return chain;
}

function isUnavailable(error: unknown): boolean {
  if (error instanceof Response) return error.status >= 500;
  if (error instanceof client.ResponseBodyError) return error.status >= 500;
  if (!(error instanceof Error)) return false;
  if (error.name === 'TimeoutError' || error.name === 'AbortError') return true;
  if (error instanceof TypeError && error.message === 'fetch failed') return true;
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && NETWORK_CODES.has(code);
}

/** A one-line description of a library error: names, codes and static messages only. */
function summary(error: unknown): string {
  return causes(error)
    .filter((e): e is Error => e instanceof Error)
    .map((e) => {
      const code = (e as { code?: unknown }).code;
      const oauthError = e instanceof client.ResponseBodyError && SAFE_TOKEN.test(e.error) ? ` error=${e.error}` : '';
      // A JSON parse error quotes the text it choked on, which may be part of a token response.
      const message = e instanceof SyntaxError ? '(not shown)' : e.message.slice(0, 200);
      return `${e.name}${typeof code === 'string' && SAFE_TOKEN.test(code) ? `[${code}]` : ''}: ${message}${oauthError}`;
    })
    .join(' <- ');
}

/** Maps anything thrown while talking to the IdP to an UpstreamError (kept as is when it already is one). */
export function upstreamFailure(connectorId: string, step: string, error: unknown): UpstreamError {
  const chain = causes(error);
  const known = chain.find((e): e is UpstreamError => e instanceof UpstreamError);
  if (known) return known;
  if (chain.some(isUnavailable)) return new UpstreamError('upstream_unavailable', connectorId, `${step}: ${summary(error)}`);
  return new UpstreamError('invalid_response', connectorId, `${step}: ${summary(error)}`);
}

export async function readJson(response: Response, connectorId: string, step: string): Promise<unknown> {
  if (response.status !== 200) {
    await response.body?.cancel().catch(() => undefined);
    const code = response.status >= 500 ? 'upstream_unavailable' : 'invalid_response';
    throw new UpstreamError(code, connectorId, `${step}: HTTP ${response.status}`);
  }
  try {
    return await response.json();
  } catch (error) {
    throw upstreamFailure(connectorId, `${step}: reading JSON`, error);
  }
}
