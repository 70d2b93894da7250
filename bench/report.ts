/** Turns the measured cells into the Markdown the bench prints and saves. */
import type { CpuShares } from './children.ts';
import type { CellResult } from './load.ts';

export type Store = 'bare' | 'sqlite' | 'redis';
export type CaseKey = 'cc' | 'refresh-rs256' | 'refresh-es256';

export interface Row {
  readonly store: Store;
  readonly caseKey: CaseKey;
  readonly grant: string;
  readonly alg: string;
  readonly connections: number;
  readonly result: CellResult;
  readonly peakRssBytes: number;
  readonly cpu: CpuShares;
  /** Rows measured outside the main matrix, e.g. with info logging. */
  readonly variant?: string;
}

export interface RssSummary {
  readonly label: string;
  readonly startBytes: number;
  readonly afterWarmupBytes: number;
  readonly endBytes: number;
  readonly maxBytes: number;
  /** Peak RSS of the first and of the last cell at the highest concurrency. */
  readonly firstFullLoadPeakBytes?: number;
  readonly lastFullLoadPeakBytes?: number;
}

export interface Goal {
  readonly text: string;
  readonly met: boolean;
  readonly detail: string;
}

/** Above this (% of one core), other people's work on the machine is flagged as skewing a cell. */
export const NOISY_OTHER_CPU = 15;

export const GOALS = {
  ccTokensPerSecond: 4000,
  ccShareOfBare: 0.7,
  refreshEs256TokensPerSecond: 2000,
  refreshRs256TokensPerSecond: 1200,
  p99MsAtConcurrency10: 20,
  /**
   * "Flat": the last cell at the highest concurrency peaks at most this much above the first
   * one. The heap grows with concurrency (bare does too), so only like-for-like cells are compared …
   */
  rssGrowthShare: 0.1,
  /** … or by less than this, whichever allows more (a heap moves by a few MB anyway). */
  rssGrowthFloorBytes: 16 * 1024 * 1024,
};

const mb = (bytes: number): string => (bytes / 1024 / 1024).toFixed(0);
const int = (n: number): string => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '—');
const ms = (n: number): string => (Number.isFinite(n) ? n.toFixed(2) : '—');
const pct = (n: number): string => `${Math.round(n * 100)} %`;

export const storeLabel = (store: Store): string => (store === 'bare' ? 'bare oidc-provider (memory)' : `portico ${store}`);

function bareFor(rows: readonly Row[], row: Row): Row | undefined {
  return rows.find((r) => r.store === 'bare' && !r.variant && r.caseKey === row.caseKey && r.connections === row.connections);
}

export function table(rows: readonly Row[]): string {
  const lines = [
    '| store | grant | alg | conc | tokens/s | p50 ms | p99 ms | errors | peak RSS MB | bare tokens/s | ratio | server CPU % | redis CPU % | others\' CPU % |',
    '| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  // Measured interleaved (see run.ts); shown grouped by server, in measurement order within one.
  const order: readonly Store[] = ['bare', 'sqlite', 'redis'];
  const grouped = [...rows].sort((a, b) => order.indexOf(a.store) - order.indexOf(b.store));
  for (const row of grouped) {
    const bare = row.store === 'bare' ? undefined : bareFor(rows, row);
    const ratio = bare && bare.result.tokensPerSecond > 0 ? row.result.tokensPerSecond / bare.result.tokensPerSecond : undefined;
    lines.push(
      `| ${storeLabel(row.store)}${row.variant ? ` ${row.variant}` : ''} | ${row.grant} | ${row.alg} | ${row.connections} | ${int(row.result.tokensPerSecond)} | ${ms(row.result.p50Ms)} | ${ms(row.result.p99Ms)} | ${row.result.errors} | ${mb(row.peakRssBytes)} | ${bare ? int(bare.result.tokensPerSecond) : '—'} | ${ratio === undefined ? '—' : pct(ratio)} | ${int(row.cpu.server)} | ${row.store === 'redis' && row.cpu.redis !== undefined ? int(row.cpu.redis) : '—'} | ${int(row.cpu.other)}${row.cpu.other > NOISY_OTHER_CPU ? ' ⚠' : ''} |`,
    );
  }
  return lines.join('\n');
}

export function rssTable(summaries: readonly RssSummary[]): string {
  return [
    '| process | RSS at start MB | after warm-up MB | first c=50 cell peak MB | last c=50 cell peak MB | at end MB | max MB |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...summaries.map(
      (s) =>
        `| ${s.label} | ${mb(s.startBytes)} | ${mb(s.afterWarmupBytes)} | ${s.firstFullLoadPeakBytes === undefined ? '—' : mb(s.firstFullLoadPeakBytes)} | ${s.lastFullLoadPeakBytes === undefined ? '—' : mb(s.lastFullLoadPeakBytes)} | ${mb(s.endBytes)} | ${mb(s.maxBytes)} |`,
    ),
  ].join('\n');
}

const best = (rows: readonly Row[]): Row | undefined =>
  rows.reduce<Row | undefined>((top, r) => (!top || r.result.tokensPerSecond > top.result.tokensPerSecond ? r : top), undefined);

/**
 * Throughput goals are judged on the best cell of a case (what one saturated core delivers);
 * the share of bare compares that with bare's best cell of the same case; latency at c=10.
 */
export function goals(rows: readonly Row[], rss: readonly RssSummary[], signing?: { es256: number; rs256: number }): Goal[] {
  const out: Goal[] = [];
  const main = rows.filter((r) => !r.variant);
  const bareBest = best(main.filter((r) => r.store === 'bare' && r.caseKey === 'cc'));
  for (const store of ['sqlite', 'redis'] as const) {
    const mine = main.filter((r) => r.store === store);
    if (mine.length === 0) continue;
    const cc = best(mine.filter((r) => r.caseKey === 'cc'));
    if (cc) {
      out.push({
        text: `${store}: client_credentials ES256 JWT ≥ ${int(GOALS.ccTokensPerSecond)} tokens/s`,
        met: cc.result.tokensPerSecond >= GOALS.ccTokensPerSecond,
        detail: `${int(cc.result.tokensPerSecond)}/s (best cell, c=${cc.connections})`,
      });
      if (bareBest) {
        const share = cc.result.tokensPerSecond / bareBest.result.tokensPerSecond;
        out.push({
          text: `${store}: client_credentials ≥ ${pct(GOALS.ccShareOfBare)} of bare`,
          met: share >= GOALS.ccShareOfBare,
          detail: `${pct(share)} (${int(cc.result.tokensPerSecond)} vs bare's best ${int(bareBest.result.tokensPerSecond)}/s at c=${bareBest.connections})`,
        });
      }
    }
    for (const [caseKey, target, label, signs] of [
      ['refresh-es256', GOALS.refreshEs256TokensPerSecond, 'refresh with ES256 ID tokens', signing?.es256],
      ['refresh-rs256', GOALS.refreshRs256TokensPerSecond, 'refresh with RS256 ID tokens', signing?.rs256],
    ] as const) {
      const top = best(mine.filter((r) => r.caseKey === caseKey));
      if (!top) continue;
      const bareTop = best(main.filter((r) => r.store === 'bare' && r.caseKey === caseKey));
      out.push({
        text: `${store}: ${label} ≥ ${int(target)}/s`,
        met: top.result.tokensPerSecond >= target,
        detail:
          `${int(top.result.tokensPerSecond)}/s (best cell, c=${top.connections})` +
          (bareTop ? `; bare's best ${int(bareTop.result.tokensPerSecond)}/s` : '') +
          (signs ? `; signing alone allows ${int(signs)}/s on this core` : ''),
      });
    }
    const at10 = mine.filter((r) => r.connections === 10);
    if (at10.length) {
      const bareP99 = (r: Row): string => {
        const bare = bareFor(rows, r);
        return bare ? ` (bare ${ms(bare.result.p99Ms)})` : '';
      };
      out.push({
        text: `${store}: p99 ≤ ${GOALS.p99MsAtConcurrency10} ms at concurrency 10`,
        met: at10.every((r) => r.result.p99Ms <= GOALS.p99MsAtConcurrency10),
        detail: at10.map((r) => `${r.caseKey} ${ms(r.result.p99Ms)} ms${bareP99(r)}`).join(', '),
      });
    }
    const memory = rss.find((s) => s.label === storeLabel(store));
    if (memory?.firstFullLoadPeakBytes !== undefined && memory.lastFullLoadPeakBytes !== undefined) {
      const growth = memory.lastFullLoadPeakBytes - memory.firstFullLoadPeakBytes;
      const allowed = Math.max(memory.firstFullLoadPeakBytes * GOALS.rssGrowthShare, GOALS.rssGrowthFloorBytes);
      const bare = rss.find((s) => s.label === storeLabel('bare'));
      const bareGrowth =
        bare?.firstFullLoadPeakBytes !== undefined && bare.lastFullLoadPeakBytes !== undefined
          ? `; bare ${mb(bare.firstFullLoadPeakBytes)} → ${mb(bare.lastFullLoadPeakBytes)} MB`
          : '';
      out.push({
        text: `${store}: RSS flat over the run`,
        met: growth <= allowed,
        detail:
          `peak of the first c=50 cell ${mb(memory.firstFullLoadPeakBytes)} MB, of the last ${mb(memory.lastFullLoadPeakBytes)} MB ` +
          `(${growth >= 0 ? '+' : ''}${mb(growth)} MB, allowed +${mb(allowed)} MB)${bareGrowth}; ` +
          `whole run: ${mb(memory.startBytes)} MB idle at start, ${mb(memory.afterWarmupBytes)} MB after warm-up, ${mb(memory.endBytes)} MB at the end`,
      });
    }
  }
  return out;
}

export function goalsSection(list: readonly Goal[], rows: readonly Row[]): string {
  if (list.length === 0) return '_No Portico rows were measured, so no goal could be judged._';
  const noisy = rows.filter((r) => r.cpu.other > NOISY_OTHER_CPU);
  const caveat = noisy.length
    ? [
        '',
        `⚠ In ${noisy.length} of ${rows.length} cells other processes on this machine used more than ${NOISY_OTHER_CPU} % of a core ` +
          `(up to ${int(Math.max(...noisy.map((r) => r.cpu.other)))} %): they share core 0 with the server, so those cells read low. ` +
          'Compare within a run (the ratio column), or re-run on a quiet machine.',
      ]
    : [];
  return [...list.map((g) => `- **${g.met ? 'met' : 'not met'}** — ${g.text}: ${g.detail}`), ...caveat].join('\n');
}
