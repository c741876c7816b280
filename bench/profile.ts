import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** The parts of a V8 `.cpuprofile` (written by `node --cpu-prof`) that a summary needs. */
interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface CpuProfile {
  nodes: Array<{ id: number; callFrame: CallFrame; children?: number[] }>;
  samples: number[];
  timeDeltas: number[];
}

const INTERNAL = new Set(['node internals', '(native)']);

/** Where a frame's code lives: an npm package, a workspace package, node itself, or V8. */
function owner(f: CallFrame): string {
  if (!f.url) return f.functionName.startsWith('(') ? f.functionName : '(native)';
  if (f.url.startsWith('node:')) return 'node internals';
  const pkg = f.url.match(/node_modules\/((?:@[^/]+\/)?[^/]+)/);
  if (pkg?.[1]) return pkg[1];
  const ws = f.url.match(/\/(shared|services)\/([^/]+)\//);
  if (ws) return `${ws[1]}/${ws[2]}`;
  return f.url.replace(/^file:\/\//, '');
}

// Under the production build, our code is one bundle per service (`services/<name>/dist/main.js`).
const isWorkspace = (f: CallFrame) => /\/(shared|services)\/[^/]+\/(src|dist)\//.test(f.url);
const label = (f: CallFrame) =>
  `${f.functionName || '(anonymous)'}  ${f.url.replace(/^file:\/\/.*?\/(node_modules|shared|services)\//, '$1/')}${f.url ? `:${f.lineNumber + 1}` : ''}`;

/**
 * Where a process's CPU went. "By package" charges time spent in node internals and native code
 * (socket writes, hashing, JSON) to the package that called them, so a cost lands on its cause.
 * "Our code, inclusive" is the time under each function of this repo, callees included.
 */
export function summarizeProfile(path: string, top = 12): string {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
  const frames = new Map(profile.nodes.map((n) => [n.id, n.callFrame]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map<number, number>();
  profile.samples.forEach((id, i) => {
    self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });

  const packages = new Map<string, number>();
  const inclusive = new Map<string, number>();
  const add = (m: Map<string, number>, k: string, us: number) => m.set(k, (m.get(k) ?? 0) + us);
  let busy = 0;
  let idle = 0;
  for (const [id, us] of self) {
    const f = frames.get(id);
    if (!f) continue;
    if (f.functionName === '(idle)') {
      idle += us;
      continue;
    }
    busy += us;
    let charged: string | undefined;
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const frame = frames.get(at);
      if (!frame) break;
      const o = owner(frame);
      if (charged === undefined && !INTERNAL.has(o)) charged = o;
      if (isWorkspace(frame)) seen.add(label(frame));
    }
    add(packages, charged ?? owner(f), us);
    for (const k of seen) add(inclusive, k, us);
  }
  const pct = (us: number) => `${((100 * us) / Math.max(1, busy)).toFixed(1).padStart(5)}%`;
  const list = (m: Map<string, number>, n: number) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([k, us]) => `    ${pct(us)}  ${k}`)
      .join('\n');
  const total = busy + idle;
  return [
    `  busy ${(busy / 1e6).toFixed(1)} s of ${(total / 1e6).toFixed(1)} s profiled (${((100 * busy) / Math.max(1, total)).toFixed(0)}% of one core)`,
    '  by package (internals charged to their caller):',
    list(packages, top),
    '  our code, inclusive:',
    list(inclusive, top + 6),
  ].join('\n');
}

/**
 * Summarizes the largest profile under each subdirectory of `dir` (one per service): the main
 * thread. The loader worker tsx starts writes a small profile of its own, which is skipped.
 */
export function summarizeProfiles(dir: string): string {
  const sections: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    const files = readdirSync(join(dir, entry.name))
      .filter((f) => f.endsWith('.cpuprofile'))
      .map((f) => join(dir, entry.name, f))
      .sort((a, b) => statSync(b).size - statSync(a).size);
    if (files[0]) sections.push(`${entry.name} (${files[0]})\n${summarizeProfile(files[0])}`);
  }
  return sections.join('\n\n');
}

// `npx tsx bench/profile.ts [dir | file.cpuprofile]` summarizes profiles written by `--profile`.
if (import.meta.url === `file://${process.argv[1]}`) {
  const target = process.argv[2] ?? 'bench/results/profiles';
  console.log(target.endsWith('.cpuprofile') ? summarizeProfile(target) : summarizeProfiles(target));
}
