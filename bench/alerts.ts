/**
 * Alerts benchmark (docs/performance.md, "Alerts"), printed as Markdown tables:
 *  1. engine alone: `--rules` rules (default 1,000: threshold, rate and absence
 *     mixed, each scoped to its own device glob plus every 10th to a fleet-wide
 *     `dev-1*`) over `--devices` devices (default 1,000), fed telemetry in-process
 *     as fast as it goes: messages/s and rule evaluations/s;
 *  2. the real hub (embedded bus, SQLite store in a temp dir, ingest): the fleet
 *     publishing at `--rate` messages/s per device (default 10, so 10,000 msg/s)
 *     for `--seconds` (default 10) over MQTT, once without rules and once with
 *     them: points stored per second, and evaluations made meanwhile.
 * Run: npm run bench:alerts -- [--rules 1000] [--devices 1000] [--rate 10] [--seconds 10] [--messages 1000000]
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import mqtt from 'mqtt';
import { AlertEngine } from '../packages/hub/src/services/alerts/engine.js';
import { parseRules } from '../packages/hub/src/services/alerts/rules.js';
import { hubOptions } from '../packages/hub/src/config/options.js';
import { resolve } from '../packages/hub/src/config/schema.js';
import { startHub } from '../packages/hub/src/hub.js';
import { createLogger } from '../packages/hub/src/log.js';

const arg = (name: string, d: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : d;
};
const RULES = arg('rules', 1000);
const DEVICES = arg('devices', 1000);
const RATE = arg('rate', 10);
const SECONDS = arg('seconds', 10);
const MESSAGES = arg('messages', 1_000_000);

function rulesJson(n: number) {
  return Array.from({ length: n }, (_, i) => {
    const devices = [`dev-${i % DEVICES}`, ...(i % 10 === 0 ? ['dev-1*'] : [])];
    if (i % 3 === 0) return { name: `t${i}`, kind: 'threshold', devices, metric: 'lux', below: 5, hysteresis: 2, for: '10s' };
    if (i % 3 === 1) return { name: `r${i}`, kind: 'rate', devices, metric: 'lux', change: 500, window: '1m' };
    return { name: `a${i}`, kind: 'absence', devices, for: '5m' };
  });
}

function engineBench(): string {
  let fired = 0;
  const e = new AlertEngine({ onEvent: () => fired++, newId: () => String(fired) });
  e.setRules(parseRules(rulesJson(RULES), 'file'));
  const n = MESSAGES;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) e.telemetry(`dev-${i % DEVICES}`, { lux: 100 + (i % 50), white: 10, als: 10, ts: 1e12 + i }, 1e12 + i);
  const s = (performance.now() - t0) / 1000;
  return [
    '| rules | devices | messages | messages/s | evaluations/s | events |',
    '| ---: | ---: | ---: | ---: | ---: | ---: |',
    `| ${RULES} | ${DEVICES} | ${n} | ${Math.round(n / s).toLocaleString('en')} | ${Math.round(e.counters.evaluations / s).toLocaleString('en')} | ${fired} |`,
  ].join('\n');
}

async function hubRun(withRules: boolean): Promise<{ stored: number; perSec: number; evaluations: number }> {
  const dir = await mkdtemp(join(tmpdir(), 'fl-bench-alerts-'));
  const file = join(dir, 'alerts.json');
  await writeFile(file, JSON.stringify({ rules: withRules ? rulesJson(RULES) : [] }));
  const cfg = { ...resolve(hubOptions, { argv: [], env: {}, warn: () => undefined }), port: 0, mqttPort: -1, logLevel: 'silent', store: `sqlite:${join(dir, 'hub.db')}`, alertsFile: file, publishRate: 0 };
  const hub = await startHub(cfg, createLogger('silent'));
  // A few connections publish for the whole fleet (loopback: anonymous admin may publish any device's topic).
  const conns = await Promise.all(Array.from({ length: 4 }, () => mqtt.connectAsync(`mqtt://127.0.0.1:${hub.mqttPort}`, { reconnectPeriod: 0 })));
  const perTick = Math.max(1, Math.round((DEVICES * RATE) / 100)); // every 10 ms
  const t0 = Date.now();
  let sent = 0;
  await new Promise<void>((done) => {
    const timer = setInterval(() => {
      if (Date.now() - t0 >= SECONDS * 1000) return void (clearInterval(timer), done());
      for (let k = 0; k < perTick; k++, sent++) {
        const d = sent % DEVICES;
        void conns[d % conns.length]!.publishAsync(`devices/dev-${d}/telemetry`, JSON.stringify({ lux: 100 + (sent % 50), white: 10, ts: Date.now() }));
      }
    }, 10);
  });
  const end = Date.now() + 10_000;
  const stats = () => hub.store!.count({ device: 'dev-0', metric: 'lux', from: 0, to: Date.now() + 1000 });
  while ((await stats()) < Math.floor(sent / DEVICES) - 1 && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
  const ingest = ((await fetch(`${hub.url}/healthz`).then((r) => r.json())) as { store: { ingest: { written: number } } }).store.ingest;
  const evaluations = Number((hub.alerts?.stats() as { evaluations?: number } | undefined)?.evaluations ?? 0);
  await Promise.all(conns.map((c) => c.endAsync()));
  await hub.stop();
  await rm(dir, { recursive: true, force: true });
  return { stored: ingest.written, perSec: Math.round(ingest.written / SECONDS), evaluations };
}

const out = [`## Alerts engine (${RULES} rules, ${DEVICES} devices)`, '', engineBench(), ''];
out.push(`## Hub ingest with and without rules (${DEVICES} devices × ${RATE} msg/s, ${SECONDS} s, SQLite)`, '', '| rules | points stored | points/s | evaluations |', '| ---: | ---: | ---: | ---: |');
for (const withRules of [false, true]) {
  const r = await hubRun(withRules);
  out.push(`| ${withRules ? RULES : 0} | ${r.stored} | ${r.perSec.toLocaleString('en')} | ${r.evaluations.toLocaleString('en')} |`);
}
console.log(out.join('\n'));
