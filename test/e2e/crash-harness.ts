/**
 * The crash harness (issue 13, "How it is checked"), shared by test/e2e/crash.test.ts
 * (a few rounds) and bench/crash-soak.ts (20): the hub as a real child process
 * on SQLite, real devices (MQTT.js v5 and 3.1.1, Python paho 3.1.1) publishing
 * QoS 1 and QoS 2 telemetry stamped with `ts` as fast as they are acknowledged,
 * `kill -9` of the hub at a random moment, restart, again; the devices
 * reconnect by themselves and resend what was not acknowledged. At the end the
 * store file is read directly: every acknowledged message must be in history
 * exactly once, and SQLite's integrity_check must say ok.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import mqtt from 'mqtt';

const MAIN = fileURLToPath(new URL('../../packages/hub/src/cli/main.ts', import.meta.url));
const PUBLISHER = fileURLToPath(new URL('./crash_publisher.py', import.meta.url));
/** Message n of a device carries ts = BASE + n: in the past (ingest keeps a sane ts; retention keeps the last hour), distinct per message. */
export const BASE_TS = Date.now() - 3_600_000; // an hour of ms: room for 3.6 M messages per device, inside any retention

export async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as AddressInfo).port;
  await new Promise((r) => srv.close(r));
  return port;
}

export interface Hub { child: ChildProcess; out: () => string }

/** `fieldlink hub` on fixed ports (the devices reconnect to the same ones after a restart). */
export async function startHub(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Hub> {
  const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', MAIN, 'hub', ...args], { env: { ...process.env, ...env } });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
  child.stderr!.on('data', (d: Buffer) => { out += d.toString(); });
  const deadline = Date.now() + 30_000;
  while (!/"msg":"hub listening"/.test(out)) {
    if (child.exitCode !== null || child.signalCode !== null || Date.now() > deadline) throw new Error(`hub did not start:\n${out.slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return { child, out: () => out };
}

export async function kill9(h: Hub): Promise<void> {
  if (h.child.exitCode !== null || h.child.signalCode !== null) return;
  const gone = new Promise((r) => h.child.once('exit', r));
  h.child.kill('SIGKILL');
  await gone;
}

export interface Device {
  readonly id: string;
  readonly label: string;
  /** message numbers acknowledged by the hub */
  readonly acked: Set<number>;
  /** messages the hub refused (v5 reason ≥ 0x80) */
  refused: number;
  readonly codes: Map<string, number>;
  stop(): Promise<void>;
}

/** An MQTT.js device: at most `window` unacknowledged, reconnecting every 50 ms, resending what is unacknowledged. */
export function jsDevice(id: string, url: string, version: 4 | 5, qos: 1 | 2, window = 32): Device {
  const c = mqtt.connect(url, { clientId: id, protocolVersion: version, clean: version === 5, reconnectPeriod: 50, connectTimeout: 2000, keepalive: 10 });
  c.on('error', () => undefined);
  const d: Device = { id, label: `MQTT.js v${version === 5 ? 5 : '3.1.1'} QoS ${qos}`, acked: new Set(), refused: 0, codes: new Map(), stop: async () => {} };
  let n = 0;
  let inflight = 0;
  let stopped = false;
  const pump = (): void => {
    while (!stopped && inflight < window && c.connected) {
      const k = n++;
      inflight++;
      c.publish(`devices/${id}/telemetry`, JSON.stringify({ n: k, ts: BASE_TS + k }), { qos }, (err) => {
        inflight--;
        if (!err) d.acked.add(k);
        else if ((err as { code?: number }).code !== undefined) { d.refused++; d.codes.set(String((err as { code?: number }).code), (d.codes.get(String((err as { code?: number }).code)) ?? 0) + 1); }
        pump();
      });
    }
  };
  c.on('connect', pump);
  // end(true) of a client that is between reconnect attempts may never call back: do not wait for ever
  d.stop = async () => { stopped = true; await Promise.race([c.endAsync(true).catch(() => undefined), new Promise((r) => setTimeout(r, 1000))]); };
  return d;
}

/** A Python paho device (crash_publisher.py), MQTT 3.1.1. */
export function pahoDevice(python: string, id: string, port: number, qos: 1 | 2, window = 32): Device {
  const child = spawn(python, [PUBLISHER, '127.0.0.1', String(port), id, String(qos), String(window), String(BASE_TS)], { stdio: ['pipe', 'pipe', 'pipe'] });
  const d: Device = { id, label: `paho 3.1.1 QoS ${qos}`, acked: new Set(), refused: 0, codes: new Map(), stop: async () => {} };
  let err = '';
  child.stderr!.on('data', (b: Buffer) => { err += b.toString(); });
  createInterface({ input: child.stdout! }).on('line', (l) => { if (l.startsWith('a ')) d.acked.add(Number(l.slice(2))); });
  d.stop = async () => {
    const gone = new Promise((r) => child.once('exit', r));
    child.stdin!.end();
    const t = setTimeout(() => child.kill('SIGKILL'), 3000);
    await gone;
    clearTimeout(t);
    if (process.env.CRASH_DEBUG) process.stderr.write(err);
    if (err.includes('Traceback')) throw new Error(`paho device ${id} failed:\n${err}`);
  };
  return d;
}

export interface Tally { device: string; label: string; acked: number; missing: number; duplicates: number; refused: number; firstMissing: number[] }

/** The audit SQL (both backends): rows per ts of one device's `n` series. */
export const POINTS_BY_TS = `SELECT p.ts AS ts, count(*) AS c FROM points p JOIN series s ON s.id = p.series_id
                             WHERE s.device = $1 AND s.metric = 'n' GROUP BY p.ts`;

/** Every acknowledged n of each device against what history holds (rows per ts). */
export function tally(devices: readonly Device[], rowsOf: (id: string) => { ts: number | string; c: number | string }[]): Tally[] {
  return devices.map((d): Tally => {
      const seen = new Map<number, number>();
      for (const r of rowsOf(d.id)) seen.set(Number(r.ts) - BASE_TS, Number(r.c));
      let missing = 0;
      let duplicates = 0;
      const firstMissing: number[] = [];
      for (const k of d.acked) {
        const c = seen.get(k) ?? 0;
        if (c === 0 && ++missing <= 5) firstMissing.push(k);
        else if (c > 1) duplicates += c - 1;
      }
      return { device: d.id, label: d.label, acked: d.acked.size, missing, duplicates, refused: d.refused, firstMissing };
  });
}

/** Reads the store file (WAL recovery happens on open): every acknowledged n in history exactly once. */
export function audit(dataDir: string, devices: readonly Device[]): { rows: Tally[]; integrity: string } {
  const db = new Database(join(dataDir, 'fieldlink.db'));
  try {
    const q = db.prepare(POINTS_BY_TS.replace('$1', '?'));
    const rows = tally(devices, (id) => q.all(id) as { ts: number; c: number }[]);
    const integrity = (db.pragma('integrity_check') as { integrity_check: string }[]).map((r) => r.integrity_check).join(', ');
    return { rows, integrity };
  } finally {
    db.close();
  }
}

export interface RoundsOptions {
  dataDir: string;
  rounds: number;
  /** random kill moment, ms after the devices have been acknowledged again in this round */
  minMs: number;
  maxMs: number;
  hubArgs?: string[];
  python: string;
  /** include the MQTT 5 device (default true; Aedes speaks 3.1.1 only, a 3.1.1 QoS 1 MQTT.js device stands in) */
  v5?: boolean;
  /** how the store is read after the last kill (default: the SQLite file in dataDir, with integrity_check) */
  audit?: (devices: readonly Device[]) => Promise<{ rows: Tally[]; integrity: string }>;
  log?: (line: string) => void;
}

/** Runs the rounds; returns the audit after the last kill. */
export async function crashRounds(o: RoundsOptions): Promise<{ rows: Tally[]; integrity: string; rounds: number }> {
  const [http, mq] = [await freePort(), await freePort()];
  // --publish-rate 0: the devices publish as fast as acknowledged (a 3.1.1 PUBLISH over the rate is acked and dropped [MQTT-3.3.5-2])
  const args = ['--port', String(http), '--mqtt-port', String(mq), '--data-dir', o.dataDir, '--publish-rate', '0', ...(o.hubArgs ?? [])];
  const url = `mqtt://127.0.0.1:${mq}`;
  let hub = await startHub(args);
  const devices = [
    o.v5 === false ? jsDevice('crash-js4-q1', url, 4, 1) : jsDevice('crash-js5-q1', url, 5, 1),
    jsDevice('crash-js4-q2', url, 4, 2),
    pahoDevice(o.python, 'crash-py-q1', mq, 1),
    pahoDevice(o.python, 'crash-py-q2', mq, 2),
  ];
  const total = () => devices.reduce((n, d) => n + d.acked.size, 0);
  try {
    for (let r = 1; r <= o.rounds; r++) {
      // wait until every device is acknowledged again after the restart, then pick the moment
      const marks = devices.map((d) => d.acked.size);
      const deadline = Date.now() + 20_000;
      while (devices.some((d, i) => d.acked.size <= marks[i]!) && Date.now() < deadline) await new Promise((res) => setTimeout(res, 10));
      const stuck = devices.filter((d, i) => d.acked.size <= marks[i]!).map((d) => d.id);
      if (stuck.length) throw new Error(`round ${r}: no acknowledgement for ${stuck.join(', ')} within 20 s of the restart\n${hub.out().slice(-1500)}`);
      await new Promise((res) => setTimeout(res, o.minMs + Math.random() * (o.maxMs - o.minMs)));
      await kill9(hub);
      o.log?.(`round ${r}: kill -9 with ${total()} acknowledged so far`);
      if (r < o.rounds) hub = await startHub(args);
    }
  } finally {
    await kill9(hub);
    await Promise.all(devices.map(async (d) => { await d.stop(); o.log?.(`stopped ${d.id}`); }));
  }
  return { ...(o.audit ? await o.audit(devices) : audit(o.dataDir, devices)), rounds: o.rounds };
}
