/** Small number helpers for the federated-login report. */

/** The p-th percentile (nearest rank) of `values`; NaN when there are none. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = Float64Array.from(values).sort();
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

/** `p50 / p99` in ms, or `—` without samples. */
export function p50p99(values: readonly number[] | undefined): string {
  if (!values || values.length === 0) return '—';
  return `${ms(percentile(values, 50))} / ${ms(percentile(values, 99))}`;
}

export const ms = (value: number): string => (Number.isNaN(value) ? '—' : value < 10 ? value.toFixed(1) : value.toFixed(0));

export const int = (value: number): string => (Number.isFinite(value) ? Math.round(value).toLocaleString('en-US') : '—');

export const bytes = (value: number): string =>
  !Number.isFinite(value) ? '—' : Math.abs(value) >= 10_240 ? `${(value / 1024).toFixed(1)} KiB` : `${Math.round(value).toLocaleString('en-US')} B`;

export function duration(msToLive: number): string {
  if (msToLive < 0) return 'no expiry';
  const seconds = Math.round(msToLive / 1000);
  if (seconds < 120) return `${seconds} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  if (seconds < 172_800) return `${Math.round(seconds / 3600)} h`;
  return `${Math.round(seconds / 86_400)} days`;
}
