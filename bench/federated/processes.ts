/**
 * The processes of the federated-login bench: Portico, the upstream stand-in and (by default) a
 * private redis-server, each started under `taskset -c <core>` so the numbers say which core did
 * what. taskset execs the program in place, so the child's pid is the program's own pid, which is
 * what /proc's CPU accounting needs.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';

const live = new Set<ChildProcess>();

/** On the way out (errors, signals): SIGKILL every child still running, by pid. */
export function killChildren(): void {
  for (const child of live) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  live.clear();
}

export function cpusAllowed(pid: number | 'self'): string | undefined {
  try {
    return /^Cpus_allowed_list:\s+(\S+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  } catch {
    return undefined;
  }
}

export interface Spawned {
  readonly label: string;
  readonly pid: number;
  readonly child: ChildProcess;
  /** The child's last 16 KiB of stderr, for error messages. */
  stderr(): string;
  readonly exited: Promise<void>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */
  stop(graceMs?: number): Promise<void>;
}

export interface SpawnOptions {
  readonly label: string;
  readonly core: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly env?: NodeJS.ProcessEnv;
  /** Where stdout goes (a request log, say); ignored when absent. */
  readonly logFile?: string;
  /** Open an IPC channel (node children only). */
  readonly ipc?: boolean;
}

export function spawnPinned(options: SpawnOptions): Spawned {
  const log = options.logFile ? openSync(options.logFile, 'a') : 'ignore';
  let child: ChildProcess;
  try {
    child = spawn('taskset', ['-c', options.core, options.command, ...options.args], {
      stdio: ['ignore', log, 'pipe', ...(options.ipc ? (['ipc'] as const) : [])],
      env: options.env ?? process.env,
    });
  } finally {
    if (typeof log === 'number') closeSync(log);
  }
  live.add(child);
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString('utf8')).slice(-16_384);
  });
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.once('error', () => resolve());
  });
  void exited.then(() => live.delete(child));
  if (child.pid === undefined) throw new Error(`${options.label}: could not start taskset`);
  return {
    label: options.label,
    pid: child.pid,
    child,
    stderr: () => stderr.trim(),
    exited,
    stop: async (graceMs = 10_000) => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Waits for the first IPC message of `type` (the child's "ready"), failing if the child exits first. */
export async function nextMessage<T extends { type: string }>(spawned: Spawned, type: string, timeoutMs = 60_000): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${spawned.label}: no '${type}' message within ${timeoutMs / 1000} s\n${spawned.stderr()}`)), timeoutMs);
    const onMessage = (message: { type?: string; error?: string }): void => {
      if (message.type === 'error') {
        clearTimeout(timer);
        reject(new Error(`${spawned.label}: ${message.error}`));
      } else if (message.type === type) {
        clearTimeout(timer);
        spawned.child.off('message', onMessage);
        resolve(message as T);
      }
    };
    spawned.child.on('message', onMessage);
    void spawned.exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`${spawned.label} exited (code ${spawned.child.exitCode}, signal ${spawned.child.signalCode}):\n${spawned.stderr()}`));
    });
  });
}

/** Sends `message` and waits for the child's answer `{ type: reply }`. */
export async function ask<T extends { type: string }>(spawned: Spawned, message: Record<string, unknown>, reply: string, timeoutMs = 60_000): Promise<T> {
  const answer = nextMessage<T>(spawned, reply, timeoutMs);
  spawned.child.send(message);
  return answer;
}

// ---------------------------------------------------------------------------------------------
// CPU accounting from /proc: utime + stime of each process (all its threads), and the machine's
// busy time, so the share that went to other people's work on this shared VM shows too.

/** USER_HZ: the unit of /proc's CPU times (100 on every Linux this runs on). */
const TICKS_PER_SECOND = 100;

/** utime and stime of a process in ticks (zeros once it is gone). */
export function processTimes(pid: number | 'self'): { user: number; kernel: number } {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // After the parenthesised command name: utime and stime are fields 14 and 15 of the line.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { user: Number(fields[11]), kernel: Number(fields[12]) };
  } catch {
    return { user: 0, kernel: 0 };
  }
}

function machineBusyTicks(): number {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] ?? '';
  const [, ...values] = line.trim().split(/\s+/).map(Number);
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = values;
  return user + nice + system + irq + softirq + steal;
}

/**
 * CPU used during a window, in % of one core: per named process (`<name>`), the kernel part of it
 * (`<name>Kernel`: syscalls, network stack work charged to the process), and everything else.
 */
export type CpuShares = Record<string, number> & { readonly other: number };

export function startCpuWindow(pids: Readonly<Record<string, number | 'self' | undefined>>): () => CpuShares {
  const started = process.hrtime.bigint();
  const entries = Object.entries(pids).filter((entry): entry is [string, number | 'self'] => entry[1] !== undefined);
  const before = new Map(entries.map(([name, pid]) => [name, processTimes(pid)]));
  const busyBefore = machineBusyTicks();
  return () => {
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const share = (ticks: number): number => (ticks / TICKS_PER_SECOND / seconds) * 100;
    const shares: Record<string, number> = {};
    let accounted = 0;
    for (const [name, pid] of entries) {
      const now = processTimes(pid);
      const then = before.get(name) ?? { user: 0, kernel: 0 };
      const kernel = now.kernel - then.kernel;
      const used = now.user - then.user + kernel;
      accounted += used;
      shares[name] = share(used);
      shares[`${name}Kernel`] = share(kernel);
    }
    return { ...shares, other: Math.max(0, share(machineBusyTicks() - busyBefore - accounted)) } as CpuShares;
  };
}

/**
 * Waits (up to `budgetMs`) for a second in which the processes not in `pids` used less than
 * `thresholdPercent` of one core: other people's builds and tests on this shared VM would
 * otherwise take core 0 from Portico mid-cell. Returns how long it waited.
 */
export async function waitForQuiet(pids: Readonly<Record<string, number | 'self' | undefined>>, budgetMs: number, thresholdPercent = 20): Promise<number> {
  const started = Date.now();
  while (Date.now() - started < budgetMs) {
    const window = startCpuWindow(pids);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    if (window().other < thresholdPercent) break;
  }
  return Date.now() - started;
}
