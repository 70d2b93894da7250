import express, { type ErrorRequestHandler, type Request, type RequestHandler, type Router } from 'express';
import helmet from 'helmet';
import { fileURLToPath } from 'node:url';
import type { Logger } from '../shared/logger.ts';
import { PorticoError } from '../shared/errors.ts';
import { html } from '../ui/html.ts';
import { renderPage } from '../ui/layout.ts';
import { contentSecurityPolicy } from './security-headers.ts';

export const requestIdOf = (req: Request): string =>
  (req as Request & { requestId?: string }).requestId ?? String(req.get('x-request-id') ?? '');

export interface ExpressAppDeps {
  readonly logger: Logger;
  readonly https: boolean;
  readonly trustProxy: boolean;
  readonly health: Router;
  readonly routers: readonly Router[];
}

const ASSETS_DIR = fileURLToPath(new URL('../ui/assets/', import.meta.url));

const wantsJson = (req: Request): boolean =>
  !req.accepts('html') || req.path.startsWith('/graph/') || req.path === '/healthz' || req.path === '/readyz';

/** Express serves pages and APIs; security headers through helmet, errors as a page or JSON. */
export function createExpressApp(deps: ExpressAppDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', deps.trustProxy);
  app.use(
    helmet({
      contentSecurityPolicy: { useDefaults: false, directives: parseDirectives(contentSecurityPolicy()) },
      strictTransportSecurity: deps.https ? { maxAge: 31536000, includeSubDomains: true } : false,
      referrerPolicy: { policy: 'no-referrer' },
      frameguard: { action: 'deny' },
    }),
  );
  app.use(deps.health);
  app.use('/assets', express.static(ASSETS_DIR, { index: false, fallthrough: false, maxAge: '1h' }));
  for (const router of deps.routers) app.use(router);
  app.use(notFound);
  app.use(errorHandler(deps.logger));
  return app;
}

function parseDirectives(csp: string): Record<string, string[]> {
  return Object.fromEntries(
    csp.split(';').map((directive) => {
      const [name, ...values] = directive.trim().split(/\s+/);
      return [name!, values];
    }),
  );
}

const notFound: RequestHandler = (req, res) => {
  if (wantsJson(req)) {
    res.status(404).json({ error: 'not_found', error_description: `no route for ${req.method} ${req.path}` });
    return;
  }
  res
    .status(404)
    .type('html')
    .send(
      renderPage({
        title: 'Not found',
        correlationId: requestIdOf(req),
        body: html`<h1>Page not found</h1><p>There is nothing at this address.</p>`,
      }),
    );
};

function errorHandler(logger: Logger): ErrorRequestHandler {
  return (error: unknown, req, res, _next) => {
    const requestId = requestIdOf(req);
    const known = error instanceof PorticoError ? error : undefined;
    const bodyParserStatus =
      typeof error === 'object' && error !== null && 'status' in error && typeof error.status === 'number' && error.status < 500
        ? error.status
        : undefined;
    const status = known?.status ?? bodyParserStatus ?? 500;
    if (status >= 500) logger.error({ requestId, err: error, path: req.path }, 'request failed');
    else logger.info({ requestId, code: known?.code, path: req.path, status }, 'request refused');
    if (res.headersSent) return;
    if (status === 503) res.set('Retry-After', '5');
    const message = known?.expose ? known.message : status < 500 ? 'The request could not be understood.' : 'Something went wrong on our side.';
    if (wantsJson(req)) {
      res.status(status).json({ error: known?.code ?? (status < 500 ? 'invalid_request' : 'server_error'), error_description: message, request_id: requestId });
      return;
    }
    res
      .status(status)
      .type('html')
      .send(
        renderPage({
          title: status === 503 ? 'Temporarily unavailable' : 'Something went wrong',
          correlationId: requestId,
          body: html`<h1>${status === 503 ? 'Temporarily unavailable' : 'Something went wrong'}</h1>
<p>${message}</p>
<p>Try again in a moment. If it keeps happening, contact the administrator and quote the correlation id.</p>`,
        }),
      );
  };
}
