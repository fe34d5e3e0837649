/**
 * The PUBLISH hot path without mqtt-packet: most packets a broker reads and
 * writes are PUBLISHes with no v5 properties, and for those the general codec
 * costs more than the bytes (a BufferList, an EventEmitter per encode, `debug`
 * calls). These two functions handle exactly that case and give anything else
 * back to mqtt-packet, so the semantics stay mqtt-packet's:
 *
 *  - decodePublish reads a whole PUBLISH (the framer's view) with QoS 0–2 and,
 *    on v5, a zero Property Length; the topic is decoded as mqtt-packet decodes
 *    it (UTF-8, ill-formed sequences become U+FFFD, which checkTopicName refuses
 *    [MQTT-1.5.4-1]) and the payload is a view of the packet (no copy).
 *    Anything else (QoS 3, a truncated packet, properties) returns null.
 *  - encodePublish writes a PUBLISH without properties (v5: Property Length 0)
 *    in one allocation, byte for byte what mqtt-packet writes.
 */
import type { IPublishPacket } from 'mqtt-packet';
import type { QoS } from './types.js';

/** Whole-packet PUBLISH → packet object, or null: let mqtt-packet parse it (and report its errors). */
export function decodePublish(b: Buffer, v5: boolean): IPublishPacket | null {
  const b0 = b[0]!;
  const qos = (b0 >> 1) & 3;
  if (qos === 3) return null; // mqtt-packet refuses it (malformed)
  let i = 1;
  while (b[i]! & 0x80) i++;
  i++; // the framer checked the Remaining Length (≤ 4 bytes, matches the view)
  const end = b.length;
  if (i + 2 > end) return null;
  const tlen = (b[i]! << 8) | b[i + 1]!;
  let pos = i + 2 + tlen;
  if (pos > end) return null;
  const topic = b.toString('utf8', i + 2, pos);
  let messageId: number | undefined;
  if (qos > 0) {
    if (pos + 2 > end) return null;
    messageId = (b[pos]! << 8) | b[pos + 1]!;
    pos += 2;
  }
  if (v5) {
    if (pos >= end || b[pos] !== 0) return null; // properties (or none at all): the general parser
    pos++;
  }
  return { cmd: 'publish', topic, payload: b.subarray(pos), qos: qos as QoS, retain: (b0 & 1) !== 0, dup: (b0 & 8) !== 0, messageId, length: end - i };
}

/** PUBLISH without properties; `messageId` only for QoS > 0. */
export function encodePublish(topic: string, payload: Buffer, qos: QoS, retain: boolean, dup: boolean, messageId: number, v5: boolean): Buffer {
  const tlen = topic.length < 0x80 && isAscii(topic) ? topic.length : Buffer.byteLength(topic);
  const rem = 2 + tlen + (qos > 0 ? 2 : 0) + (v5 ? 1 : 0) + payload.length;
  const rlBytes = rem < 0x80 ? 1 : rem < 0x4000 ? 2 : rem < 0x200000 ? 3 : 4;
  const b = Buffer.allocUnsafe(1 + rlBytes + rem);
  b[0] = 0x30 | (dup ? 8 : 0) | (qos << 1) | (retain ? 1 : 0);
  let i = 1;
  let n = rem;
  do {
    let x = n & 0x7f;
    n >>>= 7;
    if (n > 0) x |= 0x80;
    b[i++] = x;
  } while (n > 0);
  b[i++] = tlen >> 8;
  b[i++] = tlen & 0xff;
  if (tlen === topic.length && tlen < 0x80) { for (let k = 0; k < tlen; k++) b[i + k] = topic.charCodeAt(k); } // ASCII: cheaper than Buffer#write for a few bytes
  else b.write(topic, i, tlen, tlen === topic.length ? 'latin1' : 'utf8'); // equal lengths: ASCII, where latin1 is UTF-8
  i += tlen;
  if (qos > 0) { b[i++] = messageId >> 8; b[i++] = messageId & 0xff; }
  if (v5) b[i++] = 0;
  payload.copy(b, i);
  return b;
}

function isAscii(s: string): boolean {
  for (let k = 0; k < s.length; k++) if (s.charCodeAt(k) > 0x7f) return false;
  return true;
}
