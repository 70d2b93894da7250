/**
 * One measurement cell: autocannon against a token endpoint for a fixed time at a fixed number of
 * connections, each connection sending its next request when the previous answer arrived.
 */
import autocannon, { type Client, type Request } from 'autocannon';
import { createHistogram } from 'node:perf_hooks';

export type Grant = 'client_credentials' | 'refresh_token';

export interface CellSpec {
  /** e.g. http://127.0.0.1:1234/contoso/v2.0/token */
  readonly tokenUrl: string;
  readonly grant: Grant;
  readonly clientId: string;
  readonly secret: string;
  readonly connections: number;
  readonly seconds: number;
  /** refresh_token: one fresh refresh token per connection, then spares for chains that break. */
  readonly refreshTokens?: readonly string[];
}

export interface CellResult {
  readonly ok: number;
  readonly seconds: number;
  readonly tokensPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** non-2xx answers + connection errors + timeouts. */
  readonly errors: number;
  /** What went wrong, by status and error code: how often, and when first (seconds into the cell). */
  readonly errorKinds: ReadonlyMap<string, { count: number; firstAtS: number }>;
}

export const basicAuth = (clientId: string, secret: string): string =>
  `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(secret)}`).toString('base64')}`;

/** Short, token-free description of a failed answer: status and the OAuth error code. */
function errorKind(status: number, body: string): string {
  try {
    const parsed = JSON.parse(body) as { error?: string; error_description?: string };
    return `${status} ${parsed.error ?? ''}${parsed.error_description ? ` (${parsed.error_description})` : ''}`.trim();
  } catch {
    return `${status}`;
  }
}

export async function runCell(spec: CellSpec): Promise<CellResult> {
  const url = new URL(spec.tokenUrl);
  const headers = {
    authorization: basicAuth(spec.clientId, spec.secret),
    'content-type': 'application/x-www-form-urlencoded',
    accept: 'application/json',
  };
  // autocannon's own latency histogram has 1 ms resolution, too coarse for sub-millisecond p50s:
  // latencies are taken here, from building a request (right before it is written) to its answer.
  const latencies = createHistogram();
  const errorKinds = new Map<string, { count: number; firstAtS: number }>();
  let startedAt = 0n;
  const countError = (kind: string, count = 1): void => {
    const seen = errorKinds.get(kind);
    if (seen) seen.count += count;
    else errorKinds.set(kind, { count, firstAtS: Number(process.hrtime.bigint() - startedAt) / 1e9 });
  };

  const spares = [...(spec.refreshTokens ?? [])];
  if (spec.grant === 'refresh_token' && spares.length < spec.connections) {
    throw new Error(`${spec.connections} connections need as many refresh tokens, got ${spares.length}`);
  }

  // Per-connection state lives in this closure, not in autocannon's `context`: with a single
  // entry in `requests`, autocannon resets the context before every request (it does so whenever
  // the list wraps), so a rotated refresh token put there would be lost.
  const requestsFor = (): Request[] => {
    let sentAt = 0n;
    let refreshToken = spec.grant === 'refresh_token' ? spares.shift()! : '';
    const staticBody = 'grant_type=client_credentials&scope=payroll.read';
    return [
      {
        method: 'POST',
        path: url.pathname,
        headers,
        setupRequest: (req) => {
          sentAt = process.hrtime.bigint();
          return spec.grant === 'refresh_token'
            ? { ...req, body: `grant_type=refresh_token&refresh_token=${encodeURIComponent(refreshToken)}` }
            : { ...req, body: staticBody };
        },
        onResponse: (status, body) => {
          const elapsed = process.hrtime.bigint() - sentAt;
          if (status >= 200 && status < 300) {
            latencies.record(elapsed > 0n ? elapsed : 1n);
            if (spec.grant !== 'refresh_token') return;
            let next: unknown;
            try {
              next = (JSON.parse(body) as { refresh_token?: unknown }).refresh_token;
            } catch {
              next = undefined;
            }
            if (typeof next === 'string') {
              refreshToken = next;
              return;
            }
            countError(`${status} without a refresh_token`);
          } else {
            countError(errorKind(status, body));
          }
          // This chain is broken (its token is consumed or its grant revoked): carry on with a spare.
          if (spec.grant === 'refresh_token' && spares.length > 0) refreshToken = spares.shift()!;
        },
      },
    ];
  };

  startedAt = process.hrtime.bigint();
  const instance = autocannon({
    url: url.origin,
    connections: spec.connections,
    duration: spec.seconds,
    pipelining: 1,
    timeout: 10,
    method: 'POST',
    headers,
    // Only so that autocannon's constructor has something static to build: every connection gets
    // its own request list in setupClient before anything is sent.
    body: 'grant_type=client_credentials',
    requests: [{ method: 'POST', path: url.pathname }],
    setupClient: (client: Client) => client.setRequests(requestsFor()),
  });
  instance.on('error', () => undefined);
  const result = await instance;
  if (result.errors) countError('connection errors', result.errors);
  if (result.timeouts) countError('timeouts', result.timeouts);
  const ok = result['2xx'];
  const seconds = result.duration || spec.seconds;
  return {
    ok,
    seconds,
    tokensPerSecond: ok / seconds,
    p50Ms: latencies.count ? latencies.percentile(50) / 1e6 : Number.NaN,
    p99Ms: latencies.count ? latencies.percentile(99) / 1e6 : Number.NaN,
    errors: result.non2xx + result.errors + result.timeouts,
    errorKinds,
  };
}
