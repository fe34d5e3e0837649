/**
 * Test helpers: an in-memory duplex pair (the engine gets one end) and a raw
 * mqtt-packet client on the other, so tests speak packets, not an SDK's idea of them.
 */
import { Duplex } from 'node:stream';
import mqttPacket, { type Packet, type IConnectPacket } from 'mqtt-packet';
import { Engine, type EngineOptions } from '../src/index.js';

class End extends Duplex {
  other!: End;
  override _read(): void {}
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (e?: Error | null) => void): void {
    const o = this.other;
    queueMicrotask(() => { if (!o.destroyed) o.push(chunk); });
    cb();
  }
  override _final(cb: (e?: Error | null) => void): void {
    const o = this.other;
    queueMicrotask(() => { if (!o.destroyed) o.push(null); });
    cb();
  }
  override _destroy(err: Error | null, cb: (e?: Error | null) => void): void {
    const o = this.other;
    queueMicrotask(() => { if (!o.destroyed) o.destroy(); });
    cb(err);
  }
}

export function pair(): [Duplex, Duplex] {
  const a = new End();
  const b = new End();
  a.other = b;
  b.other = a;
  return [a, b];
}

export class TestClient {
  readonly received: Packet[] = [];
  private waiters: { cmd: string | undefined; resolve: (p: Packet) => void }[] = [];
  private readonly parser;
  closed = false;
  readonly parseErrors: string[] = [];
  readonly whenClosed: Promise<void>;
  connack?: Packet & { cmd: 'connack' };

  constructor(readonly stream: Duplex, public version: 3 | 4 | 5) {
    this.parser = mqttPacket.parser({ protocolVersion: version });
    this.parser.on('packet', (p: Packet) => this.onPacket(p));
    this.parser.on('error', (e: Error) => { this.parseErrors.push(e.message); });
    stream.on('data', (b: Buffer) => this.parser.parse(b));
    this.whenClosed = new Promise((resolve) => {
      const done = (): void => { this.closed = true; resolve(); };
      stream.on('end', done);
      stream.on('close', done);
      stream.on('error', done);
    });
  }

  private onPacket(p: Packet): void {
    const i = this.waiters.findIndex((w) => w.cmd === undefined || w.cmd === p.cmd);
    if (i >= 0) { const [w] = this.waiters.splice(i, 1); w!.resolve(p); return; }
    this.received.push(p);
  }

  send(p: Packet): void { this.stream.write(mqttPacket.generate(p, { protocolVersion: this.version })); }
  raw(b: Buffer): void { this.stream.write(b); }

  /** The next packet (of type `cmd` if given); rejects after `ms`. */
  next<C extends Packet['cmd']>(cmd?: C, ms = 3000): Promise<Extract<Packet, { cmd: C }>> {
    const i = this.received.findIndex((p) => cmd === undefined || p.cmd === cmd);
    if (i >= 0) return Promise.resolve(this.received.splice(i, 1)[0] as Extract<Packet, { cmd: C }>);
    return new Promise((resolve, reject) => {
      const w = { cmd, resolve: (p: Packet) => { clearTimeout(t); resolve(p as Extract<Packet, { cmd: C }>); } };
      const t = setTimeout(() => { this.waiters.splice(this.waiters.indexOf(w), 1); reject(new Error(`no ${cmd ?? 'packet'} within ${ms} ms (have: ${this.received.map((p) => p.cmd).join(',')})`)); }, ms);
      this.waiters.push(w);
    });
  }

  /** Resolves true if no packet of type `cmd` arrives within `ms` (for "must not be sent"). */
  async none(cmd: Packet['cmd'], ms = 150): Promise<boolean> {
    try { await this.next(cmd, ms); return false; } catch { return true; }
  }

  publish(topic: string, payload: string | Buffer, opts: { qos?: 0 | 1 | 2; retain?: boolean; messageId?: number; properties?: object; dup?: boolean } = {}): void {
    this.send({ cmd: 'publish', topic, payload, qos: opts.qos ?? 0, retain: opts.retain ?? false, dup: opts.dup ?? false, messageId: opts.messageId ?? ((opts.qos ?? 0) > 0 ? 1 : undefined), properties: opts.properties } as Packet);
  }

  async subscribe(filter: string | { topic: string; qos: 0 | 1 | 2; nl?: boolean; rap?: boolean; rh?: number }[], qos: 0 | 1 | 2 = 0, properties?: object, messageId = 1): Promise<number[]> {
    const subscriptions = typeof filter === 'string' ? [{ topic: filter, qos }] : filter;
    this.send({ cmd: 'subscribe', messageId, subscriptions, ...(properties ? { properties } : {}) } as Packet);
    const a = await this.next('suback');
    return a.granted as number[];
  }

  end(): void { this.stream.end(); }
}

export interface ConnectOpts extends Partial<Omit<IConnectPacket, 'cmd'>> { version?: 3 | 4 | 5 }

/** CONNECT bytes with an empty client id (mqtt-packet's generator refuses one with clean 0). */
export function connectEmptyId(version: 4 | 5, clean: boolean, properties?: object): Buffer {
  const b = mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: version, clientId: 'x', clean, keepalive: 0, ...(properties ? { properties } : {}) } as Packet, { protocolVersion: version });
  const i = b.indexOf(Buffer.from([0, 1, 0x78]), 10);
  const out = Buffer.concat([b.subarray(0, i), Buffer.from([0, 0]), b.subarray(i + 3)]);
  out[1] = out[1]! - 1;
  return out;
}

/** Connects a raw client and waits for its CONNACK. */
export async function connect(engine: Engine, o: ConnectOpts = {}): Promise<TestClient> {
  const c = open(engine, o.version ?? 4);
  const { version: _v, ...fields } = o;
  c.send({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: c.version, clientId: 'c' + Math.random().toString(36).slice(2, 8), clean: true, keepalive: 0, ...fields } as Packet);
  c.connack = await c.next('connack');
  return c;
}

/** A client end handed to the engine, nothing sent yet. */
export function open(engine: Engine, version: 3 | 4 | 5 = 4): TestClient {
  const [a, b] = pair();
  engine.handle(a, { remote: 'memory', transport: 'memory' });
  return new TestClient(b, version);
}

export function engine(opts?: EngineOptions): Engine { return new Engine(opts); }

export const tick = (ms = 20): Promise<void> => new Promise((r) => setTimeout(r, ms));
