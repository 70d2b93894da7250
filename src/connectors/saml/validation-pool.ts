/**
 * SAML validation off the main thread when it would stall it. node-saml and xml-crypto are pure
 * JavaScript XML work: a signed 10 KB response costs about 3 ms of CPU, a 256 KiB one (the size
 * cap) a few hundred, and an attacker who starts sign-ins can send as many as they like. Large
 * responses go to a small pool of workers: they cost only those workers, the queue is bounded
 * (excess is refused at once instead of piling up), a runaway validation is killed at a
 * deadline, and a worker's heap is capped. Responses of ordinary size are validated on the
 * calling thread: they block it for a few ms, and handing them to a worker costs more than that
 * when both share a core (a second V8 heap to collect; 281 against 231 validations per
 * CPU-second for 10 KB responses). Measured numbers: bench/saml-validation.ts.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { Refusal } from './refusal.ts';
import { validateResponse, type ValidatedResponse, type ValidationJob } from './validate.ts';

export type ToWorker = { readonly type: 'job'; readonly jobId: number; readonly job: ValidationJob } | { readonly type: 'taken'; readonly jobId: number; readonly held: boolean };

export type FromWorker =
  | { readonly type: 'ready' }
  | { readonly type: 'take'; readonly jobId: number; readonly id: string }
  | { readonly type: 'done'; readonly jobId: number; readonly result: ValidatedResponse }
  | { readonly type: 'failed'; readonly jobId: number; readonly code: Refusal['code']; readonly message: string };

export interface ValidationPool {
  /** Validates in a worker; `take` atomically takes the request id from the shared store. */
  validate(job: ValidationJob, take: (id: string) => Promise<boolean>): Promise<ValidatedResponse>;
  close(): Promise<void>;
}

export interface ValidationPoolOptions {
  /**
   * Workers (default: cores - 1, at least 1, at most 4: the main thread keeps a core). 0 validates
   * on the calling thread, with no deadline and no queue: for measuring what the workers save.
   */
  readonly size?: number;
  /** Validations waiting for a worker, or inline ones waiting for their turn, before new ones are refused (default 128 each). */
  readonly maxQueue?: number;
  /**
   * Responses whose XML is at most this many bytes are validated on the calling thread (default
   * 16 KiB: a doubly signed 12 KB response blocks the event loop for ~5 ms on the bench VM, up
   * to ~20 ms when a garbage collection falls within it); larger ones go to a worker. 0 sends
   * every response to a worker.
   */
  readonly inlineMaxBytes?: number;
  /** A validation still running after this is killed with its worker (default 10 s: a 256 KiB response doubly signed takes about 3 s on a slow, busy VM). */
  readonly timeoutMs?: number;
  /** Heap cap of each worker (default 192 MB). */
  readonly maxHeapMb?: number;
}

interface Task {
  readonly jobId: number;
  readonly job: ValidationJob;
  readonly take: (id: string) => Promise<boolean>;
  readonly resolve: (result: ValidatedResponse) => void;
  readonly reject: (error: unknown) => void;
  /** The store failed while taking the request id: that, not the worker's refusal, is the error. */
  storeError?: unknown;
}

interface Slot {
  readonly worker: Worker;
  /** Modules loaded: the deadline only counts validation time, not a worker's start. */
  ready: boolean;
  task: Task | undefined;
  timer: NodeJS.Timeout | undefined;
}

export const defaultPoolSize = (): number => Math.max(1, Math.min(4, availableParallelism() - 1));

const WORKER_URL = new URL('./validation-worker.ts', import.meta.url);
export const DEFAULT_INLINE_MAX_BYTES = 16 * 1024;

export function createValidationPool(options: ValidationPoolOptions = {}): ValidationPool {
  const size = options.size ?? defaultPoolSize();
  if (size === 0) return { validate: validateResponse, close: async () => undefined };
  const maxQueue = options.maxQueue ?? 128;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const maxHeapMb = options.maxHeapMb ?? 192;
  const inlineMaxBytes = options.inlineMaxBytes ?? DEFAULT_INLINE_MAX_BYTES;
  const slots: Slot[] = [];
  const queue: Task[] = [];
  let nextJobId = 1;
  let closed = false;
  // Inline validations run one per event-loop turn: concurrent posts would otherwise run back to
  // back within one turn (their store calls can resolve without I/O), stalling the loop for all.
  let inlineTurn: Promise<unknown> = Promise.resolve();
  let inlinePending = 0;

  function validateInline(job: ValidationJob, take: (id: string) => Promise<boolean>): Promise<ValidatedResponse> {
    if (inlinePending >= maxQueue) return Promise.reject(new Refusal('upstream_unavailable', 'too many SAML responses waiting for validation'));
    inlinePending += 1;
    const result = inlineTurn
      .then(() => new Promise<void>((resolve) => setImmediate(resolve)))
      .then(() => validateResponse(job, take))
      .finally(() => {
        inlinePending -= 1;
      });
    inlineTurn = result.catch(() => undefined);
    return result;
  }

  function release(slot: Slot): Task | undefined {
    const task = slot.task;
    slot.task = undefined;
    if (slot.timer) clearTimeout(slot.timer);
    slot.timer = undefined;
    slot.worker.unref();
    return task;
  }

  function retire(slot: Slot, error: Refusal): void {
    const task = release(slot);
    const index = slots.indexOf(slot);
    if (index === -1) return;
    slots.splice(index, 1);
    task?.reject(task.storeError ?? error);
    void slot.worker.terminate();
    if (slot.ready) {
      pump();
    } else {
      // A worker that cannot even start will not do better on a retry now: fail what waits.
      for (const waiting of queue.splice(0)) waiting.reject(new Refusal('upstream_unavailable', `SAML validation worker could not start: ${error.message}`));
    }
  }

  function spawn(): Slot {
    const worker = new Worker(WORKER_URL, { resourceLimits: { maxOldGenerationSizeMb: maxHeapMb } });
    // Referenced while starting (work is waiting for it), unreferenced whenever idle.
    const slot: Slot = { worker, ready: false, task: undefined, timer: undefined };
    worker.on('message', (message: FromWorker) => onMessage(slot, message));
    worker.on('error', (error) => retire(slot, new Refusal('invalid_response', `SAML validation worker failed: ${error.message}`, error)));
    worker.on('exit', () => retire(slot, new Refusal('invalid_response', 'SAML validation worker exited')));
    slots.push(slot);
    return slot;
  }

  function pump(): void {
    if (closed) return;
    for (const slot of slots) {
      if (queue.length === 0) return;
      if (slot.ready && slot.task === undefined) assign(slot, queue.shift() as Task);
    }
    // Starting workers pick jobs up when they are ready; start only as many as are waiting.
    let starting = slots.filter((slot) => !slot.ready).length;
    while (slots.length < size && starting < queue.length) {
      spawn();
      starting += 1;
    }
  }

  function assign(slot: Slot, task: Task): void {
    slot.task = task;
    slot.worker.ref();
    slot.timer = setTimeout(() => retire(slot, new Refusal('invalid_response', `SAML validation took longer than ${timeoutMs} ms`)), timeoutMs);
    slot.worker.postMessage({ type: 'job', jobId: task.jobId, job: task.job } satisfies ToWorker);
  }

  function onMessage(slot: Slot, message: FromWorker): void {
    if (message.type === 'ready') {
      slot.ready = true;
      pump();
      if (slot.task === undefined) slot.worker.unref();
      return;
    }
    const task = slot.task;
    if (!task || task.jobId !== message.jobId) return;
    switch (message.type) {
      case 'take': {
        const answer = (held: boolean) => slot.worker.postMessage({ type: 'taken', jobId: task.jobId, held } satisfies ToWorker);
        // Only ever the id this sign-in waits for.
        if (message.id !== task.job.requestId) {
          answer(false);
          return;
        }
        task.take(message.id).then(answer, (error: unknown) => {
          task.storeError = error;
          answer(false);
        });
        return;
      }
      case 'done':
        release(slot);
        if (task.storeError) task.reject(task.storeError);
        else task.resolve(message.result);
        pump();
        return;
      case 'failed':
        release(slot);
        task.reject(task.storeError ?? new Refusal(message.code, message.message));
        pump();
        return;
    }
  }

  return {
    validate(job, take) {
      if (closed) return Promise.reject(new Refusal('upstream_unavailable', 'SAML validation pool is closed'));
      if (Buffer.byteLength(job.xml) <= inlineMaxBytes) return validateInline(job, take);
      if (queue.length >= maxQueue) return Promise.reject(new Refusal('upstream_unavailable', 'too many SAML responses waiting for validation'));
      return new Promise<ValidatedResponse>((resolve, reject) => {
        queue.push({ jobId: nextJobId++, job, take, resolve, reject });
        pump();
      });
    },
    async close() {
      closed = true;
      for (const task of queue.splice(0)) task.reject(new Refusal('upstream_unavailable', 'SAML validation pool is closed'));
      await Promise.all(
        slots.splice(0).map((slot) => {
          release(slot)?.reject(new Refusal('upstream_unavailable', 'SAML validation pool is closed'));
          return slot.worker.terminate();
        }),
      );
    },
  };
}

let shared: ValidationPool | undefined;

/** One pool for the process: workers are per CPU, not per connector. */
export const sharedValidationPool = (): ValidationPool => (shared ??= createValidationPool());
