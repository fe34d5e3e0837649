/**
 * Publishers over MQTT/TCP with the raw codec: one connection per device, QoS 0,
 * ~100-byte JSON telemetry carrying its send time `t` (monotonic ms, fraction
 * included). Two pacing modes:
 *
 *  - windowed: as fast as the broker delivers, with at most `window` messages
 *    published but not yet seen by a pacer subscriber (end-to-end flow control,
 *    so a fast publisher measures the broker, not its queues);
 *  - rate: a fixed rate per device, devices spread evenly over the period.
 */
import net from 'node:net';
import { connectPacket, publishPacket } from './mqtt-codec.js';
import { nowMs, type SubPool } from './subscriber.js';

let seq = 0;

/**
 * ~100 bytes, two numeric readings (`lux` and the send time `t`, so a store
 * ingests two points per message) and text fields to reach a realistic size.
 */
export function payload(dev: string): string {
  const n = ++seq;
  return `{"lux":${(n % 10000) / 10 + 0.5},"dev":"${dev}","fw":"1.4.2-bench","model":"VEML7700-lightsensor","t":${nowMs().toFixed(4)}}`;
}

export function connectMqtt(port: number, clientId: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    s.setNoDelay(true);
    s.once('error', reject);
    s.on('connect', () => s.write(connectPacket(clientId)));
    // CONNACK may arrive in pieces (Aedes writes its header and body separately).
    let got = Buffer.alloc(0);
    const onData = (d: Buffer) => {
      got = Buffer.concat([got, d]);
      if (got.length < 4) return;
      s.off('data', onData);
      if (got[0] !== 0x20 || got[3] !== 0) return reject(new Error(`CONNACK refused on :${port}: ${got.subarray(0, 8).toString('hex')}`));
      s.off('error', reject);
      s.on('error', () => s.destroy());
      resolve(s);
    };
    s.on('data', onData);
  });
}

/**
 * Publishes for `durationMs` keeping at most `window` messages in flight, counted
 * over all `subscribers` of `pool` (published × subscribers − delivered ≤
 * window × subscribers), so no subscriber can fall far behind unseen; returns the count.
 */
export async function publishWindowed(port: number, topic: string, durationMs: number, window: number, pool: SubPool, subscribers: number): Promise<number> {
  const sock = await connectMqtt(port, `bp${process.pid}-w`);
  const tb = Buffer.from(topic);
  let published = 0;
  let scheduled = false;
  let running = true;
  const base = pool.delivered;
  const refill = () => {
    scheduled = false;
    if (!running) return;
    const room = window - Math.ceil(published - (pool.delivered - base) / subscribers);
    if (room <= 0) return;
    const parts: Buffer[] = [];
    for (let i = 0; i < room; i++) parts.push(publishPacket(tb, payload('bench-0001')));
    published += room;
    sock.write(parts.length === 1 ? parts[0]! : Buffer.concat(parts));
  };
  // Runs after a whole chunk of frames: one write per chunk, not per message.
  pool.onMessage = () => {
    if (!scheduled) { scheduled = true; queueMicrotask(refill); }
  };
  refill();
  await new Promise((r) => setTimeout(r, durationMs));
  running = false;
  pool.onMessage = undefined;
  setTimeout(() => sock.destroy(), 5_000).unref();
  return published;
}

/** `devices` MQTT/TCP connections, opened 100 at a time (setup, outside any measured phase). */
export async function openDevices(port: number, devices: number): Promise<net.Socket[]> {
  const socks: net.Socket[] = [];
  for (let i = 0; i < devices; i += 100) {
    const batch = Array.from({ length: Math.min(100, devices - i) }, (_, k) => connectMqtt(port, `bp${process.pid}-${i + k}`));
    socks.push(...(await Promise.all(batch)));
  }
  return socks;
}

/** Each socket publishes `rate` msg/s on `topicOf(i)` for `durationMs`, spread over the period; returns the count. */
export async function publishRate(socks: net.Socket[], rate: number, durationMs: number, topicOf: (i: number) => string): Promise<number> {
  const devices = socks.length;
  const topics = socks.map((_, i) => Buffer.from(topicOf(i)));
  const names = socks.map((_, i) => `bench-${String(i).padStart(4, '0')}`);
  const sent = new Array<number>(devices).fill(0);
  let published = 0;
  const t0 = nowMs();
  await new Promise<void>((resolve) => {
    const tick = () => {
      const el = Math.min(nowMs() - t0, durationMs);
      for (let i = 0; i < devices; i++) {
        const due = Math.floor((el * rate) / 1000 + i / devices) - sent[i]!;
        for (let k = 0; k < due; k++) socks[i]!.write(publishPacket(topics[i]!, payload(names[i]!)));
        if (due > 0) { sent[i]! += due; published += due; }
      }
      if (el >= durationMs) return resolve();
      setTimeout(tick, 2);
    };
    tick();
  });
  return published;
}
