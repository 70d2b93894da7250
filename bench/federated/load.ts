/**
 * Ways to drive logins: closed loop (N virtual users, each starting its next login when the last
 * one ends), a fixed number of logins (for the Redis accounting), and open loop (logins started
 * at a fixed rate whatever the answers, so a slow server cannot slow the arrivals down and hide
 * its queueing: latency is then what a person arriving at that rate sees).
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { federatedLogin, LoginError, type Guest, type Hop, type LoginTarget } from './login.ts';

export interface Samples {
  readonly logins: number;
  /** From the first login's start to the last one's end. */
  readonly elapsedMs: number;
  readonly totalMs: number[];
  readonly hopMs: Partial<Record<Hop, number[]>>;
  /** "hop: reason" → count. */
  readonly errors: Map<string, number>;
  /** Open loop only: how late logins started against their schedule (the load generator's own lag). */
  readonly startLagMs?: number[];
  /** Open loop only: arrivals not started because too many logins were in flight. */
  readonly shed?: number;
  /** The load generator's event-loop delay: high values mean the client, not the server, was slow. */
  readonly loopDelayP99Ms: number;
}

/** The histogram records whole timer intervals: the resolution is taken off to leave the delay. */
const LOOP_RESOLUTION_MS = 10;

class Recorder {
  logins = 0;
  readonly totalMs: number[] = [];
  readonly hopMs: Partial<Record<Hop, number[]>> = {};
  readonly errors = new Map<string, number>();
  readonly #loop = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
  readonly #started = performance.now();
  #lastEnd = this.#started;

  constructor() {
    this.#loop.enable();
  }

  async run(target: LoginTarget, guest: Guest): Promise<void> {
    try {
      const timing = await federatedLogin(target, guest);
      this.logins += 1;
      this.totalMs.push(timing.totalMs);
      for (const [hop, ms] of Object.entries(timing.hops) as [Hop, number][]) (this.hopMs[hop] ??= []).push(ms);
    } catch (error) {
      const key = error instanceof LoginError ? `${error.hop}: ${error.reason}` : `network: ${error instanceof Error ? error.message : String(error)}`;
      this.errors.set(key, (this.errors.get(key) ?? 0) + 1);
      // A refusing server answers fast: do not spin on it.
      await new Promise((resolve) => setTimeout(resolve, 20));
    } finally {
      this.#lastEnd = performance.now();
    }
  }

  finish(extra: Pick<Samples, 'startLagMs' | 'shed'> = {}): Samples {
    this.#loop.disable();
    return {
      logins: this.logins,
      elapsedMs: this.#lastEnd - this.#started,
      totalMs: this.totalMs,
      hopMs: this.hopMs,
      errors: this.errors,
      loopDelayP99Ms: Math.max(0, this.#loop.percentile(99) / 1e6 - LOOP_RESOLUTION_MS),
      ...extra,
    };
  }
}

export type GuestSource = (sequence: number) => Guest;

/** `concurrency` virtual users for `seconds`; logins in flight at the deadline are finished and counted. */
export async function closedLoop(target: LoginTarget, options: { concurrency: number; seconds: number; guests: GuestSource }): Promise<Samples> {
  const recorder = new Recorder();
  const deadline = performance.now() + options.seconds * 1000;
  let sequence = 0;
  await Promise.all(
    Array.from({ length: options.concurrency }, async () => {
      while (performance.now() < deadline) await recorder.run(target, options.guests(sequence++));
    }),
  );
  return recorder.finish();
}

/** Exactly `count` logins by `concurrency` virtual users. */
export async function fixedCount(target: LoginTarget, options: { concurrency: number; count: number; guests: GuestSource }): Promise<Samples> {
  const recorder = new Recorder();
  let sequence = 0;
  await Promise.all(
    Array.from({ length: options.concurrency }, async () => {
      while (sequence < options.count) await recorder.run(target, options.guests(sequence++));
    }),
  );
  return recorder.finish();
}

/**
 * Logins started at `rate` per second, evenly spaced, for `seconds`. More than `maxInFlight` at
 * once means the server (or this process) cannot keep up: further arrivals are shed and counted
 * instead of piling up without bound.
 */
export async function openLoop(target: LoginTarget, options: { rate: number; seconds: number; maxInFlight: number; guests: GuestSource }): Promise<Samples> {
  const recorder = new Recorder();
  const interval = 1000 / options.rate;
  const total = Math.floor(options.rate * options.seconds);
  const startLagMs: number[] = [];
  const inFlight = new Set<Promise<void>>();
  let shed = 0;
  const t0 = performance.now();
  for (let index = 0; index < total; index += 1) {
    const due = t0 + index * interval;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
    startLagMs.push(Math.max(0, performance.now() - due));
    if (inFlight.size >= options.maxInFlight) {
      shed += 1;
      continue;
    }
    const login = recorder.run(target, options.guests(index)).finally(() => inFlight.delete(login));
    inFlight.add(login);
  }
  await Promise.all(inFlight);
  return recorder.finish({ startLagMs, shed });
}
