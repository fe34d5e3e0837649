/**
 * CPU profile of the hub under one scenario of bench/run.ts, by default fan-out
 * 1 → 100 on its JSON /ws door: the hub runs with `--cpu-prof --cpu-prof-dir
 * bench/results/prof`, and the profile written at the hub's graceful exit is
 * summarised (bench/cpuprofile.ts) into a Markdown file beside it.
 *
 *   node --conditions=source --import tsx bench/profile.ts [--scenario fanout|fanin|fullpath]
 *     [--subs 100] [--seconds 10] [--door ws|mqtt] [--store none|sqlite]
 */
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from './lib/workers.js';
import { startTarget } from './lib/targets.js';
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
const t = await startTarget(door === 'mqtt' ? 'fieldlink-mqtt' : sqlite ? 'fieldlink-sqlite' : 'fieldlink', ['--cpu-prof', '--cpu-prof-dir', dir]);
const startedAt = Date.now();
let row;
try {
  const z = { durationMs: seconds * 1000, idle: 0, fanouts: [subs], window: 64 };
  row = scenario === 'fanin' ? await fanin(t, g, z)
    : scenario === 'fullpath' ? await fullpath(t, g, z, t.server.info.url as string)
    : await fanout(t, g, subs, z);
} finally {
  await t.stop();
  await Promise.all([g.sub.stop(), g.pub.stop()]);
}
// --cpu-prof writes one file per thread (the main thread, tsx's loader thread): keep the busiest.
const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile')).map((f) => join(dir, f)).filter((f) => statSync(f).mtimeMs >= startedAt);
const summaries = files.map((f) => ({ f, s: summarise(JSON.parse(readFileSync(f, 'utf8'))) })).sort((a, b) => b.s.busyMs - a.s.busyMs);
const best = summaries[0];
if (!best) throw new Error(`no .cpuprofile written in ${dir} (did the hub exit gracefully?)`);
const file = best.f;
const what = scenario === 'fanout' ? `fan-out 1 → ${subs}` : scenario;
const md = [`### Hub CPU profile, ${what} on /${door}${sqlite ? ' with SQLite' : ''} (${seconds} s)`, '',
  `${Math.round(row.msgPerSec).toLocaleString('en-US')} delivered msg/s, ${row.cpuUsPerMsg.toFixed(2)} µs server CPU per message, loss ${row.loss}, load ${row.load1.toFixed(2)}. Profile: \`${file.slice(dir.length + 1)}\`.`, '',
  toMarkdown(best.s), ''].join('\n');
writeFileSync(file.replace(/\.cpuprofile$/, '.md'), md);
console.log(md);
