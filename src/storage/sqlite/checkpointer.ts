/**
 * Checkpoints the SQLite write-ahead log from a worker thread with a connection of its own, so
 * copying pages into the database file never runs on the event loop. SQLite's auto-checkpoint
 * runs inside whichever commit crosses its threshold: under sustained writes (token refreshes)
 * that was a stall of about 100 ms every second or two, all of it in the requests' p99. A PASSIVE
 * checkpoint neither waits for nor blocks writers; the WAL is then reused from its start.
 *
 * Under writes that never pause, though, a passive checkpoint never catches up with the last
 * frame, the WAL is never reused and grows (measured: 64 MB to 170 MB in 15 s of refreshes) until
 * the auto-checkpoint backstop stalls a request for 100 ms or more. So once the WAL holds more
 * than RESTART_FRAMES frames after a passive pass, a RESTART checkpoint copies the frames written
 * since, holding writers off for that long only (this process's writers wait for it on a timer:
 * see sqlite-store.ts), and the next write starts the WAL over. To keep that hold short, passive
 * passes run back to back first, each copying what was written during the one before, until one
 * is quick (CATCH_UP_MS): measured under refreshes, the hold went from 31–40 ms to 7–22 ms.
 */
import { Worker } from 'node:worker_threads';

const INTERVAL_MS = 250;
/**
 * 16,384 pages: 64 MB with SQLite's default page size. A restart holds writers off for about
 * 20 ms (measured under refreshes); at 4,096 frames that happened several times a second and
 * showed in the p99, at 16,384 about once a second.
 */
const RESTART_FRAMES = 16_384;
/** A passive pass this quick has left the WAL's tail short enough to restart behind it. */
const CATCH_UP_MS = 3;
/** Bound on the back-to-back passes, for when writes outpace copying. */
const CATCH_UP_PASSES = 8;
const CLOSE_WAIT_MS = 2000;

// CommonJS, as `eval` workers are; node:sqlite is built in, so nothing is resolved from disk.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { DatabaseSync } = require('node:sqlite');
const db = new DatabaseSync(workerData.path, { timeout: 50 });
const passive = db.prepare('PRAGMA wal_checkpoint(PASSIVE)');
const restart = db.prepare('PRAGMA wal_checkpoint(RESTART)');
const checkpoint = () => {
  try {
    const { log } = passive.get();
    if (log <= workerData.restartFrames) return;
    for (let pass = 0; pass < workerData.catchUpPasses; pass += 1) {
      const started = performance.now();
      passive.get();
      if (performance.now() - started < workerData.catchUpMs) break;
    }
    restart.get();
  } catch {
    // Busy or briefly unavailable: the next tick tries again.
  }
};
const timer = setInterval(checkpoint, workerData.intervalMs);
parentPort.on('message', () => {
  clearInterval(timer);
  checkpoint();
  db.close();
  parentPort.close();
});
`;

export interface Checkpointer {
  close(): Promise<void>;
}

/**
 * `onError` hears of a worker that died: nothing is lost (the connection's own auto-checkpoint
 * remains as a backstop), but requests stall on inline checkpoints again, which an operator
 * should learn from the log rather than from the p99.
 */
export function startCheckpointer(path: string, options: { intervalMs?: number; onError?: (error: Error) => void } = {}): Checkpointer {
  const intervalMs = options.intervalMs ?? INTERVAL_MS;
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: { path, intervalMs, restartFrames: RESTART_FRAMES, catchUpMs: CATCH_UP_MS, catchUpPasses: CATCH_UP_PASSES },
  });
  // A background helper: it must not keep the process alive.
  worker.unref();
  worker.on('error', (error) => options.onError?.(error));
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  return {
    async close() {
      // Closing is awaited: the worker (and the timer) must keep the event loop alive until then.
      worker.ref();
      worker.postMessage('close');
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), CLOSE_WAIT_MS)));
      const outcome = await Promise.race([exited, timeout]);
      clearTimeout(timer);
      if (outcome === 'timeout') await worker.terminate();
    },
  };
}
