import { Router } from 'express';
import type { ConfigStatus } from '../config/live-config.ts';
import { errorMessage } from '../shared/errors.ts';

export interface HealthDeps {
  /** Rejects when the store does not answer. */
  readonly pingStore: () => Promise<void>;
  readonly configHash: () => string;
  readonly isDraining: () => boolean;
  /** Live config: the hash in force, a refused reload, edits waiting for a restart. */
  readonly configStatus?: () => ConfigStatus;
}

/**
 * `/healthz`: the process is alive (for restarts). `/readyz`: this instance should get traffic
 * (for load balancers): config loaded, store answering, not shutting down.
 */
export function healthRoutes(deps: HealthDeps): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', async (_req, res) => {
    const checks: Record<string, { status: 'ok' | 'failing'; detail?: string }> = {
      config: { status: 'ok', detail: deps.configHash().slice(0, 12) },
    };
    try {
      await deps.pingStore();
      checks['store'] = { status: 'ok' };
    } catch (error) {
      checks['store'] = { status: 'failing', detail: errorMessage(error) };
    }
    if (deps.isDraining()) checks['shutdown'] = { status: 'failing', detail: 'shutting down' };
    const ready = Object.values(checks).every((c) => c.status === 'ok');
    // A refused reload leaves the previous, valid config in force: reported here, never unready.
    const live = deps.configStatus?.();
    const config = live ? { config: { ...live, hash: live.hash.slice(0, 12) } } : {};
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not ready', checks, ...config });
  });
  return router;
}
