/**
 * What the saml connector's tests share: a real store-backed OneTimeIdStore (the production one
 * lives elsewhere; this one is deliberately local), connector deps on a manual clock, and a
 * connector wired to real parts with a sign-in through it.
 */
import assert from 'node:assert/strict';
import { ManualClock } from '../../../../src/shared/clock.ts';
import { silentLogger } from '../../../../src/shared/logger.ts';
import { AlreadyExistsError } from '../../../../src/storage/errors.ts';
import { createMemoryStore } from '../../../../src/storage/memory/memory-store.ts';
import type { DocumentStore } from '../../../../src/storage/ports.ts';
import type { ConnectorDeps } from '../../../../src/connectors/registry.ts';
import type { OneTimeIdStore } from '../../../../src/connectors/types.ts';
import { samlConfigSchema, type SamlConfig } from '../../../../src/connectors/saml/config.ts';
import { createSamlConnector } from '../../../../src/connectors/saml/connector.ts';
import type { ValidationPool } from '../../../../src/connectors/saml/validation-pool.ts';
import { UpstreamError, type ConnectorState, type SamlConnector, type StartContext, type UpstreamIdentity, type UpstreamErrorCode } from '../../../../src/connectors/types.ts';
import { createResponse, type CreatedResponse, type CreateResponseOptions, type KeyPair } from '../../../helpers/saml-idp.ts';

export function storeOneTimeIds(store: DocumentStore): OneTimeIdStore {
  return {
    async remember(namespace, id, ttlSeconds) {
      try {
        await store.create(namespace, id, { at: 0 }, { ttlSeconds });
        return true;
      } catch (error) {
        if (error instanceof AlreadyExistsError) return false;
        throw error;
      }
    },
    async take(namespace, id) {
      const taken = await store.consume(namespace, id);
      if (taken) await store.delete(namespace, id);
      return taken;
    },
  };
}

const unused = (port: string) =>
  new Proxy({}, {
    get() {
      throw new Error(`the saml connector must not use ${port}`);
    },
  });

export interface TestDeps extends ConnectorDeps {
  readonly clock: ManualClock;
  readonly store: DocumentStore;
}

export function testDeps(options: { now?: number; configDir?: string; fetch?: typeof fetch; tenantBaseUrl?: string } = {}): TestDeps {
  const clock = new ManualClock(options.now ?? Date.now());
  const store = createMemoryStore({ clock });
  return {
    tenantId: 'contoso',
    tenantDisplayName: 'Contoso',
    configDir: options.configDir ?? '/nonexistent',
    tenantBaseUrl: options.tenantBaseUrl ?? 'http://127.0.0.1:3000/contoso/v2.0',
    clock,
    store,
    logger: silentLogger(),
    fetch: options.fetch ?? globalThis.fetch,
    oneTimeIds: storeOneTimeIds(store),
    passcodes: unused('passcodes') as ConnectorDeps['passcodes'],
    mailer: unused('mailer') as ConnectorDeps['mailer'],
  };
}

/** A parsed config entry, as the loader would hand it over. */
export const samlConfig = (entry: Record<string, unknown>): SamlConfig => samlConfigSchema.parse({ id: 'fabrikam', kind: 'saml', ...entry });

// ---------------------------------------------------------------------------------------------
// A connector wired to real parts, and a sign-in through it.


export const IDP = 'https://idp.fabrikam.example/saml';
export const TENANT_BASE = 'http://127.0.0.1:3000/contoso/v2.0';
export const SP = `${TENANT_BASE}/saml/fabrikam`;
export const ACS = `${TENANT_BASE}/federation/fabrikam/acs`;

export interface SignIn {
  readonly context: StartContext;
  readonly state: ConnectorState;
  readonly requestId: string;
  readonly redirectUrl: string;
  /** A response to this sign-in's request from `key` (the IdP's key unless told otherwise). */
  response(options?: Partial<CreateResponseOptions>): Promise<CreatedResponse>;
  post(samlResponse: string, relayState?: string): Promise<UpstreamIdentity>;
}

export interface Harness {
  readonly connector: SamlConnector;
  readonly deps: TestDeps;
  begin(flowId?: string): Promise<SignIn>;
}

let flowCounter = 0;

export async function connectorHarness(options: {
  readonly pool: ValidationPool;
  readonly signingKey: KeyPair;
  readonly config?: Record<string, unknown>;
  readonly deps?: TestDeps;
}): Promise<Harness> {
  const deps = options.deps ?? testDeps({ tenantBaseUrl: TENANT_BASE });
  const config = samlConfig({
    entityId: IDP,
    ssoUrl: 'https://idp.fabrikam.example/saml/sso',
    signingCertificates: [options.signingKey.certificate],
    domains: ['fabrikam.example'],
    ...options.config,
  });
  const connector = await createSamlConnector(config, deps, { pool: options.pool });
  return {
    connector,
    deps,
    async begin(flowId = `flow-${++flowCounter}`) {
      const context: StartContext = { flowId, callbackUrl: ACS };
      const { redirectUrl, state } = await connector.start(context);
      const requestId = String(state['requestId']);
      return {
        context,
        state,
        requestId,
        redirectUrl,
        response: (overrides = {}) =>
          createResponse({
            issuer: IDP,
            signingKey: options.signingKey,
            requestId,
            acsUrl: ACS,
            audience: SP,
            now: deps.clock.now(),
            user: { nameId: 'f3a9c2e1-fabrikam-0001', attributes: { 'urn:oid:0.9.2342.19200300.100.1.3': 'alice@fabrikam.example' } },
            ...overrides,
          }),
        post: (samlResponse, relayState = flowId) => connector.handlePost({ SAMLResponse: samlResponse, RelayState: relayState }, state, context),
      };
    },
  };
}

/** Asserts an UpstreamError with `code` from this connector, whose message matches `pattern`. */
export async function refused(promise: Promise<unknown>, code: UpstreamErrorCode, pattern?: RegExp): Promise<UpstreamError> {
  const error = await promise.then(
    () => assert.fail(`expected ${code}, but the response was accepted`),
    (caught: unknown) => caught,
  );
  assert.ok(error instanceof UpstreamError, `expected an UpstreamError, got ${String(error)}`);
  assert.equal(error.code, code, error.message);
  assert.equal(error.connectorId, 'fabrikam');
  if (pattern) assert.match(error.message, pattern);
  return error;
}
