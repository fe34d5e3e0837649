/**
 * Side-by-side benchmarks: Fieldlink beside Mosquitto, Aedes and the bare `ws`
 * ceiling, each server in its own process, load from separate generator
 * processes, Markdown tables on stdout and JSON+Markdown in bench/results/.
 *
 *   node --conditions=source --import tsx bench/run.ts [--quick] [--scenario a,b] [--target x,y]
 *     [--window 64] [--seconds 8] [--docs]
 *
 * --quick runs every scenario small and short (under 2 minutes); the full mode is
 * ~8 minutes. --docs writes the tables into docs/performance.md and the charts
 * into docs/images/ (done by default after a full run of every scenario).
 * Progress goes to stderr.
 */
import { Worker } from './lib/workers.js';
import { startTarget, type TargetName } from './lib/targets.js';
import { fanin, fanout, fullpath, idleAndStorm, latency, type Sizes } from './lib/scenarios.js';
import type { Gen, Row } from './lib/phase.js';
import { machine, saveResults, type Results } from './lib/report.js';

const argv = process.argv.slice(2);
const KNOWN = new Set(['--quick', '--scenario', '--target', '--window', '--seconds', '--docs']);
const unknown = argv.filter((a) => a.startsWith('--') && !KNOWN.has(a));
if (argv.includes('--help') || unknown.length > 0) {
  if (unknown.length > 0 && !argv.includes('--help')) console.error(`unknown option(s): ${unknown.join(' ')}`);
  console.log(`npm run bench -- [options]   (Markdown tables on stdout, progress on stderr, results in bench/results/)
  --quick              every scenario, small and short (under 2 minutes)
  --scenario a,b       only these: fanout(-10|-100|-1000), fanin (and fanin-telemetry), latency, idle, storm, fullpath
  --target x,y         only these: mosquitto, aedes, ws-bcast, ws-bcast-cork, floor, fieldlink-engine, fieldlink,
                       fieldlink-mqtt, fieldlink-sqlite, fieldlink-cluster (the hub on its own Mosquitto via --bus;
                       not in the default run). floor: a bare net server forwarding device bytes to MQTT/WS
                       subscribers (the fan-in floor); fieldlink-engine: packages/mqtt alone with trivial hooks
  --window N           messages in flight at max rate, per subscriber (default 64)
  --seconds N          length of each measured phase (default 8)
  --docs               also write docs/performance.md and its charts (a full run of everything does by default)`);
  process.exit(argv.includes('--help') ? 0 : 2);
}
const opt = (name: string) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};
const quick = argv.includes('--quick');
const only = opt('--scenario')?.split(',');
const targets = (opt('--target')?.split(',') ?? ['mosquitto', 'aedes', 'ws-bcast', 'ws-bcast-cork', 'floor', 'fieldlink-engine', 'fieldlink', 'fieldlink-mqtt', 'fieldlink-sqlite']) as TargetName[];
const sizes: Sizes = quick
  ? { durationMs: 2_000, idle: 1_000, fanouts: [100], window: 64 }
  : { durationMs: 8_000, idle: 10_000, fanouts: [10, 100, 1000], window: 64 };
if (opt('--window')) sizes.window = Number(opt('--window'));
if (opt('--seconds')) sizes.durationMs = Number(opt('--seconds')) * 1000;
const want = (s: string) => !only || only.some((o) => s === o || s.startsWith(`${o}-`));

/** Which scenarios each target runs, in this order (idle, then storm on its clients, first: its baseline is a fresh process). */
const PLAN: Record<TargetName, string[]> = {
  mosquitto: ['idle', 'fanout', 'fanin', 'fanin-telemetry', 'latency'],
  aedes: ['idle', 'fanout', 'fanin', 'latency'],
  'ws-bcast': ['idle', 'fanout', 'fanin', 'latency'],
  // What write coalescing would bring (bench/servers/ws-broadcast.ts --cork): a reference, not a product.
  'ws-bcast-cork': ['fanout', 'fanin', 'latency'],
  // The fan-in floor (bench/servers/floor.ts): every device's bytes to every subscriber, no topics.
  floor: ['idle', 'fanout', 'fanin', 'latency'],
  // packages/mqtt alone, trivial hooks, the hub's /mqtt adapter (bench/servers/engine.ts): engine vs hub.
  'fieldlink-engine': ['idle', 'fanout', 'fanin', 'fanin-telemetry', 'latency'],
  fieldlink: ['idle', 'fanout', 'fanin', 'latency', 'fullpath'],
  'fieldlink-mqtt': ['idle', 'fanout', 'fanin', 'fanin-telemetry', 'latency'],
  // fanin-telemetry here: the same devices with every message also stored (ingest → SQLite)
  'fieldlink-sqlite': ['fanin-telemetry', 'fullpath'],
  // The hub on an external Mosquitto (--bus): not in the default run; --target fieldlink-cluster.
  'fieldlink-cluster': ['idle', 'fanout', 'fanin', 'latency'],
};

const say = (s: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${s}\n`);
const fmt = (r: Row) => r.extra
  ? Object.entries(r.extra).map(([k, v]) => `${k} ${v}`).join(', ')
  : `${Math.round(r.msgPerSec).toLocaleString('en-US')} msg/s, ${r.cpuUsPerMsg.toFixed(2)} µs/msg, p99 ${r.p99.toFixed(2)} ms, loss ${r.loss}`;

async function runTarget(name: TargetName, g: Gen, rows: Row[]): Promise<void> {
  const plan = PLAN[name].filter((s) => (s === 'fanout' ? sizes.fanouts.some((n) => want(`fanout-${n}`)) : s === 'idle' ? want('idle') || want('storm') : want(s)));
  if (plan.length === 0) return;
  say(`${name}: starting`);
  const t = await startTarget(name);
  const add = (r: Row) => {
    rows.push(r);
    say(`${name} ${r.scenario}: ${fmt(r)} (load ${r.load1.toFixed(2)})`);
  };
  try {
    for (const s of plan) {
      if (s === 'idle') for (const r of await idleAndStorm(t, g, sizes)) if (want(r.scenario)) add(r);
      if (s === 'fanout') for (const n of sizes.fanouts) if (want(`fanout-${n}`)) add(await fanout(t, g, n, sizes));
      if (s === 'fanin') add(await fanin(t, g, sizes));
      if (s === 'fanin-telemetry') add(await fanin(t, g, sizes, true));
      if (s === 'latency') add(await latency(t, g, sizes));
      if (s === 'fullpath') add(await fullpath(t, g, sizes, t.server.info.url as string | undefined));
    }
  } finally {
    await t.stop();
  }
}

const started = Date.now();
const g: Gen = { sub: await Worker.start('sub-generator'), pub: await Worker.start('pub-generator') };
const rows: Row[] = [];
try {
  for (const name of targets) await runTarget(name, g, rows);
} finally {
  await Promise.all([g.sub.stop(), g.pub.stop()]);
}
const results: Results = { mode: quick ? 'quick' : 'full', date: new Date().toISOString(), machine: machine(), sizes, rows, seconds: (Date.now() - started) / 1000 };
const docs = argv.includes('--docs') || (!quick && !only && !opt('--target'));
const md = await saveResults(results, docs);
console.log(md);
say(`done in ${results.seconds.toFixed(0)} s`);
