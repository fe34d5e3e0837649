/**
 * JSON device door (`/ws/device`): the device conventions of design.md as frames,
 * for boards that have a WebSocket client but no MQTT.
 *
 * The first frame must be `auth` (names the device). Any frame may carry an `id`;
 * a frame with an `id` gets exactly one reply `{id, ok, result|error}`; errors in a
 * frame without one are pushed as `{op:"error", error}`. The hub sends commands as
 * `{op:"cmd", id, method, params}` and the device answers `{op:"res", id, ok, …}`.
 */
import type { CodeName } from './codes.js';
import { MAX_ID_LENGTH, type ParseResult } from './frames.js';
import { isDeviceId, topicProblem, type DeviceMeta } from './topics.js';

export interface DeviceAuthFrame { op: 'auth'; id?: string; device: string; secret?: string; token?: string }
export interface DeviceMetaFrame { op: 'meta'; id?: string; meta: DeviceMeta }
export interface DeviceTelemetryFrame { op: 'telemetry'; id?: string; data: Record<string, unknown>; ts?: number }
/** Publish under the device's own prefix: `topic` is relative to `devices/{id}/`. */
export interface DevicePubFrame { op: 'pub'; id?: string; topic: string; payload: unknown; retain?: boolean }
export interface DeviceResFrame { op: 'res'; id: string; ok: boolean; result?: unknown; error?: { message: string; code?: number } }
export interface DevicePingFrame { op: 'ping'; id?: string }

export type DeviceFrame = DeviceAuthFrame | DeviceMetaFrame | DeviceTelemetryFrame | DevicePubFrame | DeviceResFrame | DevicePingFrame;

/** Hub → device command. */
export interface DeviceCmdPush { op: 'cmd'; id: string; method: string; params: Record<string, unknown> }

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export function parseDeviceFrame(text: string): ParseResult<DeviceFrame> {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { ok: false, code: 'BAD_JSON', message: 'frame is not valid JSON' };
  }
  if (!isObj(raw)) return { ok: false, code: 'BAD_FRAME', message: 'frame must be a JSON object' };
  const id = raw.id;
  if (id !== undefined && (typeof id !== 'string' || id.length === 0 || id.length > MAX_ID_LENGTH)) {
    return { ok: false, code: 'WRONG_TYPE', message: `"id" must be a string of 1–${MAX_ID_LENGTH} characters` };
  }
  const fail = (code: CodeName, message: string): ParseResult<DeviceFrame> => ({ ok: false, ...(id ? { id } : {}), code, message });
  switch (raw.op) {
    case undefined:
      return fail('MISSING_FIELD', 'missing field "op"');
    case 'auth':
      if (typeof raw.device !== 'string') return fail('MISSING_FIELD', 'missing field "device"');
      if (!isDeviceId(raw.device)) return fail('INVALID_ID', 'invalid device id');
      if ((raw.secret !== undefined && typeof raw.secret !== 'string') || (raw.token !== undefined && typeof raw.token !== 'string')) return fail('WRONG_TYPE', '"secret" and "token" must be strings');
      break;
    case 'meta':
      if (!isObj(raw.meta)) return fail(raw.meta === undefined ? 'MISSING_FIELD' : 'WRONG_TYPE', '"meta" must be an object');
      break;
    case 'telemetry':
      if (!isObj(raw.data)) return fail(raw.data === undefined ? 'MISSING_FIELD' : 'WRONG_TYPE', '"data" must be an object');
      if (raw.ts !== undefined && (typeof raw.ts !== 'number' || !Number.isFinite(raw.ts))) return fail('WRONG_TYPE', '"ts" must be a number (ms since epoch)');
      break;
    case 'pub': {
      if (typeof raw.topic !== 'string') return fail('MISSING_FIELD', 'missing field "topic"');
      if (raw.payload === undefined) return fail('MISSING_FIELD', 'missing field "payload"');
      const p = topicProblem(raw.topic);
      if (p) return fail('INVALID_TOPIC', `invalid topic: ${p}`);
      if (raw.retain !== undefined && typeof raw.retain !== 'boolean') return fail('WRONG_TYPE', '"retain" must be a boolean');
      break;
    }
    case 'res':
      if (typeof id !== 'string') return fail('MISSING_FIELD', 'missing field "id"');
      if (typeof raw.ok !== 'boolean') return fail('MISSING_FIELD', 'missing field "ok"');
      break;
    case 'ping':
      break;
    default:
      return fail('UNKNOWN_OP', typeof raw.op === 'string' ? `unknown op "${raw.op.slice(0, 32)}"` : '"op" must be a string');
  }
  return { ok: true, value: raw as unknown as DeviceFrame };
}
