/**
 * `npm run bench`: token endpoint throughput of Portico (sqlite and redis stores) against a bare
 * oidc-provider ceiling, on a 2-core machine: servers pinned to core 0, this process (the load
 * generator) pinned to core 1. Prints a Markdown report and saves it to bench/results/latest.md.
 *
 * Environment: BENCH_SECONDS (per cell, default 8), REDIS_URL (default redis://127.0.0.1:6379),
 * BENCH_SERVERS (subset of bare,sqlite,redis), BENCH_CASES (subset of cc,refresh-rs256,
 * refresh-es256), BENCH_CPU_PROF (a folder: the servers run with --cpu-prof and write there).
 */
import { execFile, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { parseDocument, type YAMLSeq } from 'yaml';
import { freePort } from '../test/helpers/http.ts';
import { deleteKeysWithPrefix, probeRedis } from '../test/helpers/redis.ts';
import { codeFlow, relyingParty } from '../test/helpers/relying-party.ts';
import { findRedisServerPid, killChildren, LOAD_CORE, SERVER_CORE, startChild, startCpuWindow, type ChildServer, type CpuShares } from './children.ts';
import { basicAuth, runCell, type CellResult, type Grant } from './load.ts';
import { goals, goalsSection, rssTable, storeLabel, table, type CaseKey, type Row, type RssSummary, type Store } from './report.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SELF = fileURLToPath(import.meta.url);

// ---------------------------------------------------------------------------------------------

const CONCURRENCY = [1, 10, 50] as const;
const REDIRECT_URI = 'http://localhost:8080/callback';
const DAEMON_SECRET = 'demo-daemon-secret';
const WEB_SECRET = 'demo-web-secret';
const BENCH_SECRET = process.env['BENCH_SECRET'] || 'bench-secret';
/** Tokens beyond one per connection, for chains that break (each break is also counted as an error). */
const SPARE_TOKENS = 5;
// The warm-up reaches the highest concurrency so that "RSS after warm-up" is the heap a busy
// server settles at, and a later rise means growth rather than the first burst of load.
const WARMUP = { ccSeconds: 2, ccConnections: 50, refreshSeconds: 1, refreshConnections: 10 };

interface Case {
  readonly key: CaseKey;
  readonly grant: Grant;
  readonly alg: string;
  readonly clientId: string;
  readonly secret: string;
  /** The ID token's algorithm, for refresh cases. */
  readonly idTokenAlg?: 'RS256' | 'ES256';
}

const CASES: readonly Case[] = [
  { key: 'cc', grant: 'client_credentials', alg: 'ES256 access token (JWT)', clientId: 'contoso-daemon', secret: DAEMON_SECRET },
  { key: 'refresh-rs256', grant: 'refresh_token', alg: 'RS256 ID token', clientId: 'contoso-web', secret: WEB_SECRET, idTokenAlg: 'RS256' },
  { key: 'refresh-es256', grant: 'refresh_token', alg: 'ES256 ID token', clientId: 'bench-web-es256', secret: BENCH_SECRET, idTokenAlg: 'ES256' },
];

const progress = (line: string): void => {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
};

function listFromEnv<T extends string>(name: string, all: readonly T[]): T[] {
  const raw = process.env[name];
  if (!raw) return [...all];
  const wanted = raw.split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = wanted.filter((w) => !all.includes(w as T));
  if (unknown.length) throw new Error(`${name}: unknown ${unknown.join(', ')} (choose from ${all.join(', ')})`);
  return all.filter((a) => wanted.includes(a));
}

/** Runs `fn` n times with at most `limit` at once. */
async function times<T>(n: number, limit: number, fn: () => Promise<T>): Promise<T[]> {
  const out: T[] = [];
  let started = 0;
  const worker = async (): Promise<void> => {
    while (started < n) {
      started += 1;
      out.push(await fn());
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, n) }, worker));
  return out;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------------------------
// The servers

interface Target {
  readonly store: Store;
  /** Token endpoint path, relative to the server's base URL. */
  readonly tokenPath: string;
  start(logLevel: 'warn' | 'info'): Promise<ChildServer>;
  /** Where the server started with `logLevel` writes its stdout. */
  logFile(logLevel: 'warn' | 'info'): string;
  mint(server: ChildServer, c: Case, count: number): Promise<string[]>;
}

function nodeFlagsFor(label: string): string[] {
  const dir = process.env['BENCH_CPU_PROF'];
  return dir ? ['--cpu-prof', '--cpu-prof-dir', resolve(dir), '--cpu-prof-name', `${label}.${Date.now()}.cpuprofile`] : [];
}

function bareTarget(workDir: string): Target {
  return {
    store: 'bare',
    tokenPath: '/token',
    logFile: () => join(workDir, 'bare.log'),
    start: async () => {
      const port = await freePort();
      return startChild({
        label: 'bare',
        script: join(ROOT, 'bench/bare-server.ts'),
        args: [String(port)],
        env: { ...process.env, CONTOSO_DAEMON_SECRET: DAEMON_SECRET, CONTOSO_WEB_SECRET: WEB_SECRET, BENCH_SECRET },
        port,
        logFile: join(workDir, 'bare.log'),
        readyPath: '/.well-known/openid-configuration',
        nodeFlags: nodeFlagsFor('bare'),
      });
    },
    mint: async (server, c, count) => (await server.ask<{ tokens: string[] }>({ type: 'mint', clientId: c.clientId, count })).tokens,
  };
}

/**
 * A config folder for the bench: the example config, with an app like contoso-web that signs
 * its ID tokens with ES256 added to contoso, and the bench's own portico.yaml (store, key prefix).
 */
async function writeConfig(dir: string, store: 'sqlite' | 'redis', redisKeyPrefix: string): Promise<void> {
  // The whole folder, not just tenants/: tenant files point at files next to them (SAML metadata…).
  await cp(join(ROOT, 'config'), dir, { recursive: true });
  const tenantFile = join(dir, 'tenants/contoso.yaml');
  const doc = parseDocument(await readFile(tenantFile, 'utf8'));
  const apps = doc.get('apps') as YAMLSeq | undefined;
  if (!apps || typeof apps.add !== 'function') throw new Error(`${tenantFile} has no apps list`);
  apps.add(
    doc.createNode({
      id: 'bench-web-es256',
      name: 'Bench web app with ES256 ID tokens',
      type: 'web',
      secret: '${env:BENCH_SECRET:-bench-secret}',
      redirectUris: [REDIRECT_URI],
      grantTypes: ['authorization_code', 'refresh_token'],
      idTokenSigningAlg: 'ES256',
    }),
  );
  await writeFile(tenantFile, String(doc));
  const redis = store === 'redis' ? `  redis:\n    keyPrefix: ${JSON.stringify(redisKeyPrefix)}\n` : '';
  await writeFile(join(dir, 'portico.yaml'), `storage:\n  backend: ${store}\n${redis}`);
}

function porticoTarget(store: 'sqlite' | 'redis', workDir: string, configDir: string, dataDir: string, redisUrl: string): Target {
  const rps = new Map<string, Awaited<ReturnType<typeof relyingParty>>>();
  return {
    store,
    tokenPath: '/contoso/v2.0/token',
    logFile: (logLevel) => join(workDir, `portico-${store}-${logLevel}.log`),
    start: async (logLevel) => {
      const port = await freePort();
      rps.clear();
      return startChild({
        label: `portico-${store}-${logLevel}`,
        script: join(ROOT, 'bench/portico-server.ts'),
        args: [configDir],
        env: {
          ...process.env,
          PORT: String(port),
          PUBLIC_URL: `http://127.0.0.1:${port}`,
          PORTICO_DATA: dataDir,
          LOG_LEVEL: logLevel,
          CONTOSO_DAEMON_SECRET: DAEMON_SECRET,
          CONTOSO_WEB_SECRET: WEB_SECRET,
          BENCH_SECRET,
          ...(store === 'redis' ? { REDIS_URL: redisUrl } : {}),
        },
        port,
        logFile: join(workDir, `portico-${store}-${logLevel}.log`),
        readyPath: '/readyz',
        nodeFlags: nodeFlagsFor(`portico-${store}-${logLevel}`),
      });
    },
    // The real code flow through the test-only login, as a relying party would get them.
    mint: async (server, c, count) => {
      const key = `${server.baseUrl} ${c.clientId}`;
      let rp = rps.get(key);
      if (!rp) {
        rp = await relyingParty(`${server.baseUrl}/contoso/v2.0`, c.clientId, c.secret);
        rps.set(key, rp);
      }
      const config = rp;
      return times(count, 8, async () => {
        const { tokens } = await codeFlow(config, { userId: server.userId, redirectUri: REDIRECT_URI });
        if (!tokens.refresh_token) throw new Error(`${c.clientId}: the code flow returned no refresh token`);
        return tokens.refresh_token;
      });
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Checks that both servers hand out the same kind of token before any of them is measured.

const jwtHeader = (jwt: string): { alg?: string; typ?: string } =>
  JSON.parse(Buffer.from(jwt.split('.')[0] ?? '', 'base64url').toString('utf8')) as { alg?: string; typ?: string };

async function postToken(url: string, c: Case, body: Record<string, string>): Promise<Record<string, unknown>> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { authorization: basicAuth(c.clientId, c.secret), 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(body),
  });
  const json = (await response.json()) as Record<string, unknown>;
  if (response.status !== 200) throw new Error(`${c.clientId} ${body['grant_type']}: ${response.status} ${JSON.stringify(json)}`);
  return json;
}

async function checkTokenFormats(target: Target, server: ChildServer, cases: readonly Case[]): Promise<string[]> {
  const url = `${server.baseUrl}${target.tokenPath}`;
  const notes: string[] = [];
  for (const c of cases) {
    if (c.grant === 'client_credentials') {
      const tokens = await postToken(url, c, { grant_type: 'client_credentials', scope: 'payroll.read' });
      const header = jwtHeader(String(tokens['access_token']));
      if (header.alg !== 'ES256' || header.typ !== 'at+jwt') throw new Error(`${storeLabel(target.store)}: client_credentials gave ${JSON.stringify(header)}, expected an ES256 at+jwt`);
      notes.push(`client_credentials → ${header.typ} ${header.alg}`);
    } else {
      const [first] = await target.mint(server, c, 1);
      const tokens = await postToken(url, c, { grant_type: 'refresh_token', refresh_token: first! });
      const alg = jwtHeader(String(tokens['id_token'])).alg;
      if (alg !== c.idTokenAlg) throw new Error(`${storeLabel(target.store)}: ${c.clientId} got an ID token signed ${alg}, expected ${c.idTokenAlg}`);
      if (typeof tokens['refresh_token'] !== 'string' || tokens['refresh_token'] === first) throw new Error(`${storeLabel(target.store)}: ${c.clientId} refresh token did not rotate`);
      notes.push(`refresh (${c.clientId}) → ${alg} ID token, refresh token rotated`);
    }
  }
  return notes;
}

/** Why bare refused grants (its log has one line per refusal), grouped: "invalid_grant" alone says little. */
function grantErrors(logFile: string): string[] {
  let text: string;
  try {
    text = readFileSync(logFile, 'utf8');
  } catch {
    return [];
  }
  const counts = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line.includes('"grant.error"')) continue;
    try {
      const { message, detail } = JSON.parse(line) as { message?: string; detail?: string };
      const key = `${message ?? ''}${detail ? `: ${detail}` : ''}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    } catch {
      // not one of ours
    }
  }
  return [...counts].map(([reason, count]) => `${count} refused grants: ${reason}`);
}

// ---------------------------------------------------------------------------------------------

interface ServerRun {
  readonly rows: Row[];
  readonly rss: RssSummary[];
  readonly notes: string[];
}

/** A local redis-server's pid, so that its CPU is not counted as somebody else's. */
const redisPid = findRedisServerPid();

async function measure(
  server: ChildServer,
  target: Target,
  c: Case,
  connections: number,
  seconds: number,
): Promise<{ result: CellResult; peak: number; cpu: CpuShares }> {
  const refreshTokens = c.grant === 'refresh_token' ? await target.mint(server, c, connections + SPARE_TOKENS) : undefined;
  server.rss.reset();
  const cpuWindow = startCpuWindow(server.pid, redisPid);
  const result = await runCell({
    tokenUrl: `${server.baseUrl}${target.tokenPath}`,
    grant: c.grant,
    clientId: c.clientId,
    secret: c.secret,
    connections,
    seconds,
    ...(refreshTokens ? { refreshTokens } : {}),
  });
  const cpu = cpuWindow();
  const peak = server.rss.peak;
  // Lets the last answers and the sockets of the cell settle before anything else is timed.
  await sleep(250);
  return { result, peak, cpu };
}

async function benchTarget(target: Target, cases: readonly Case[], seconds: number): Promise<ServerRun> {
  const rows: Row[] = [];
  const notes: string[] = [];
  const label = storeLabel(target.store);
  progress(`${label}: starting (pinned to core 0)`);
  const server = await target.start('warn');
  try {
    const startBytes = server.rss.sample();
    notes.push(...(await checkTokenFormats(target, server, cases)).map((n) => `${label}: ${n}`));
    progress(`${label}: warming up`);
    for (const c of cases) {
      if (c.grant === 'client_credentials') await measure(server, target, c, WARMUP.ccConnections, WARMUP.ccSeconds);
      else await measure(server, target, c, WARMUP.refreshConnections, WARMUP.refreshSeconds);
    }
    const afterWarmupBytes = server.rss.sample();
    for (const c of cases) {
      for (const connections of CONCURRENCY) {
        const { result, peak, cpu } = await measure(server, target, c, connections, seconds);
        progress(
          `${label}: ${c.key} c=${connections}: ${Math.round(result.tokensPerSecond)}/s, p99 ${result.p99Ms.toFixed(2)} ms, ${result.errors} errors, ` +
            `server CPU ${Math.round(cpu.server)} %, others ${Math.round(cpu.other)} %`,
        );
        rows.push({ store: target.store, caseKey: c.key, grant: c.grant, alg: c.alg, connections, result, peakRssBytes: peak, cpu });
      }
    }
    const endBytes = server.rss.sample();
    const rss: RssSummary[] = [{ label, startBytes, afterWarmupBytes, endBytes, maxBytes: server.rss.max }];
    server.rss.stop();
    await server.stop();

    // The request log line is written at info: the same cell once more with it on, to show its cost.
    const cc = cases.find((c) => c.key === 'cc');
    if (cc && target.store !== 'bare') {
      progress(`${label}: client_credentials c=10 again with LOG_LEVEL=info`);
      const infoServer = await target.start('info');
      try {
        await measure(infoServer, target, cc, 10, WARMUP.ccSeconds);
        const { result, peak, cpu } = await measure(infoServer, target, cc, 10, seconds);
        rows.push({ store: target.store, caseKey: 'cc', grant: cc.grant, alg: cc.alg, connections: 10, result, peakRssBytes: peak, cpu, variant: '(info logging)' });
        progress(`${label} (info logging): cc c=10: ${Math.round(result.tokensPerSecond)}/s`);
      } finally {
        infoServer.rss.stop();
        await infoServer.stop();
      }
    }
    for (const level of ['warn', 'info'] as const) {
      try {
        notes.push(`${label}: ${(statSync(target.logFile(level)).size / 1024 / 1024).toFixed(1)} MB of log at LOG_LEVEL=${level}`);
      } catch {
        // that server was not started
      }
    }
    if (target.store === 'bare') notes.push(...grantErrors(target.logFile('warn')).map((n) => `${label}: ${n}`));
    return { rows, rss, notes };
  } finally {
    await server.stop();
  }
}

// ---------------------------------------------------------------------------------------------

interface Calibration {
  readonly es256: number;
  readonly rs256: number;
}

/** Signatures per second on the servers' core (bench/calibrate.ts). */
async function calibrate(): Promise<Calibration> {
  const stdout = await new Promise<string>((resolve, reject) => {
    execFile('taskset', ['-c', SERVER_CORE, process.execPath, join(ROOT, 'bench/calibrate.ts'), '1000'], (error, out) =>
      error ? reject(error) : resolve(out),
    );
  });
  return JSON.parse(stdout) as Calibration;
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const allowed = /^Cpus_allowed_list:\s+(\S+)/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
  if (allowed !== LOAD_CORE) throw new Error(`the load generator should run on core ${LOAD_CORE}, runs on ${allowed}`);
  const cores = cpus().length;
  if (cores < 2) throw new Error(`the bench pins servers and load to different cores: needs 2, this machine has ${cores}`);

  const seconds = Number(process.env['BENCH_SECONDS'] ?? 8);
  if (!Number.isFinite(seconds) || seconds <= 0) throw new Error(`BENCH_SECONDS must be a positive number, got ${process.env['BENCH_SECONDS']}`);
  const stores = listFromEnv<Store>('BENCH_SERVERS', ['bare', 'sqlite', 'redis']);
  const caseKeys = listFromEnv<CaseKey>('BENCH_CASES', ['cc', 'refresh-rs256', 'refresh-es256']);
  const cases = CASES.filter((c) => caseKeys.includes(c.key));

  const redisUrl = process.env['REDIS_URL'] || 'redis://127.0.0.1:6379';
  const redisKeyPrefix = `portico-bench:${randomUUID().slice(0, 8)}:`;
  const workDir = await mkdtemp(join(tmpdir(), 'portico-bench-'));
  let redisUsed = false;
  let cleaned = false;
  const cleanup = async (): Promise<void> => {
    if (cleaned) return;
    cleaned = true;
    killChildren();
    await rm(workDir, { recursive: true, force: true });
    if (redisUsed) {
      const client = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1, connectTimeout: 2000 });
      client.on('error', () => undefined);
      try {
        await client.connect();
        const deleted = await deleteKeysWithPrefix(client, redisKeyPrefix);
        progress(`deleted ${deleted} redis keys under ${redisKeyPrefix}`);
      } catch (error) {
        process.stderr.write(`bench: could not delete the redis keys under ${redisKeyPrefix}: ${String(error)}\n`);
      } finally {
        client.disconnect();
      }
    }
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      progress(`${signal}: stopping`);
      void cleanup().finally(() => process.exit(130));
    });
  }

  const rows: Row[] = [];
  const rss: RssSummary[] = [];
  const notes: string[] = [];
  const skipped: string[] = [];
  const started = Date.now();
  try {
    progress(`calibrating: node:crypto signatures per second on core ${SERVER_CORE}`);
    const calibration = await calibrate();
    for (const store of stores) {
      let target: Target;
      if (store === 'bare') {
        target = bareTarget(workDir);
      } else {
        if (store === 'redis') {
          const problem = await probeRedis(redisUrl);
          if (problem) {
            skipped.push(`redis rows skipped: ${problem}`);
            progress(skipped.at(-1)!);
            continue;
          }
          redisUsed = true;
        }
        const configDir = join(workDir, `config-${store}`);
        const dataDir = join(workDir, `data-${store}`);
        await mkdir(dataDir, { recursive: true });
        await writeConfig(configDir, store, redisKeyPrefix);
        target = porticoTarget(store, workDir, configDir, dataDir, redisUrl);
      }
      const run = await benchTarget(target, cases, seconds);
      rows.push(...run.rows);
      rss.push(...run.rss);
      notes.push(...run.notes);
    }

    const errorLines = rows.flatMap((r) =>
      [...r.result.errorKinds].map(
        ([kind, { count, firstAtS }]) =>
          `- ${storeLabel(r.store)}${r.variant ? ` ${r.variant}` : ''} ${r.caseKey} c=${r.connections}: ${count} × ${kind}, the first ${firstAtS.toFixed(1)} s into the cell`,
      ),
    );
    const goalList = goals(rows, rss, calibration);
    const markdown = [
      '## Token endpoint throughput',
      '',
      table(rows),
      '',
      ...(skipped.length ? [...skipped.map((s) => `_${s}_`), ''] : []),
      '### Server RSS over the run',
      '',
      rssTable(rss),
      '',
      '### Goals',
      '',
      goalsSection(goalList, rows),
      '',
      '### Errors',
      '',
      errorLines.length ? errorLines.join('\n') : 'None: every request got a 2xx.',
      '',
      '### Checked before measuring',
      '',
      notes.map((n) => `- ${n}`).join('\n'),
      '',
    ].join('\n');

    const header = [
      '# Portico token benchmark',
      '',
      `- date: ${new Date().toISOString()}`,
      `- node: ${process.version}, nproc: ${cores} (${cpus()[0]?.model ?? 'unknown cpu'})`,
      `- servers pinned to core 0, load generator (autocannon, this process) to core 1; Redis, when used, is not pinned`,
      `- ${seconds} s per cell after a warm-up; tokens/s counts 2xx answers; p50/p99 from 2xx answers, measured by the bench`,
      `- throughput goals use the best cell of a case; "ratio" is Portico / bare for the same case and concurrency`,
      `- node:crypto on the servers' core, measured in this run: ${Math.round(calibration.es256).toLocaleString('en-US')} ES256 and ${Math.round(calibration.rs256).toLocaleString('en-US')} RS256 signatures/s (/work/shared/NOTES.md's reference machine: 52,900 and 4,200). One RS256 ID token per refresh caps that case at the RS256 figure before any other work.`,
      `- run took ${Math.round((Date.now() - started) / 1000)} s`,
      '',
    ].join('\n');
    process.stdout.write(`${header}\n${markdown}\n`);
    await mkdir(join(ROOT, 'bench/results'), { recursive: true });
    await writeFile(join(ROOT, 'bench/results/latest.md'), `${header}\n${markdown}`);
    progress(`written to bench/results/latest.md (${Math.round((Date.now() - started) / 1000)} s)`);
  } catch (error) {
    process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  } finally {
    await cleanup();
  }
}

// ---------------------------------------------------------------------------------------------
// Pinning: re-run this file under `taskset -c 1` (threads started later inherit the affinity,
// which `taskset -p` on a running process would not guarantee for all of them).

if (process.env['BENCH_PINNED'] !== '1') {
  const child = spawn('taskset', ['-c', LOAD_CORE, process.execPath, ...process.execArgv, SELF], {
    stdio: 'inherit',
    env: { ...process.env, BENCH_PINNED: '1' },
  });
  // Ctrl-C reaches the whole process group, the pinned runner included: it cleans up and exits.
  process.on('SIGINT', () => undefined);
  process.on('SIGTERM', () => child.kill('SIGTERM'));
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
  child.on('error', (error) => {
    process.stderr.write(`bench: cannot run taskset: ${error.message}\n`);
    process.exit(1);
  });
} else {
  await main();
}
