/**
 * The real-hub half of the alerts benchmark (bench/alerts.ts): one hub process
 * (`fieldlink hub` from source, SQLite store, `--alerts-file`), 1,000 devices
 * as real MQTT/TCP connections in a generator process publishing 10 msg/s each
 * on `devices/bench-NNNN/telemetry`, and one live subscriber on
 * `devices/+/telemetry` (MQTT over the hub's /mqtt) in another, for the
 * delivery latency. After a 2 s warm-up the same process runs the phases in the order given
 * (e.g. 0, 1000, 0, 1000 rules): between phases the alerts file is rewritten
 * and the hub gets SIGHUP, as an operator would, so with and without rules
 * share the process, its connections, its warm code and its database, and
 * alternating them spreads a drift of the machine over both.
 *
 * Per phase, from phase.ts: hub CPU (utime+stime from /proc) per message,
 * delivered msg/s, latency percentiles, loss; from the hub's /healthz: points
 * stored and dropped, rule evaluations, alerts fired.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer } from './proc.js';
import { measure, type Gen, type Row } from './phase.js';
import type { Running } from './targets.js';
import type { WorkerStats } from '../gen/worker.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TS = ['--conditions=source', '--import', 'tsx'];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export const deviceId = (i: number) => `bench-${String(i).padStart(4, '0')}`;

/**
 * `n` rules over `devices` devices, a third each threshold, rate and absence,
 * each on its own device; every tenth also on the fleet-wide `bench-01*` (100
 * devices), so a message meets 11 rules on average. The bench payload's lux
 * runs 0.5–1,000 (bench/gen/publisher.ts), so rules are evaluated on every
 * message but seldom fire: the table measures evaluation, not notification.
 */
export function benchRules(n: number, devices: number) {
  return Array.from({ length: n }, (_, i) => {
    const scope = [deviceId(i % devices), ...(i % 10 === 0 ? ['bench-01*'] : [])];
    if (i % 3 === 0) return { name: `t${i}`, kind: 'threshold', devices: scope, metric: 'lux', below: 5, hysteresis: 2, for: '10s' };
    if (i % 3 === 1) return { name: `r${i}`, kind: 'rate', devices: scope, metric: 'lux', change: 5000, window: '1m' };
    return { name: `a${i}`, kind: 'absence', devices: scope, for: '5m' };
  });
}

interface Health {
  store?: { ingest?: { queued: number; written: number; dropped: number } };
  alerts?: { rules: number; evaluations: number; fired: number };
}

/** Until the subscriber has had nothing for 500 ms and ingest has written everything (at most 30 s): no phase inherits the last one's backlog. */
async function settle(g: Gen, health: () => Promise<Health>): Promise<void> {
  const delivered = async () => (await g.sub.call<WorkerStats>({ cmd: 'stats' })).delivered;
  const end = Date.now() + 30_000;
  for (let last = -1, now = await delivered(); (now !== last || ((await health()).store?.ingest?.queued ?? 0) > 0) && Date.now() < end; ) {
    await sleep(500);
    [last, now] = [now, await delivered()];
  }
}

export interface AlertsHubOptions { engine: string; devices: number; rate: number; seconds: number; rules: number[] }

export async function runAlertsHub(g: Gen, o: AlertsHubOptions, say: (s: string) => void): Promise<Row[]> {
  const dir = mkdtempSync(join(tmpdir(), 'fl-bench-alerts-'));
  const file = join(dir, 'alerts.json');
  const writeRules = (n: number) => writeFileSync(file, JSON.stringify({ rules: benchRules(n, o.devices) }));
  writeRules(o.rules[0]!);
  // BENCH_HUB_NODE_ARGS, e.g. "--cpu-prof --cpu-prof-dir /tmp/prof": the hub's own Node flags (a profile is written at its SIGINT).
  const args = [...(process.env.BENCH_HUB_NODE_ARGS?.split(' ').filter(Boolean) ?? []), ...TS, join(ROOT, 'packages/hub/src/cli/main.ts'), 'hub', '--port', '0', '--mqtt-port', '-1', '--mqtt-engine', o.engine,
    '--store', `sqlite:${join(dir, 'bench.db')}`, '--data-dir', dir, '--alerts-file', file, '--log-level', 'info',
    '--publish-rate', '0', '--max-connections', '1000000', '--max-connections-per-ip', '1000000'];
  const server = await startServer(`fieldlink (${o.engine})`, process.execPath, args, (line) => {
    try {
      const j = line.startsWith('{') ? (JSON.parse(line) as Record<string, unknown>) : undefined;
      return j?.msg === 'hub listening' ? j : undefined;
    } catch {
      return undefined;
    }
  }, { cwd: ROOT, timeoutMs: 60_000 });
  const url = server.info.url as string;
  const health = async () => (await (await fetch(`${url}/healthz`)).json()) as Health;
  const t: Running = {
    name: 'fieldlink-sqlite', server, pids: [server.pid], mqttPort: server.info.mqttPort as number,
    sub: (filter) => ({ dialect: 'mqtt', port: Number(new URL(url).port), path: '/mqtt', filter }),
    stop: () => server.stop(),
  };
  const rows: Row[] = [];
  try {
    await g.sub.call({ cmd: 'sub', target: t.sub('devices/+/telemetry'), n: 1 });
    await g.pub.call({ cmd: 'devices', port: t.mqttPort, n: o.devices });
    // Warm-up, not reported: JIT, the SQLite file and the registry's first sight of every device.
    await g.pub.call({ cmd: 'pubRate', rate: o.rate, durationMs: 2_000, topic: 'devices/bench-{i}/telemetry' });
    await settle(g, health);
    for (const [i, rules] of o.rules.entries()) {
      if (i > 0) {
        writeRules(rules);
        process.kill(server.pid, 'SIGHUP');
        for (let k = 0; k < 200 && (await health()).alerts?.rules !== rules; k++) await sleep(50);
      }
      const h0 = await health();
      if (h0.alerts?.rules !== rules) throw new Error(`the hub runs ${h0.alerts?.rules} rules, not ${rules}`);
      const row = await measure(`${rules} rules`, t, g, 1, () =>
        g.pub.call<{ published: number }>({ cmd: 'pubRate', rate: o.rate, durationMs: o.seconds * 1000, topic: 'devices/bench-{i}/telemetry' }).then((r) => r.published));
      let h1 = await health();
      for (let k = 0; k < 100 && (h1.store?.ingest?.queued ?? 0) > 0; k++) h1 = (await sleep(100), await health());
      const d = (f: (h: Health) => number | undefined) => (f(h1) ?? 0) - (f(h0) ?? 0);
      row.extra = {
        rules,
        'points stored': d((h) => h.store?.ingest?.written),
        'points dropped': d((h) => h.store?.ingest?.dropped),
        evaluations: d((h) => h.alerts?.evaluations),
        fired: d((h) => h.alerts?.fired),
      };
      rows.push(row);
      say(`${o.engine}, ${rules} rules: ${Math.round(row.msgPerSec)} msg/s, ${row.cpuUsPerMsg.toFixed(1)} µs/msg, p99 ${row.p99.toFixed(2)} ms, ` +
        `${row.extra['points stored']} points, ${row.extra.evaluations} evaluations (load ${row.load1.toFixed(2)})`);
      await settle(g, health);
    }
  } finally {
    await g.pub.call({ cmd: 'closeAll' });
    await g.sub.call({ cmd: 'closeAll' });
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}
