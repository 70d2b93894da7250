/**
 * SAML response validation: how many ~10 KB signed responses the `saml` connector validates per
 * second on one core, and how long the event loop stalls while it does.
 *
 *   node bench/saml-validation.ts [seconds per case, default 4]
 *
 * The bench re-runs itself pinned to one core (`taskset -c 0`) with the node flags Portico ships
 * with (bench/server-flags.ts), so the worker thread and V8's helper threads share that core.
 * Every case goes through the connector's handlePost with a fresh request id (each response
 * answers its own AuthnRequest, so the request-id take and the assertion-id record run against a
 * real memory store). Responses are signed before measuring.
 *  - the connector as shipped (responses up to 16 KiB validated inline, larger ones in a worker)
 *    against the same responses forced through one worker thread, assertion-only and Response +
 *    assertion signatures;
 *  - hostile inputs: 20,000 nested elements (refused by the guard before any parser), and the
 *    largest response the default cap admits (256 KiB, signed): in a worker as shipped, and on
 *    the main thread for the stall the worker avoids.
 *
 * This VM's speed varies several-fold with what else runs (see /work/shared/NOTES.md): rates are
 * also given per CPU-second, and node:crypto RS256 signatures per CPU-second are measured before
 * and after so they can be scaled to the reference machine.
 */
import { spawn } from 'node:child_process';
import { generateKeyPairSync, sign } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { samlConfigSchema } from '../src/connectors/saml/config.ts';
import { createSamlConnector } from '../src/connectors/saml/connector.ts';
import { createValidationPool } from '../src/connectors/saml/validation-pool.ts';
import { SERVER_CORE } from './children.ts';
import { serverNodeFlags } from './server-flags.ts';
import type { SamlConnector } from '../src/connectors/types.ts';
import { testDeps } from '../test/unit/connectors/saml/helpers.ts';
import { ATTRIBUTE, createResponse, generateKeyPair, newSamlId } from '../test/helpers/saml-idp.ts';

const SECONDS = Number(process.argv[2] ?? 4);
const IDP = 'https://idp.fabrikam.example/saml';
const ACS = 'http://127.0.0.1:3000/contoso/v2.0/federation/fabrikam/acs';
const SP = 'http://127.0.0.1:3000/contoso/v2.0/saml/fabrikam';
const TARGET_BYTES = 10 * 1024;
const log = (line: string): void => void process.stderr.write(`[saml-bench] ${line}\n`);

/** RS256 signatures per CPU-second on this thread: the yardstick NOTES.md's reference numbers use. */
function rs256PerCpuSecond(ms = 1000): number {
  const key = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
  const data = Buffer.alloc(400, 0x61);
  let count = 0;
  const cpuBefore = process.threadCpuUsage();
  const started = performance.now();
  while (performance.now() - started < ms) {
    sign('sha256', data, key);
    count += 1;
  }
  const cpu = process.threadCpuUsage(cpuBefore);
  return (count * 1e6) / (cpu.user + cpu.system);
}

const key = generateKeyPair('bench-idp');
const deps = testDeps();
const config = samlConfigSchema.parse({ id: 'fabrikam', kind: 'saml', entityId: IDP, ssoUrl: 'https://idp.fabrikam.example/sso', signingCertificates: [key.certificate], domains: ['fabrikam.example'] });
const context = (flowId: string) => ({ flowId, callbackUrl: ACS });

interface Prepared {
  readonly flowId: string;
  readonly requestId: string;
  readonly base64: string;
  readonly bytes: number;
}

/** Responses are made before measuring: signing one costs about as much as validating it. */
type Signed = 'assertion' | 'both';

async function prepare(count: number, padToBytes: number, start: (flowId: string) => Promise<string>, signed: Signed = 'assertion'): Promise<Prepared[]> {
  const prepared: Prepared[] = [];
  for (let index = 0; index < count; index += 1) {
    const flowId = `flow-${newSamlId()}`;
    const requestId = await start(flowId);
    const response = await createResponse({
      issuer: IDP,
      signingKey: key,
      requestId,
      acsUrl: ACS,
      audience: SP,
      now: deps.clock.now(),
      user: { nameId: `user-${index}`, attributes: { [ATTRIBUTE.mail]: `user${index}@fabrikam.example`, [ATTRIBUTE.displayName]: `User ${index}` } },
      padToBytes,
      sign: { assertion: true, response: signed === 'both' },
    });
    prepared.push({ flowId, requestId, base64: response.base64, bytes: Buffer.byteLength(response.xml) });
  }
  return prepared;
}

interface Measured {
  readonly name: string;
  readonly bytes: number;
  readonly count: number;
  readonly perSecond: number;
  /** Validations per second of process CPU (main thread and workers): one core's throughput, whatever else runs on the VM. */
  readonly perCpuSecond: number;
  readonly p50: number;
  readonly p99: number;
  /** Longest wall-clock delay of the event loop (includes time the OS gave the CPU to others). */
  readonly maxStallMs: number;
  /** Longest stretch of main-thread CPU between two 1 ms timer ticks: the blocking our code caused. */
  readonly maxBlockMs: number;
}

/** Samples main-thread CPU between timer ticks: on a shared VM, wall-clock stalls also count other processes' turns. */
function blockMonitor(): { stop(): number } {
  let last = process.threadCpuUsage();
  let max = 0;
  const timer = setInterval(() => {
    const now = process.threadCpuUsage();
    max = Math.max(max, (now.user - last.user + now.system - last.system) / 1000);
    last = now;
  }, 1);
  return {
    stop() {
      clearInterval(timer);
      return max;
    },
  };
}

const percentile = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? 0;

async function measure(name: string, items: Prepared[], concurrency: number, validate: (item: Prepared) => Promise<void>): Promise<Measured> {
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  const latencies: number[] = [];
  let next = 0;
  histogram.enable();
  const blocking = blockMonitor();
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) {
        const item = items[next++] as Prepared;
        const t0 = performance.now();
        await validate(item);
        latencies.push(performance.now() - t0);
        // As a server would between requests: let timers (and so the stall monitor) run.
        await new Promise((resolve) => setImmediate(resolve));
      }
    }),
  );
  const elapsed = performance.now() - started;
  const cpu = process.cpuUsage(cpuBefore);
  histogram.disable();
  const maxBlockMs = blocking.stop();
  latencies.sort((a, b) => a - b);
  return {
    name,
    bytes: Math.round(items.reduce((sum, item) => sum + item.bytes, 0) / items.length),
    count: items.length,
    perSecond: (items.length * 1000) / elapsed,
    perCpuSecond: (items.length * 1e6) / (cpu.user + cpu.system),
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    maxStallMs: histogram.max / 1e6,
    maxBlockMs,
  };
}

/** How many responses fill `SECONDS` at a rate measured on a small sample. */
async function sized(sample: () => Promise<number>): Promise<number> {
  const perSecond = await sample();
  return Math.max(50, Math.min(5000, Math.round(perSecond * SECONDS)));
}

interface Bench {
  readonly connector: SamlConnector;
  readonly close: () => Promise<void>;
  readonly start: (flowId: string) => Promise<string>;
  readonly post: (item: Prepared) => Promise<void>;
}

/** The connector with `workers` worker threads (0: everything on the main thread); `inlineMaxBytes` 0 sends every response to a worker. */
async function bench(workers: number, inlineMaxBytes?: number): Promise<Bench> {
  const pool = createValidationPool({ size: workers, ...(inlineMaxBytes === undefined ? {} : { inlineMaxBytes }) });
  const connector = await createSamlConnector(config, deps, { pool });
  return {
    connector,
    close: () => pool.close(),
    start: async (flowId) => String((await connector.start(context(flowId))).state['requestId']),
    post: async (item) => {
      const identity = await connector.handlePost({ SAMLResponse: item.base64, RelayState: item.flowId }, { requestId: item.requestId }, context(item.flowId));
      if (!identity.subject) throw new Error('no subject');
    },
  };
}

type Mode = 'shipped' | 'worker' | 'main';
const MODES: Record<Mode, { readonly label: string; readonly workers: number; readonly inlineMaxBytes?: number }> = {
  shipped: { label: 'as shipped (inline up to 16 KiB, else 1 worker)', workers: 1 },
  worker: { label: 'forced through 1 worker', workers: 1, inlineMaxBytes: 0 },
  main: { label: 'main thread (no worker)', workers: 0 },
};

async function main(): Promise<void> {
  const rs256Before = rs256PerCpuSecond();
  log(`node:crypto RS256: ${Math.round(rs256Before)} signatures per CPU-second (reference machine: 4,200)`);
  const rows: Measured[] = [];

  // Size the runs from a short sample, so each case lasts about SECONDS.
  const probe = await bench(0);
  for (const item of await prepare(40, TARGET_BYTES, probe.start)) await probe.post(item);
  const count = await sized(async () => {
    const sample = await prepare(40, TARGET_BYTES, probe.start);
    const t0 = performance.now();
    for (const item of sample) await probe.post(item);
    return (sample.length * 1000) / (performance.now() - t0);
  });
  await probe.close();
  log(`about ${count} responses per case`);

  for (const [mode, signed] of [
    ['shipped', 'assertion'],
    ['worker', 'assertion'],
    ['shipped', 'both'],
    ['worker', 'both'],
  ] as const) {
    const { label, workers, inlineMaxBytes } = MODES[mode];
    const run = await bench(workers, inlineMaxBytes);
    for (const item of await prepare(30, TARGET_BYTES, run.start, signed)) await run.post(item);
    const what = signed === 'both' ? 'Response + assertion signed' : 'assertion signed';
    rows.push(await measure(`~10 KB, ${what}, ${label}, 4 in flight`, await prepare(count, TARGET_BYTES, run.start, signed), 4, run.post));
    await run.close();
  }

  // Hostile inputs: deep nesting never reaches a parser; the largest admitted response does.
  const one = await bench(MODES.shipped.workers);
  const deep = `<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol">${'<a>'.repeat(20000)}${'</a>'.repeat(20000)}</samlp:Response>`;
  const deepBase64 = Buffer.from(deep).toString('base64');
  const deepItems = Array.from({ length: 300 }, (_, index) => ({ flowId: `deep-${index}`, requestId: `_deep${index}`, base64: deepBase64, bytes: deep.length }));
  rows.push(
    await measure('20,000 nested elements: refused by the guard', deepItems, 1, (item) =>
      one.post(item).then(
        () => {
          throw new Error('deep nesting was accepted');
        },
        (error: { code?: string }) => {
          if (error.code !== 'invalid_response') throw error;
        },
      ),
    ),
  );
  const cap = `${Math.round(config.maxResponseBytes / 1024)} KiB`;
  rows.push(await measure(`largest admitted (${cap} cap), both signed, ${MODES.shipped.label}`, await prepare(6, config.maxResponseBytes - 2048, one.start, 'both'), 2, one.post));
  await one.close();
  const inline = await bench(0);
  rows.push(await measure(`largest admitted (${cap} cap), both signed, ${MODES.main.label}`, await prepare(4, config.maxResponseBytes - 2048, inline.start, 'both'), 1, inline.post));
  await inline.close();

  const rs256 = (rs256Before + rs256PerCpuSecond()) / 2;
  const scale = 4200 / rs256;
  const lines = [
    '# SAML validation benchmark',
    '',
    `- date: ${new Date().toISOString()}, node ${process.version}; pinned to core ${SERVER_CORE} with Portico's node flags: ${serverNodeFlags().join(' ') || 'none'}`,
    `- node:crypto RS256 here: ${Math.round(rs256)} per CPU-second (mean of before and after); reference machine 4,200/s: scale ×${scale.toFixed(2)} for the "reference" column`,
    '- "per CPU-second" divides by the process CPU time (main thread, worker and V8 helper threads, all on the one core), so other load on the VM does not count; wall-clock columns do include it',
    '- RSA-SHA256, exclusive c14n; every response answers its own AuthnRequest (request id taken, assertion id recorded in a memory store)',
    '',
    '| case | avg bytes | n | validations/s (wall) | per CPU-second | ≈ reference per CPU-s | p50 ms | p99 ms | max loop stall ms (wall) | max main-thread block ms (CPU) |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows.map(
      (row) =>
        `| ${row.name} | ${row.bytes} | ${row.count} | ${row.perSecond.toFixed(0)} | ${row.perCpuSecond.toFixed(0)} | ${(row.perCpuSecond * scale).toFixed(0)} | ${row.p50.toFixed(1)} | ${row.p99.toFixed(1)} | ${row.maxStallMs.toFixed(1)} | ${row.maxBlockMs.toFixed(1)} |`,
    ),
    '',
    `Goals: ≥ 250 validations/s of ~10 KB on one core; no event-loop stall over 50 ms.`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  process.stdout.write(`${JSON.stringify({ rs256, rows })}\n`);
}

// Pinning: re-run this file under `taskset` so every thread it starts shares the one core.
if (process.env['BENCH_PINNED'] !== '1') {
  const child = spawn('taskset', ['-c', SERVER_CORE, process.execPath, ...serverNodeFlags(), fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
    stdio: 'inherit',
    env: { ...process.env, BENCH_PINNED: '1' },
  });
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
  child.on('error', (error) => {
    process.stderr.write(`saml bench: cannot run taskset: ${error.message}\n`);
    process.exit(1);
  });
} else {
  await main();
}
