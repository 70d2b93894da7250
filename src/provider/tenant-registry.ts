import type Provider from 'oidc-provider';
import type { BrokerConfig, TenantConfig } from '../config/types.ts';
import type { UserDirectory } from '../directory/users.ts';
import type { Clock } from '../shared/clock.ts';
import type { Logger } from '../shared/logger.ts';
import type { DocumentStore } from '../storage/ports.ts';
import { type SigningKeyService } from './signing-keys.ts';
import { createTenantProvider, signingAlgsFor, type TenantProviderDeps } from './tenant-provider.ts';

interface Entry {
  readonly tenant: TenantConfig;
  provider: Provider;
  callback: ReturnType<Provider['callback']>;
  keyVersion: number;
}

export interface TenantProvidersDeps {
  readonly broker: BrokerConfig;
  readonly tenants: readonly TenantConfig[];
  readonly store: DocumentStore;
  readonly users: UserDirectory;
  readonly keys: SigningKeyService;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly mayRefresh?: TenantProviderDeps['mayRefresh'];
  readonly maySkipSignIn?: TenantProviderDeps['maySkipSignIn'];
}

/**
 * One oidc-provider per tenant. Providers are rebuilt when the tenant's key set changes in the
 * store (`portico keys rotate` on any instance), so every instance picks up a rotation within
 * `keys.rotationCheckSeconds` without a restart.
 */
export class TenantProviders {
  readonly #entries = new Map<string, Entry>();
  readonly #deps: TenantProvidersDeps;
  #cookieKeys: readonly string[] = [];
  #timer: NodeJS.Timeout | undefined;

  constructor(deps: TenantProvidersDeps) {
    this.#deps = deps;
  }

  async start(): Promise<void> {
    this.#cookieKeys = await this.#deps.keys.cookieKeys();
    for (const tenant of this.#deps.tenants) {
      const keySet = await this.#deps.keys.ensure(tenant.id, signingAlgsFor(this.#deps.broker, tenant));
      const provider = this.#build(tenant, keySet);
      this.#entries.set(tenant.id, { tenant, provider, callback: provider.callback(), keyVersion: keySet.version });
    }
  }

  get(tenantId: string): { provider: Provider; callback: Entry['callback']; tenant: TenantConfig } | undefined {
    return this.#entries.get(tenantId);
  }

  tenantIds(): string[] {
    return [...this.#entries.keys()];
  }

  /** Rebuilds the providers whose key set changed since they were built. */
  async refreshKeys(): Promise<void> {
    for (const entry of this.#entries.values()) {
      const version = await this.#deps.keys.version(entry.tenant.id);
      if (version === undefined || version === entry.keyVersion) continue;
      const keySet = await this.#deps.keys.load(entry.tenant.id);
      if (!keySet) continue;
      entry.provider = this.#build(entry.tenant, keySet);
      entry.callback = entry.provider.callback();
      entry.keyVersion = keySet.version;
      this.#deps.logger.info({ tenant: entry.tenant.id, keyVersion: keySet.version }, 'signing keys changed: provider rebuilt');
    }
  }

  watchKeys(intervalSeconds: number): void {
    this.#timer = setInterval(() => {
      this.refreshKeys().catch((error: unknown) => this.#deps.logger.warn({ err: error }, 'could not check signing keys'));
    }, intervalSeconds * 1000);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
  }

  #build(tenant: TenantConfig, keySet: Parameters<typeof createTenantProvider>[0]['keys']): Provider {
    const { broker, store, users, clock, logger } = this.#deps;
    return createTenantProvider({
      broker,
      tenant,
      store,
      users,
      keys: keySet,
      cookieKeys: this.#cookieKeys,
      now: () => clock.now(),
      logger,
      ...(this.#deps.mayRefresh ? { mayRefresh: this.#deps.mayRefresh } : {}),
      ...(this.#deps.maySkipSignIn ? { maySkipSignIn: this.#deps.maySkipSignIn } : {}),
    });
  }
}
