/**
 * Subscriber pools for the load generator. A subscriber speaks one of three
 * dialects over RawWs and does only what the measurement needs: count each
 * message and read its send timestamp (`"t":<ms>` in the payload, from the
 * monotonic clock shared by all processes on this machine).
 *
 *  - `fl`   Fieldlink browser protocol v1 on /ws: `sub` with retained:false, wait for its reply.
 *  - `mqtt` MQTT 3.1.1 over WebSocket: CONNECT, CONNACK, SUBSCRIBE, SUBACK.
 *  - `raw`  the bare ws broadcast server: subscribed once the upgrade is done.
 */
import { RawWs } from './raw-ws.js';
import { MqttParser, connectPacket, subscribePacket } from './mqtt-codec.js';
import { Hist } from '../lib/hist.js';

export type Dialect = 'fl' | 'mqtt' | 'raw';
export interface SubTarget { dialect: Dialect; port: number; path: string; filter: string }

const T_KEY = Buffer.from('"t":');
const SUB_REPLY = Buffer.from('"ok":true');
let clientSeq = 0;

/** Monotonic milliseconds; equal across processes (CLOCK_MONOTONIC). */
export function nowMs(): number {
  const [s, ns] = process.hrtime();
  return s * 1e3 + ns / 1e6;
}

/** Reads the number after `"t":` in b[start..end), or NaN. */
function sendTime(b: Buffer, start: number, end: number): number {
  const at = b.indexOf(T_KEY, start);
  if (at < 0 || at >= end) return NaN;
  let k = at + 4, v = 0, c = b[k]!;
  while (c >= 48 && c <= 57) { v = v * 10 + c - 48; c = b[++k]!; }
  if (c === 46) {
    let f = 0.1;
    c = b[++k]!;
    while (c >= 48 && c <= 57) { v += (c - 48) * f; f /= 10; c = b[++k]!; }
  }
  return v;
}

export class SubPool {
  delivered = 0;
  lastAt = 0;
  readonly hist = new Hist();
  /** Called per message (the windowed publisher's pacer hook). */
  onMessage: (() => void) | undefined;
  private now = 0;
  private readonly clients = new Set<RawWs>();

  get size(): number {
    return this.clients.size;
  }

  private onMsg(b: Buffer, start: number, end: number): void {
    this.delivered++;
    this.onMessage?.();
    this.lastAt = this.now;
    const t = sendTime(b, start, end);
    if (t === t) this.hist.recordUs((this.now - t) * 1000);
  }

  /** Opens one subscriber; resolves when it is subscribed, rejects if it closes first. */
  open(t: SubTarget): Promise<RawWs> {
    return new Promise((resolve, reject) => {
      let ready = false;
      const done = (ws: RawWs) => {
        ready = true;
        resolve(ws);
      };
      const mqtt = new MqttParser({
        connack: () => ws.send(subscribePacket(1, t.filter)),
        suback: () => done(ws),
        publish: (b, s, e) => this.onMsg(b, s, e),
      });
      const ws: RawWs = new RawWs(t.port, t.path, t.dialect === 'mqtt' ? 'mqtt' : undefined, {
        open: (w) => {
          this.clients.add(w);
          if (t.dialect === 'raw') done(w);
          else if (t.dialect === 'mqtt') w.send(connectPacket(`bs${process.pid}-${++clientSeq}`));
          else w.send(Buffer.from(JSON.stringify({ op: 'sub', id: '1', filter: t.filter, retained: false })), 1);
        },
        chunk: () => { this.now = nowMs(); },
        frame: (b, s, e) => {
          if (t.dialect === 'mqtt') return mqtt.feed(b, s, e);
          if (t.dialect === 'raw' || b[s + 2] === 111 /* {"op" */) return this.onMsg(b, s, e);
          const ok = b.indexOf(SUB_REPLY, s);
          if (!ready && ok >= 0 && ok < e) done(ws);
        },
        close: () => {
          this.clients.delete(ws);
          if (!ready) reject(new Error(`subscriber closed before it was subscribed (${t.dialect} :${t.port}${t.path})`));
        },
      });
    });
  }

  /** Opens `n` subscribers with at most `concurrency` handshakes in progress; returns ms until all are subscribed. */
  async openMany(t: SubTarget, n: number, concurrency = n): Promise<number> {
    const t0 = nowMs();
    let next = 0;
    const lane = async () => {
      while (next < n) {
        next++;
        await this.open(t);
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, n) }, lane));
    return nowMs() - t0;
  }

  closeAll(): void {
    for (const c of this.clients) c.destroy();
    this.clients.clear();
  }

  resetStats(): void {
    this.delivered = 0;
    this.hist.reset();
  }
}
