import { Router } from 'express';

/**
 * Serves each organisation's branding stylesheet (`/branding/{tenant}/{partner or _tenant}.css`),
 * generated from validated config: pages link to it instead of inlining styles, keeping the CSP
 * free of 'unsafe-inline'.
 */
export function brandingRoutes(deps: { stylesheet: (tenantId: string, key: string) => string | undefined }): Router {
  const router = Router();
  router.get('/branding/:tenant/:file', (req, res) => {
    const match = /^([a-z0-9_][a-z0-9-]{0,62})\.css$/.exec(String(req.params['file']));
    const css = match ? deps.stylesheet(String(req.params['tenant']), match[1]!) : undefined;
    if (css === undefined) {
      res.status(404).type('text/css').send('/* no such branding */\n');
      return;
    }
    // The URL carries a content hash (?v=), so the file can be cached for a long time.
    res.type('text/css').set('Cache-Control', 'public, max-age=86400').send(css);
  });
  return router;
}
