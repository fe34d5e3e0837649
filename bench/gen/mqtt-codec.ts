/**
 * The MQTT 3.1.1 the load generator needs and nothing more: CONNECT, SUBSCRIBE
 * and QoS 0 PUBLISH encoders, and a stream parser that reports CONNACK, SUBACK
 * and the payload span of each PUBLISH without copying it. Hand-written so the
 * generator's own cost stays small next to the broker's (MQTT.js would decide
 * the result at 100k+ messages/s).
 */

function remainingLength(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    out.push(b);
  } while (n > 0);
  return out;
}

function str(s: string): Buffer {
  const b = Buffer.from(s);
  const h = Buffer.allocUnsafe(2);
  h.writeUInt16BE(b.length);
  return Buffer.concat([h, b]);
}

/** [MQTT-3.1] clean session, keep-alive 0 (no PINGREQ during a run). */
export function connectPacket(clientId: string): Buffer {
  const body = Buffer.concat([str('MQTT'), Buffer.from([4, 0x02, 0, 0]), str(clientId)]);
  return Buffer.concat([Buffer.from([0x10, ...remainingLength(body.length)]), body]);
}

/** [MQTT-3.8] one filter at QoS 0. */
export function subscribePacket(packetId: number, filter: string): Buffer {
  const body = Buffer.concat([Buffer.from([packetId >> 8, packetId & 0xff]), str(filter), Buffer.from([0])]);
  return Buffer.concat([Buffer.from([0x82, ...remainingLength(body.length)]), body]);
}

/** [MQTT-3.3] QoS 0, not retained: no packet id. */
export function publishPacket(topic: Buffer, payload: string): Buffer {
  const plen = Buffer.byteLength(payload);
  const rl = remainingLength(2 + topic.length + plen);
  const b = Buffer.allocUnsafe(1 + rl.length + 2 + topic.length + plen);
  let i = 0;
  b[i++] = 0x30;
  for (const x of rl) b[i++] = x;
  b.writeUInt16BE(topic.length, i);
  i += 2;
  topic.copy(b, i);
  i += topic.length;
  b.write(payload, i, 'latin1'); // the generator's payloads are ASCII
  return b;
}

export interface MqttEvents {
  connack(): void;
  suback(): void;
  /** Payload bytes are b[start..end); valid only during the call. */
  publish(b: Buffer, start: number, end: number): void;
}

/** Incremental parser: packets may span or share chunks (WebSocket frames or TCP reads). */
export class MqttParser {
  private rest: Buffer | undefined;

  constructor(private readonly on: MqttEvents) {}

  feed(chunk: Buffer, start = 0, end = chunk.length): void {
    let b = chunk;
    let i = start;
    let stop = end;
    if (this.rest) {
      b = Buffer.concat([this.rest, chunk.subarray(start, end)]);
      this.rest = undefined;
      i = 0;
      stop = b.length;
    }
    while (stop - i >= 2) {
      let len = 0, mul = 1, h = 1, byte: number;
      do {
        if (i + h >= stop) { this.rest = Buffer.from(b.subarray(i, stop)); return; }
        byte = b[i + h]!;
        len += (byte & 0x7f) * mul;
        mul *= 128;
        h++;
      } while (byte & 0x80);
      if (stop - i < h + len) break;
      const type = b[i]! >> 4;
      const body = i + h;
      if (type === 3) {
        const qos = (b[i]! >> 1) & 3;
        const tlen = (b[body]! << 8) | b[body + 1]!;
        this.on.publish(b, body + 2 + tlen + (qos ? 2 : 0), body + len);
      } else if (type === 2) this.on.connack();
      else if (type === 9) this.on.suback();
      i = body + len;
    }
    if (i < stop) this.rest = Buffer.from(b.subarray(i, stop));
  }
}
