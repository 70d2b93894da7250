/**
 * Raw deflate for small values (stored records, log entries), one call per value on the request
 * path. node:zlib's one-shot functions write into a 16 KB output chunk by default, whatever the
 * size of the output, and that memory is allocated afresh on every call (from Buffer's pool, a
 * new slab every few calls), which V8 counts as external memory. At a few thousand calls a second
 * (a Redis refresh unpacks four records and packs one) that alone started a full mark-compact
 * every 0.7 s, with marking steps of up to 25 ms stalling every request in flight. A chunk sized
 * to the expected output allocates a tenth as much; Node joins several when the output is larger.
 */
import { deflateRawSync, inflateRawSync, type ZlibOptions } from 'node:zlib';

/** zlib's smallest chunk, and node:zlib's default, which large values keep. */
const SMALLEST_CHUNK = 64;
const DEFAULT_CHUNK = 16 * 1024;

const chunkFor = (expectedBytes: number): number => Math.max(SMALLEST_CHUNK, Math.min(DEFAULT_CHUNK, Math.ceil(expectedBytes)));

export type SmallDeflateOptions = Pick<ZlibOptions, 'dictionary' | 'windowBits'>;

export function deflateSmall(input: string | Buffer, options: SmallDeflateOptions): Buffer {
  // Deflated JSON is rarely over half its size; a chunk that size plus headroom is usually enough.
  const bytes = typeof input === 'string' ? Buffer.byteLength(input) : input.length;
  return deflateRawSync(input, { ...options, chunkSize: chunkFor(bytes / 2 + 64) });
}

export function inflateSmall(input: Buffer, options: SmallDeflateOptions): Buffer {
  // Stored values inflate to about three times their packed size.
  return inflateRawSync(input, { ...options, chunkSize: chunkFor(input.length * 3 + 64) });
}
