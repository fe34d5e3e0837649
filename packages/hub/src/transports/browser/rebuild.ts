/**
 * Resume across a hub restart (docs/protocol.md "Resuming"): a `sub` whose
 * `epoch` is an earlier run's gets the telemetry it missed rebuilt from the
 * store's points, when the resume marks (storage/resume-marks.ts) prove what it
 * had already seen.
 *
 * The contract: for a filter `devices/{id|+}/telemetry` only (other topics are
 * not stored as messages). A client at (epoch, since) has seen, per device, every
 * reading up to the newest stored `ts` among that device's pushes with seq ≤ since
 * in that epoch; a device with no such push, every reading before the earlier of
 * the hub time of the client's last push (or the epoch's start) and the oldest ts
 * of that device's pushes after since. Everything stored after that is
 * rebuilt, one message per (device, ts) with the numeric readings and `ts`, in ts
 * order (device id breaks ties), marked `rebuilt:true`, with new seqs of the
 * current epoch. Exactly once, no gap: the marks of seqs ≤ since must be committed
 * (`hi`), the sub joins the live fan-out before the store is read and the ingest
 * queue is flushed first (so what the fan-out saw before is stored), and live
 * messages held meanwhile whose (device, ts) was rebuilt are skipped. At most
 * MAX_REBUILT messages: beyond it, `resumed:false` and the client backfills.
 */
import { topicMatches } from '@fieldlink/protocol';
import type { BusMessage } from '../../bus/types.js';
import { jsonOf, NOT_JSON } from '../../bus/json.js';
import { telemetryPoints } from '../../services/ingest.js';
import type { ResumeMarks, Store } from '../../storage/index.js';
import type { Registry } from '../../services/registry.js';
import { wireFrame } from './encode.js';

/** Most messages one resumed sub rebuilds (and seqs it reserves); beyond it: resumed:false. */
export const MAX_REBUILT = 10_000;

export interface ResumeStore {
  marks: ResumeMarks;
  store: Store;
  /** Resolves when every telemetry point accepted before the call is committed. */
  flushIngest(): Promise<void>;
}

const TELEMETRY = /^devices\/([^/]+)\/telemetry$/;

/** Only telemetry filters are rebuilt from points; `#` in the id position is not one. */
export function rebuildable(filter: string): boolean {
  const m = TELEMETRY.exec(filter);
  return m !== null && !m[1]!.includes('#') && (m[1] === '+' || !m[1]!.includes('+'));
}

/** (device, stored ts) of a telemetry message that stores points; undefined otherwise. */
export function telemetryKey(msg: BusMessage, now = Date.now()): { device: string; ts: number } | undefined {
  const m = TELEMETRY.exec(msg.topic);
  if (!m) return undefined;
  const parsed = jsonOf(msg);
  if (parsed === NOT_JSON) return undefined;
  const points = telemetryPoints(m[1]!, msg.payload, msg.ts, now, {}, parsed);
  return points && points.length > 0 ? { device: m[1]!, ts: points[0]!.ts } : undefined;
}

/** The fan-out's onSeq hook: one mark per telemetry push. */
export function markTelemetry(marks: ResumeMarks): (seq: number, msg: BusMessage) => void {
  return (seq, msg) => {
    const k = telemetryKey(msg);
    if (k) marks.mark(seq, k.device, k.ts, msg.ts);
  };
}

export interface Rebuilt {
  topic: string;
  device: string;
  ts: number;
  readings: Record<string, number>;
}

/**
 * Messages the client at (epoch, since) missed on `filter`, oldest first, or
 * undefined when the marks cannot prove what it saw or there are more than `max`.
 */
export async function rebuild(r: ResumeStore, registry: Registry, filter: string, epoch: string, since: number,
  shown: (topic: string) => boolean, max = MAX_REBUILT): Promise<Rebuilt[] | undefined> {
  const seen = await r.marks.boundary(epoch, since);
  if (!seen) return undefined;
  await r.flushIngest();
  const out: Rebuilt[] = [];
  // The registry may not have persisted a device seen just before a kill -9; the marks name every device pushed.
  const ids = new Set([...registry.list().map((d) => d.id), ...seen.perDevice.keys(), ...seen.firstAfter.keys()]);
  for (const id of ids) {
    const topic = `devices/${id}/telemetry`;
    if (!topicMatches(filter, topic) || !shown(topic)) continue;
    const from = (seen.perDevice.get(id) ?? Math.min(seen.at, (seen.firstAfter.get(id) ?? Infinity) - 1)) + 1;
    const byTs = new Map<number, Rebuilt>();
    for (const metric of await r.store.metrics(id)) {
      for (const p of await r.store.raw({ device: id, metric, from, to: Number.MAX_SAFE_INTEGER, limit: max + 1 })) {
        let msg = byTs.get(p.ts);
        if (!msg) byTs.set(p.ts, (msg = { topic, device: id, ts: p.ts, readings: Object.create(null) as Record<string, number> }));
        msg.readings[metric] = p.value;
      }
      if (byTs.size + out.length > max) return undefined;
    }
    out.push(...byTs.values());
  }
  return out.sort((a, b) => a.ts - b.ts || (a.device < b.device ? -1 : a.device > b.device ? 1 : 0));
}

/** The push frame of a rebuilt message: `ts` is the readings' stored time. */
export function rebuiltFrame(m: Rebuilt, seq: number): Buffer {
  const payload = JSON.stringify({ ...m.readings, ts: m.ts });
  return wireFrame(`{"op":"msg","topic":${JSON.stringify(m.topic)},"payload":${payload},"ts":${m.ts},"seq":${seq},"retained":false,"rebuilt":true}`);
}
