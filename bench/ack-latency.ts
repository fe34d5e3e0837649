/**
 * Acknowledge-after-commit benchmarks (issue 13), printed as Markdown tables, the
 * hub (core engine, SQLite: every PUBACK waits for its points' group commit)
 * beside a private Mosquitto (acknowledges from memory, persistence off):
 *  1. QoS 1 PUBACK latency p50/p99/max at a fixed offered rate (default 2,000 msg/s
 *     from 200 devices, 10 msg/s each, 3.1.1), measured publish → PUBACK in the client;
 *  2. durable QoS 1 ingest: `--pubs` devices publishing as fast as acknowledged,
 *     each with `--window` in flight: acknowledged msg/s, and the server's CPU per
 *     message (process CPU: robust to other work on the machine).
 * Run: npm run bench:ack -- [--devices 200] [--rate 2000] [--seconds 5] [--pubs 20] [--window 64] [--only fieldlink|mosquitto]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import mqtt, { type MqttClient } from 'mqtt';
import { Hist } from './lib/hist.js';
import { sample } from './lib/proc.js';
import { startTarget } from './lib/targets.js';
import { freePort, kill9, startHub } from '../test/e2e/crash-harness.js';

const { values } = parseArgs({ options: {
  devices: { type: 'string', default: '200' }, rate: { type: 'string', default: '2000' }, seconds: { type: 'string', default: '5' },
  pubs: { type: 'string', default: '20' }, window: { type: 'string', default: '64' }, only: { type: 'string' },
} });
const DEVICES = Number(values.devices), RATE = Number(values.rate), SECONDS = Number(values.seconds);
const PUBS = Number(values.pubs), WINDOW = Number(values.window);

interface Target { name: string; port: number; pid: number; stop(): Promise<void> }

async function fieldlinkTarget(): Promise<Target> {
  const dir = mkdtempSync(join(tmpdir(), 'fl-bench-ack-'));
  const [http, mq] = [await freePort(), await freePort()];
  const hub = await startHub(['--port', String(http), '--mqtt-port', String(mq), '--data-dir', dir, '--mqtt-engine', 'core', '--publish-rate', '0',
    '--max-devices', '100000', '--mqtt-sessions-per-identity', '100000']);
  return { name: 'Fieldlink (core, SQLite, ack after commit)', port: mq, pid: hub.child.pid!, stop: async () => { await kill9(hub); rmSync(dir, { recursive: true, force: true }); } };
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

/** As fast as acknowledged: PUBS devices, WINDOW in flight each. */
async function throughput(t: Target): Promise<{ msgPerS: number; cpuUsPerMsg: number }> {
  const cs = await clients(t.port, PUBS, 'thr');
  let acked = 0, counting = false, stop = false;
  const pump = (c: MqttClient) => {
    if (stop) return;
    c.publish(`devices/${c.options.clientId as string}/telemetry`, body(), { qos: 1 }, (err) => { if (!err && counting) acked++; pump(c); });
  };
  for (const c of cs) for (let i = 0; i < WINDOW; i++) pump(c);
  await new Promise((r) => setTimeout(r, 1000));
  counting = true;
  const cpu0 = sample(t.pid).cpuUs;
  const w0 = performance.now();
  await new Promise((r) => setTimeout(r, SECONDS * 1000));
  counting = false;
  const secs = (performance.now() - w0) / 1000;
  const cpu1 = sample(t.pid).cpuUs;
  stop = true;
  await Promise.all(cs.map((c) => c.endAsync(true)));
  return { msgPerS: acked / secs, cpuUsPerMsg: (cpu1 - cpu0) / Math.max(1, acked) };
}

const rows: string[] = [];
const thr: string[] = [];
for (const make of [fieldlinkTarget, mosquittoTarget]) {
  if (values.only && !make.name.toLowerCase().includes(values.only)) continue;
  const t = await make();
  try {
    const l = await latency(t);
    rows.push(`| ${t.name} | ${l.n} | ${l.p50.toFixed(2)} | ${l.p99.toFixed(2)} | ${l.max.toFixed(1)} | ${l.cpuUsPerMsg.toFixed(1)} |`);
    const x = await throughput(t);
    thr.push(`| ${t.name} | ${Math.round(x.msgPerS).toLocaleString('en-US')} | ${x.cpuUsPerMsg.toFixed(1)} |`);
  } finally {
    await t.stop();
  }
}
console.log(`\n### QoS 1 PUBACK latency, ${RATE} msg/s offered from ${DEVICES} devices (3.1.1), ${SECONDS} s measured\n`);
console.log('| server | acks | p50 ms | p99 ms | max ms | server CPU µs/msg |');
console.log('|---|---:|---:|---:|---:|---:|');
for (const r of rows) console.log(r);
console.log(`\n### QoS 1 as fast as acknowledged: ${PUBS} devices × ${WINDOW} in flight, ${SECONDS} s\n`);
console.log('| server | acknowledged msg/s | server CPU µs/msg |');
console.log('|---|---:|---:|');
for (const r of thr) console.log(r);
