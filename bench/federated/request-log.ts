/**
 * Server-side time per hop, from Portico's own request log (one `request` line per request, with
 * `ms` from the moment the request handler got the request to the end of the answer). Next to
 * the client's timings it tells Portico's work apart from waiting: in the accept queue, behind
 * other requests on the event loop, or for a core the VM gave to someone else.
 */
import { open, stat } from 'node:fs/promises';
import type { Hop } from './login.ts';

/** Where the log ends now: the start of the next window. */
export async function logOffset(file: string): Promise<number> {
  try {
    return (await stat(file)).size;
  } catch {
    return 0;
  }
}

function hopOf(path: string): Hop | undefined {
  if (/\/v2\.0\/auth$/.test(path)) return 'authorize';
  if (/\/v2\.0\/auth\/[^/]+$/.test(path)) return 'resume';
  if (/\/v2\.0\/token$/.test(path)) return 'token';
  if (/\/federation\/[^/]+\/callback$/.test(path)) return 'callback';
  if (/\/interaction\/[^/]+\/continue$/.test(path)) return 'continue';
  if (/\/interaction\/[^/]+\/consent$/.test(path)) return 'consent';
  if (/\/interaction\/[^/]+$/.test(path)) return 'interaction';
  return undefined;
}

/** Server-side ms per hop for the requests logged between `from` and `to` (byte offsets). */
export async function serverTimes(file: string, from: number, to: number): Promise<Partial<Record<Hop, number[]>>> {
  const times: Partial<Record<Hop, number[]>> = {};
  if (to <= from) return times;
  const handle = await open(file, 'r');
  try {
    const buffer = Buffer.alloc(to - from);
    await handle.read(buffer, 0, buffer.length, from);
    for (const line of buffer.toString('utf8').split('\n')) {
      if (!line.includes('"msg":"request"')) continue;
      try {
        const entry = JSON.parse(line) as { path?: string; ms?: number };
        const hop = entry.path ? hopOf(entry.path) : undefined;
        if (hop && typeof entry.ms === 'number') (times[hop] ??= []).push(entry.ms);
      } catch {
        // a line cut at the window's edge
      }
    }
  } finally {
    await handle.close();
  }
  return times;
}
