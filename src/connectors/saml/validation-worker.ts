/**
 * Worker thread entry: validates one response at a time for validation-pool.ts. The only thing
 * it asks the main thread for is taking the request id from the shared store.
 */
import { parentPort } from 'node:worker_threads';
import { Refusal } from './refusal.ts';
import { validateResponse, type ValidationJob } from './validate.ts';
import type { FromWorker, ToWorker } from './validation-pool.ts';

const port = parentPort;
if (!port) throw new Error('validation-worker.ts must run in a worker thread');

const pendingTakes = new Map<number, (held: boolean) => void>();
const post = (message: FromWorker): void => port.postMessage(message);

async function run(jobId: number, job: ValidationJob): Promise<void> {
  try {
    const result = await validateResponse(
      job,
      (id) =>
        new Promise<boolean>((resolve) => {
          pendingTakes.set(jobId, resolve);
          post({ type: 'take', jobId, id });
        }),
    );
    post({ type: 'done', jobId, result });
  } catch (error) {
    const refusal = error instanceof Refusal ? error : new Refusal('invalid_response', `validation failed: ${error instanceof Error ? error.message : String(error)}`);
    post({ type: 'failed', jobId, code: refusal.code, message: refusal.message });
  }
}

port.on('message', (message: ToWorker) => {
  if (message.type === 'taken') {
    pendingTakes.get(message.jobId)?.(message.held);
    pendingTakes.delete(message.jobId);
  } else {
    void run(message.jobId, message.job);
  }
});

post({ type: 'ready' });
