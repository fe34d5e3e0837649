/**
 * The hub-to-hub link (`/link`, subprotocol `fieldlink.link.v1`, docs/link.md):
 * JSON text frames in the browser protocol's style, one parser for both ends.
 *
 * Records travel in lanes (`state`: status, meta, command replies; `telemetry`),
 * each an ordered log numbered (epoch, seq) by the site. A record's `from` is the
 * first seq it stands for: a reading stands for itself (`from` = `seq`), a gap
 * record for a whole dropped range, so a receiver checks contiguity with
 * `from === mark + 1` whatever the record is.
 *
 * Central → site: hello (identity, marks, clock), ack, resend, call, ping/pong, error.
 * Site → central: batch, result, ping/pong.
 */
import { Codes, type CodeName } from './codes.js';
import { isDeviceId } from './topics.js';
import type { ErrorBody, ParseResult } from './frames.js';

export const LINK_SUBPROTOCOL = 'fieldlink.link.v1';
export const LINK_LANES = ['state', 'telemetry'] as const;
export type LinkLane = (typeof LINK_LANES)[number];
export const GAP_REASONS = ['queue_full', 'ttl', 'disk_floor'] as const;
export type GapReason = (typeof GAP_REASONS)[number];
/** Most records in one batch frame (a sender may send fewer). */
export const LINK_MAX_BATCH = 2000;
/** A site id: what `fieldlink link site add` accepts and central prefixes its devices with (`{site}:{id}`). */
const SITE_ID = /^[a-z0-9][a-z0-9-]{0,31}$/;
export const isSiteId = (s: unknown): s is string => typeof s === 'string' && SITE_ID.test(s);
/** The device id a site's device has at central. */
export const siteDeviceId = (site: string, device: string) => `${site}:${device}`;

/** A reading: the numeric fields of one telemetry message of `device` at `ts`. */
export interface TelemetryBody { k: 'tel'; device: string; ts: number; values: Record<string, number> }
/** A device message of the state lane: `topic` is `devices/{id}/status|meta|cmd/{m}/res`. */
export interface MessageBody { k: 'msg'; topic: string; payload: string; retain: boolean; ts: number }
/** Records `from`…`seq` were dropped at the site: no reading of that range will ever come. */
export interface GapBody { k: 'gap'; reason: GapReason; count: number; firstTs: number; lastTs: number }
export type RecordBody = TelemetryBody | MessageBody | GapBody;
/** `via`: the hubs a record passed (loop prevention: a link never sends it back to one of them). */
export interface LinkRecord { seq: number; from: number; via?: string[]; body: RecordBody }

export interface LaneMark { epoch: string; seq: number }
export interface HelloFrame { op: 'hello'; site: string; hub: string; now: number; marks: Partial<Record<LinkLane, LaneMark>>; pingMs: number }
/** `floor`: records up to it were acknowledged earlier and are gone from the outbox (a central that lost them records a gap, not a loop of resends). */
export interface BatchFrame { op: 'batch'; lane: LinkLane; epoch: string; records: LinkRecord[]; floor?: number }
export interface AckFrame { op: 'ack'; lane: LinkLane; epoch: string; seq: number; duplicates?: number }
/** Central refused a batch that did not continue its mark: send again from `seq + 1`. */
export interface ResendFrame { op: 'resend'; lane: LinkLane; epoch: string; seq: number; error: ErrorBody }
/** A device command; `deadline` is central's clock in ms (the site corrects it by the skew measured at hello). */
export interface CallFrame { op: 'call'; id: string; device: string; method: string; params?: Record<string, unknown>; deadline: number }
export interface ResultFrame { op: 'result'; id: string; ok: boolean; result?: unknown; error?: ErrorBody }
export interface PingFrame { op: 'ping' | 'pong'; t: number }
export interface LinkErrorFrame { op: 'error'; error: ErrorBody }
export type LinkFrame = HelloFrame | BatchFrame | AckFrame | ResendFrame | CallFrame | ResultFrame | PingFrame | LinkErrorFrame;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const isSeq = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
const isLane = (v: unknown): v is LinkLane => v === 'state' || v === 'telemetry';
const isEpoch = (v: unknown): v is string => typeof v === 'string' && /^[A-Za-z0-9_-]{1,64}$/.test(v);

/** Why a record is not a well-formed record of `lane`, or undefined. The namespace check is central's (link/namespace.ts). */
export function recordProblem(r: unknown, lane: LinkLane): string | undefined {
  if (!isObj(r)) return 'a record must be an object';
  if (!isSeq(r.seq) || r.seq === 0 || !isSeq(r.from) || r.from === 0 || r.from > r.seq) return 'a record needs 1 <= from <= seq';
  if (r.via !== undefined && (!Array.isArray(r.via) || r.via.length > 16 || !r.via.every((h) => typeof h === 'string' && h.length <= 64))) return '"via" must be at most 16 hub names';
  const b = r.body;
  if (!isObj(b)) return 'a record needs a body';
  if (b.k === 'gap') {
    if (!(GAP_REASONS as readonly unknown[]).includes(b.reason)) return 'unknown gap reason';
    if (!isSeq(b.count) || !isSeq(b.firstTs) || !isSeq(b.lastTs)) return 'a gap needs count, firstTs, lastTs';
    return undefined;
  }
  if (r.from !== r.seq) return 'only a gap record stands for more than one seq';
  if (b.k === 'tel') {
    if (lane !== 'telemetry') return 'telemetry belongs to the telemetry lane';
    if (typeof b.device !== 'string' || !isDeviceId(b.device)) return 'invalid device id';
    if (!isSeq(b.ts) || !isObj(b.values)) return 'a reading needs ts and values';
    for (const [k, v] of Object.entries(b.values)) if (k.length === 0 || k.length > 128 || typeof v !== 'number' || !Number.isFinite(v)) return 'values must be finite numbers';
    return undefined;
  }
  if (b.k === 'msg') {
    if (lane !== 'state') return 'device messages belong to the state lane';
    if (typeof b.topic !== 'string' || typeof b.payload !== 'string' || typeof b.retain !== 'boolean' || !isSeq(b.ts)) return 'a message needs topic, payload, retain, ts';
    return undefined;
  }
  return 'unknown record kind';
}

/** Parse and validate one text frame of the link. Never throws. */
export function parseLinkFrame(text: string): ParseResult<LinkFrame> {
  let o: unknown;
  try {
    o = JSON.parse(text);
  } catch {
    return { ok: false, code: 'BAD_JSON', message: 'frame is not valid JSON' };
  }
  if (!isObj(o)) return { ok: false, code: 'BAD_FRAME', message: 'frame must be a JSON object' };
  const fail = (code: CodeName, message: string): ParseResult<LinkFrame> => ({ ok: false, code, message });
  const ok = () => ({ ok: true as const, value: o as unknown as LinkFrame });
  switch (o.op) {
    case 'hello':
      return isSiteId(o.site) && typeof o.hub === 'string' && isSeq(o.now) && isObj(o.marks) && isSeq(o.pingMs) ? ok() : fail('WRONG_TYPE', 'hello needs site, hub, now, marks, pingMs');
    case 'batch': {
      if (!isLane(o.lane) || !isEpoch(o.epoch) || !Array.isArray(o.records)) return fail('WRONG_TYPE', 'batch needs lane, epoch, records');
      if (o.floor !== undefined && !isSeq(o.floor)) return fail('WRONG_TYPE', '"floor" must be a seq');
      if (o.records.length === 0 || o.records.length > LINK_MAX_BATCH) return fail('WRONG_TYPE', `a batch carries 1–${LINK_MAX_BATCH} records`);
      for (const r of o.records) {
        const p = recordProblem(r, o.lane);
        if (p) return fail('BAD_PAYLOAD', p);
      }
      return ok();
    }
    case 'ack':
    case 'resend':
      return isLane(o.lane) && isEpoch(o.epoch) && isSeq(o.seq) ? ok() : fail('WRONG_TYPE', `${o.op} needs lane, epoch, seq`);
    case 'call':
      return typeof o.id === 'string' && o.id.length > 0 && o.id.length <= 64 && typeof o.device === 'string' && isDeviceId(o.device)
        && typeof o.method === 'string' && /^[A-Za-z0-9_.-]{1,64}$/.test(o.method) && isSeq(o.deadline) && (o.params === undefined || isObj(o.params))
        ? ok() : fail('WRONG_TYPE', 'call needs id, device, method, deadline');
    case 'result':
      return typeof o.id === 'string' && typeof o.ok === 'boolean' ? ok() : fail('WRONG_TYPE', 'result needs id, ok');
    case 'ping':
    case 'pong':
      return isSeq(o.t) ? ok() : fail('WRONG_TYPE', `${o.op} needs t`);
    case 'error':
      return isObj(o.error) && typeof o.error.code === 'number' ? ok() : fail('WRONG_TYPE', 'error needs error.code');
    default:
      return typeof o.op === 'string' ? fail('UNKNOWN_OP', `unknown op "${o.op.slice(0, 32)}"`) : fail('MISSING_FIELD', 'missing field "op"');
  }
}

export function linkError(code: CodeName, message?: string): LinkErrorFrame {
  return { op: 'error', error: { code: Codes[code].code, name: code, message: message ?? Codes[code].message } };
}
