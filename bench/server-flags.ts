/**
 * The node flags Portico's server runs with, read from the `start` script in package.json (the
 * one place they are written; the container's CMD repeats them and a test holds the two equal).
 * The benchmarks start their Portico and bare oidc-provider children with the same flags, so they
 * measure the server as it ships and compare it with a ceiling that runs alike.
 *
 * Why `--max-semi-space-size=8`: with Node 24's default young generation (~60 MB here) each
 * scavenge copied about 6 MB of requests still in flight and paused the event loop for ~12 ms
 * (up to 18), which was most of the token endpoint's p99 at concurrency 10. With 8 MB
 * semi-spaces a scavenge takes ~2 ms; throughput at concurrency 10 stayed the same or rose, at
 * 50 client_credentials lost about a tenth. Measured figures: README, Performance.
 */
import { readFileSync } from 'node:fs';

export function serverNodeFlags(packageJsonPath: string | URL = new URL('../package.json', import.meta.url)): string[] {
  const { scripts } = JSON.parse(readFileSync(packageJsonPath, 'utf8')) as { scripts?: Record<string, string> };
  const start = scripts?.['start'];
  if (start === undefined) throw new Error('package.json has no start script');
  const [command, ...rest] = start.trim().split(/\s+/);
  if (command !== 'node') throw new Error(`package.json start script must run node, runs: ${start}`);
  const flags: string[] = [];
  for (const token of rest) {
    if (!token.startsWith('--')) break;
    flags.push(token);
  }
  return flags;
}
