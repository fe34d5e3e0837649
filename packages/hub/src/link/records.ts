/**
 * What the link carries, as pure functions (no sockets, no store): site-side
 * records from points and bus messages, and central-side application of a
 * batch against a lane's mark. link/central.ts and link/site.ts only move these.
 *
 * Namespacing at central (docs/link.md): a site's device `x` is `{site}:x`
 * everywhere at central (registry, history, CSV, browser protocol, access rules,
 * dashboard): its topics are `devices/{site}:x/…`. A record central cannot map
 * into that namespace is refused and counted, never applied.
 */
import {
  isDeviceId, parseDeviceTopic, siteDeviceId, type LaneMark, type LinkLane, type LinkRecord, type RecordBody, type TelemetryBody,
} from '@fieldlink/protocol';
import type { BusMessage } from '../bus/types.js';
import type { Point } from '../storage/types.js';
import type { LinkEventRow, LinkWrite, OutboxEntry } from '../storage/link-sql.js';

/** One telemetry record per (device, ts) run of consecutive points: one message's readings. */
export function readingsOf(points: readonly Point[]): OutboxEntry[] {
  const out: OutboxEntry[] = [];
  let cur: TelemetryBody | undefined;
  const flush = () => { if (cur) out.push({ lane: 'telemetry', ts: cur.ts, body: JSON.stringify(cur) }); };
  for (const p of points) {
    if (!cur || cur.device !== p.device || cur.ts !== p.ts || p.metric in cur.values) {
      flush();
      cur = { k: 'tel', device: p.device, ts: p.ts, values: {} };
    }
    cur.values[p.metric] = p.value;
  }
  flush();
  return out;
}

/** The state-lane record of a device message the site forwards (status, meta, command replies), or undefined. */
export function stateEntry(msg: BusMessage): OutboxEntry | undefined {
  const t = parseDeviceTopic(msg.topic);
  if (!t || (t.kind !== 'status' && t.kind !== 'meta' && t.kind !== 'cmd_res')) return undefined;
  const body = { k: 'msg', topic: msg.topic, payload: msg.payload.toString('utf8'), retain: t.kind !== 'cmd_res', ts: msg.ts } as const;
  return { lane: 'state', ts: msg.ts, body: JSON.stringify(body) };
}

/** The topic a site's device message has at central, or undefined when it is outside the site's namespace. */
export function centralTopic(site: string, topic: string): string | undefined {
  const t = parseDeviceTopic(topic);
  if (!t || (t.kind !== 'status' && t.kind !== 'meta' && t.kind !== 'cmd_res')) return undefined;
  const id = siteDeviceId(site, t.device);
  if (!isDeviceId(id)) return undefined;
  return ['devices', id, ...topic.split('/').slice(2)].join('/');
}

export interface LiveMessage { topic: string; payload: string; retain: boolean }

/** What applying a batch means: the store write (points + link rows in one transaction), then acks and live messages. */
export interface Applied {
  points: Point[];
  write: LinkWrite;
  /** The lane's mark once `write` commits. */
  mark: LaneMark;
  duplicates: number;
  refused: number;
  gaps: number;
  live: LiveMessage[];
  /** Set when the batch does not continue the mark: nothing is written, the site resends from `mark`. */
  jump?: { expected: number; got: number };
  epochChange?: { old: LaneMark | undefined };
}

/**
 * Apply `records` of (lane, epoch) on top of `mark` (undefined: never seen).
 * At or below the mark: a counted duplicate. A record whose `from` is past the
 * next expected seq: the batch is refused from there (the contiguous prefix is
 * kept). A new epoch starts a fresh mark at 0, reported with the old one. A
 * `floor` past the mark (central lost what it had acknowledged) is a gap event.
 * Telemetry goes live as the newest reading per device of the batch (a backlog
 * does not flood browsers; history has every reading).
 */
export function applyBatch(site: string, lane: LinkLane, epoch: string, records: readonly LinkRecord[], mark: LaneMark | undefined, now: number, floor = 0): Applied {
  const newEpoch = !mark || mark.epoch !== epoch;
  const start: LaneMark = newEpoch ? { epoch, seq: 0 } : mark;
  const events: LinkEventRow[] = [];
  if (newEpoch && mark) {
    events.push({ site, lane, kind: 'epoch', epoch, fromSeq: mark.seq, toSeq: 0, reason: 'new_epoch', count: 0, detail: JSON.stringify({ oldEpoch: mark.epoch, oldSeq: mark.seq }), at: now });
  }
  const out: Applied = { points: [], write: {}, mark: start, duplicates: 0, refused: 0, gaps: 0, live: [], ...(newEpoch ? { epochChange: { old: mark } } : {}) };
  const latest = new Map<string, TelemetryBody>();
  let seq = start.seq;
  if (!newEpoch && floor > seq) {
    // The site had records up to `floor` acknowledged (by this central, before it lost them): say so, then go on.
    events.push({ site, lane, kind: 'gap', epoch, fromSeq: seq + 1, toSeq: floor, reason: 'unknown', count: floor - seq, detail: '{"acknowledgedBefore":true}', at: now });
    seq = floor;
  }
  for (const r of records) {
    if (r.seq <= seq) { out.duplicates++; continue; }
    if (r.from > seq + 1) {
      if (seq === 0 && newEpoch && r.from > 1) {
        // A new epoch whose first records are gone before central ever saw them: say so.
        events.push({ site, lane, kind: 'gap', epoch, fromSeq: 1, toSeq: r.from - 1, reason: 'unknown', count: r.from - 1, detail: '{}', at: now });
      } else {
        out.jump = { expected: seq + 1, got: r.from };
        break;
      }
    }
    seq = r.seq;
    const b: RecordBody = r.body;
    if (b.k === 'gap') {
      const from = Math.max(r.from, start.seq + 1);
      events.push({ site, lane, kind: 'gap', epoch, fromSeq: from, toSeq: r.seq, reason: b.reason, count: b.count, detail: JSON.stringify({ firstTs: b.firstTs, lastTs: b.lastTs }), at: now });
      out.gaps++;
    } else if (b.k === 'tel') {
      const device = siteDeviceId(site, b.device);
      if (!isDeviceId(device)) { out.refused++; continue; }
      for (const [metric, value] of Object.entries(b.values)) out.points.push({ device, metric, ts: b.ts, value });
      latest.set(device, b);
    } else {
      const topic = centralTopic(site, b.topic);
      if (!topic) { out.refused++; continue; }
      out.live.push({ topic, payload: b.payload, retain: b.retain });
    }
  }
  for (const [device, b] of latest) out.live.push({ topic: `devices/${device}/telemetry`, payload: JSON.stringify({ ...b.values, ts: b.ts }), retain: false });
  if (seq === start.seq && !newEpoch) return { ...out, mark: start, write: {} };
  out.mark = { epoch, seq };
  out.write = { mark: { site, lane, epoch, seq, prev: mark ? { epoch: mark.epoch, seq: mark.seq } : null }, ...(events.length ? { events } : {}) };
  return out;
}
