/**
 * The collaboration-policy keys of tenant files, kept current while Portico runs: the config
 * folder is loaded again when a file changes or on SIGHUP, and the policies of the running
 * tenants are swapped when it is valid. Everything else keeps its start-up value until a restart
 * (the providers, connectors and routes were built from it), which `pendingRestart` says.
 */
import { watch, type FSWatcher } from 'node:fs';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { policyOf } from '../policy/subject.ts';
import type { PolicySource, TenantPolicy } from '../policy/types.ts';
import { systemClock, type Clock } from '../shared/clock.ts';
import { ConfigError, errorMessage } from '../shared/errors.ts';
import type { Logger } from '../shared/logger.ts';
import { loadConfig } from './load.ts';
import type { PorticoConfig, TenantConfig } from './types.ts';

/** Tenant keys read through the PolicySource at every decision, so an edit applies at once. */
export const LIVE_TENANT_KEYS = ['crossTenantAccess', 'externalCollaboration', 'conditionalAccess', 'partners'] as const;

/** Editors save in several steps (temp file, rename, chmod): one reload for the lot. */
const DEFAULT_DEBOUNCE_MS = 200;

export interface ReloadError {
  /** ISO time of the refused reload. */
  readonly at: string;
  readonly problems: readonly string[];
}

export interface ConfigStatus {
  /** sha256 of the files whose policies are in force. */
  readonly hash: string;
  /** ISO time those files were loaded. */
  readonly loadedAt: string;
  /** The last reload that was refused, until a later one succeeds. */
  readonly lastReloadError?: ReloadError;
  /** Edited parts that keep their start-up values until a restart (`tenants/contoso.yaml: apps`). */
  readonly pendingRestart?: readonly string[];
}

export interface LiveConfigOptions {
  /** The folder and environment start-up loaded the config from. */
  readonly configDir: string;
  readonly env: NodeJS.ProcessEnv;
  readonly logger: Logger;
  readonly clock?: Clock;
  readonly debounceMs?: number;
}

export interface WatchOptions {
  /** Reload when a file in the config folder changes. */
  readonly files: boolean;
  /** Reload on SIGHUP. */
  readonly signal: boolean;
}

const tenantFileName = (tenantId: string): string => `tenants/${tenantId}.yaml`;

/** Only YAML files, and folders (`tenants`, Kubernetes' `..data` swap), can change the config. */
const mayChangeConfig = (filename: string | null): boolean =>
  filename === null || /\.ya?ml$/.test(filename) || !path.basename(filename).replace(/^\.+/, '').includes('.');

/**
 * What differs between the config the process started with and a newly loaded one, beyond the
 * keys that apply live: each entry names a file and a top-level key, or a tenant added or removed.
 */
export function restartNeeded(running: PorticoConfig, loaded: PorticoConfig): string[] {
  const needed = changedKeys(running.broker, loaded.broker).map((key) => `portico.yaml: ${key}`);
  const loadedById = new Map(loaded.tenants.map((tenant) => [tenant.id, tenant]));
  for (const tenant of running.tenants) {
    const next = loadedById.get(tenant.id);
    if (!next) {
      needed.push(`${tenantFileName(tenant.id)}: tenant removed`);
      continue;
    }
    const file = tenantFileName(tenant.id);
    needed.push(...changedKeys(startupOnly(tenant), startupOnly(next)).map((key) => `${file}: ${key}`));
    // Policy recognises organisations by the new list at once; sign-in pages (home-realm
    // discovery by partner domain, partner branding) were built from the old one.
    if (!isDeepStrictEqual(tenant.partners, next.partners)) needed.push(`${file}: partners (sign-in pages and branding)`);
  }
  const runningIds = new Set(running.tenants.map((tenant) => tenant.id));
  for (const tenant of loaded.tenants) if (!runningIds.has(tenant.id)) needed.push(`${tenantFileName(tenant.id)}: new tenant`);
  return needed;
}

function startupOnly(tenant: TenantConfig): Record<string, unknown> {
  const rest: Record<string, unknown> = { ...tenant };
  for (const key of [...LIVE_TENANT_KEYS, 'file']) delete rest[key];
  return rest;
}

function changedKeys(before: object, after: object): string[] {
  const a = before as Record<string, unknown>;
  const b = after as Record<string, unknown>;
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])];
  return keys.filter((key) => !isDeepStrictEqual(a[key], b[key]));
}

export class LiveConfig implements PolicySource {
  readonly #options: LiveConfigOptions;
  readonly #clock: Clock;
  /** What the rest of Portico was built from; a restart is what changes it. */
  readonly #startup: PorticoConfig;
  #policies: Map<string, TenantPolicy>;
  #hash: string;
  #loadedAt: string;
  #lastReloadError: ReloadError | undefined;
  #pendingRestart: string[] = [];

  /** The reason of the reload asked for while one runs; it runs next (never two loads at once). */
  #queued: string | undefined;
  #running: Promise<void> | undefined;
  #closed = false;

  #debounce: NodeJS.Timeout | undefined;
  #watchers = new Map<string, FSWatcher>();
  #signalListener: (() => void) | undefined;

  constructor(initial: PorticoConfig, options: LiveConfigOptions) {
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
    this.#startup = initial;
    this.#policies = new Map(initial.tenants.map((tenant) => [tenant.id, policyOf(tenant)]));
    this.#hash = initial.hash;
    this.#loadedAt = this.#now();
  }

  policyFor(tenantId: string): TenantPolicy | undefined {
    return this.#policies.get(tenantId);
  }

  get hash(): string {
    return this.#hash;
  }

  status(): ConfigStatus {
    return {
      hash: this.#hash,
      loadedAt: this.#loadedAt,
      ...(this.#lastReloadError ? { lastReloadError: this.#lastReloadError } : {}),
      ...(this.#pendingRestart.length > 0 ? { pendingRestart: [...this.#pendingRestart] } : {}),
    };
  }

  /** Loads the folder again; resolves once no reload is running or waiting. */
  reload(reason: string): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#queued = reason;
    this.#running ??= this.#drain();
    return this.#running;
  }

  start(watchOptions: WatchOptions = { files: true, signal: true }): void {
    if (this.#closed) throw new Error('live config is closed');
    if (watchOptions.files) {
      this.#watch(this.#startup.sourceDir);
      this.#watch(path.join(this.#startup.sourceDir, 'tenants'));
    }
    if (watchOptions.signal && !this.#signalListener) {
      this.#signalListener = () => void this.reload('SIGHUP');
      // Signal handles do not keep the event loop alive, so no unref is needed here.
      process.on('SIGHUP', this.#signalListener);
    }
  }

  /** Stops watching and waits for a reload in progress. */
  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#debounce);
    for (const watcher of this.#watchers.values()) watcher.close();
    this.#watchers.clear();
    if (this.#signalListener) process.off('SIGHUP', this.#signalListener);
    this.#signalListener = undefined;
    await this.#running;
  }

  // Non-recursive watches: on Linux a recursive fs.watch cannot be unref'd and would keep the
  // process alive, and the config is only ever portico.yaml and tenants/*.yaml.
  #watch(dir: string): void {
    this.#watchers.get(dir)?.close();
    this.#watchers.delete(dir);
    let watcher: FSWatcher;
    try {
      watcher = watch(dir, { persistent: false }, (_event, filename) => {
        if (mayChangeConfig(filename)) this.#schedule();
      });
    } catch (error) {
      this.#options.logger.warn({ dir, err: errorMessage(error) }, 'config folder not watched (SIGHUP still reloads)');
      return;
    }
    watcher.on('error', (error) => {
      this.#options.logger.warn({ dir, err: errorMessage(error) }, 'config folder watch failed (SIGHUP still reloads)');
      watcher.close();
      if (this.#watchers.get(dir) === watcher) this.#watchers.delete(dir);
    });
    this.#watchers.set(dir, watcher);
  }

  #schedule(): void {
    if (this.#closed) return;
    clearTimeout(this.#debounce);
    this.#debounce = setTimeout(() => void this.reload('file change'), this.#options.debounceMs ?? DEFAULT_DEBOUNCE_MS);
    this.#debounce.unref();
  }

  async #drain(): Promise<void> {
    try {
      while (this.#queued !== undefined && !this.#closed) {
        const reason = this.#queued;
        this.#queued = undefined;
        await this.#reloadOnce(reason);
      }
    } finally {
      this.#running = undefined;
    }
  }

  async #reloadOnce(reason: string): Promise<void> {
    const { logger } = this.#options;
    // A tenants folder replaced as a whole (a Kubernetes ConfigMap swap, `mv`) is a new inode
    // the old watch does not see; watching again before reading cannot miss a later edit.
    const tenantsDir = path.join(this.#startup.sourceDir, 'tenants');
    if (this.#watchers.has(this.#startup.sourceDir)) this.#watch(tenantsDir);

    let loaded: PorticoConfig;
    try {
      ({ config: loaded } = await loadConfig(this.#options.configDir, this.#options.env));
    } catch (error) {
      // Problems name files and keys, never values of secrets (those are environment references).
      const problems = error instanceof ConfigError ? [...error.problems] : [`cannot load: ${errorMessage(error)}`];
      this.#lastReloadError = { at: this.#now(), problems };
      logger.error({ reason, configHash: short(this.#hash), problems }, 'config reload refused');
      return;
    }
    if (loaded.hash === this.#hash) {
      if (this.#lastReloadError) {
        this.#lastReloadError = undefined;
        logger.info({ reason, configHash: short(this.#hash) }, 'config restored');
      }
      return;
    }

    const runningIds = this.#startup.tenants.map((tenant) => tenant.id);
    const policies = new Map(this.#policies);
    for (const tenant of loaded.tenants) if (runningIds.includes(tenant.id)) policies.set(tenant.id, policyOf(tenant));
    const previous = this.#hash;
    this.#policies = policies;
    this.#hash = loaded.hash;
    this.#loadedAt = this.#now();
    this.#lastReloadError = undefined;
    this.#pendingRestart = restartNeeded(this.#startup, loaded);
    logger.info({ reason, previousHash: short(previous), configHash: short(loaded.hash) }, 'config reloaded');
    if (this.#pendingRestart.length > 0) {
      logger.warn({ pendingRestart: this.#pendingRestart }, 'config changes that only apply after a restart (they keep their start-up values)');
    }
  }

  #now(): string {
    return new Date(this.#clock.now()).toISOString();
  }
}

const short = (hash: string): string => hash.slice(0, 12);
