import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../shared/logger.ts';
import { newRequestId } from '../shared/ids.ts';
import { setProviderSecurityHeaders } from './security-headers.ts';

export interface ProviderRoute {
  readonly callback: (req: IncomingMessage, res: ServerResponse) => unknown;
  readonly csp: string;
}

export interface RequestHandlerDeps {
  /** The provider of a tenant, or undefined when there is no such tenant. */
  readonly providerFor: (tenantId: string) => ProviderRoute | undefined;
  /** Everything that is not a provider endpoint: pages, APIs, health. */
  readonly app: (req: IncomingMessage, res: ServerResponse) => void;
  /** The access log: it only ever gets the fixed fields below. */
  readonly logger: Logger;
  readonly https: boolean;
  readonly trustProxy: boolean;
}

const TENANT_PATH = /^\/([a-z0-9][a-z0-9-]{0,62})\/v2\.0(\/[^?]*)?(\?.*)?$/;
const INCOMING_REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * The front door. Provider endpoints are dispatched straight to oidc-provider's callback: going
 * through express first halved token throughput when measured. Interaction pages and everything
 * else go to express. Every response gets a request id; every request is logged by path only,
 * never with its query string, which can carry codes and tokens.
 */
export function createRequestHandler(deps: RequestHandlerDeps): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const started = process.hrtime.bigint();
    const incoming = req.headers['x-request-id'];
    const requestId =
      deps.trustProxy && typeof incoming === 'string' && INCOMING_REQUEST_ID.test(incoming) ? incoming : newRequestId();
    res.setHeader('X-Request-Id', requestId);
    const url = req.url ?? '/';
    const path = url.split('?', 1)[0] ?? '/';
    const match = TENANT_PATH.exec(url);
    const tenantId = match?.[1];
    const rest = match?.[2] ?? '/';

    res.once('finish', () => {
      deps.logger.info(
        {
          requestId,
          method: req.method,
          path,
          status: res.statusCode,
          ms: Number(process.hrtime.bigint() - started) / 1e6,
          ...(tenantId ? { tenant: tenantId } : {}),
        },
        'request',
      );
    });

    // The sign-in pages and upstream callbacks live under the tenant's path but are Portico's own.
    const ownPage = rest.startsWith('/interaction/') || rest.startsWith('/federation/') || rest === '/redeem' || rest.startsWith('/redeem/');
    const route = tenantId && !ownPage ? deps.providerFor(tenantId) : undefined;
    if (route) {
      setProviderSecurityHeaders(res, route.csp, deps.https);
      // oidc-provider derives its mount path from originalUrl minus url: this is how an issuer
      // with a path (/contoso/v2.0) is served from a plain http server.
      (req as IncomingMessage & { originalUrl?: string }).originalUrl = url;
      req.url = `${rest}${match?.[3] ?? ''}`;
      void route.callback(req, res);
      return;
    }
    (req as IncomingMessage & { requestId?: string }).requestId = requestId;
    deps.app(req, res);
  };
}
