/**
 * Push frame encoding, once per message. A JSON payload is spliced in as the
 * exact bytes the publisher sent (validated by one JSON.parse, never re-stringified);
 * other UTF-8 text travels as a string with `enc:"text"`, anything else as base64.
 * The result is the complete WebSocket frame (RFC 6455 §5.2: FIN + text opcode,
 * unmasked as server frames are), built once and written as is to every browser:
 * no per-browser UTF-8 encoding or framing.
 */
import { isUtf8 } from 'node:buffer';
import type { BusMessage } from '../../bus/types.js';
import { NOT_JSON, jsonOf } from '../../bus/json.js';

const topicCache = new Map<string, string>();
const TOPIC_CACHE_MAX = 50_000;

function quotedTopic(topic: string): string {
  let q = topicCache.get(topic);
  if (q === undefined) {
    q = JSON.stringify(topic);
    if (topicCache.size >= TOPIC_CACHE_MAX) topicCache.clear();
    topicCache.set(topic, q);
  }
  return q;
}

/**
 * The payload as it goes into a push: JSON as the publisher's own text (parsed once,
 * by `jsonOf`, for every consumer of the message), else UTF-8 text or base64.
 */
function encodePayload(msg: BusMessage): { json: string; enc?: 'text' | 'base64' } {
  const { payload } = msg;
  if (jsonOf(msg) !== NOT_JSON) return { json: payload.toString('utf8') };
  if (payload.length === 0) return { json: '""', enc: 'text' };
  if (isUtf8(payload)) return { json: JSON.stringify(payload.toString('utf8')), enc: 'text' };
  return { json: JSON.stringify(payload.toString('base64')), enc: 'base64' };
}

export function encodePush(msg: BusMessage, seq: number): Buffer {
  const p = encodePayload(msg);
  const enc = p.enc ? `,"enc":"${p.enc}"` : '';
  return wireFrame(`{"op":"msg","topic":${quotedTopic(msg.topic)},"payload":${p.json}${enc},"ts":${msg.ts},"seq":${seq},"retained":${msg.retained}}`);
}

/** A whole unmasked WebSocket text frame for `text`. */
export function wireFrame(text: string): Buffer {
  const len = Buffer.byteLength(text);
  const head = len < 126 ? 2 : len < 65536 ? 4 : 10;
  const out = Buffer.allocUnsafe(head + len);
  out[0] = 0x81; // FIN | opcode 1 (text)
  if (head === 2) out[1] = len;
  else if (head === 4) {
    out[1] = 126;
    out.writeUInt16BE(len, 2);
  } else {
    out[1] = 127;
    out.writeUInt32BE(0, 2);
    out.writeUInt32BE(len, 6);
  }
  out.write(text, head, 'utf8');
  return out;
}
