/**
 * The frames of a live page's WebSocket (`/ws/live`), server → browser, one
 * JSON object per text frame. One schema for every board that serves the page:
 * the Node.js sensor node (http.ts) and the ESP32 sketch
 * (examples/arduino/fieldlink_veml7700, which embeds the same page). The page
 * (public/app.js) reads only these fields; tests validate the node's frames and
 * the sketch's frames with `liveFrameProblems`, so the two cannot drift apart.
 *
 *   {op:"hello", id, model, intervalMs, history:[{ts, lux}…], latest?, hub?}   once, on connect
 *   {op:"reading", ts, lux, white, als, gain, integrationMs, hub?}              every reading
 *   {op:"identify", until, durationMs?}                                        flash the page for durationMs
 *                                                                              (else until `until`)
 *
 * `ts`/`until`: ms since 1970, or since boot on a board whose clock is not set
 * yet (the page then shows times near 1970; the chart is still right; and
 * `durationMs` lets it flash for the right time without a common clock).
 * `hub`: {url?, connected, buffered, acked?, dropped?}; no `url` means no hub is configured.
 * Unknown fields are problems: a new field is added here first, then sent.
 */
import { isDeviceId } from '@fieldlink/protocol';
import { GAIN_VALUE, INTEGRATION_TIMES } from '../veml7700/registers.js';

type Check = (v: unknown) => string | undefined;
interface Shape { required: Record<string, Check>; optional?: Record<string, Check> }

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const int: Check = (v) => (Number.isSafeInteger(v) && (v as number) >= 0 ? undefined : 'a non-negative integer');
const num: Check = (v) => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? undefined : 'a non-negative number');
const str: Check = (v) => (typeof v === 'string' && v.length > 0 && v.length <= 200 ? undefined : 'a string of 1–200 characters');
const bool: Check = (v) => (typeof v === 'boolean' ? undefined : 'true or false');
const oneOf = (values: readonly (string | number)[]): Check => (v) => (values.includes(v as never) ? undefined : `one of ${values.join(', ')}`);
const literal = (x: string): Check => (v) => (v === x ? undefined : JSON.stringify(x));
const deviceId: Check = (v) => (typeof v === 'string' && isDeviceId(v) ? undefined : 'a device id (docs/protocol.md, "Topics")');

/** An object with exactly these fields; problems are "path: expected …". */
const object = (shape: Shape): Check => (v) => {
  const p = problemsOf(v, shape, '');
  return p.length ? p.join('; ') : undefined;
};
const arrayOf = (item: Check, max: number): Check => (v) => {
  if (!Array.isArray(v)) return 'an array';
  if (v.length > max) return `at most ${max} items`;
  for (const [i, x] of v.entries()) { const e = item(x); if (e) return `[${i}]: ${e}`; }
  return undefined;
};

const READING = { ts: int, lux: num, white: int, als: int, gain: oneOf(Object.keys(GAIN_VALUE)), integrationMs: oneOf(INTEGRATION_TIMES) };
const HUB = object({ required: { connected: bool, buffered: int }, optional: { url: str, acked: int, dropped: int } });

/** Largest `history` a hello may carry (the node keeps 300 readings, the sketch fewer). */
export const LIVE_HISTORY_MAX = 300;

export const LIVE_FRAMES: Record<'hello' | 'reading' | 'identify', Shape> = {
  hello: {
    required: { op: literal('hello'), id: deviceId, model: str, intervalMs: int, history: arrayOf(object({ required: { ts: int, lux: num } }), LIVE_HISTORY_MAX) },
    optional: { latest: object({ required: READING }), hub: HUB },
  },
  reading: { required: { op: literal('reading'), ...READING }, optional: { hub: HUB } },
  identify: { required: { op: literal('identify'), until: int }, optional: { durationMs: int } },
};

function problemsOf(v: unknown, shape: Shape, at: string): string[] {
  if (!isObj(v)) return [`${at || 'frame'}: expected an object`];
  const out: string[] = [];
  const all = { ...shape.required, ...shape.optional };
  for (const [k, check] of Object.entries(shape.required)) if (!(k in v)) out.push(`${at}${k}: missing`); else { const e = check(v[k]); if (e) out.push(`${at}${k}: expected ${e}`); }
  for (const [k, check] of Object.entries(shape.optional ?? {})) if (k in v) { const e = check(v[k]); if (e) out.push(`${at}${k}: expected ${e}`); }
  for (const k of Object.keys(v)) if (!(k in all)) out.push(`${at}${k}: not a field of this frame`);
  return out;
}

/** Everything wrong with one /ws/live frame; empty when it is one of LIVE_FRAMES. */
export function liveFrameProblems(frame: unknown): string[] {
  if (!isObj(frame)) return ['frame: expected an object'];
  const shape = LIVE_FRAMES[frame.op as keyof typeof LIVE_FRAMES];
  if (!shape) return [`op: expected one of ${Object.keys(LIVE_FRAMES).join(', ')}, got ${JSON.stringify(frame.op)}`];
  return problemsOf(frame, shape, '');
}
