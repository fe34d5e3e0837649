/**
 * The engine's message: one object per PUBLISH, shared by every subscriber. It
 * caches its encoded PUBLISH per (protocol family, QoS, RETAIN) so a fan-out
 * serializes once (design.md "Performance"); copies that need their own bytes (v5
 * Message Expiry left, Subscription Identifiers, Topic Alias) are encoded per client.
 */
import mqttPacket from 'mqtt-packet';
import { encodePublish as encodePlain } from './publish-codec.js';
import type { EngineMessage, PublishProps, QoS } from './types.js';

export class Msg implements EngineMessage {
  /** ms since epoch when the message expires (v5 Message Expiry Interval), 0 = never */
  readonly expiresAt: number;
  private cache: (Buffer | undefined)[] | null = null;

  constructor(
    readonly topic: string,
    readonly payload: Buffer,
    readonly qos: QoS,
    readonly retain: boolean,
    readonly properties: PublishProps | undefined,
    readonly ts: number,
  ) {
    const e = properties?.messageExpiryInterval;
    this.expiresAt = e !== undefined ? ts + e * 1000 : 0;
  }

  /** v5 properties to send at time `now`: the expiry interval is what is left of it [MQTT-3.3.2-6]. */
  propsAt(now: number): PublishProps | undefined {
    if (this.expiresAt === 0) return this.properties;
    return { ...this.properties, messageExpiryInterval: Math.max(0, Math.ceil((this.expiresAt - now) / 1000)) };
  }

  /**
   * Shared encoding (do not mutate): packet id 1 as a placeholder for QoS > 0,
   * patched into a copy by withPacketId. Only valid when no per-client property applies.
   */
  encoded(v5: boolean, qos: QoS, retain: boolean): Buffer {
    const k = (v5 ? 6 : 0) + qos * 2 + (retain ? 1 : 0);
    const c = (this.cache ??= []);
    let b = c[k];
    if (b === undefined) {
      b = encodePublish(this.topic, this.payload, qos, retain, false, v5 ? this.properties : undefined, v5 ? 5 : 4);
      c[k] = b;
    }
    return b;
  }
}

export function encodePublish(topic: string, payload: Buffer, qos: QoS, retain: boolean, dup: boolean, properties: object | undefined, protocolVersion: 3 | 4 | 5): Buffer {
  // no properties to write (3.1.1 has none): the hand-written encoder, same bytes
  if (protocolVersion !== 5 || properties === undefined) return encodePlain(topic, payload, qos, retain, dup, 1, protocolVersion === 5);
  const packet = { cmd: 'publish' as const, topic, payload, qos, retain, dup, messageId: qos > 0 ? 1 : undefined, properties };
  return mqttPacket.generate(packet as mqttPacket.IPublishPacket, { protocolVersion });
}

/** Offset of the packet identifier in an encoded PUBLISH (after fixed header and topic). */
function packetIdOffset(b: Buffer): number {
  let i = 1;
  while (b[i]! & 0x80) i++;
  i++;
  return i + 2 + b.readUInt16BE(i);
}

/** Writes `pid` into `b` (which must be the caller's own buffer). */
export function setPacketId(b: Buffer, pid: number): Buffer {
  b.writeUInt16BE(pid, packetIdOffset(b));
  return b;
}

/** A copy of a shared encoding with `pid` and optionally DUP set. */
export function withPacketId(shared: Buffer, pid: number, dup: boolean): Buffer {
  const b = Buffer.allocUnsafe(shared.length);
  shared.copy(b);
  if (dup) b[0] = b[0]! | 0x08;
  return setPacketId(b, pid);
}
