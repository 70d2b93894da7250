/**
 * The servers under test run as child processes pinned to core 0, so the load generator (pinned
 * to core 1) never steals their CPU and the numbers mean "one core".
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readdirSync, readFileSync } from 'node:fs';

export const SERVER_CORE = '0';
export const LOAD_CORE = '1';

const live = new Set<ChildProcess>();

/** Last resort on the way out (errors, signals): SIGKILL every server child still running, by pid. */
export function killChildren(): void {
  for (const child of live) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  live.clear();
}

/** Resident set size of a process in bytes, from /proc; undefined once it is gone. */
export function rssBytes(pid: number): number | undefined {
  try {
    const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

function cpusAllowed(pid: number): string | undefined {
  try {
    return /^Cpus_allowed_list:\s+(\S+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  } catch {
    return undefined;
  }
}

/** Samples a process's RSS every 250 ms; `peak` is per measurement window (see `reset`). */
export class RssMonitor {
  readonly #pid: number;
  readonly #timer: NodeJS.Timeout;
  #peak = 0;
  #max = 0;

  constructor(pid: number) {
    this.#pid = pid;
    this.#timer = setInterval(() => this.sample(), 250);
    this.#timer.unref();
    this.sample();
  }

  sample(): number {
    const rss = rssBytes(this.#pid) ?? 0;
    if (rss > this.#peak) this.#peak = rss;
    if (rss > this.#max) this.#max = rss;
    return rss;
  }

  /** Starts a new window; returns the RSS now. */
  reset(): number {
    this.#peak = 0;
    return this.sample();
  }

  get peak(): number {
    return this.#peak;
  }

  get max(): number {
    return this.#max;
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}

export interface ChildServer {
  readonly label: string;
  readonly pid: number;
  readonly baseUrl: string;
  readonly userId: string;
  readonly rss: RssMonitor;
  /** An IPC request the child answers with a message carrying the same id. */
  ask<T>(message: Record<string, unknown>): Promise<T>;
  stop(): Promise<void>;
}

export interface StartChildOptions {
  readonly label: string;
  readonly script: string;
  readonly args: readonly string[];
  readonly env: NodeJS.ProcessEnv;
  readonly port: number;
  /** Where the child's stdout (its request log) goes. */
  readonly logFile: string;
  /** GET path that answers 200 once the server takes traffic. */
  readonly readyPath: string;
  readonly nodeFlags?: readonly string[];
}

interface ChildMessage {
  type?: string;
  id?: number;
  userId?: string;
  error?: string;
}

export async function startChild(options: StartChildOptions): Promise<ChildServer> {
  const log = openSync(options.logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn('taskset', ['-c', SERVER_CORE, process.execPath, ...(options.nodeFlags ?? []), options.script, ...options.args], {
      stdio: ['ignore', log, 'pipe', 'ipc'],
      env: options.env,
    });
  } finally {
    closeSync(log);
  }
  live.add(child);
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString('utf8')).slice(-16_384);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  void exited.then(() => live.delete(child));

  const pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  let nextId = 1;
  child.on('message', (message: ChildMessage) => {
    if (message.id === undefined) return;
    const waiter = pending.get(message.id);
    if (!waiter) return;
    pending.delete(message.id);
    if (message.error) waiter.reject(new Error(`${options.label}: ${message.error}`));
    else waiter.resolve(message);
  });
  void exited.then(() => {
    for (const waiter of pending.values()) waiter.reject(new Error(`${options.label} exited: ${stderr.trim()}`));
    pending.clear();
  });

  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  };

  try {
    const ready = await new Promise<ChildMessage>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${options.label} did not report ready within 60 s: ${stderr.trim()}`)), 60_000);
      child.on('message', (message: ChildMessage) => {
        if (message.type !== 'ready') return;
        clearTimeout(timer);
        resolve(message);
      });
      void exited.then(() => {
        clearTimeout(timer);
        reject(new Error(`${options.label} exited before it was ready (code ${child.exitCode}, signal ${child.signalCode}):\n${stderr.trim()}`));
      });
    });
    const baseUrl = `http://127.0.0.1:${options.port}`;
    await waitForReady(`${baseUrl}${options.readyPath}`, options.label);
    const pid = child.pid!;
    // taskset execs node in place, so this is the server's own pid; check it really is pinned.
    const allowed = cpusAllowed(pid);
    if (allowed !== SERVER_CORE) throw new Error(`${options.label} runs on cores ${allowed}, expected ${SERVER_CORE}`);
    return {
      label: options.label,
      pid,
      baseUrl,
      userId: ready.userId ?? '',
      rss: new RssMonitor(pid),
      ask: <T>(message: Record<string, unknown>) =>
        new Promise<T>((resolve, reject) => {
          const id = nextId++;
          pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
          child.send({ ...message, id });
        }),
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

async function waitForReady(url: string, label: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  let last = '';
  while (Date.now() < deadline) {
    try {
      const response = await fetch(url);
      await response.arrayBuffer();
      if (response.status === 200) return;
      last = `status ${response.status}`;
    } catch (error) {
      last = String(error);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${label} is not ready at ${url} after 20 s (${last})`);
}

// ---------------------------------------------------------------------------------------------
// CPU accounting: the machine is shared (other sessions run tests and compilers on both cores),
// so every cell reports how much CPU went to things that are not part of the measurement.

/** Kernel clock ticks per second for /proc's CPU times (USER_HZ, 100 on every Linux we run on). */
const TICKS_PER_SECOND = 100;

function processTicks(pid: number | 'self'): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return 0;
  }
}

function busyTicks(): number {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] ?? '';
  const [, ...values] = line.trim().split(/\s+/).map(Number);
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = values;
  return user + nice + system + irq + softirq + steal;
}

/** The pid of a local redis-server, if one runs here, so its CPU is accounted for separately. */
export function findRedisServerPid(): number | undefined {
  try {
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() === 'redis-server') return Number(entry);
      } catch {
        // gone meanwhile
      }
    }
  } catch {
    // no /proc
  }
  return undefined;
}

/** CPU used during a window, in % of one core. */
export interface CpuShares {
  readonly server: number;
  readonly loadGenerator: number;
  readonly redis: number | undefined;
  /** Everything else on the machine: other people's work, which skews the cell. */
  readonly other: number;
}

export function startCpuWindow(serverPid: number, redisPid: number | undefined): () => CpuShares {
  const started = process.hrtime.bigint();
  const before = { busy: busyTicks(), server: processTicks(serverPid), self: processTicks('self'), redis: redisPid ? processTicks(redisPid) : 0 };
  return () => {
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const share = (ticks: number): number => (ticks / TICKS_PER_SECOND / seconds) * 100;
    const server = processTicks(serverPid) - before.server;
    const self = processTicks('self') - before.self;
    const redis = redisPid ? processTicks(redisPid) - before.redis : 0;
    const busy = busyTicks() - before.busy;
    return {
      server: share(server),
      loadGenerator: share(self),
      redis: redisPid ? share(redis) : undefined,
      other: Math.max(0, share(busy - server - self - redis)),
    };
  };
}
