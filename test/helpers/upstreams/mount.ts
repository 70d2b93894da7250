import type { IncomingMessage, ServerResponse } from 'node:http';
import type { OidcCore } from './oidc-core.ts';

/**
 * Hands a request to a core mounted under `mountPath`: oidc-provider derives its mount from
 * `originalUrl` minus `url`, which is how an issuer with a path is served from plain node:http.
 * `rest` is the path (and query) below the mount.
 */
export function forward(core: OidcCore, req: IncomingMessage, res: ServerResponse, mountPath: string, rest: string): Promise<void> {
  (req as IncomingMessage & { originalUrl?: string }).originalUrl = `${mountPath}${rest}`;
  req.url = rest;
  return core.handle(req, res);
}
