/**
 * Portico as the federated-login bench's system under test, started by bench/federated-login.ts
 * under `taskset -c 0`. The real server's composition (startPortico, no test-only login), its
 * request log on stdout (redirected to a file: writing it is part of the cost measured).
 *
 * Usage: node bench/federated/portico-child.ts <configDir>   (PORT, PUBLIC_URL, PORTICO_DATA,
 * REDIS_URL, LOG_LEVEL from the environment, as for the real server)
 *
 * IPC: answers `{ type: 'ready' }` once listening; `{ type: 'profile-start' }` and
 * `{ type: 'profile-stop', file }` run the V8 CPU profiler for one window of the run (only that
 * window pays its overhead) and write a .cpuprofile.
 */
import { writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import { startPortico } from '../../src/main.ts';

const configDir = process.argv[2];
if (!configDir || !process.send) {
  process.stderr.write('usage: started by bench/federated-login.ts with an IPC channel: portico-child.ts <configDir>\n');
  process.exit(2);
}
const send = (message: Record<string, unknown>): void => void process.send!(message);

const running = await startPortico({ configDir, env: process.env, host: '127.0.0.1', testLogin: false });
let profiler: Session | undefined;

process.on('message', (message: { type?: string; file?: string }) => {
  const handle = async (): Promise<void> => {
    if (message.type === 'profile-start') {
      profiler = new Session();
      profiler.connect();
      await profiler.post('Profiler.enable');
      await profiler.post('Profiler.setSamplingInterval', { interval: 500 });
      await profiler.post('Profiler.start');
      send({ type: 'profile-started' });
    } else if (message.type === 'profile-stop' && profiler && message.file) {
      const { profile } = await profiler.post('Profiler.stop');
      profiler.disconnect();
      profiler = undefined;
      await writeFile(message.file, JSON.stringify(profile));
      send({ type: 'profile-stopped', file: message.file });
    }
  };
  handle().catch((error: unknown) => send({ type: 'error', error: String(error) }));
});

let stopping = false;
const stop = (): void => {
  if (stopping) return;
  stopping = true;
  running.close().then(
    () => process.exit(0),
    (error: unknown) => {
      process.stderr.write(`portico-child: close failed: ${String(error)}\n`);
      process.exit(1);
    },
  );
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
// The bench died without telling us: do not linger holding core 0.
process.once('disconnect', stop);
send({ type: 'ready', pid: process.pid });
