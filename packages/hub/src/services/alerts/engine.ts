/**
 * The alert engine: rules in, lifecycle events out (firing, resolved,
 * renotify). It knows nothing of the bus, the store or notifications
 * (services/alerts/index.ts wires those); every input carries its time.
 *
 * Times: threshold and rate use the reading's own `ts` (the device clock, or
 * the hub's receive time when absent); readings older than the newest seen for
 * a series are ignored. Absence, offline and the fallback of a minimum
 * duration (a device that stops sending while a condition is pending) use the
 * hub's clock through one timer wheel.
 *
 * Memory: a series (rule × device) has state only while it is pending or
 * firing (threshold) or while it has readings in its window (rate), bounded by
 * `maxSeries` (further series are not evaluated, counted as `seriesDropped`).
 * Rate windows keep at most MAX_WINDOW readings (oldest dropped).
 */
import { RuleIndex } from './index-rules.js';
import { sameRule, type AlertRule } from './rules.js';
import { TimerWheel } from './wheel.js';
import { MonoWindow } from './window.js';
import { SeriesMap } from './series-map.js';

export interface Alert {
  id: string;
  rule: string;
  device: string;
  kind: AlertRule['kind'];
  state: 'firing' | 'resolved';
  /** The reading that fired it (null for absence). */
  value: number | null;
  message: string;
  firedAt: number;
  resolvedAt: number | null;
  ackedAt: number | null;
  ackedBy: string | null;
}

export type AlertEvent = { type: 'firing' | 'resolved' | 'renotify'; alert: Alert };

export interface EngineOptions {
  onEvent(e: AlertEvent): void;
  newId(): string;
  now?: () => number;
  tickMs?: number;
  maxSeries?: number;
  maxDevices?: number;
}

interface Series {
  rule: AlertRule;
  device: string;
  lastTs: number;
  pendingSince?: number;
  pendingWall?: number;
  value?: number;
  alert?: Alert;
  window?: MonoWindow;
}

/** Per device: last telemetry (hub clock), offline since, and its one absence wheel entry (`at`, `gen`). */
interface Seen { telemetry: number; offlineSince?: number; at?: number; gen: number }

export const MAX_WINDOW = 4096;

export class AlertEngine {
  private index = new RuleIndex([]);
  private readonly series = new SeriesMap<Series>();
  private readonly seen = new Map<string, Seen>();
  private readonly wheel: TimerWheel;
  private readonly now: () => number;
  readonly counters = { evaluations: 0, fired: 0, resolved: 0, seriesDropped: 0, devicesDropped: 0, stale: 0 };

  constructor(private readonly o: EngineOptions) {
    this.now = o.now ?? Date.now;
    this.wheel = new TimerWheel(o.tickMs ?? 1000, this.now());
  }

  get rules(): readonly AlertRule[] {
    return this.index.rules;
  }

  /** Replace the rule set. Series of unchanged rules keep their state; alerts of removed or changed rules resolve. */
  setRules(rules: readonly AlertRule[]): void {
    const old = new Map(this.index.rules.map((r) => [r.name, r]));
    const keep = new Map(rules.filter((r) => old.has(r.name) && sameRule(old.get(r.name)!, r)).map((r) => [r.name, r]));
    this.index = new RuleIndex(rules, this.o.maxDevices);
    for (const s of this.series.values()) {
      const r = keep.get(s.rule.name);
      if (r) s.rule = r;
      else {
        if (s.alert) this.resolve(s, this.now());
        this.series.delete(s.rule.name, s.device);
      }
    }
    for (const [device, seen] of this.seen) this.scheduleAbsence(device, seen);
  }

  /** Alerts still firing in the store (a restart): they resume without a second notification. */
  restore(open: readonly Alert[]): void {
    for (const a of open) {
      const rule = this.index.rules.find((r) => r.name === a.rule);
      if (!rule || this.series.has(a.rule, a.device)) continue;
      const s: Series = { rule, device: a.device, lastTs: a.firedAt, alert: a, value: a.value ?? undefined };
      this.series.set(a.rule, a.device, s);
      this.scheduleRenotify(s, this.now());
    }
  }

  open(): Alert[] {
    return [...this.series.values()].flatMap((s) => (s.alert ? [s.alert] : []));
  }

  /** A device is known (registry at start-up): its silence counts from now. */
  known(device: string): void {
    this.touch(device, this.now());
  }

  telemetry(device: string, body: Record<string, unknown>, recvTs: number): void {
    const ts = typeof body.ts === 'number' && Number.isFinite(body.ts) ? body.ts : recvTs;
    const seen = this.touch(device, recvTs);
    const rules = this.index.forDevice(device);
    if (seen) for (const r of rules.absence) if (!r.offline) this.absentOver(r, device, recvTs);
    if (rules.byMetric.size === 0) return;
    for (const field in body) {
      const list = rules.byMetric.get(field);
      if (!list) continue;
      const v = body[field];
      if (typeof v !== 'number' || !Number.isFinite(v)) continue;
      for (const r of list) this.evaluate(r, device, v, ts);
    }
  }

  status(device: string, online: boolean, ts: number): void {
    const seen = this.touch(device, undefined);
    if (!seen) return;
    if (online) {
      seen.offlineSince = undefined;
      for (const r of this.index.forDevice(device).absence) if (r.offline) this.absentOver(r, device, ts);
    } else if (seen.offlineSince === undefined) {
      seen.offlineSince = ts;
      this.scheduleAbsence(device, seen);
    }
  }

  /** The device was removed (its retained status/meta cleared): forget it, resolving what it had firing. */
  removed(device: string): void {
    this.seen.delete(device);
    for (const s of this.series.ofDevice(device)) {
      if (s.alert) this.resolve(s, this.now());
      this.series.delete(s.rule.name, device);
    }
  }

  tick(now = this.now()): void {
    this.wheel.advance(now);
  }

  stats() {
    return { ...this.counters, rules: this.index.rules.length, series: this.series.size, devices: this.seen.size, timers: this.wheel.size, firing: this.open().length, indexClears: this.index.clears };
  }

  private touch(device: string, telemetryTs: number | undefined): Seen | undefined {
    let seen = this.seen.get(device);
    if (!seen) {
      if (this.seen.size >= (this.o.maxDevices ?? 100_000)) {
        this.counters.devicesDropped++;
        return undefined;
      }
      this.seen.set(device, (seen = { telemetry: telemetryTs ?? this.now(), gen: 0 }));
      this.scheduleAbsence(device, seen);
    } else if (telemetryTs !== undefined) seen.telemetry = Math.max(seen.telemetry, telemetryTs);
    return seen;
  }

  private getSeries(rule: AlertRule, device: string, create: boolean): Series | undefined {
    let s = this.series.get(rule.name, device);
    if (!s && create) {
      if (this.series.size >= (this.o.maxSeries ?? 1_000_000)) {
        this.counters.seriesDropped++;
        return undefined;
      }
      this.series.set(rule.name, device, (s = { rule, device, lastTs: -Infinity }));
    }
    return s;
  }

  private evaluate(r: AlertRule, device: string, v: number, ts: number): void {
    this.counters.evaluations++;
    if (r.kind === 'threshold') return this.threshold(r, device, v, ts);
    const s = this.getSeries(r, device, true);
    if (!s) return;
    if (ts < s.lastTs) return void this.counters.stale++;
    s.lastTs = ts;
    const w = (s.window ??= new MonoWindow(MAX_WINDOW));
    w.push(ts, v, ts - r.windowMs!);
    const moved = r.rise !== undefined ? v - w.min() : r.fall !== undefined ? w.max() - v : w.max() - w.min();
    const limit = r.rise ?? r.fall ?? r.change!;
    if (!s.alert && moved > limit) this.fire(s, v, ts, `${r.metric} ${r.rise !== undefined ? 'rose' : r.fall !== undefined ? 'fell' : 'moved'} by ${round(moved)} within ${r.windowMs} ms (limit ${limit})`);
    else if (s.alert && moved <= limit) this.resolve(s, ts);
  }

  private threshold(r: AlertRule, device: string, v: number, ts: number): void {
    const h = r.hysteresis ?? 0;
    const breach = r.above !== undefined ? v > r.above : v < r.below!;
    let s = this.getSeries(r, device, false);
    if (!s) {
      if (!breach) return; // the common case: nothing pending, nothing firing, no state
      s = this.getSeries(r, device, true);
      if (!s) return;
    }
    if (ts < s.lastTs) return void this.counters.stale++;
    s.lastTs = ts;
    s.value = v;
    if (s.alert) {
      const clear = r.above !== undefined ? v < r.above - h || (h === 0 && !breach) : v > r.below! + h || (h === 0 && !breach);
      if (clear) {
        this.resolve(s, ts);
        this.series.delete(r.name, device);
      }
      return;
    }
    if (!breach) return void this.series.delete(r.name, device); // a pending breach interrupted: start over
    if (s.pendingSince === undefined) {
      s.pendingSince = ts;
      s.pendingWall = this.now();
      if (r.forMs) this.wheel.schedule(s.pendingWall + r.forMs, () => this.pendingDue(s, s.pendingSince!));
    }
    if (ts - s.pendingSince >= (r.forMs ?? 0)) this.fire(s, v, ts, thresholdText(r, v));
  }

  private pendingDue(s: Series, since: number): void {
    if (s.alert || s.pendingSince !== since || this.series.get(s.rule.name, s.device) !== s) return;
    this.fire(s, s.value!, this.now(), thresholdText(s.rule, s.value!));
  }

  /** An absence rule's condition ended (telemetry came, or the device is online again). */
  private absentOver(r: AlertRule, device: string, ts: number): void {
    const s = this.series.get(r.name, device);
    if (!s?.alert) return;
    this.resolve(s, ts);
    this.series.delete(r.name, device);
    const seen = this.seen.get(device);
    if (seen) this.scheduleAbsence(device, seen);
  }

  /**
   * One live wheel entry per device, at its earliest absence deadline; telemetry only moves
   * deadlines later, so entries are re-checked when they run, and replaced only by an earlier one.
   */
  private scheduleAbsence(device: string, seen: Seen): void {
    const at = this.nextAbsence(device, seen);
    if (at === undefined || (seen.at !== undefined && seen.at <= at)) return;
    seen.at = at;
    const gen = ++seen.gen;
    this.wheel.schedule(at, () => {
      if (seen.gen !== gen || this.seen.get(device) !== seen) return;
      seen.at = undefined;
      const now = this.now();
      for (const r of this.index.forDevice(device).absence) {
        const since = r.offline ? seen.offlineSince : seen.telemetry;
        if (since === undefined || now - since < r.forMs! || this.series.get(r.name, device)?.alert) continue;
        const s = this.getSeries(r, device, true);
        if (s) this.fire(s, null, now, r.offline ? `offline for ${Math.round((now - since) / 1000)} s` : `no telemetry for ${Math.round((now - since) / 1000)} s`);
      }
      this.scheduleAbsence(device, seen);
    });
  }

  private nextAbsence(device: string, seen: Seen): number | undefined {
    let at: number | undefined;
    for (const r of this.index.forDevice(device).absence) {
      if (this.series.get(r.name, device)?.alert) continue;
      const since = r.offline ? seen.offlineSince : seen.telemetry;
      if (since === undefined) continue;
      at = Math.min(at ?? Infinity, since + r.forMs!);
    }
    return at;
  }

  private fire(s: Series, value: number | null, ts: number, message: string): void {
    s.pendingSince = undefined;
    s.alert = { id: this.o.newId(), rule: s.rule.name, device: s.device, kind: s.rule.kind, state: 'firing', value, message, firedAt: ts, resolvedAt: null, ackedAt: null, ackedBy: null };
    this.counters.fired++;
    this.o.onEvent({ type: 'firing', alert: s.alert });
    this.scheduleRenotify(s, this.now());
  }

  private scheduleRenotify(s: Series, from: number): void {
    const every = s.rule.renotifyMs;
    const alert = s.alert;
    if (!every || !alert) return;
    this.wheel.schedule(from + every, () => {
      if (s.alert !== alert || alert.state !== 'firing') return;
      this.o.onEvent({ type: 'renotify', alert });
      this.scheduleRenotify(s, this.now());
    });
  }

  private resolve(s: Series, ts: number): void {
    const a = s.alert!;
    s.alert = undefined;
    s.window = undefined;
    a.state = 'resolved';
    a.resolvedAt = Math.max(ts, a.firedAt);
    this.counters.resolved++;
    this.o.onEvent({ type: 'resolved', alert: a });
  }
}

const round = (v: number) => Math.round(v * 1000) / 1000;
function thresholdText(r: AlertRule, v: number): string {
  return `${r.metric} ${round(v)} ${r.above !== undefined ? `above ${r.above}` : `below ${r.below}`}${r.forMs ? ` for ${r.forMs} ms` : ''}`;
}
