import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { startPortico, type RunningPortico, type StartOptions } from '../../src/main.ts';
import { createLogger } from '../../src/shared/logger.ts';
import { freePort } from './http.ts';

export const EXAMPLE_CONFIG = new URL('../../config/', import.meta.url).pathname;

/** Collects log lines so tests can assert what was (and was not) logged. */
export class LogCapture extends Writable {
  readonly lines: string[] = [];
  override _write(chunk: Buffer, _encoding: string, callback: () => void): void {
    this.lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    callback();
  }
  get text(): string {
    return this.lines.join('\n');
  }
}

export interface TestPorticoOptions {
  readonly backend: 'sqlite' | 'redis' | 'memory';
  /** Extra YAML for portico.yaml (appended). */
  readonly brokerYaml?: string;
  /** Reuse a data dir (restart tests). */
  readonly dataDir?: string;
  readonly configDir?: string;
  readonly redisUrl?: string;
  readonly redisKeyPrefix?: string;
  readonly port?: number;
  readonly env?: Record<string, string>;
  /** Tenant files to add or replace (name without .yaml → YAML text). */
  readonly tenantFiles?: Record<string, string>;
  /** Live config reloads (off unless asked): see StartOptions.watchConfig. */
  readonly watchConfig?: StartOptions['watchConfig'];
  /** Portico's clock (sign-in times, TOTP, sign-in frequency); the provider's token times stay real. */
  readonly clock?: StartOptions['clock'];
}

export interface TestPortico {
  readonly portico: RunningPortico;
  readonly issuer: string;
  readonly logs: LogCapture;
  readonly dataDir: string;
  readonly configDir: string;
  readonly port: number;
  stop(): Promise<void>;
  /** Stops and removes the temporary folders. */
  dispose(): Promise<void>;
}

/**
 * Portico in-process on loopback, on the example tenants, with the chosen store and the test-only
 * login step switched on.
 */
export async function startTestPortico(options: TestPorticoOptions): Promise<TestPortico> {
  const port = options.port ?? (await freePort());
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'portico-data-')));
  let configDir = options.configDir;
  let ownConfig = false;
  if (!configDir) {
    configDir = await mkdtemp(join(tmpdir(), 'portico-config-'));
    ownConfig = true;
    await cp(EXAMPLE_CONFIG, configDir, { recursive: true, filter: (source) => !source.includes('/examples') });
    for (const [name, yaml] of Object.entries(options.tenantFiles ?? {})) await writeFile(join(configDir, 'tenants', `${name}.yaml`), yaml);
    const redis =
      options.backend === 'redis'
        ? `  redis:\n    keyPrefix: "${options.redisKeyPrefix ?? `portico-test-${process.pid}-${Date.now()}:`}"\n`
        : '';
    await writeFile(
      join(configDir, 'portico.yaml'),
      `storage:\n  backend: ${options.backend}\n${redis}${options.brokerYaml ?? ''}`,
    );
  }
  const logs = new LogCapture();
  const env: NodeJS.ProcessEnv = {
    PORT: String(port),
    PUBLIC_URL: `http://127.0.0.1:${port}`,
    PORTICO_DATA: dataDir,
    ...(options.redisUrl ? { REDIS_URL: options.redisUrl } : options.backend === 'redis' ? { REDIS_URL: process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379' } : {}),
    ...options.env,
  };
  const portico = await startPortico({
    configDir,
    env,
    host: '127.0.0.1',
    testLogin: true,
    ...(options.watchConfig === undefined ? {} : { watchConfig: options.watchConfig }),
    ...(options.clock === undefined ? {} : { clock: options.clock }),
    logger: createLogger({ level: 'info', destination: logs }),
  });
  const issuer = `http://127.0.0.1:${port}/contoso/v2.0`;
  return {
    portico,
    issuer,
    logs,
    dataDir,
    configDir,
    port,
    stop: () => portico.close(),
    dispose: async () => {
      await portico.close();
      if (!options.dataDir) await rm(dataDir, { recursive: true, force: true });
      if (ownConfig) await rm(configDir!, { recursive: true, force: true });
    },
  };
}
