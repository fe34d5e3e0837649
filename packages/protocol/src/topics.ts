/**
 * MQTT topic names and filters, with the spec's rules cited, plus the device
 * topic conventions of design.md. Pure functions: used by every door, the bus
 * contract tests, the dashboard and the devices.
 */

/** Fieldlink's own cap (the spec allows 65,535 bytes); keeps tries and logs small. */
export const MAX_TOPIC_BYTES = 1024;
export const MAX_TOPIC_LEVELS = 32;

const encoder = new TextEncoder();

/**
 * Whether `s` takes more than MAX_TOPIC_BYTES in UTF-8, without encoding it when
 * its length decides (every UTF-16 unit is 1 to 3 bytes): a topic per publish,
 * so no allocation on the common path.
 */
function overMaxBytes(s: string): boolean {
  if (s.length > MAX_TOPIC_BYTES) return true;
  if (s.length * 3 <= MAX_TOPIC_BYTES) return false;
  return encoder.encode(s).length > MAX_TOPIC_BYTES;
}

export type TopicProblem = 'empty' | 'too_long' | 'wildcard' | 'nul' | 'too_deep' | 'bad_wildcard';

/** A publish topic: [MQTT-4.7.3-1] at least one character, [MQTT-3.3.2-2] no wildcards, [MQTT-1.5.3-2] no NUL. */
export function topicProblem(topic: string): TopicProblem | undefined {
  if (topic.length === 0) return 'empty';
  if (overMaxBytes(topic)) return 'too_long';
  if (topic.includes('\u0000')) return 'nul';
  if (topic.includes('+') || topic.includes('#')) return 'wildcard';
  if (countLevels(topic) > MAX_TOPIC_LEVELS) return 'too_deep';
  return undefined;
}

/**
 * A subscription filter: [MQTT-4.7.1-2] `#` alone in the last level,
 * [MQTT-4.7.1-3] `+` occupies a whole level, [MQTT-4.7.3-1] not empty.
 */
export function filterProblem(filter: string): TopicProblem | undefined {
  if (filter.length === 0) return 'empty';
  if (overMaxBytes(filter)) return 'too_long';
  if (filter.includes('\u0000')) return 'nul';
  const levels = filter.split('/');
  if (levels.length > MAX_TOPIC_LEVELS) return 'too_deep';
  for (let i = 0; i < levels.length; i++) {
    const level = levels[i]!;
    if (level.includes('#') && (level !== '#' || i !== levels.length - 1)) return 'bad_wildcard';
    if (level.includes('+') && level !== '+') return 'bad_wildcard';
  }
  return undefined;
}

function countLevels(topic: string): number {
  let n = 1;
  for (let i = 0; i < topic.length; i++) if (topic.charCodeAt(i) === 47) n++;
  return n;
}

/**
 * Does `filter` match `topic`? [MQTT-4.7.2-1]: filters starting with a wildcard
 * do not match topics starting with `$`. `sport/#` also matches `sport` (4.7.1.2).
 */
export function topicMatches(filter: string, topic: string): boolean {
  if (topic.startsWith('$') && (filter.startsWith('+') || filter.startsWith('#'))) return false;
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    const level = f[i];
    if (level === '#') return true;
    if (i >= t.length) return false;
    if (level !== '+' && level !== t[i]) return false;
  }
  return f.length === t.length;
}

// ---- device conventions (design.md "Topic conventions") ----

/** Device ids are single topic levels; kept conservative so they are safe in URLs, file names and SQL identifiers' neighbourhood. */
const DEVICE_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/;

export function isDeviceId(id: string): boolean {
  return DEVICE_ID.test(id);
}

export const deviceTopic = {
  telemetry: (id: string) => `devices/${id}/telemetry`,
  status: (id: string) => `devices/${id}/status`,
  meta: (id: string) => `devices/${id}/meta`,
  cmd: (id: string, method: string) => `devices/${id}/cmd/${method}`,
  cmdResponse: (id: string, method: string) => `devices/${id}/cmd/${method}/res`,
} as const;

export type DeviceTopicKind = 'telemetry' | 'status' | 'meta' | 'cmd' | 'cmd_res';

export interface ParsedDeviceTopic {
  device: string;
  kind: DeviceTopicKind;
  method?: string;
}

/** Topics whose parse is remembered (each door, the registry and ingest parse every device message's topic); cleared whole when full. */
const PARSED_TOPICS = 4096;
const parsedTopics = new Map<string, Readonly<ParsedDeviceTopic> | undefined>();

/**
 * Recognise a topic of the device conventions; anything else under `devices/` is
 * left alone (undefined). The result is shared between calls for the same topic:
 * read-only.
 */
export function parseDeviceTopic(topic: string): Readonly<ParsedDeviceTopic> | undefined {
  const known = parsedTopics.get(topic);
  if (known !== undefined || parsedTopics.has(topic)) return known;
  const parsed = parseDeviceTopicOnce(topic);
  if (parsedTopics.size >= PARSED_TOPICS) parsedTopics.clear();
  parsedTopics.set(topic, parsed && Object.freeze(parsed));
  return parsed;
}

function parseDeviceTopicOnce(topic: string): ParsedDeviceTopic | undefined {
  const p = topic.split('/');
  if (p[0] !== 'devices' || p.length < 3 || !isDeviceId(p[1]!)) return undefined;
  const device = p[1]!;
  if (p.length === 3) {
    if (p[2] === 'telemetry' || p[2] === 'status' || p[2] === 'meta') return { device, kind: p[2] };
    return undefined;
  }
  if (p[2] !== 'cmd' || !p[3]) return undefined;
  if (p.length === 4) return { device, kind: 'cmd', method: p[3] };
  if (p.length === 5 && p[4] === 'res') return { device, kind: 'cmd_res', method: p[3] };
  return undefined;
}

/** Status payloads, retained on `devices/{id}/status`. */
export interface DeviceStatus {
  online: boolean;
  ts: number;
  /** Why the hub set it: `will` (last will), `closed` (WebSocket closed), `birth` (device said so). */
  reason?: string;
}

/** Meta payloads, retained on `devices/{id}/meta`. */
export interface DeviceMeta {
  model?: string;
  firmware?: string;
  metrics?: Record<string, { unit?: string; min?: number; max?: number; description?: string }>;
  methods?: Record<string, { description?: string; params?: Record<string, ParamSpec> }>;
}

export interface ParamSpec {
  type: 'number' | 'integer' | 'string' | 'boolean';
  enum?: (string | number)[];
  min?: number;
  max?: number;
  description?: string;
}

/** Command request payload on `devices/{id}/cmd/{method}`. */
export interface CommandRequest {
  id: string;
  params?: Record<string, unknown>;
}

/** Command response payload on `devices/{id}/cmd/{method}/res`. */
export interface CommandResponse {
  id: string;
  ok: boolean;
  result?: unknown;
  error?: { code?: number; message: string };
}
