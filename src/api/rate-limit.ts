/**
 * Throttling of the management API per caller (the app of an app-only token, the user of a
 * delegated one) and tenant, in fixed one-minute windows kept in the store, so every instance
 * counts together. Beyond the limit: Graph's 429 `TooManyRequests` with `Retry-After`, as Graph
 * throttles, so scripts written for Entra back off the same way.
 */
import type { RequestHandler } from 'express';
import type { DocumentStore } from '../storage/ports.ts';
import { callerOf } from './authorization.ts';
import { GraphError } from './errors.ts';

const WINDOW_SECONDS = 60;
const COUNTERS = 'graph-api-requests';

export function rateLimit(store: DocumentStore, requestsPerMinute: number): RequestHandler {
  return async (_req, res, next) => {
    const caller = callerOf(res);
    const who = caller.delegated ? `user:${caller.delegated.user.id}` : `app:${caller.app.id}`;
    const count = await store.increment(COUNTERS, `${caller.tenant.id}:${who}`, WINDOW_SECONDS);
    if (count > requestsPerMinute) {
      // The window started at the caller's first request in it: at most a minute to wait.
      res.setHeader('Retry-After', String(WINDOW_SECONDS));
      throw new GraphError(429, 'TooManyRequests', `Too many requests: at most ${requestsPerMinute} per minute for each caller. Retry after ${WINDOW_SECONDS} seconds.`);
    }
    next();
  };
}
