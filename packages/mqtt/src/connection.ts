/**
 * One network connection: framer → mqtt-packet parser → dispatch, the state
 * machine (first packet CONNECT [MQTT-3.1.0-1], a second one is a protocol error
 * [MQTT-3.1.0-2]), keep alive (1.5 × [MQTT-3.1.2-24]), the client's v5 limits
 * (Maximum Packet Size, Receive Maximum, Topic Alias Maximum), and writes,
 * coalesced per event-loop iteration (see `writeBuf`). It never owns the
 * socket's lifecycle beyond ending it.
 */
import mqttPacket from 'mqtt-packet';
import type { Duplex } from 'node:stream';
import type { AckQueue } from './acks.js';
import { Framer } from './framer.js';
import { decodePublish } from './publish-codec.js';
import { parseWhole, type ParserSettings } from './parse.js';
import { dispatch } from './handlers/dispatch.js';
import { encodePublish, setPacketId, withPacketId, type Msg } from './message.js';
import { RC } from './reasons.js';
import type { Engine } from './engine.js';
import type { Outbound, Session } from './session.js';
import type { ClientContext, ConnectionMeta, ProtocolVersion } from './types.js';

export enum State { New, Connecting, Connected, Closed }

export class Connection {
  state = State.New;
  version: ProtocolVersion = 4;
  session: Session | null = null;
  ctx: ClientContext | null = null;
  /** v5 client limits from its CONNECT */
  clientMaxPacket = Infinity;
  clientReceiveMax = 65535;
  clientAliasMax = 0;
  /** v5 Request Problem Information: false = no Reason String / User Properties on acks [MQTT-3.1.2-29] */
  problemInfo = true;
  aliasIn: Map<number, string> | null = null;
  aliasOut: Map<string, number> | null = null;
  /** the will is published when this connection ends (cleared by DISCONNECT 0x00 [MQTT-3.1.2-10]) */
  sendWill = true;
  /** v5 Authentication Method of the CONNECT (AUTH packets must carry the same) */
  authMethod: string | undefined = undefined;
  writable = true;
  /** acks waiting for a commit, in PUBLISH order (acks.ts); null until the first one */
  acks: AckQueue | null = null;
  /** packets written this event-loop iteration, not yet handed to the stream (see writeBuf) */
  private pending: Buffer[] | null = null;
  private pendingBytes = 0;
  private lastRx = Date.now();
  private kaMs = 0;
  private kaTimer: NodeJS.Timeout | null = null;
  readonly framer: Framer;
  /** for the shared parser (parse.ts) */
  parserSettings: ParserSettings = NO_SETTINGS;
  /** packets that arrived while CONNECT was being authenticated [MQTT-3.1.4-5] */
  private held: mqttPacket.Packet[] | null = null;

  constructor(readonly engine: Engine, readonly stream: Duplex, readonly meta: ConnectionMeta) {
    this.framer = new Framer(engine.limits.maxPacketBytes, this);
    // shared listener functions that find this connection on the stream: no closures per idle connection
    (stream as Owned)[CONN] = this;
    stream.on('data', onData);
    stream.on('drain', onDrain);
    stream.on('error', onGone);
    stream.on('close', onGone);
    stream.on('end', onGone);
  }

  // FramerSink
  packet(buf: Buffer): void {
    this.lastRx = Date.now();
    // PUBLISH without properties once connected: decoded here (publish-codec.ts), the rest by mqtt-packet
    if ((buf[0]! & 0xf0) === 0x30 && this.state === State.Connected && this.held === null) {
      const p = decodePublish(buf, this.version === 5);
      if (p !== null) { this.run(p); return; }
    }
    parseWhole(this, buf);
  }

  refuse(why: 'too-large' | 'malformed'): void {
    this.engine.count(why === 'too-large' ? 'packet_too_large' : 'malformed');
    this.terminate(why === 'too-large' ? RC.PACKET_TOO_LARGE : RC.MALFORMED, why === 'too-large' ? 'protocol' : 'malformed');
  }

  onPacket(p: mqttPacket.Packet): void {
    if (this.state === State.Closed) return;
    if (this.held !== null) { this.held.push(p); return; }
    this.run(p);
  }

  /** A handler that throws is a bug: it costs this connection only (0x80), never the process. */
  private run(p: mqttPacket.Packet): void {
    try { dispatch(this, p); } catch { this.engine.count('internal_errors'); this.terminate(RC.UNSPECIFIED, 'server'); }
  }

  onParseError(e: Error): void {
    if (this.state === State.Closed) return;
    this.engine.count('malformed');
    if (this.state === State.New && /protocol version/i.test(e.message)) {
      // [MQTT-3.1.2-2] unsupported level: CONNACK return code 1 (3.1.1 form, the client's level is unknown), then close
      this.writeBuf(mqttPacket.generate({ cmd: 'connack', returnCode: 1, sessionPresent: false }, { protocolVersion: 4 }));
      this.terminate(undefined, 'malformed');
      return;
    }
    this.terminate(RC.MALFORMED, 'malformed');
  }

  /** Called by the CONNECT handler while it awaits hooks: hold what arrives meanwhile. */
  hold(): void { this.held = []; this.stream.pause(); }

  release(): void {
    const held = this.held;
    this.held = null;
    if (held) for (const p of held) { if (this.state === State.Closed) break; this.run(p); }
    if (this.state !== State.Closed) this.stream.resume();
  }

  startKeepAlive(sec: number): void {
    if (sec <= 0) return;
    this.kaMs = sec * 1500; // [MQTT-3.1.2-24]
    this.kaTimer = setTimeout(this.checkKeepAlive, this.kaMs);
  }

  private readonly checkKeepAlive = (): void => {
    if (this.state === State.Closed) return;
    const idle = Date.now() - this.lastRx;
    if (idle >= this.kaMs) { this.engine.count('keepalive_timeout'); this.terminate(RC.KEEP_ALIVE_TIMEOUT, 'keepalive'); return; }
    this.kaTimer = setTimeout(this.checkKeepAlive, this.kaMs - idle);
  };

  /** Sends a non-PUBLISH packet in this connection's protocol version. */
  send(packet: mqttPacket.Packet): void {
    let buf = mqttPacket.generate(packet, { protocolVersion: this.version });
    if (buf.length > this.clientMaxPacket && 'properties' in packet && packet.properties) {
      // [MQTT-3.1.2-25] never more than the client allows: drop Reason String / User Properties first
      buf = mqttPacket.generate({ ...packet, properties: undefined } as mqttPacket.Packet, { protocolVersion: this.version });
      if (buf.length > this.clientMaxPacket) { this.engine.count('dropped_too_large_for_client'); return; }
    }
    this.writeBuf(buf);
  }

  /** v5 ack properties: a Reason String only if the client did not refuse problem information. */
  reasonProps(reasonString: string | undefined): { reasonString: string } | undefined {
    return this.version === 5 && reasonString !== undefined && this.problemInfo && this.engine.limits.ackReasonStrings ? { reasonString } : undefined;
  }

  /**
   * Write coalescing: packets written during one event-loop iteration (every I/O
   * callback of its poll phase, so the fan-in of many publishers too) leave as
   * ONE stream write, one buffer, in order, at setImmediate. Over a WebSocket
   * that is one frame for many packets, which [MQTT-6.0.0-2] allows (a frame
   * may hold several packets; receivers must not assume alignment); over TCP it
   * is one system call. A batch is handed over early at COALESCE_BYTES, and
   * `writable` counts the bytes held here, so backpressure still means "the
   * peer is not reading" (maxWriteBufferBytes).
   */
  writeBuf(buf: Buffer): void {
    if (this.pending === null) {
      this.pending = [buf];
      if (toFlush.push(this) === 1) setImmediate(flushAll);
    } else this.pending.push(buf);
    this.pendingBytes += buf.length;
    if (this.pendingBytes >= COALESCE_BYTES) this.flush();
    else if (this.stream.writableLength + this.pendingBytes > this.engine.limits.maxWriteBufferBytes) this.writable = false;
  }

  /** Hands what writeBuf held to the stream (idempotent; a no-op once the stream is gone). */
  flush(): void {
    const list = this.pending;
    if (list === null) return;
    const bytes = this.pendingBytes;
    this.pending = null;
    this.pendingBytes = 0;
    const s = this.stream;
    if (s.destroyed || s.writableEnded) return;
    const ok = s.write(list.length === 1 ? list[0]! : Buffer.concat(list, bytes));
    const was = this.writable;
    this.writable = ok || s.writableLength <= this.engine.limits.maxWriteBufferBytes;
    // writeBuf may have said "not writable" for bytes that the stream has now taken without a 'drain' to come
    if (!was && this.writable && this.session !== null && this.state === State.Connected) this.engine.pump(this.session);
  }

  /**
   * Encodes and writes one PUBLISH. Returns false (nothing written) when it exceeds
   * the client's Maximum Packet Size: the caller treats it as delivered [MQTT-3.1.2-25].
   */
  writePublish(o: Outbound, now: number, dup: boolean): boolean {
    const m = o.msg;
    let buf: Buffer;
    if (this.version === 5 && (m.expiresAt !== 0 || o.ids !== null || this.clientAliasMax > 0)) {
      buf = this.encodeV5(m, o, now, dup);
      if (o.qos > 0) setPacketId(buf, o.pid);
    } else {
      const shared = m.encoded(this.version === 5, o.qos, o.retain);
      buf = o.qos > 0 ? withPacketId(shared, o.pid, dup) : shared;
    }
    if (buf.length > this.clientMaxPacket) { this.engine.count('dropped_too_large_for_client'); return false; }
    this.writeBuf(buf);
    return true;
  }

  private encodeV5(m: Msg, o: Outbound, now: number, dup: boolean): Buffer {
    const base = m.propsAt(now);
    let props: Record<string, unknown> | undefined = base ? { ...base } : undefined;
    if (o.ids !== null) (props ??= {}).subscriptionIdentifier = o.ids.length === 1 ? o.ids[0] : o.ids;
    let topic = m.topic;
    if (this.clientAliasMax > 0) {
      const map = (this.aliasOut ??= new Map());
      const a = map.get(topic);
      if (a !== undefined) { (props ??= {}).topicAlias = a; topic = ''; }
      else if (map.size < this.clientAliasMax) { map.set(topic, map.size + 1); (props ??= {}).topicAlias = map.size; }
    }
    return encodePublish(topic, m.payload, o.qos, o.retain, dup, props, 5);
  }

  /**
   * Ends the connection: v5 DISCONNECT with `rc` first when connected [MQTT-4.13.1-1]
   * (never before CONNACK [MQTT-3.14.0-1]); detaches the session at once so a
   * takeover can proceed synchronously.
   */
  terminate(rc: number | undefined, reason: string, reasonString?: string): void {
    if (this.state === State.Closed) return;
    if (rc !== undefined && this.version === 5 && this.state === State.Connected) {
      this.send({ cmd: 'disconnect', reasonCode: rc, ...(reasonString ? { properties: { reasonString } } : {}) });
    }
    this.closed(reason);
    this.flush();
    const s = this.stream;
    s.end();
    const t = setTimeout(() => s.destroy(), 2000);
    t.unref();
    s.once('close', () => clearTimeout(t));
  }

  closed(reason: string): void {
    if (this.state === State.Closed) return;
    const wasConnected = this.state === State.Connected;
    this.state = State.Closed;
    if (this.kaTimer) clearTimeout(this.kaTimer);
    this.held = null;
    this.engine.detach(this, wasConnected, reason);
    if (!this.stream.destroyed && reason === 'closed') this.stream.destroy();
  }
}

const CONN = Symbol('fieldlink.mqttConnection');
type Owned = Duplex & { [CONN]: Connection };
function onData(this: Owned, chunk: Buffer): void {
  const c = this[CONN];
  if (c.state !== State.Closed) c.framer.push(chunk);
}
function onDrain(this: Owned): void {
  const c = this[CONN];
  c.writable = true;
  if (c.session) c.engine.pump(c.session);
}
function onGone(this: Owned): void {
  this[CONN].closed('closed');
}

/** mqtt-packet's settings before CONNECT (never mutated by it: it replaces the object) */
const NO_SETTINGS: ParserSettings = Object.freeze({});
/** Bytes held for one connection before they are written without waiting for the iteration's end. */
const COALESCE_BYTES = 64 * 1024;
/** Connections with pending writes, flushed once per event-loop iteration by one setImmediate. */
let toFlush: Connection[] = [];
function flushAll(): void {
  const list = toFlush;
  toFlush = [];
  for (let i = 0; i < list.length; i++) list[i]!.flush();
}
