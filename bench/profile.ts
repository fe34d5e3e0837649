/**
 * CPU profile of the hub under one scenario of bench/run.ts, by default fan-out
 * 1 → 100 on its JSON /ws door: the hub runs with `--cpu-prof --cpu-prof-dir
 * bench/results/prof`, and the profile written at the hub's graceful exit is
 * summarised (bench/cpuprofile.ts) into a Markdown file beside it.
 *
 *   node --conditions=source --import tsx bench/profile.ts [--scenario fanout|fanin|fanin-telemetry|fullpath]
 *     [--subs 100] [--seconds 10] [--door ws|mqtt] [--store none|sqlite] [--target fieldlink-engine|…]
 *
 * Only the samples of the measured phase are summarised, and beside them the
 * process's CPU per thread in that phase (/proc/<pid>/task: the main thread, V8's
 * GC and compiler workers, libuv's pool), user and system apart, so the part of
 * the cost that no JavaScript profile shows (system calls, the loopback TCP
 * stack, concurrent GC) is accounted for too.
 */
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from './lib/workers.js';
import { startTarget, type TargetName } from './lib/targets.js';
import { nowMs } from './gen/subscriber.js';
import type { Row } from './lib/phase.js';
import { fanin, fanout, fullpath } from './lib/scenarios.js';
import { summarise, toMarkdown } from './cpuprofile.js';

const argv = process.argv.slice(2);
const opt = (name: string, def: string) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1]! : def;
};
const subs = Number(opt('--subs', '100'));
const seconds = Number(opt('--seconds', '10'));
const door = opt('--door', 'ws');
const scenario = opt('--scenario', 'fanout');
const sqlite = opt('--store', 'none') === 'sqlite';
const dir = join(fileURLToPath(new URL('../', import.meta.url)), 'bench/results/prof');
mkdirSync(dir, { recursive: true });

const g = { sub: await Worker.start('sub-generator'), pub: await Worker.start('pub-generator') };
const target = (argv.includes('--target') ? opt('--target', '') : door === 'mqtt' ? 'fieldlink-mqtt' : sqlite ? 'fieldlink-sqlite' : 'fieldlink') as TargetName;
const t = await startTarget(target, ['--cpu-prof', '--cpu-prof-dir', dir]);
const startedAt = Date.now();
const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
/** utime and stime (µs) of each thread of the server, by thread name. */
function threads(pid: number): Map<string, [number, number]> {
  const out = new Map<string, [number, number]>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const st = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const name = st.slice(st.indexOf('(') + 1, st.lastIndexOf(')')).replace(/\d+$/, 'N');
      const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
      const prev = out.get(name) ?? [0, 0];
      out.set(name, [prev[0] + (Number(f[11]) * 1e6) / CLK_TCK, prev[1] + (Number(f[12]) * 1e6) / CLK_TCK]);
    } catch { /* the thread ended */ }
  }
  return out;
}
const timeline: [number, Map<string, [number, number]>][] = [];
const poll = setInterval(() => timeline.push([nowMs(), threads(t.pids[0]!)]), 100);
let row: Row;
try {
  const z = { durationMs: seconds * 1000, idle: 0, fanouts: [subs], window: 64 };
  row = scenario === 'fanin' || scenario === 'fanin-telemetry' ? await fanin(t, g, z, scenario === 'fanin-telemetry')
    : scenario === 'fullpath' ? await fullpath(t, g, z, t.server.info.url as string)
    : await fanout(t, g, subs, z);
} finally {
  clearInterval(poll);
  await t.stop();
  await Promise.all([g.sub.stop(), g.pub.stop()]);
}
// --cpu-prof writes one file per thread (the main thread, tsx's loader thread): keep the busiest.
const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile')).map((f) => join(dir, f)).filter((f) => statSync(f).mtimeMs >= startedAt);
// Only the measured phase counts (not start-up, module loading or the scenario's setup).
const summaries = files.map((f) => ({ f, s: summarise(JSON.parse(readFileSync(f, 'utf8')), 30, row.phaseMs) })).sort((a, b) => b.s.busyMs - a.s.busyMs);
const best = summaries[0];
if (!best) throw new Error(`no .cpuprofile written in ${dir} (did the hub exit gracefully?)`);
const file = best.f;
/** Per-thread CPU between the timeline samples nearest the phase's ends, in µs per delivered message. */
function threadTable(): string {
  const [a, b] = row.phaseMs ?? [0, 0];
  const near = (x: number) => timeline.reduce((best, e) => (Math.abs(e[0] - x) < Math.abs(best[0] - x) ? e : best), timeline[0]!);
  const s0 = near(a)[1], s1 = near(b)[1];
  const lines = ['| thread | user µs/msg | system µs/msg |', '| --- | --- | --- |'];
  for (const [name, [u, sy]] of s1) {
    const [u0, sy0] = s0.get(name) ?? [0, 0];
    if (u - u0 + sy - sy0 > 0) lines.push(`| ${name} | ${((u - u0) / row.delivered).toFixed(2)} | ${((sy - sy0) / row.delivered).toFixed(2)} |`);
  }
  return lines.join('\n');
}
const what = scenario === 'fanout' ? `fan-out 1 → ${subs}` : scenario;
const md = [`### ${target} CPU profile, ${what} on /${door}${sqlite ? ' with SQLite' : ''} (${seconds} s; samples of the measured phase only)`, '',
  `${Math.round(row.msgPerSec).toLocaleString('en-US')} delivered msg/s, ${row.cpuUsPerMsg.toFixed(2)} µs server CPU per message, loss ${row.loss}, load ${row.load1.toFixed(2)}. Profile: \`${file.slice(dir.length + 1)}\`.`, '',
  'Server CPU per thread in the measured phase (/proc; clock ticks of 10 ms, so short phases are coarse):', '', threadTable(), '',
  toMarkdown(best.s), ''].join('\n');
writeFileSync(file.replace(/\.cpuprofile$/, '.md'), md);
console.log(md);
