/**
 * Delegated scopes on the management API (`apps[].graphScopes`). An app asks for them with
 * `resource={PUBLIC_URL}/graph` and their short names in `scope` (`User.Read`), as the provider's
 * resource indicators match scopes against a resource server's own list; `.default` stands for
 * every scope the app is configured with, as in Entra.
 */
import type { GraphScope } from '../config/types.ts';

export const DEFAULT_GRAPH_SCOPE = '.default';

/** The scopes a Graph resource server offers an app: its configured ones, and `.default`. */
export const offeredGraphScopes = (configured: readonly GraphScope[]): string[] =>
  configured.length === 0 ? [] : [...configured, DEFAULT_GRAPH_SCOPE];

/** The scopes a token's `scope` grants, `.default` expanded, within what the app is configured with. */
export function effectiveGraphScopes(scope: string | undefined, configured: readonly GraphScope[]): GraphScope[] {
  const granted = new Set((scope ?? '').split(' ').filter(Boolean));
  return configured.filter((name) => granted.has(name) || granted.has(DEFAULT_GRAPH_SCOPE));
}
