/**
 * Where a server's CPU went, from a V8 .cpuprofile (`BENCH_CPU_PROF=<dir> npm run bench`):
 * self time by package or source folder, and inclusive time of the heaviest functions, as shares
 * of the busy (non-idle) samples.
 *
 * Usage: node bench/profile-summary.ts <file.cpuprofile> [top=25]
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const [file, topArg] = process.argv.slice(2);
if (!file) {
  process.stderr.write('usage: node bench/profile-summary.ts <file.cpuprofile> [top]\n');
  process.exit(2);
}
const top = Number(topArg ?? 25);
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;

const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);

/** node_modules/<pkg>, src/<folder>/<file>, bench/…, node:<module>, or V8's pseudo frames. */
function groupOf(url: string, functionName: string): string {
  if (!url) return `(${functionName || 'anonymous'})`.replace(/^\(\((.*)\)\)$/, '($1)');
  const modules = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (modules) return modules[1]!;
  const source = /\/(src|bench|test)\/(.*)$/.exec(url);
  if (source) return `${source[1]}/${source[2]}`;
  if (url.startsWith('node:')) return url.split('/').slice(0, 2).join('/');
  return url;
}

const frameName = (node: ProfileNode): string => {
  const { functionName, url, lineNumber } = node.callFrame;
  const where = /node_modules\/(.*)$/.exec(url)?.[1] ?? /\/((?:src|bench|test)\/.*)$/.exec(url)?.[1] ?? (url || '');
  return `${functionName || '(anonymous)'} ${where}${url ? `:${lineNumber + 1}` : ''}`;
};

const selfByGroup = new Map<string, number>();
const selfByFrame = new Map<string, number>();
const inclusiveByFrame = new Map<string, number>();
const inclusiveByGroup = new Map<string, number>();
let busy = 0;
let idle = 0;
const add = (map: Map<string, number>, key: string, amount: number): void => {
  map.set(key, (map.get(key) ?? 0) + amount);
};

for (let i = 0; i < profile.samples.length; i += 1) {
  const leaf = byId.get(profile.samples[i]!);
  if (!leaf) continue;
  const micros = profile.timeDeltas[i + 1] ?? profile.timeDeltas[i] ?? 0;
  if (leaf.callFrame.functionName === '(idle)') {
    idle += micros;
    continue;
  }
  busy += micros;
  add(selfByGroup, groupOf(leaf.callFrame.url, leaf.callFrame.functionName), micros);
  add(selfByFrame, frameName(leaf), micros);
  const frames = new Set<string>();
  const groups = new Set<string>();
  for (let node: ProfileNode | undefined = leaf; node; node = byId.get(parent.get(node.id) ?? -1)) {
    if (node.callFrame.functionName === '(root)') break;
    frames.add(frameName(node));
    groups.add(groupOf(node.callFrame.url, node.callFrame.functionName));
  }
  for (const frame of frames) add(inclusiveByFrame, frame, micros);
  for (const group of groups) add(inclusiveByGroup, group, micros);
}

const share = (micros: number): string => `${((micros / busy) * 100).toFixed(1).padStart(5)} %`;
const list = (title: string, map: Map<string, number>): string =>
  [
    title,
    ...[...map]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([key, micros]) => `  ${share(micros)}  ${key}`),
  ].join('\n');

process.stdout.write(
  [
    `${file}: ${(busy / 1e6).toFixed(1)} s busy, ${(idle / 1e6).toFixed(1)} s idle`,
    list('self time by package / source file:', selfByGroup),
    list('inclusive time by package / source file (a sample counts once per group on its stack):', inclusiveByGroup),
    list('self time by function:', selfByFrame),
    list('inclusive time by function:', inclusiveByFrame),
    '',
  ].join('\n\n'),
);
