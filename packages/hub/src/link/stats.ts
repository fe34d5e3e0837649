/**
 * Counters of both link ends, as plain objects: `/metrics` (link/metrics.ts),
 * `GET /api/v1/links` and `fieldlink link status` read the same numbers.
 */
import type { GapReason, LinkLane } from '@fieldlink/protocol';
import type { OutboxFill } from '../storage/link.js';

const lanes = <T>(v: () => T): Record<LinkLane, T> => ({ state: v(), telemetry: v() });

export class SiteStats {
  site: string | null = null;
  connects = 0;
  /** Disconnects by reason (a socket error, a liveness verdict, a close code). */
  readonly disconnects = new Map<string, number>();
  connectedSince: number | null = null;
  sent = lanes(() => 0);
  acked = lanes(() => 0);
  resent = 0;
  duplicates = 0;
  commands = 0;
  dropped: Record<GapReason, number> = { queue_full: 0, ttl: 0, disk_floor: 0 };
  fill = lanes<OutboxFill>(() => ({ records: 0, bytes: 0, oldestTs: null }));
  rttMs: number | null = null;
  skewMs: number | null = null;
  lastError: string | null = null;
  lastPing = 0;

  connected(site: string, skewMs: number): void {
    this.site = site;
    this.skewMs = skewMs;
    this.connectedSince = Date.now();
  }

  disconnect(reason: string): void {
    const r = reason.replace(/\d+ ms/g, 'N ms').replace(/[\d.:a-f[\]]+:\d+/g, 'ADDR').slice(0, 80);
    this.disconnects.set(r, (this.disconnects.get(r) ?? 0) + 1);
    this.connectedSince = null;
  }

  snapshot(now = Date.now()) {
    return {
      role: 'site' as const, site: this.site, connected: this.connectedSince !== null, connectedSince: this.connectedSince,
      connects: this.connects, disconnects: Object.fromEntries(this.disconnects), sent: this.sent, acked: this.acked,
      resent: this.resent, duplicates: this.duplicates, commands: this.commands, dropped: this.dropped,
      queue: Object.fromEntries(Object.entries(this.fill).map(([l, f]) => [l, { ...f, lagMs: f.oldestTs === null ? 0 : Math.max(0, now - f.oldestTs) }])),
      rttMs: this.rttMs, skewMs: this.skewMs, lastError: this.lastError,
    };
  }
}

export class CentralSiteStats {
  connected = false;
  connectedSince: number | null = null;
  lastSeen: number | null = null;
  connects = 0;
  replaced = 0;
  applied = lanes(() => 0);
  duplicates = 0;
  refused = 0;
  jumps = 0;
  gaps = 0;
  epochChanges = 0;
  callsSent = 0;
  queued = 0;
  marks: Partial<Record<LinkLane, { epoch: string; seq: number }>> = {};
  lastError: string | null = null;

  snapshot() {
    return {
      connected: this.connected, connectedSince: this.connectedSince, lastSeen: this.lastSeen, connects: this.connects, replaced: this.replaced,
      applied: this.applied, duplicates: this.duplicates, refused: this.refused, jumps: this.jumps, gaps: this.gaps,
      epochChanges: this.epochChanges, callsSent: this.callsSent, queued: this.queued, marks: this.marks, lastError: this.lastError,
    };
  }
}
