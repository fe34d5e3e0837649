/**
 * Payload shape bounds (docs/security.md, "Bounds"): how deep a JSON payload may
 * nest, how many keys it may carry and, for meta, how large it may be.
 *
 * V8's JSON.parse is iterative and takes 100,000 levels in its stride, but
 * JSON.stringify recurses and throws "Maximum call stack size exceeded" past a
 * few thousand: one such value kept in the registry broke the device list for
 * every reader. So the check reads the bytes, never the parsed value: one loop
 * over the text with a depth counter (brackets inside strings do not count),
 * no recursion, no allocation, stopping at the first bound passed.
 *
 * The doors refuse a publish to `devices/{id}/telemetry|meta|status` that passes
 * a bound, counted by door and reason; the registry and ingest apply the same
 * check to what reaches them on the bus (an external broker has no door of ours).
 */
import { parseDeviceTopic } from '@fieldlink/protocol';
import type { LogSummary } from '../log-summary.js';

export interface ShapeLimits {
  /** Deepest nesting of objects and arrays (a flat object is depth 1). */
  maxDepth: number;
  /** Keys in all the objects of one payload together. */
  maxKeys: number;
  /** Largest `devices/{id}/meta` payload, in bytes. */
  maxMetaBytes: number;
}

export type ShapeReason = 'too_deep' | 'too_many_keys' | 'meta_too_large';
export interface ShapeProblem {
  reason: ShapeReason;
  message: string;
}

const QUOTE = 0x22, BACKSLASH = 0x5c, COLON = 0x3a;
const OPEN_OBJ = 0x7b, OPEN_ARR = 0x5b, CLOSE_OBJ = 0x7d, CLOSE_ARR = 0x5d;

/**
 * Depth and key count of JSON text, scanned without parsing. Returns the first
 * bound passed, or undefined. Text that is not JSON gets no verdict here (the
 * consumers decide what non-JSON means); the scan stays linear whatever it is.
 */
export function scanShape(text: Buffer | string, maxDepth: number, maxKeys: number): ShapeProblem | undefined {
  const buf = typeof text === 'string' ? Buffer.from(text) : text;
  let depth = 0;
  let keys = 0;
  let inString = false;
  for (let i = 0; i < buf.length; i++) {
    const c = buf[i]!;
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
      continue;
    }
    if (c === QUOTE) inString = true;
    else if (c === OPEN_OBJ || c === OPEN_ARR) {
      if (++depth > maxDepth) return { reason: 'too_deep', message: `payload nests deeper than ${maxDepth} levels (--max-payload-depth)` };
    } else if (c === CLOSE_OBJ || c === CLOSE_ARR) depth--;
    else if (c === COLON && ++keys > maxKeys) return { reason: 'too_many_keys', message: `payload has more than ${maxKeys} keys (--max-payload-keys)` };
  }
  return undefined;
}

/** The bounds a payload published to `topic` passes, if any; only device telemetry, meta and status are bounded. */
export function deviceShapeProblem(topic: string, payload: Buffer | string, limits: ShapeLimits): ShapeProblem | undefined {
  if (!topic.startsWith('devices/')) return undefined;
  const t = parseDeviceTopic(topic);
  if (!t || (t.kind !== 'telemetry' && t.kind !== 'meta' && t.kind !== 'status')) return undefined;
  if (t.kind === 'meta') {
    const bytes = typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length;
    if (bytes > limits.maxMetaBytes) return { reason: 'meta_too_large', message: `meta of ${bytes} bytes; the limit is ${limits.maxMetaBytes} (--max-meta-bytes)` };
  }
  return scanShape(payload, limits.maxDepth, limits.maxKeys);
}

interface Verdict { limits: ShapeLimits; problem: ShapeProblem | undefined }
const verdicts = new WeakMap<object, Verdict>();
/** Kept on the message itself when it is extensible (cheaper than a WeakMap entry per message), as jsonOf does. */
const VERDICT: unique symbol = Symbol('fieldlink.shape');
type Slotted = { [VERDICT]?: Verdict };

/**
 * `deviceShapeProblem` of a bus message, computed once per message for every
 * consumer with the same limits (the registry and ingest see the same object,
 * bus contract item 2), as `jsonOf` does for the parse.
 */
export function busShapeProblem(msg: { topic: string; payload: Buffer }, limits: ShapeLimits): ShapeProblem | undefined {
  const known = (msg as Slotted)[VERDICT] ?? verdicts.get(msg);
  const l = known?.limits;
  if (l && l.maxDepth === limits.maxDepth && l.maxKeys === limits.maxKeys && l.maxMetaBytes === limits.maxMetaBytes) return known.problem;
  const problem = deviceShapeProblem(msg.topic, msg.payload, limits);
  if (Object.isExtensible(msg)) (msg as Slotted)[VERDICT] = { limits, problem };
  else verdicts.set(msg, { limits, problem });
  return problem;
}

/**
 * The doors' side: one check per publish, counted by `door:reason` for
 * `fieldlink_payload_refused_total`.
 */
export class ShapeGuard {
  readonly refused: Record<string, number> = {};
  constructor(readonly limits: ShapeLimits, private readonly logs?: LogSummary) {}

  /** A publish to `topic` from `door`: undefined when it may go on the bus, else why not (counted, and logged as a summary). */
  check(door: string, topic: string, payload: Buffer | string, who?: { kind: string; id: string }): ShapeProblem | undefined {
    const p = deviceShapeProblem(topic, payload, this.limits);
    if (p) {
      this.count(door, p.reason);
      const id = who ? `${who.kind}:${who.id}` : '?';
      this.logs?.warn(`shape:${door}:${p.reason}:${id}`, { door, topic, who: id, reason: p.reason }, 'payload refused');
    }
    return p;
  }

  /**
   * A whole JSON frame of `/ws` or `/ws/device`, before it is parsed: its payload
   * sits one level below the frame object, so the frame may nest one level more.
   */
  checkFrame(door: string, frame: Buffer): ShapeProblem | undefined {
    const p = scanShape(frame, this.limits.maxDepth + 1, Infinity);
    if (p) this.count(door, p.reason);
    return p;
  }

  private count(door: string, reason: string): void {
    const key = `${door}:${reason}`;
    this.refused[key] = (this.refused[key] ?? 0) + 1;
  }
}

/**
 * The request id of a frame refused by `checkFrame`, so the refusal answers it.
 * JSON.parse is safe on any depth in V8 (iterative; frames are bounded by
 * --max-frame-bytes); only the parsed value must not reach recursive code.
 */
export function frameId(frame: Buffer): string | undefined {
  try {
    const v = JSON.parse(frame.toString('utf8')) as { id?: unknown } | null;
    return typeof v === 'object' && v !== null && typeof v.id === 'string' ? v.id : undefined;
  } catch {
    return undefined;
  }
}
