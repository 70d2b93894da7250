import { createHash } from 'node:crypto';

/**
 * Store keys and counter names. Each is a digest over its parts, so addresses and client IPs
 * never appear in keys (which show up in Redis listings and store errors), and parts cannot run
 * into each other.
 */
const digest = (...parts: readonly string[]): string => createHash('sha256').update(JSON.stringify(parts)).digest('base64url');

export interface Scope {
  readonly tenantId: string;
  readonly connectorId: string;
}

/** One challenge per (tenant, connector, sign-in flow, address): a code works only where it was asked for. */
export const challengeKey = (scope: Scope, flowId: string, emailKey: string): string =>
  `email-otp:${digest(scope.tenantId, scope.connectorId, flowId, emailKey)}`;

export const HOUR_MS = 3_600_000;

export type CounterKind = 'send-address' | 'send-ip' | 'verify-ip';

/**
 * A counter for the clock hour containing `now`. Naming the hour in the key makes the window
 * line up with the injected clock (and tells the caller exactly when it ends); the store's own
 * window only cleans the counter up.
 */
export function hourlyCounter(scope: Scope, kind: CounterKind, subject: string, now: number): { readonly name: string; readonly resetsInSeconds: number } {
  const hour = Math.floor(now / HOUR_MS);
  return {
    name: `email-otp:${kind}:${digest(scope.tenantId, scope.connectorId, subject)}:${hour}`,
    resetsInSeconds: Math.max(1, Math.ceil(((hour + 1) * HOUR_MS - now) / 1000)),
  };
}
