/** Input checks and encodings every backend applies the same way, so they agree on edge cases. */

export function encodeValue(value: unknown): string {
  const json = JSON.stringify(value);
  if (typeof json !== 'string') throw new TypeError('stored values must be JSON-serialisable');
  return json;
}

export function ttlMs(seconds: number | undefined): number | undefined {
  if (seconds === undefined) return undefined;
  if (!Number.isFinite(seconds) || seconds <= 0) throw new RangeError(`ttl must be a positive number of seconds, got ${seconds}`);
  return Math.ceil(seconds * 1000);
}

export function uniqueEntries(unique: Readonly<Record<string, string>> | undefined): ReadonlyArray<readonly [string, string]> {
  return Object.entries(unique ?? {});
}

export function distinctTags(tags: readonly string[] | undefined): readonly string[] {
  return [...new Set(tags ?? [])];
}
