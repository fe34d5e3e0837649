/**
 * Acknowledge-after-commit benchmarks (issue 13), printed as Markdown tables, the
 * hub (core engine, SQLite: every PUBACK waits for its points' group commit)
 * beside a private Mosquitto (acknowledges from memory, persistence off):
 *  1. QoS 1 PUBACK latency p50/p99/max at a fixed offered rate (default 2,000 msg/s
 *     from 200 devices, 10 msg/s each, 3.1.1), measured publish → PUBACK in the client;
 *  2. durable QoS 1 ingest: `--pubs` devices publishing as fast as acknowledged,
 *     each with `--window` in flight: acknowledged msg/s, and the server's CPU per
 *     message (process CPU: robust to other work on the machine).
 *     `--raw`: the throughput phase's devices are raw sockets with pre-encoded QoS 1
 *     PUBLISHes (bench/gen's codec) instead of MQTT.js, whose own cost per message
 *     caps one generator process below what the servers take.
 * Run: npm run bench:ack -- [--devices 200] [--rate 2000] [--seconds 5] [--pubs 20] [--window 64] [--raw] [--only fieldlink|mosquitto]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import mqtt, { type MqttClient } from 'mqtt';
import { Hist } from './lib/hist.js';
import { sample } from './lib/proc.js';
import { connectMqtt } from './gen/publisher.js';
import { startTarget } from './lib/targets.js';
import { freePort, kill9, startHub } from '../test/e2e/crash-harness.js';

const { values } = parseArgs({ options: {
  devices: { type: 'string', default: '200' }, rate: { type: 'string', default: '2000' }, seconds: { type: 'string', default: '5' },
  pubs: { type: 'string', default: '20' }, window: { type: 'string', default: '64' }, only: { type: 'string' }, raw: { type: 'boolean', default: false },
} });
const DEVICES = Number(values.devices), RATE = Number(values.rate), SECONDS = Number(values.seconds);
const PUBS = Number(values.pubs), WINDOW = Number(values.window);

interface Target { name: string; port: number; pid: number; stop(): Promise<void>; /** points the server says it stored (the hub's ingest counter) */ stored?(): Promise<number> }

async function fieldlinkTarget(): Promise<Target> {
  const dir = mkdtempSync(join(tmpdir(), 'fl-bench-ack-'));
  const [http, mq] = [await freePort(), await freePort()];
  const hub = await startHub(['--port', String(http), '--mqtt-port', String(mq), '--data-dir', dir, '--mqtt-engine', 'core', '--publish-rate', '0',
    '--max-devices', '100000', '--mqtt-sessions-per-identity', '100000']);
  const stored = async (): Promise<number> => {
    const text = await (await fetch(`http://127.0.0.1:${http}/metrics`)).text();
    return Number(/^fieldlink_ingest\{counter="written"\} (\d+)/m.exec(text)?.[1] ?? NaN);
  };
  return { name: 'Fieldlink (core, SQLite, ack after commit)', port: mq, pid: hub.child.pid!, stored, stop: async () => { await kill9(hub); rmSync(dir, { recursive: true, force: true }); } };
}

async function mosquittoTarget(): Promise<Target> {
  const m = await startTarget('mosquitto');
  return { name: 'Mosquitto (memory)', port: m.mqttPort, pid: m.pids[0]!, stop: () => m.stop() };
}

async function clients(port: number, n: number, prefix: string): Promise<MqttClient[]> {
  return Promise.all(Array.from({ length: n }, (_, i) => mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { clientId: `${prefix}-${i}`, protocolVersion: 4, reconnectPeriod: 0 })));
}

let seq = 0;
const body = () => JSON.stringify({ lux: (seq++ % 1000) / 10, ts: Date.now() });

/** Offered load: every 10 ms, RATE/100 publishes round-robin over the devices; the first second is warm-up. */
async function latency(t: Target): Promise<{ p50: number; p99: number; max: number; n: number; cpuUsPerMsg: number }> {
  const cs = await clients(t.port, DEVICES, 'lat');
  const h = new Hist();
  let max = 0, k = 0, recording = false, sent = 0;
  const per = RATE / 100;
  let carry = 0;
  const timer = setInterval(() => {
    carry += per;
    for (; carry >= 1; carry--) {
      const c = cs[k++ % cs.length]!;
      const t0 = performance.now();
      const rec = recording;
      if (rec) sent++;
      c.publish(`devices/${(c.options.clientId as string)}/telemetry`, body(), { qos: 1 }, (err) => {
        if (err || !rec) return;
        const ms = performance.now() - t0;
        h.recordUs(ms * 1000);
        if (ms > max) max = ms;
      });
    }
  }, 10);
  await new Promise((r) => setTimeout(r, 1000));
  recording = true;
  const cpu0 = sample(t.pid).cpuUs;
  await new Promise((r) => setTimeout(r, SECONDS * 1000));
  recording = false;
  const cpu1 = sample(t.pid).cpuUs;
  clearInterval(timer);
  await new Promise((r) => setTimeout(r, 500));
  await Promise.all(cs.map((c) => c.endAsync()));
  return { p50: h.percentileMs(50), p99: h.percentileMs(99), max, n: h.n, cpuUsPerMsg: (cpu1 - cpu0) / Math.max(1, sent) };
}

/** The throughput phases' window: 1 s of warm-up, then SECONDS counted; the server's CPU over the counted part. */
async function measured(pid: number, counting: (on: boolean) => void): Promise<{ secs: number; cpuUs: number }> {
  await new Promise((r) => setTimeout(r, 1000));
  counting(true);
  const cpu0 = sample(pid).cpuUs;
  const w0 = performance.now();
  await new Promise((r) => setTimeout(r, SECONDS * 1000));
  counting(false);
  return { secs: (performance.now() - w0) / 1000, cpuUs: sample(pid).cpuUs - cpu0 };
}

/** As fast as acknowledged: PUBS devices, WINDOW in flight each. */
async function throughput(t: Target): Promise<{ msgPerS: number; cpuUsPerMsg: number }> {
  const cs = await clients(t.port, PUBS, 'thr');
  let acked = 0, counting = false, stop = false;
  const pump = (c: MqttClient) => {
    if (stop) return;
    c.publish(`devices/${c.options.clientId as string}/telemetry`, body(), { qos: 1 }, (err) => { if (!err && counting) acked++; pump(c); });
  };
  for (const c of cs) for (let i = 0; i < WINDOW; i++) pump(c);
  const { secs, cpuUs } = await measured(t.pid, (on) => { counting = on; });
  stop = true;
  await Promise.all(cs.map((c) => c.endAsync(true)));
  return { msgPerS: acked / secs, cpuUsPerMsg: cpuUs / Math.max(1, acked) };
}

/** QoS 1 PUBLISH with packet id `pid` (3.1.1 [MQTT-3.3.2-1..3]); bodies here are under 16 KiB (≤ 2 remaining-length bytes). */
function qos1Packet(topic: Buffer, payload: string, pid: number): Buffer {
  const len = 2 + topic.length + 2 + Buffer.byteLength(payload);
  const rl = len < 128 ? 1 : 2;
  const b = Buffer.allocUnsafe(1 + rl + len);
  b[0] = 0x32;
  if (rl === 1) b[1] = len;
  else { b[1] = (len % 128) | 0x80; b[2] = len >> 7; }
  let i = 1 + rl;
  b.writeUInt16BE(topic.length, i);
  topic.copy(b, (i += 2));
  b.writeUInt16BE(pid, (i += topic.length));
  b.write(payload, i + 2, 'latin1'); // ASCII JSON
  return b;
}

/** As fast as acknowledged with raw sockets: each device keeps WINDOW QoS 1 PUBLISHes in flight; PUBACKs (4 bytes each) are counted. */
async function rawThroughput(t: Target): Promise<{ msgPerS: number; cpuUsPerMsg: number; check: string }> {
  let acked = 0, ackedAll = 0, counting = false, stop = false;
  const socks = await Promise.all(Array.from({ length: PUBS }, (_, i) => connectMqtt(t.port, `raw-${i}`)));
  socks.forEach((s, i) => {
    const id = `raw-${i}`, topic = Buffer.from(`devices/${id}/telemetry`);
    let n = 0, pid = 0, rest = 0;
    const next = () => { pid = pid % 65535 + 1; return qos1Packet(topic, `{"lux":${(n % 1000) / 10},"ts":${1_700_000_000_000 + n++}}`, pid); };
    s.on('data', (d: Buffer) => {
      const total = rest + d.length;
      const acks = Math.floor(total / 4); // only PUBACKs arrive after CONNACK: 0x40 0x02 id id
      rest = total % 4;
      if (counting) acked += acks;
      ackedAll += acks;
      if (stop || acks === 0) return;
      const out: Buffer[] = [];
      for (let k = 0; k < acks; k++) out.push(next());
      s.write(Buffer.concat(out));
    });
    const first: Buffer[] = [];
    for (let k = 0; k < WINDOW; k++) first.push(next());
    s.write(Buffer.concat(first));
  });
  const { secs, cpuUs } = await measured(t.pid, (on) => { counting = on; });
  stop = true;
  for (const s of socks) s.destroy();
  // One point per message (lux; ts is the time): every acknowledged one must be stored.
  const stored = t.stored ? await t.stored() : undefined;
  const check = stored === undefined ? '–' : `${stored.toLocaleString('en-US')} stored ≥ ${ackedAll.toLocaleString('en-US')} acknowledged: ${stored >= ackedAll ? 'yes' : '**NO**'}`;
  return { msgPerS: acked / secs, cpuUsPerMsg: cpuUs / Math.max(1, acked), check };
}

const rows: string[] = [];
const thr: string[] = [];
for (const make of [fieldlinkTarget, mosquittoTarget]) {
  if (values.only && !make.name.toLowerCase().includes(values.only)) continue;
  const t = await make();
  try {
    const l = await latency(t);
    rows.push(`| ${t.name} | ${l.n} | ${l.p50.toFixed(2)} | ${l.p99.toFixed(2)} | ${l.max.toFixed(1)} | ${l.cpuUsPerMsg.toFixed(1)} |`);
    const x: { msgPerS: number; cpuUsPerMsg: number; check?: string } = await (values.raw ? rawThroughput(t) : throughput(t));
    thr.push(`| ${t.name} | ${Math.round(x.msgPerS).toLocaleString('en-US')} | ${x.cpuUsPerMsg.toFixed(1)} | ${x.check ?? '–'} |`);
  } finally {
    await t.stop();
  }
}
console.log(`\n### QoS 1 PUBACK latency, ${RATE} msg/s offered from ${DEVICES} devices (3.1.1), ${SECONDS} s measured\n`);
console.log('| server | acks | p50 ms | p99 ms | max ms | server CPU µs/msg |');
console.log('|---|---:|---:|---:|---:|---:|');
for (const r of rows) console.log(r);
console.log(`\n### QoS 1 as fast as acknowledged: ${PUBS} devices × ${WINDOW} in flight, ${SECONDS} s${values.raw ? ' (raw-socket devices)' : ' (MQTT.js devices)'}\n`);
console.log('| server | acknowledged msg/s | server CPU µs/msg | stored (whole run) |');
console.log('|---|---:|---:|---|');
for (const r of thr) console.log(r);
