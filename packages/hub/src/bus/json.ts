/**
 * One JSON.parse per message, shared by every consumer of the bus in this
 * process (registry, ingest, browser encoding): the result is kept on the
 * message object's identity (bus contract item 2) until it is collected.
 */
import { isUtf8 } from 'node:buffer';
import type { BusMessage } from './types.js';

export const NOT_JSON: unique symbol = Symbol('not JSON');
/**
 * The parse is kept on the message itself under a symbol (a WeakMap per message
 * cost more than the parse's bookkeeping should: an ephemeron entry per message
 * for the GC to trace); a frozen message falls back to the WeakMap.
 */
const PARSED: unique symbol = Symbol('fieldlink.json');
type Slotted = BusMessage & { [PARSED]?: unknown };
const cache = new WeakMap<BusMessage, unknown>();

/** The parsed payload, or NOT_JSON when the bytes are not UTF-8 JSON. Treat the value as read-only. */
export function jsonOf(msg: BusMessage): unknown {
  const slotted = msg as Slotted;
  if (PARSED in slotted) return slotted[PARSED];
  if (cache.has(msg)) return cache.get(msg);
  let v: unknown = NOT_JSON;
  if (msg.payload.length > 0 && isUtf8(msg.payload)) {
    try {
      v = JSON.parse(msg.payload.toString('utf8'));
    } catch {
      v = NOT_JSON;
    }
  }
  if (Object.isExtensible(msg)) slotted[PARSED] = v;
  else cache.set(msg, v);
  return v;
}
