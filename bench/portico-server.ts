/**
 * Portico as the bench's system under test: one child process per store, started by bench/run.ts
 * under `taskset -c 0` so it owns core 0. The test-only login is on because the bench mints its
 * refresh tokens through the real code flow; this entry point is never used outside the bench.
 *
 * Usage: node bench/portico-server.ts <configDir>   (PORT, PUBLIC_URL, PORTICO_DATA, REDIS_URL,
 * LOG_LEVEL come from the environment, as for the real server)
 *
 * Reports `{ type: 'ready', userId }` over the IPC channel: stdout belongs to the request log,
 * whose cost is part of what is measured.
 */
import { startPortico } from '../src/main.ts';

const configDir = process.argv[2];
if (!configDir || !process.send) {
  process.stderr.write('usage: started by bench/run.ts with an IPC channel: portico-server.ts <configDir>\n');
  process.exit(2);
}

const running = await startPortico({ configDir, env: process.env, host: '127.0.0.1', testLogin: true });
// A unique UPN per start: the redis store keeps users across the warn and info restarts.
const user = await running.users.create({
  tenantId: 'contoso',
  userType: 'Member',
  userPrincipalName: `bench-${process.pid}-${Date.now()}@contoso.example`,
  displayName: 'Bench User',
  mail: `bench-${process.pid}@contoso.example`,
});
process.send({ type: 'ready', userId: user.id });

let stopping = false;
const stop = (): void => {
  if (stopping) return;
  stopping = true;
  // process.exit (not a kill) so that --cpu-prof gets to write its profile.
  running.close().then(
    () => process.exit(0),
    (error: unknown) => {
      process.stderr.write(`portico-server: close failed: ${String(error)}\n`);
      process.exit(1);
    },
  );
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
// The parent died without telling us: do not linger as an orphan holding core 0.
process.once('disconnect', stop);
