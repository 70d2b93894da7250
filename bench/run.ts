/**
 * `npm run bench`: token endpoint throughput of Portico (sqlite and redis stores) against a bare
 * oidc-provider ceiling, on a 2-core machine: servers pinned to core 0, this process (the load
 * generator) pinned to core 1. Prints a Markdown report and saves it to bench/results/latest.md.
 *
 * Environment: BENCH_SECONDS (per cell, default 8), REDIS_URL (default redis://127.0.0.1:6379),
 * BENCH_SERVERS (subset of bare,sqlite,redis), BENCH_CASES (subset of cc,refresh-rs256,
 * refresh-es256), BENCH_CPU_PROF (a folder: the servers run with --cpu-prof and write there),
 * BENCH_QUIET_WAIT (seconds the whole run may spend waiting for other processes to go quiet, 45).
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
import { serverNodeFlags } from './server-flags.ts';
import { basicAuth, runCell, type CellResult, type Grant } from './load.ts';
import { goals, goalsSection, NOISY_OTHER_CPU, rssTable, storeLabel, table, type CaseKey, type Row, type RssSummary, type Store } from './report.ts';

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

/** The flags Portico ships with (bare included, so the ceiling runs alike), plus profiling when asked. */
function nodeFlagsFor(label: string): string[] {
  const dir = process.env['BENCH_CPU_PROF'];
  const profiling = dir ? ['--cpu-prof', '--cpu-prof-dir', resolve(dir), '--cpu-prof-name', `${label}.${Date.now()}.cpuprofile`] : [];
  return [...serverNodeFlags(), ...profiling];
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

/** A local redis-server's pid, so that its CPU is not counted as somebody else's. */
const redisPid = findRedisServerPid();

/**
 * The machine is shared: before a cell, wait (within a budget for the whole run) until other
 * processes leave core 0 and 1 mostly alone, so fewer cells are measured against someone's
 * compiler. Cells that still ran with company are flagged in the table.
 */
class QuietGate {
  #budgetMs: number;
  waitedMs = 0;

  constructor(budgetSeconds: number) {
    this.#budgetMs = budgetSeconds * 1000;
  }

  async wait(serverPid: number): Promise<void> {
    const deadline = Date.now() + Math.min(15_000, this.#budgetMs - this.waitedMs);
    const started = Date.now();
    while (Date.now() < deadline) {
      const window = startCpuWindow(serverPid, redisPid);
      await sleep(500);
      if (window().other <= NOISY_OTHER_CPU) break;
    }
    this.waitedMs += Date.now() - started;
  }
}

interface Measured {
  readonly result: CellResult;
  readonly peak: number;
  readonly cpu: CpuShares;
}

async function measure(server: ChildServer, target: Target, c: Case, connections: number, seconds: number, gate?: QuietGate): Promise<Measured> {
  const refreshTokens = c.grant === 'refresh_token' ? await target.mint(server, c, connections + SPARE_TOKENS) : undefined;
  await gate?.wait(server.pid);
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

interface Running {
  readonly target: Target;
  readonly server: ChildServer;
  readonly label: string;
  startBytes: number;
  afterWarmupBytes: number;
  /** Peak RSS of each cell, in order: the flatness check compares like with like. */
  readonly peaks: { connections: number; bytes: number }[];
}

/**
 * All servers run side by side (idle ones cost nothing) and every cell is measured on each of
 * them back to back, so a Portico cell and the bare cell it is divided by are seconds apart, not
 * minutes: on a shared, noisy VM that keeps the ratio honest.
 */
async function benchAll(targets: readonly Target[], cases: readonly Case[], seconds: number, gate: QuietGate): Promise<{ rows: Row[]; rss: RssSummary[]; notes: string[] }> {
  const rows: Row[] = [];
  const notes: string[] = [];
  const rss: RssSummary[] = [];
  const running: Running[] = [];
  try {
    for (const target of targets) {
      const label = storeLabel(target.store);
      progress(`${label}: starting (pinned to core ${SERVER_CORE})`);
      const server = await target.start('warn');
      running.push({ target, server, label, startBytes: server.rss.sample(), afterWarmupBytes: 0, peaks: [] });
      notes.push(...(await checkTokenFormats(target, server, cases)).map((n) => `${label}: ${n}`));
    }
    for (const r of running) {
      progress(`${r.label}: warming up`);
      for (const c of cases) {
        if (c.grant === 'client_credentials') await measure(r.server, r.target, c, WARMUP.ccConnections, WARMUP.ccSeconds);
        else await measure(r.server, r.target, c, WARMUP.refreshConnections, WARMUP.refreshSeconds);
      }
      r.afterWarmupBytes = r.server.rss.sample();
    }
    for (const c of cases) {
      for (const connections of CONCURRENCY) {
        for (const r of running) {
          const { result, peak, cpu } = await measure(r.server, r.target, c, connections, seconds, gate);
          progress(
            `${r.label}: ${c.key} c=${connections}: ${Math.round(result.tokensPerSecond)}/s, p99 ${result.p99Ms.toFixed(2)} ms, ${result.errors} errors, ` +
              `server CPU ${Math.round(cpu.server)} %, others ${Math.round(cpu.other)} %`,
          );
          rows.push({ store: r.target.store, caseKey: c.key, grant: c.grant, alg: c.alg, connections, result, peakRssBytes: peak, cpu });
          r.peaks.push({ connections, bytes: peak });
        }
      }
    }

    // The request log line is written at info: cc c=10 on a second server with LOG_LEVEL=info,
    // paired with the same cell on the warn server right before it.
    const cc = cases.find((c) => c.key === 'cc');
    for (const r of cc ? running.filter((x) => x.target.store !== 'bare') : []) {
      progress(`${r.label}: client_credentials c=10 with LOG_LEVEL=info, paired with warn`);
      const infoServer = await r.target.start('info');
      try {
        // The warn server has run every cell before this one: a 2-s warm-up left the fresh info
        // server about 10 % behind its own second measurement, so it warms up for a full cell.
        await measure(infoServer, r.target, cc!, 10, seconds);
        const warn = await measure(r.server, r.target, cc!, 10, seconds, gate);
        const info = await measure(infoServer, r.target, cc!, 10, seconds, gate);
        for (const [variant, m] of [['(warn logging, paired)', warn], ['(info logging)', info]] as const) {
          rows.push({ store: r.target.store, caseKey: 'cc', grant: cc!.grant, alg: cc!.alg, connections: 10, result: m.result, peakRssBytes: m.peak, cpu: m.cpu, variant });
        }
        progress(`${r.label}: cc c=10 warn ${Math.round(warn.result.tokensPerSecond)}/s, info ${Math.round(info.result.tokensPerSecond)}/s`);
      } finally {
        infoServer.rss.stop();
        await infoServer.stop();
      }
    }

    for (const r of running) {
      const firstFull = r.peaks.find((p) => p.connections === CONCURRENCY.at(-1));
      const lastFull = r.peaks.findLast((p) => p.connections === CONCURRENCY.at(-1));
      rss.push({
        label: r.label,
        startBytes: r.startBytes,
        afterWarmupBytes: r.afterWarmupBytes,
        endBytes: r.server.rss.sample(),
        maxBytes: r.server.rss.max,
        ...(firstFull && lastFull ? { firstFullLoadPeakBytes: firstFull.bytes, lastFullLoadPeakBytes: lastFull.bytes } : {}),
      });
    }
  } finally {
    for (const r of running) {
      r.server.rss.stop();
      await r.server.stop();
    }
  }
  for (const r of running) {
    const levels = r.target.store === 'bare' ? (['warn'] as const) : (['warn', 'info'] as const);
    for (const level of levels) {
      try {
        notes.push(`${r.label}: ${(statSync(r.target.logFile(level)).size / 1024 / 1024).toFixed(1)} MB of log at LOG_LEVEL=${level}`);
      } catch {
        // that server was not started
      }
    }
    if (r.target.store === 'bare') notes.push(...grantErrors(r.target.logFile('warn')).map((n) => `${r.label}: ${n}`));
  }
  return { rows, rss, notes };
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
  const quietBudget = Number(process.env['BENCH_QUIET_WAIT'] ?? 45);
  if (!Number.isFinite(quietBudget) || quietBudget < 0) throw new Error(`BENCH_QUIET_WAIT must be a number of seconds, got ${process.env['BENCH_QUIET_WAIT']}`);

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
  const gate = new QuietGate(quietBudget);
  try {
    progress(`calibrating: node:crypto signatures per second on core ${SERVER_CORE}`);
    const calibration = await calibrate();
    const targets: Target[] = [];
    for (const store of stores) {
      if (store === 'bare') {
        targets.push(bareTarget(workDir));
        continue;
      }
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
      targets.push(porticoTarget(store, workDir, configDir, dataDir, redisUrl));
    }
    const run = await benchAll(targets, cases, seconds, gate);
    rows.push(...run.rows);
    rss.push(...run.rss);
    notes.push(...run.notes);

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
      `- servers (Portico and bare alike) run with the node flags of Portico's start script: ${serverNodeFlags().join(' ') || 'none'}`,
      `- ${seconds} s per cell after a warm-up; tokens/s counts 2xx answers; p50/p99 from 2xx answers, measured by the bench`,
      `- throughput goals use the best cell of a case; "ratio" is Portico / bare for the same case and concurrency`,
      `- node:crypto on the servers' core, measured in this run: ${Math.round(calibration.es256).toLocaleString('en-US')} ES256 and ${Math.round(calibration.rs256).toLocaleString('en-US')} RS256 signatures/s (/work/shared/NOTES.md's reference machine: 52,900 and 4,200). One RS256 ID token per refresh caps that case at the RS256 figure before any other work.`,
      `- every cell runs on all servers back to back (bare, then Portico), so each ratio compares cells seconds apart; before a cell the bench waited for other processes to quieten down, ${Math.round(gate.waitedMs / 1000)} s in all (budget ${quietBudget} s, BENCH_QUIET_WAIT)`,
      `- run took ${Math.round((Date.now() - started) / 1000)} s`,
      '',
    ].join('\n');
    process.stdout.write(`${header}\n${markdown}\n`);
    // A run narrowed with BENCH_SERVERS / BENCH_CASES (profiling, a quick look) must not replace
    // the last full result.
    const partial = stores.length < 3 || cases.length < CASES.length;
    const resultFile = `bench/results/${partial ? 'partial' : 'latest'}.md`;
    await mkdir(join(ROOT, 'bench/results'), { recursive: true });
    await writeFile(join(ROOT, resultFile), `${header}\n${markdown}`);
    progress(`written to ${resultFile} (${Math.round((Date.now() - started) / 1000)} s)`);
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
