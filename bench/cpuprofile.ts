/**
 * Summarise a V8 .cpuprofile (as written by `node --cpu-prof`): self time per
 * function and per origin (hub source, ws, aedes, other packages, Node
 * internals, GC), as Markdown. Self time is the sum of the sample intervals in
 * which the function was on top of the stack; percentages are of the busy time
 * (everything but `(idle)`).
 *
 *   node --import tsx bench/cpuprofile.ts <file.cpuprofile> [--top 25]
 */
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

interface CallFrame { functionName: string; url: string; lineNumber: number }
interface ProfileNode { id: number; callFrame: CallFrame }
interface Profile { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[]; startTime: number }

export interface Hot { name: string; where: string; origin: string; selfMs: number; pct: number }

/** Where a function comes from, for the per-origin table. */
function origin(url: string, name: string): string {
  if (!url) return name.startsWith('(') ? name : '(native)';
  if (url.includes('/packages/hub/src/')) return 'fieldlink hub';
  if (url.includes('/packages/protocol/')) return 'fieldlink protocol';
  if (url.includes('/packages/mqtt/src/')) return 'fieldlink mqtt engine';
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (m) return m[1]!;
  if (url.startsWith('node:')) return 'node internals';
  return 'other';
}

function shortUrl(url: string): string {
  const i = url.search(/packages\/|node_modules\//);
  return (i >= 0 ? url.slice(i).replace(/^node_modules\//, '') : url.replace(/^file:\/\//, '')) || '';
}

/**
 * `windowMs`: only samples taken in [from, to] on the monotonic clock (V8's profile
 * timestamps and process.hrtime both read CLOCK_MONOTONIC on Linux), e.g. one
 * measured phase without the process's start-up and the scenario's setup.
 */
export function summarise(p: Profile, top = 25, windowMs?: [number, number]): { busyMs: number; idleMs: number; hot: Hot[]; origins: [string, number, number][] } {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<string, { cf: CallFrame; us: number }>();
  let idle = 0, busy = 0;
  let at = p.startTime;
  const [from, to] = windowMs ? [windowMs[0] * 1000, windowMs[1] * 1000] : [-Infinity, Infinity];
  for (let i = 0; i < p.samples.length; i++) {
    const n = byId.get(p.samples[i]!);
    at += p.timeDeltas[i] ?? 0;
    const dt = p.timeDeltas[i + 1] ?? 0; // the interval after this sample belongs to it
    if (!n || at < from || at > to) continue;
    if (n.callFrame.functionName === '(idle)') { idle += dt; continue; }
    busy += dt;
    const key = `${n.callFrame.functionName}|${n.callFrame.url}|${n.callFrame.lineNumber}`;
    const e = self.get(key) ?? { cf: n.callFrame, us: 0 };
    e.us += dt;
    self.set(key, e);
  }
  const all = [...self.values()].map(({ cf, us }) => ({
    name: cf.functionName || '(anonymous)',
    where: cf.url ? `${shortUrl(cf.url)}:${cf.lineNumber + 1}` : '',
    origin: origin(cf.url, cf.functionName),
    selfMs: us / 1000,
    pct: (us / busy) * 100,
  })).sort((a, b) => b.selfMs - a.selfMs);
  const per = new Map<string, number>();
  for (const h of all) per.set(h.origin, (per.get(h.origin) ?? 0) + h.selfMs);
  const origins = [...per].sort((a, b) => b[1] - a[1]).map(([o, ms]): [string, number, number] => [o, ms, (ms * 1000 / busy) * 100]);
  return { busyMs: busy / 1000, idleMs: idle / 1000, hot: all.slice(0, top), origins };
}

export function toMarkdown(s: ReturnType<typeof summarise>): string {
  const lines = [`Busy ${s.busyMs.toFixed(0)} ms, idle ${s.idleMs.toFixed(0)} ms. Self time, % of busy:`, '',
    '| origin | self ms | % |', '| --- | --- | --- |', ...s.origins.map(([o, ms, pct]) => `| ${o} | ${ms.toFixed(0)} | ${pct.toFixed(1)} |`), '',
    '| # | function | where | origin | self ms | % |', '| --- | --- | --- | --- | --- | --- |',
    ...s.hot.map((h, i) => `| ${i + 1} | \`${h.name}\` | ${h.where} | ${h.origin} | ${h.selfMs.toFixed(0)} | ${h.pct.toFixed(1)} |`)];
  return lines.join('\n');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const file = process.argv[2];
  if (!file) {
    console.error('usage: bench/cpuprofile.ts <file.cpuprofile> [--top N]');
    process.exit(2);
  }
  const i = process.argv.indexOf('--top');
  console.log(toMarkdown(summarise(JSON.parse(readFileSync(file, 'utf8')) as Profile, i > 0 ? Number(process.argv[i + 1]) : 25)));
}
