/**
 * The whole federated guest login on the Redis store: relying party → Portico → upstream OIDC
 * stand-in → Portico → code → tokens, with Portico alone on core 0 and everything else (the
 * stand-in, Redis, this load generator) on core 1.
 *
 *   node bench/federated-login.ts
 *
 * Environment: BENCH_SECONDS (per cell, default 10), BENCH_GUESTS (guests added up front, default
 * 300), BENCH_RATE (open-loop logins/s; default: what kept Portico near 55 % CPU in the closed-loop
 * cells), BENCH_REDIS_URL (use that Redis instead of a private redis-server: its counters then
 * include other clients), BENCH_CPU_PROF (0: no profile; a directory: keep the .cpuprofile and Portico's log there),
 * BENCH_LOG_LEVEL (Portico's log level, default its config default), BENCH_UPSTREAM_USERINFO=1
 * (the upstream keeps email and name for userinfo, adding a call per login),
 * BENCH_PORTICO_NODE_FLAGS (extra node flags for Portico, e.g. GC settings), BENCH_QUIET_WAIT
 * (seconds the run may wait, in all, for other processes on this shared VM to quieten; 0: never).
 *
 * Writes the report to stdout and bench/results/federated-login.md. Children are killed on the
 * way out, temporary folders removed, and only the run's own Redis key prefix is deleted.
 */
import { execFile, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { guestUserPrincipalName, UserDirectory } from '../src/directory/users.ts';
import { systemClock } from '../src/shared/clock.ts';
import { createRedisStore } from '../src/storage/redis/redis-store.ts';
import { freePort } from '../test/helpers/http.ts';
import { accountRedis } from './federated/accounting.ts';
import { agent } from './federated/browser.ts';
import { RETURNING_APP, SIGN_UP_APP, TENANT, writeBenchConfig } from './federated/config.ts';
import { closedLoop, fixedCount, openLoop, type GuestSource, type Samples } from './federated/load.ts';
import { federatedLogin, type LoginTarget } from './federated/login.ts';
import { ask, cpusAllowed, killChildren, nextMessage, spawnPinned, startCpuWindow, waitForQuiet, type Spawned } from './federated/processes.ts';
import { callsBetween, commandCalls, deletePrefix, openBenchRedis, quietClient, type BenchRedis } from './federated/redis.ts';
import { GOALS, NOISY_PERCENT, renderReport, type Calibration, type Cell } from './federated/report.ts';
import { logOffset, serverTimes } from './federated/request-log.ts';
import { CONNECTOR_ID, UPSTREAM_CLIENT, accountEmail } from './federated/shared.ts';
import { serverNodeFlags } from './server-flags.ts';

const PORTICO_CORE = '0';
const LOAD_CORE = '1';
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SELF = fileURLToPath(import.meta.url);
const PINNED_FLAG = 'BENCH_FEDERATED_PINNED';

const progress = (line: string): void => void process.stderr.write(`[federated-login] ${line}\n`);

function numberFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number, got ${raw}`);
  return value;
}

/** node:crypto signatures per second on Portico's core (bench/calibrate.ts). */
function calibrate(): Promise<Calibration> {
  return new Promise((resolve, reject) => {
    execFile('taskset', ['-c', PORTICO_CORE, process.execPath, join(ROOT, 'bench/calibrate.ts'), '1000'], (error, stdout) =>
      error ? reject(error) : resolve(JSON.parse(stdout) as Calibration),
    );
  });
}

function profileSummary(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [join(ROOT, 'bench/profile-summary.ts'), file, '12'], { maxBuffer: 4 * 1024 * 1024 }, (error, stdout) =>
      error ? reject(error) : resolve(stdout),
    );
  });
}

/** Portico's shipped flags (package.json `start`), then any extra ones to try (BENCH_PORTICO_NODE_FLAGS). */
const porticoNodeFlags = (): string[] => [...serverNodeFlags(), ...(process.env['BENCH_PORTICO_NODE_FLAGS'] ?? '').split(/\s+/).filter(Boolean)];

interface Discovery {
  readonly issuer: string;
  readonly authorization_endpoint: string;
  readonly token_endpoint: string;
  readonly jwks_uri: string;
}

async function discover(issuer: string): Promise<Discovery> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    try {
      const response = await fetch(`${issuer}/.well-known/openid-configuration`);
      if (response.ok) return (await response.json()) as Discovery;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`no discovery document at ${issuer} within 20 s`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

interface Running {
  readonly redis: BenchRedis;
  readonly upstream: Spawned;
  readonly portico: Spawned;
  readonly target: LoginTarget;
  readonly issuer: string;
  readonly jwksUri: string;
  /** Portico's stdout: its request log. */
  readonly logFile: string;
}

async function main(): Promise<void> {
  if (cpusAllowed('self') !== LOAD_CORE) throw new Error(`the load generator should run on core ${LOAD_CORE}, runs on ${cpusAllowed('self')}`);
  if (cpus().length < 2) throw new Error('the bench pins Portico and the load to different cores: it needs 2');
  const seconds = numberFromEnv('BENCH_SECONDS', 10);
  const guestCount = Math.round(numberFromEnv('BENCH_GUESTS', 300));
  const profileSetting = process.env['BENCH_CPU_PROF'] ?? '1';
  const upstreamUserinfo = process.env['BENCH_UPSTREAM_USERINFO'] === '1';
  const quietBudgetMs = (process.env['BENCH_QUIET_WAIT'] === '0' ? 0 : numberFromEnv('BENCH_QUIET_WAIT', 40)) * 1000;
  const runTag = randomUUID().slice(0, 8);
  // As long as the default prefix ('portico:'): key names count in the bytes stored per guest.
  const prefix = `pb${runTag.slice(0, 5)}:`;
  const startedAt = new Date();
  const workDir = await mkdtemp(join(tmpdir(), 'portico-bench-federated-'));
  const notes: string[] = [];
  let redis: BenchRedis | undefined;
  let children: Spawned[] = [];

  let interrupted = false;
  let cleaned: Promise<void> | undefined;
  const cleanup = (): Promise<void> =>
    (cleaned ??= (async () => {
      agent.destroy();
      // Portico and the stand-in first (Portico closes its Redis connection), then the keys, then
      // the private redis-server; anything still alive after that is killed.
      await Promise.all(children.map((child) => child.stop(5000).catch(() => undefined)));
      if (redis) {
        try {
          const deleted = await deletePrefix(redis.client, prefix);
          progress(`deleted ${deleted} Redis keys under ${prefix}`);
        } catch (error) {
          // A private server may already be gone (Ctrl-C reaches it too): its keys went with it.
          if (!redis.private) process.stderr.write(`federated-login: could not delete the Redis keys under ${prefix}: ${String(error)}\n`);
        }
        await redis.stop().catch(() => undefined);
      }
      killChildren();
      await rm(workDir, { recursive: true, force: true });
    })());
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      progress(`${signal}: stopping`);
      interrupted = true;
      void cleanup().finally(() => process.exit(130));
    });
  }
  process.once('exit', killChildren);

  try {
    progress(`calibrating node:crypto on core ${PORTICO_CORE}`);
    const calibrationBefore = await calibrate();

    redis = await openBenchRedis({ url: process.env['BENCH_REDIS_URL'], core: LOAD_CORE });
    progress(`Redis at ${redis.private ? `a private redis-server (pid ${redis.pid})` : 'BENCH_REDIS_URL'}, key prefix ${prefix}`);
    const running = await startAll(redis, workDir, prefix, (child) => (children = [...children, child]), upstreamUserinfo);
    const { target } = running;
    const logLevel = process.env['BENCH_LOG_LEVEL'] ?? 'info (the config default)';

    // Guests as `portico guests add` makes them: pending acceptance, linked on first sign-in.
    const directoryClient = quietClient(redis.url);
    const store = createRedisStore({ client: directoryClient, keyPrefix: prefix });
    const directory = new UserDirectory({ store, clock: systemClock });
    const guestIds = Array.from({ length: guestCount }, (_, index) => `bench-g${index}-${runTag}`);
    progress(`adding ${guestCount} guests`);
    for (let index = 0; index < guestIds.length; index += 50) {
      await Promise.all(
        guestIds.slice(index, index + 50).map((id) =>
          directory.create({
            tenantId: TENANT,
            userType: 'Guest',
            userPrincipalName: guestUserPrincipalName(accountEmail(id), 'contoso.example'),
            displayName: id,
            mail: accountEmail(id),
            creationType: 'Invitation',
            externalUserState: 'PendingAcceptance',
          }),
        ),
      );
    }
    await store.close();

    const returning: GuestSource = (sequence) => {
      const id = guestIds[sequence % guestIds.length]!;
      return { app: RETURNING_APP, accountId: id, email: accountEmail(id) };
    };
    let signUps = 0;
    const signUp: GuestSource = () => {
      const id = `bench-s${signUps++}-${runTag}`;
      return { app: SIGN_UP_APP, accountId: id, email: accountEmail(id) };
    };

    // One login checked the way a relying party would: the ID token's signature, issuer, audience.
    const first = await federatedLogin(target, signUp(0));
    await jwtVerify(first.idToken, createRemoteJWKSet(new URL(running.jwksUri)), { issuer: running.issuer, audience: SIGN_UP_APP.clientId });
    progress('one login verified end to end (ID token signature, issuer, audience)');

    const cells: Cell[] = [];
    const pids = { portico: running.portico.pid, upstream: running.upstream.pid, redis: redis.pid, loadGenerator: 'self' as const };
    let quietWaitedMs = 0;
    const measure = async (name: string, steadyState: boolean, drive: () => Promise<Samples>): Promise<Cell> => {
      progress(name);
      quietWaitedMs += await waitForQuiet(pids, quietBudgetMs - quietWaitedMs);
      const logFrom = await logOffset(running.logFile);
      const callsBefore = await commandCalls(redis!.client);
      const window = startCpuWindow(pids);
      const samples = await drive();
      const cpu = window();
      const calls = callsBetween(callsBefore, await commandCalls(redis!.client));
      calls.delete('info');
      let commands = 0;
      for (const n of calls.values()) commands += n;
      const serverHopMs = await serverTimes(running.logFile, logFrom, await logOffset(running.logFile));
      const cell: Cell = { name, samples, cpu, serverHopMs, redisCommandsPerLogin: commands / Math.max(1, samples.logins), steadyState };
      cells.push(cell);
      progress(
        `  ${samples.logins} logins in ${(samples.elapsedMs / 1000).toFixed(1)} s, Portico ${Math.round(cpu['portico'] ?? 0)} % CPU, upstream ${Math.round(cpu['upstream'] ?? 0)} %, load ${Math.round(cpu['loadGenerator'] ?? 0)} %, Redis ${Math.round(cpu['redis'] ?? 0)} %, others ${Math.round(cpu.other)} %${samples.errors.size ? `, errors: ${[...samples.errors].map(([k, n]) => `${n} × ${k}`).join('; ')}` : ''}`,
      );
      return cell;
    };

    const signUpAccount = await accountRedis(redis, prefix, () => fixedCount(target, { concurrency: 10, count: 200, guests: signUp }));
    progress(`Redis accounting, sign-up: ${signUpAccount.samples.logins} logins`);
    const firstSignIn: GuestSource = (sequence) => ({ ...returning(sequence), acceptsInvitation: true });
    await measure(`invited guests' first sign-in (warm-up), 10 VUs, ${guestCount} logins`, false, () =>
      fixedCount(target, { concurrency: 10, count: guestCount, guests: firstSignIn }),
    );
    const returningAccount = await accountRedis(redis, prefix, () => fixedCount(target, { concurrency: 10, count: 200, guests: returning }));
    progress(`Redis accounting, returning: ${returningAccount.samples.logins} logins`);

    const closed: Cell[] = [];
    for (const concurrency of [1, 10, 25]) {
      closed.push(await measure(`returning guests, ${concurrency} VU${concurrency > 1 ? 's' : ''}`, true, () => closedLoop(target, { concurrency, seconds, guests: returning })));
    }

    // Open loop at a rate meant to keep Portico near 55 % CPU. CPU per login is not constant
    // (it falls as load rises and work batches up), so the first guess comes from the closed-loop
    // cell nearest 55 % and one short probe corrects it; never faster than core 1 (stand-in and
    // load generator) proved able to drive.
    const bestClosed = Math.max(...closed.map((c) => (c.samples.logins * 1000) / c.samples.elapsedMs));
    const nearest = closed.reduce((a, b) => (Math.abs((b.cpu['portico'] ?? 0) - 55) < Math.abs((a.cpu['portico'] ?? 0) - 55) ? b : a));
    const cap = bestClosed * 0.9;
    let rate: number;
    let openLoopNote: string;
    if (process.env['BENCH_RATE']) {
      rate = numberFromEnv('BENCH_RATE', 1);
      openLoopNote = `The open-loop cell ran at BENCH_RATE = ${rate} logins/s.`;
    } else {
      const guess = Math.min(cap, (((nearest.samples.logins * 1000) / nearest.samples.elapsedMs) * 55) / Math.max(1, nearest.cpu['portico'] ?? 55));
      const probeSeconds = Math.min(4, seconds);
      progress(`probing the open-loop rate: ${guess.toFixed(0)}/s for ${probeSeconds} s`);
      const window = startCpuWindow({ portico: running.portico.pid });
      await openLoop(target, { rate: guess, seconds: probeSeconds, maxInFlight: 200, guests: returning });
      const probed = window()['portico'] ?? 55;
      rate = Math.max(1, Math.round(Math.min(cap, (guess * 55) / Math.max(1, probed))));
      openLoopNote = `The open-loop cell's rate: a ${probeSeconds}-s probe at ${guess.toFixed(0)} logins/s (from the closed-loop cell nearest 55 % CPU, ${nearest.name}) put Portico at ${Math.round(probed)} % CPU, so ${rate}/s was used to aim at 55 %${rate === Math.round(cap) ? ` (capped at 90 % of the best closed-loop rate, ${Math.round(bestClosed)}/s, what core 1 proved able to drive)` : ''}.`;
    }
    // Twice as long as the other cells: this is the cell the latency goal is read from, and a
    // p99 needs a few hundred logins behind it.
    await measure(`returning guests, open loop ${rate}/s`, true, () => openLoop(target, { rate, seconds: seconds * 2, maxInFlight: 200, guests: returning }));
    await measure('self-service sign-up, 10 VUs', false, () => closedLoop(target, { concurrency: 10, seconds, guests: signUp }));

    let profile: string | undefined;
    if (profileSetting !== '0') {
      const file = join(workDir, 'portico.cpuprofile');
      progress('profiling Portico: returning guests, 10 VUs');
      await ask(running.portico, { type: 'profile-start' }, 'profile-started');
      const profiled = await closedLoop(target, { concurrency: 10, seconds: Math.min(seconds, 8), guests: returning });
      await ask(running.portico, { type: 'profile-stop', file }, 'profile-stopped');
      // The temporary folder is gone after the run: name the file only.
      profile = `${profiled.logins} returning-guest logins at 10 VUs, sampled every 0.5 ms\n${(await profileSummary(file)).replace(file, 'portico.cpuprofile')}`;
      if (profileSetting !== '1') {
        await mkdir(profileSetting, { recursive: true });
        const kept = join(profileSetting, `portico-federated-${runTag}.cpuprofile`);
        await copyFile(file, kept);
        await copyFile(running.logFile, join(profileSetting, `portico-federated-${runTag}.log`));
        notes.push(`CPU profile and Portico's log kept in ${profileSetting}`);
      }
    }

    progress('calibrating again');
    const calibrationAfter = await calibrate();
    if (porticoNodeFlags().length) notes.push(`Portico ran with node flags: ${porticoNodeFlags().join(' ')}`);
    notes.push(
      `Before each cell the bench waited for a second in which other processes used < 20 % of a core: ${Math.round(quietWaitedMs / 1000)} s in all (budget ${quietBudgetMs / 1000} s, BENCH_QUIET_WAIT); cells marked ⚠ still had others using ≥ ${NOISY_PERCENT} % of a core (of 200 %) meanwhile.`,
    );
    if (!redis.private) notes.push('Redis counters (commands per login, used_memory) come from a shared server: other clients add to them.');
    notes.push(`Goals checked: ≥ ${GOALS.loginsPerSecond} logins/s, hop p99 ≤ ${GOALS.hopP99Ms} ms at ≤ ${GOALS.hopCpuPercent} % Portico CPU, ≤ ${GOALS.bytesPerGuest} B per signed-in guest (issue 3, item 7).`);
    const markdown = renderReport({
      startedAt,
      seconds,
      guests: guestCount,
      cells,
      returning: returningAccount,
      signUp: signUpAccount,
      calibration: { before: calibrationBefore, after: calibrationAfter },
      redisPrivate: redis.private,
      logLevel,
      upstreamUserinfo,
      openLoopNote,
      profile,
      notes,
      cpuModel: `${cpus().length} cores (${cpus()[0]?.model ?? 'unknown cpu'})`,
      runSeconds: (Date.now() - startedAt.getTime()) / 1000,
    });
    process.stdout.write(`${markdown}\n`);
    await mkdir(join(ROOT, 'bench/results'), { recursive: true });
    await writeFile(join(ROOT, 'bench/results/federated-login.md'), markdown);
    progress('written to bench/results/federated-login.md');
  } catch (error) {
    // After Ctrl-C the run fails on the way out (its servers are going): that is no news.
    if (!interrupted) process.stderr.write(`federated-login failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  } finally {
    await cleanup();
  }
}

/** The upstream stand-in (core 1), then Portico (core 0) pointed at it. */
async function startAll(redis: BenchRedis, workDir: string, prefix: string, track: (child: Spawned) => void, upstreamUserinfo: boolean): Promise<Running> {
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const issuer = `${origin}/${TENANT}/v2.0`;
  const upstream = spawnPinned({
    label: 'upstream stand-in',
    core: LOAD_CORE,
    command: process.execPath,
    args: [join(ROOT, 'bench/federated/upstream-child.ts'), `${issuer}/federation/${CONNECTOR_ID}/callback`],
    env: { ...process.env, BENCH_UPSTREAM_USERINFO: upstreamUserinfo ? '1' : '0' },
    ipc: true,
  });
  track(upstream);
  const { issuer: upstreamIssuer } = await nextMessage<{ type: string; issuer: string }>(upstream, 'ready');

  const configDir = join(workDir, 'config');
  const dataDir = join(workDir, 'data');
  await mkdir(dataDir, { recursive: true });
  await writeBenchConfig({ dir: configDir, upstreamIssuer, redisKeyPrefix: prefix });
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PORT: String(port),
    PUBLIC_URL: origin,
    PORTICO_DATA: dataDir,
    REDIS_URL: redis.url,
    CONTOSO_WEB_SECRET: RETURNING_APP.secret,
    TEST_APP_SECRET: SIGN_UP_APP.secret,
    TEST_NORTHWIND_SECRET: UPSTREAM_CLIENT.clientSecret,
  };
  delete env[PINNED_FLAG];
  delete env['LOG_LEVEL'];
  if (process.env['BENCH_LOG_LEVEL']) env['LOG_LEVEL'] = process.env['BENCH_LOG_LEVEL'];
  progress(`starting Portico on core ${PORTICO_CORE} at ${origin}`);
  const logFile = join(workDir, 'portico.log');
  const portico = spawnPinned({
    label: 'portico',
    core: PORTICO_CORE,
    command: process.execPath,
    args: [...porticoNodeFlags(), join(ROOT, 'bench/federated/portico-child.ts'), configDir],
    env,
    logFile,
    ipc: true,
  });
  track(portico);
  await nextMessage(portico, 'ready');
  for (const child of [portico, upstream]) {
    const expected = child === portico ? PORTICO_CORE : LOAD_CORE;
    if (cpusAllowed(child.pid) !== expected) throw new Error(`${child.label} runs on cores ${cpusAllowed(child.pid)}, expected ${expected}`);
  }
  const discovery = await discover(issuer);
  if (discovery.issuer !== issuer) throw new Error(`Portico says its issuer is ${discovery.issuer}, expected ${issuer}`);
  return {
    redis,
    upstream,
    portico,
    issuer,
    jwksUri: discovery.jwks_uri,
    logFile,
    target: {
      porticoOrigin: origin,
      upstreamOrigin: new URL(upstreamIssuer).origin,
      authorizationEndpoint: discovery.authorization_endpoint,
      tokenEndpoint: discovery.token_endpoint,
      idp: CONNECTOR_ID,
    },
  };
}

// Pinning: re-run this file under `taskset -c 1`, so every thread of the load generator starts
// there (taskset -p on a running process would not move the threads it already has).
if (process.env[PINNED_FLAG] !== '1') {
  const child = spawn('taskset', ['-c', LOAD_CORE, process.execPath, ...process.execArgv, SELF], {
    stdio: 'inherit',
    env: { ...process.env, [PINNED_FLAG]: '1' },
  });
  // Ctrl-C reaches the whole process group, the pinned run included: it cleans up and exits.
  process.on('SIGINT', () => undefined);
  process.on('SIGTERM', () => child.kill('SIGTERM'));
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
  child.on('error', (error) => {
    process.stderr.write(`federated-login: cannot run taskset: ${error.message}\n`);
    process.exit(1);
  });
} else {
  await main();
  // Everything is closed by now; a handle a failed start left behind must not keep the run alive.
  process.exit();
}
