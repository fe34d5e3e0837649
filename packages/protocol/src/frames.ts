/**
 * Browser protocol v1 (`/ws`): request, reply and push frames, and the one
 * parser every server door uses. `docs/protocol.md` describes the same shapes.
 *
 * Contract: every request carries a string `id` (1–64 chars) and gets exactly one
 * reply `{id, ok:true, result}` or `{id, ok:false, error:{code, name, message}}`.
 * A frame too broken to carry an id is answered `{op:"error", error}`.
 */
import { Codes, type CodeName } from './codes.js';
import { filterProblem, topicProblem } from './topics.js';

export const PROTOCOL_VERSION = 1;

/** Credentials: a `token`, or `user` + `password`. With none, the reply tells who the connection already is (cookie or anonymous). */
export interface AuthRequest { op: 'auth'; id: string; token?: string; user?: string; password?: string }
/** `epoch` + `since`: resume after a reconnect from the last `seq` seen in that epoch. */
export interface SubRequest { op: 'sub'; id: string; filter: string; retained?: boolean; epoch?: string; since?: number }
export interface UnsubRequest { op: 'unsub'; id: string; filter: string }
export interface PubRequest { op: 'pub'; id: string; topic: string; payload: unknown; encoding?: 'json' | 'text' | 'base64'; retain?: boolean; qos?: 0 | 1 | 2 }
export interface HistoryRequest { op: 'history'; id: string; device: string; metric: string; from?: number | string; to?: number | string; bucket?: number | string; limit?: number }
export interface DevicesRequest { op: 'devices'; id: string; device?: string }
/** `queue.ttl` (ms, ≤ 24 h): for a device of a linked site that is offline, keep the command until the site returns or the ttl passes (docs/link.md). */
export interface CallRequest { op: 'call'; id: string; device: string; method: string; params?: Record<string, unknown>; timeout?: number; queue?: { ttl: number } }
export interface PingRequest { op: 'ping'; id: string }
/** Alerts (docs/alerts.md): history (`state: "active"` for the firing ones), acknowledge, rules. */
export interface AlertsRequest { op: 'alerts'; id: string; state?: 'firing' | 'resolved' | 'active'; rule?: string; device?: string; from?: number | string; to?: number | string; limit?: number }
export interface AckRequest { op: 'ack'; id: string; alert: string }
export interface RulesRequest { op: 'rules'; id: string }
export interface PutRuleRequest { op: 'putRule'; id: string; rule: Record<string, unknown> }
export interface DeleteRuleRequest { op: 'deleteRule'; id: string; name: string }

export type Request = AuthRequest | SubRequest | UnsubRequest | PubRequest | HistoryRequest | DevicesRequest | CallRequest | PingRequest
  | AlertsRequest | AckRequest | RulesRequest | PutRuleRequest | DeleteRuleRequest;
export type Op = Request['op'];

export interface ErrorBody { code: number; name: string; message: string }
export interface OkReply<T = unknown> { id: string; ok: true; result: T }
export interface ErrReply { id: string; ok: false; error: ErrorBody }
export type Reply<T = unknown> = OkReply<T> | ErrReply;

/**
 * Server push of a bus message. `payload` is the JSON value when the bytes parse as JSON; else text (`enc:"text"`) or base64 (`enc:"base64"`).
 * `rebuilt`: rebuilt from stored readings by a resume across a hub restart (docs/protocol.md "Resuming after a restart").
 */
export interface MsgPush { op: 'msg'; topic: string; payload: unknown; enc?: 'text' | 'base64'; ts: number; seq: number; retained: boolean; rebuilt?: true }
export interface ErrorPush { op: 'error'; error: ErrorBody }
export type Push = MsgPush | ErrorPush;

export const MAX_TIMEOUT_MS = 60_000;
/** Longest a command may wait in a link's queue for its site (24 h). */
export const MAX_QUEUE_TTL_MS = 86_400_000;
export const MAX_ID_LENGTH = 64;

export type ParseResult<T> = { ok: true; value: T } | { ok: false; id?: string; code: CodeName; message: string };

export function errorBody(code: CodeName, message?: string): ErrorBody {
  const c = Codes[code];
  return { code: c.code, name: code, message: message ?? c.message };
}

type Obj = Record<string, unknown>;
type Field = 'string' | 'number' | 'boolean' | 'object' | 'any';
interface OpSpec { required: Record<string, Field>; optional: Record<string, Field> }

/** Field table per op: the parser, docs/protocol.md and the client all follow it. */
export const OPS: Record<Op, OpSpec> = {
  auth: { required: {}, optional: { token: 'string', user: 'string', password: 'string' } },
  sub: { required: { filter: 'string' }, optional: { retained: 'boolean', epoch: 'string', since: 'number' } },
  unsub: { required: { filter: 'string' }, optional: {} },
  pub: { required: { topic: 'string', payload: 'any' }, optional: { encoding: 'string', retain: 'boolean', qos: 'number' } },
  history: { required: { device: 'string', metric: 'string' }, optional: { from: 'any', to: 'any', bucket: 'any', limit: 'number' } },
  devices: { required: {}, optional: { device: 'string' } },
  call: { required: { device: 'string', method: 'string' }, optional: { params: 'object', timeout: 'number', queue: 'object' } },
  ping: { required: {}, optional: {} },
  alerts: { required: {}, optional: { state: 'string', rule: 'string', device: 'string', from: 'any', to: 'any', limit: 'number' } },
  ack: { required: { alert: 'string' }, optional: {} },
  rules: { required: {}, optional: {} },
  putRule: { required: { rule: 'object' }, optional: {} },
  deleteRule: { required: { name: 'string' }, optional: {} },
};

function typeOk(v: unknown, t: Field): boolean {
  if (t === 'any') return v !== undefined;
  if (t === 'object') return typeof v === 'object' && v !== null && !Array.isArray(v);
  if (t === 'number') return typeof v === 'number' && Number.isFinite(v);
  return typeof v === t;
}

/** Parse and validate one text frame of the browser door. Never throws. */
export function parseRequest(text: string): ParseResult<Request> {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { ok: false, code: 'BAD_JSON', message: 'frame is not valid JSON' };
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return { ok: false, code: 'BAD_FRAME', message: 'frame must be a JSON object' };
  const o = raw as Obj;
  const id = o.id;
  if (id === undefined) return { ok: false, code: 'MISSING_FIELD', message: 'missing field "id"' };
  if (typeof id !== 'string' || id.length === 0 || id.length > MAX_ID_LENGTH) return { ok: false, code: 'WRONG_TYPE', message: `"id" must be a string of 1–${MAX_ID_LENGTH} characters` };
  return validateOp(o, id);
}

function validateOp(o: Obj, id: string): ParseResult<Request> {
  const fail = (code: CodeName, message: string): ParseResult<Request> => ({ ok: false, id, code, message });
  if (typeof o.op !== 'string') return fail('MISSING_FIELD', 'missing field "op"');
  const spec = (OPS as Record<string, OpSpec | undefined>)[o.op];
  if (!spec) return fail('UNKNOWN_OP', `unknown op "${o.op.slice(0, 32)}"`);
  for (const [k, t] of Object.entries(spec.required)) {
    if (o[k] === undefined) return fail('MISSING_FIELD', `missing field "${k}"`);
    if (!typeOk(o[k], t)) return fail('WRONG_TYPE', `"${k}" must be ${t === 'any' ? 'present' : `a ${t}`}`);
  }
  for (const [k, t] of Object.entries(spec.optional)) {
    if (o[k] !== undefined && !typeOk(o[k], t)) return fail('WRONG_TYPE', `"${k}" must be a ${t}`);
  }
  switch (o.op) {
    case 'sub':
    case 'unsub': {
      const p = filterProblem(o.filter as string);
      if (p) return fail('INVALID_FILTER', `invalid filter: ${p}`);
      break;
    }
    case 'pub': {
      const p = topicProblem(o.topic as string);
      if (p) return fail('INVALID_TOPIC', `invalid topic: ${p}`);
      if (o.qos !== undefined && o.qos !== 0 && o.qos !== 1 && o.qos !== 2) return fail('WRONG_TYPE', '"qos" must be 0, 1 or 2');
      if (o.encoding !== undefined && o.encoding !== 'json' && o.encoding !== 'text' && o.encoding !== 'base64') return fail('WRONG_TYPE', '"encoding" must be "json", "text" or "base64"');
      if (o.encoding !== undefined && o.encoding !== 'json' && typeof o.payload !== 'string') return fail('WRONG_TYPE', `"payload" must be a string with encoding "${o.encoding}"`);
      if (o.encoding === 'base64' && !/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(o.payload as string)) return fail('WRONG_TYPE', '"payload" is not valid base64');
      break;
    }
    case 'call':
      if (o.timeout !== undefined && ((o.timeout as number) <= 0 || (o.timeout as number) > MAX_TIMEOUT_MS)) return fail('WRONG_TYPE', `"timeout" must be in (0, ${MAX_TIMEOUT_MS}] ms`);
      if (!/^[A-Za-z0-9_.-]{1,64}$/.test(o.method as string)) return fail('WRONG_TYPE', '"method" must be 1–64 letters, digits, "_", "-" or "."');
      if (o.queue !== undefined) {
        const ttl = (o.queue as Obj).ttl;
        if (!Number.isSafeInteger(ttl) || (ttl as number) <= 0 || (ttl as number) > MAX_QUEUE_TTL_MS) return fail('WRONG_TYPE', `"queue.ttl" must be an integer in (0, ${MAX_QUEUE_TTL_MS}] ms`);
      }
      break;
  }
  return { ok: true, value: o as unknown as Request };
}

/** Encode a payload of a `pub` request to the bytes published on the bus. */
export function encodePubPayload(req: Pick<PubRequest, 'payload' | 'encoding'>): Uint8Array | string {
  if (req.encoding === 'text') return req.payload as string;
  if (req.encoding === 'base64') return base64ToBytes(req.payload as string);
  return JSON.stringify(req.payload);
}

function base64ToBytes(s: string): Uint8Array {
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}
