/**
 * Push frame encoding, once per message. A JSON payload is spliced in as the
 * exact bytes the publisher sent (validated by one JSON.parse, never re-stringified);
 * other UTF-8 text travels as a string with `enc:"text"`, anything else as base64.
 */
import { isUtf8 } from 'node:buffer';
import type { BusMessage } from '../../bus/types.js';

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

export function encodePayload(payload: Buffer): { json: string; enc?: 'text' | 'base64' } {
  if (payload.length > 0 && isUtf8(payload)) {
    const text = payload.toString('utf8');
    try {
      JSON.parse(text);
      return { json: text };
    } catch {
      return { json: JSON.stringify(text), enc: 'text' };
    }
  }
  if (payload.length === 0) return { json: '""', enc: 'text' };
  return { json: JSON.stringify(payload.toString('base64')), enc: 'base64' };
}

export function encodePush(msg: BusMessage, seq: number): string {
  const p = encodePayload(msg.payload);
  const enc = p.enc ? `,"enc":"${p.enc}"` : '';
  return `{"op":"msg","topic":${quotedTopic(msg.topic)},"payload":${p.json}${enc},"ts":${msg.ts},"seq":${seq},"retained":${msg.retained}}`;
}
