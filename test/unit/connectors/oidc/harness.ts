/**
 * What the connector tests share: the dependencies a connector gets from the composition root,
 * a sign-in context, and one call that runs a whole redirect sign-in against a stand-in.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { ConnectorDeps } from '../../../../src/connectors/registry.ts';
import { UpstreamError, type Connector, type ConnectorState, type RedirectConnector, type StartContext, type UpstreamErrorCode, type UpstreamIdentity } from '../../../../src/connectors/types.ts';
import { systemClock, type Clock } from '../../../../src/shared/clock.ts';
import { silentLogger } from '../../../../src/shared/logger.ts';
import { CookieJar } from '../../../helpers/http.ts';
import { signInUpstream } from '../../../helpers/upstreams/index.ts';

/** Nothing listens here: the walk stops at the redirect to it, as a browser hands it to Portico. */
export const TENANT_BASE_URL = 'http://127.0.0.1:3999/contoso/v2.0';

export const callbackUrlFor = (connectorId: string): string => `${TENANT_BASE_URL}/connectors/${connectorId}/callback`;

const unused = (name: string) => () => {
  throw new Error(`${name} is not used by redirect connectors`);
};

export function connectorDeps(options: { clock?: Clock; fetch?: typeof fetch } = {}): ConnectorDeps {
  return {
    tenantId: 'contoso',
    tenantDisplayName: 'Contoso',
    configDir: '/nonexistent',
    tenantBaseUrl: TENANT_BASE_URL,
    clock: options.clock ?? systemClock,
    logger: silentLogger(),
    fetch: options.fetch ?? fetch,
    oneTimeIds: { remember: unused('oneTimeIds'), take: unused('oneTimeIds') },
    passcodes: { save: unused('passcodes'), get: unused('passcodes'), recordFailure: unused('passcodes'), consume: unused('passcodes'), hit: unused('passcodes') },
    mailer: { send: unused('mailer') },
  };
}

export function asRedirect(connector: Connector): RedirectConnector {
  assert.equal(connector.capability, 'redirect');
  return connector as RedirectConnector;
}

export const contextFor = (connectorId: string, extra: Partial<StartContext> = {}): StartContext => ({
  flowId: randomUUID(),
  callbackUrl: callbackUrlFor(connectorId),
  ...extra,
});

export interface Attempt {
  readonly context: StartContext;
  readonly redirectUrl: URL;
  readonly state: ConnectorState;
  /** The URL the upstream sent the browser back to. */
  readonly callback: URL;
  readonly browser: CookieJar;
}

/** start → the upstream's sign-in pages → back at the callback (not yet handled). */
export async function reachCallback(
  connector: RedirectConnector,
  options: { account?: string; email?: string; cancel?: boolean; context?: Partial<StartContext> } = {},
): Promise<Attempt> {
  const context = contextFor(connector.id, options.context);
  const { redirectUrl, state } = await connector.start(context);
  const browser = new CookieJar();
  const callback = await signInUpstream({
    start: redirectUrl,
    until: context.callbackUrl,
    browser,
    ...(options.account !== undefined ? { account: options.account } : {}),
    ...(options.email !== undefined ? { email: options.email } : {}),
    ...(options.cancel ? { cancel: true } : {}),
  });
  return { context, redirectUrl: new URL(redirectUrl), state, callback, browser };
}

/** A whole sign-in: the identity Portico would get. */
export async function signIn(connector: RedirectConnector, options: Parameters<typeof reachCallback>[1] = {}): Promise<UpstreamIdentity> {
  const attempt = await reachCallback(connector, options);
  return connector.handleCallback(attempt.callback, attempt.state, attempt.context);
}

/** Asserts that `promise` rejects with an UpstreamError of `code`; returns it for more checks. */
export async function rejectsWith(promise: Promise<unknown>, code: UpstreamErrorCode, message?: RegExp): Promise<UpstreamError> {
  let caught: unknown;
  try {
    await promise;
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof UpstreamError, `expected an UpstreamError ${code}, got ${caught === undefined ? 'success' : String(caught)}`);
  assert.equal(caught.code, code, `expected ${code}, got ${caught.code}: ${caught.message}`);
  if (message) assert.match(caught.message, message);
  return caught;
}

/** A copy of `url` with query parameters set (undefined deletes). */
export function withParams(url: URL, params: Record<string, string | undefined>): URL {
  const copy = new URL(url);
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined) copy.searchParams.delete(key);
    else copy.searchParams.set(key, value);
  }
  return copy;
}
