/**
 * Alerts benchmark (docs/performance.md, "Alerts"), printed as Markdown tables:
 *  1. the engine alone: `--rules` rules over `--devices` devices (bench/lib/alerts-hub.ts,
 *     benchRules), fed `--messages` telemetry messages in-process as fast as it goes;
 *  2. the real hub, per `--engine` (bench/lib/alerts-hub.ts): 1,000 devices on
 *     real MQTT connections from a generator process at `--rate` msg/s each,
 *     after a 2 s warm-up, `--rounds` × (no rules, then the rules) in one hub process, `--seconds` each:
 *     hub CPU per message, delivery latency, points stored, rule evaluations/s.
 * CPU time per message (from /proc) is the robust figure on a shared machine;
 * msg/s and latency are what the offered load got.
 *
 *   npm run bench:alerts -- [--engine core,aedes|none] [--rounds 2] [--seconds 5] [--rate 10]
 *     [--rules 1000] [--devices 1000] [--messages 1000000] [--docs]
 *
 * --docs replaces the generated block of docs/performance.md's "Alerts" section.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { AlertEngine } from '../packages/hub/src/services/alerts/engine.js';
import { parseRules } from '../packages/hub/src/services/alerts/rules.js';
import { benchRules, deviceId, runAlertsHub } from './lib/alerts-hub.js';
import { machine } from './lib/report.js';
import { Worker } from './lib/workers.js';
import type { Row } from './lib/phase.js';

const argv = process.argv.slice(2);
const opt = (name: string, d: string) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1]! : d;
};
const RULES = Number(opt('rules', '1000'));
const DEVICES = Number(opt('devices', '1000'));
const RATE = Number(opt('rate', '10'));
const SECONDS = Number(opt('seconds', '5'));
const ROUNDS = Number(opt('rounds', '2'));
const MESSAGES = Number(opt('messages', '1000000'));
const ENGINES = opt('engine', 'core,aedes').split(',').filter((e) => e && e !== 'none'); // none: the engine alone
const say = (s: string) => process.stderr.write(`[bench:alerts ${new Date().toISOString().slice(11, 19)}] ${s}\n`);
const n0 = (v: number) => (Number.isFinite(v) ? Math.round(v).toLocaleString('en-US') : '–');
const f = (v: number, d = 2) => (Number.isFinite(v) ? v.toFixed(d) : '–');
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b), h = Math.floor(s.length / 2);
  return s.length % 2 ? s[h]! : (s[h - 1]! + s[h]!) / 2;
};

/** The hub's timing: the payload carries no `ts`, the clock advances as at `DEVICES × RATE` msg/s, the wheel ticks each second. */
function engineBench(): string {
  let fired = 0;
  let clock = 1e12;
  const e = new AlertEngine({ onEvent: () => fired++, newId: () => String(fired), now: () => clock });
  e.setRules(parseRules(benchRules(RULES, DEVICES), 'file'));
  const stepMs = 1000 / (DEVICES * RATE);
  const t0 = performance.now();
  for (let i = 0; i < MESSAGES; i++) {
    clock = 1e12 + i * stepMs;
    e.telemetry(deviceId(i % DEVICES), { lux: ((Math.floor(i / DEVICES) * 100) % 1000) + 0.5, t: i }, clock);
    if (i % (DEVICES * RATE) === 0) e.tick(clock);
  }
  const s = (performance.now() - t0) / 1000;
  return [
    '| rules | devices | messages | messages/s | evaluations/s | µs per message | events |',
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    `| ${n0(RULES)} | ${n0(DEVICES)} | ${n0(MESSAGES)} | ${n0(MESSAGES / s)} | ${n0(e.counters.evaluations / s)} | ${f((s * 1e6) / MESSAGES)} | ${fired} |`,
  ].join('\n');
}

function hubTable(engine: string, rows: Row[]): string {
  const x = (r: Row, k: string) => Number(r.extra?.[k]);
  const lines = [
    '| phase | rules | published | delivered msg/s | hub CPU µs/msg | hub CPU % | p50 ms | p99 ms | p99.9 ms | loss | points stored | points dropped | evaluations/s | evaluations/msg | fired | gen CPU % | load 1m |',
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows.map((r, i) => `| ${i + 1} | ${n0(x(r, 'rules'))} | ${n0(r.published)} | ${n0(r.msgPerSec)} | ${f(r.cpuUsPerMsg, 1)} | ${n0(r.serverCpuPct)} | ${f(r.p50)} | ${f(r.p99)} | ${f(r.p999)} | ${n0(r.loss)} | ` +
      `${n0(x(r, 'points stored'))} | ${n0(x(r, 'points dropped'))} | ${n0(x(r, 'evaluations') / SECONDS)} | ${f(x(r, 'evaluations') / r.published)} | ${n0(x(r, 'fired'))} | ${n0(r.genCpuPct)} | ${f(r.load1)} |`),
  ];
  const by = (n: number) => rows.filter((r) => x(r, 'rules') === n);
  const [off, on] = [by(0), by(RULES)];
  if (off.length && on.length) {
    const m = (rs: Row[], g: (r: Row) => number) => median(rs.map(g));
    const cpu0 = m(off, (r) => r.cpuUsPerMsg), cpu1 = m(on, (r) => r.cpuUsPerMsg);
    const stored = (rs: Row[]) => rs.reduce((a, r) => a + x(r, 'points stored'), 0) / rs.reduce((a, r) => a + 2 * r.published, 0);
    // Each rules phase against the mean of the no-rules phases beside it: a drift of the machine cancels out.
    const paired = rows.flatMap((r, i) => {
      if (x(r, 'rules') === 0) return [];
      const near = [rows[i - 1], rows[i + 1]].filter((n): n is Row => n !== undefined && x(n, 'rules') === 0);
      return near.length ? [r.cpuUsPerMsg - near.reduce((a, n) => a + n.cpuUsPerMsg, 0) / near.length] : [];
    });
    const dp = median(paired);
    lines.push('', `Medians, ${engine}: hub CPU ${f(cpu0, 1)} → ${f(cpu1, 1)} µs/msg with ${n0(RULES)} rules; ` +
      `each rules phase against the no-rules phases beside it: ${dp >= 0 ? '+' : ''}${f(dp, 1)} µs/msg (${dp >= 0 ? '+' : ''}${f((dp / cpu0) * 100, 0)} %; ` +
      `the ${paired.length} differences: ${paired.map((v) => f(v, 1)).join(', ')}); points stored ${f(stored(off) * 100, 1)} % → ${f(stored(on) * 100, 1)} % of those offered; ` +
      `p99 ${f(m(off, (r) => r.p99))} → ${f(m(on, (r) => r.p99))} ms; ${n0(m(on, (r) => x(r, 'evaluations') / SECONDS))} evaluations/s.`);
  }
  return lines.join('\n');
}

const BEGIN = '<!-- bench-alerts:begin (generated by bench/alerts.ts --docs: edit outside this block) -->';
const END = '<!-- bench-alerts:end -->';

async function main(): Promise<void> {
  const started = Date.now();
  const m = machine();
  const out = [
    `### Run of ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC`, '',
    `Machine: ${m.cpus} × ${m.model}, ${m.memGb} GB, ${m.os}; Node ${m.node}. Hub tree: ${m.revision}. Load average at start ${f(os.loadavg()[0]!)}.`, '',
    `#### The engine alone (${n0(RULES)} rules, ${n0(DEVICES)} devices, in-process)`, '', engineBench(), '',
  ];
  say('engine alone done');
  const g = ENGINES.length ? { sub: await Worker.start('sub'), pub: await Worker.start('pub') } : undefined;
  try {
    const phases = Array.from({ length: ROUNDS }, () => [0, RULES]).flat();
    for (const engine of ENGINES) {
      if (!g) break;
      const rows = await runAlertsHub(g, { engine, devices: DEVICES, rate: RATE, seconds: SECONDS, rules: phases }, say);
      out.push(`#### The hub, --mqtt-engine ${engine}: ${n0(DEVICES)} devices × ${RATE} msg/s over MQTT/TCP, SQLite, ${SECONDS} s phases`, '', hubTable(engine, rows), '');
    }
  } finally {
    await g?.sub.stop();
    await g?.pub.stop();
  }
  out.push(`(${Math.round((Date.now() - started) / 1000)} s in all; load average at the end ${f(os.loadavg()[0]!)}.)`);
  const md = out.join('\n');
  console.log(md);
  if (argv.includes('--docs')) {
    const page = fileURLToPath(new URL('../docs/performance.md', import.meta.url));
    const text = readFileSync(page, 'utf8');
    const a = text.indexOf(BEGIN), b = text.indexOf(END);
    const block = `${BEGIN}\n\n${md}\n\n${END}`;
    writeFileSync(page, a >= 0 && b > a ? text.slice(0, a) + block + text.slice(b + END.length) : `${text.trimEnd()}\n\n${block}\n`);
    say('docs/performance.md updated');
  }
}

await main();
