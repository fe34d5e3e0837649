/**
 * Topic names and filters (MQTT 5.0 §4.7, 3.1.1 §4.7). Validation returns a v5
 * reason code (0 = valid) so handlers can answer without a second lookup.
 */
import { RC } from './reasons.js';

/** 0 if `topic` may be published to; else 0x90. Wildcards [MQTT-3.3.2-2], U+0000 [MQTT-1.5.4-2], length. */
export function checkTopicName(topic: string, maxBytes: number): number {
  if (topic.length === 0) return RC.TOPIC_NAME_INVALID; // [MQTT-4.7.3-1]
  if (topic.length > maxBytes || (topic.length * 3 > maxBytes && Buffer.byteLength(topic) > maxBytes)) return RC.TOPIC_NAME_INVALID;
  for (let i = 0; i < topic.length; i++) {
    const c = topic.charCodeAt(i);
    if (c === 0x23 /* # */ || c === 0x2b /* + */ || c === 0) return RC.TOPIC_NAME_INVALID;
    if (c === 0xfffd) return RC.TOPIC_NAME_INVALID; // ill-formed UTF-8 decoded by the parser [MQTT-1.5.4-1]
  }
  return 0;
}

/** Wildcards only as whole levels, `#` last [MQTT-4.7.1-2/3]. 0 or 0x8F. */
export function checkFilter(filter: string, maxBytes: number): number {
  if (filter.length === 0) return RC.TOPIC_FILTER_INVALID; // [MQTT-4.7.3-1]
  if (filter.length > maxBytes || (filter.length * 3 > maxBytes && Buffer.byteLength(filter) > maxBytes)) return RC.TOPIC_FILTER_INVALID;
  for (let i = 0; i < filter.length; i++) {
    const c = filter.charCodeAt(i);
    if (c === 0 || c === 0xfffd) return RC.TOPIC_FILTER_INVALID;
    if (c === 0x2b /* + */) {
      if ((i > 0 && filter.charCodeAt(i - 1) !== 0x2f) || (i + 1 < filter.length && filter.charCodeAt(i + 1) !== 0x2f)) return RC.TOPIC_FILTER_INVALID;
    } else if (c === 0x23 /* # */) {
      if (i !== filter.length - 1 || (i > 0 && filter.charCodeAt(i - 1) !== 0x2f)) return RC.TOPIC_FILTER_INVALID;
    }
  }
  return 0;
}

export const hasWildcard = (filter: string): boolean => filter.includes('+') || filter.includes('#');

export interface SharedFilter { group: string; filter: string }

/**
 * `$share/{group}/{filter}` → its parts; null when not shared; undefined when
 * malformed (group empty or with wildcards, no filter) [MQTT-4.8.2-1/2].
 */
export function parseShared(s: string): SharedFilter | null | undefined {
  if (!s.startsWith('$share/')) return null;
  const slash = s.indexOf('/', 7);
  if (slash <= 7) return undefined;
  const group = s.slice(7, slash);
  const filter = s.slice(slash + 1);
  if (group.includes('+') || group.includes('#') || filter.length === 0) return undefined;
  return { group, filter };
}

/** Filter matches topic, with `$` rules [MQTT-4.7.2-1]. Used off the hot path (retained on subscribe uses its own tree). */
export function matches(filter: string, topic: string): boolean {
  if (topic.charCodeAt(0) === 0x24 /* $ */ && (filter.charCodeAt(0) === 0x2b || filter.charCodeAt(0) === 0x23)) return false;
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    const p = f[i];
    if (p === '#') return true;
    if (i >= t.length) return false;
    if (p !== '+' && p !== t[i]) return false;
  }
  return f.length === t.length;
}
