/**
 * Time ranges of the device view and the history queries that load them.
 *
 * A window is either sliding (presets: its start follows now) or anchored
 * (custom: a fixed start; with no end it grows live, with an end it is a static
 * snapshot). Live windows of at most RAW_MAX_SPAN_MS load raw points; longer
 * ones load server-side buckets of a nice width giving at most MAX_BUCKETS.
 *
 * Loading a bucketed live window is two queries, so the seam is exact: closed
 * buckets up to the start of the open one, and the open bucket's raw points
 * (paged), which the client aggregates together with live points.
 */
export type RangeKey = 'live' | '1h' | '24h' | '7d' | 'custom';

const S = 1000, M = 60 * S, H = 60 * M, D = 24 * H;
export const PRESETS: readonly { key: Exclude<RangeKey, 'custom'>; label: string; spanMs: number }[] = [
  { key: 'live', label: 'Live 5 min', spanMs: 5 * M },
  { key: '1h', label: '1 h', spanMs: H },
  { key: '24h', label: '24 h', spanMs: D },
  { key: '7d', label: '7 d', spanMs: 7 * D },
];
export const RAW_MAX_SPAN_MS = 10 * M;
export const MAX_BUCKETS = 400;
/** Page size of raw history queries; the hub's default maximum is 10,000. */
export const PAGE = 5000;
const NICE = [S, 2 * S, 5 * S, 10 * S, 30 * S, M, 2 * M, 5 * M, 10 * M, 15 * M, 30 * M, H, 3 * H, 6 * H, 12 * H, D, 7 * D];

export interface Window {
  from: number;
  /** null: up to now, continued live. */
  to: number | null;
  /** Set for presets: `from` follows now − spanMs. */
  slidingMs: number | null;
  bucketMs: number | null;
}

export function niceBucket(spanMs: number, max = MAX_BUCKETS): number {
  for (const b of NICE) if (spanMs / b <= max) return b;
  return Math.ceil(spanMs / max / (7 * D)) * 7 * D;
}

export function resolveWindow(key: RangeKey, custom: { from?: number; to?: number }, now: number): Window {
  const preset = PRESETS.find((p) => p.key === key);
  if (preset) {
    return { from: now - preset.spanMs, to: null, slidingMs: preset.spanMs, bucketMs: preset.spanMs <= RAW_MAX_SPAN_MS ? null : niceBucket(preset.spanMs) };
  }
  const from = custom.from ?? now - H;
  const to = custom.to !== undefined && custom.to < now ? custom.to : null;
  const span = (to ?? now) - from;
  return { from, to, slidingMs: null, bucketMs: span <= RAW_MAX_SPAN_MS ? null : niceBucket(span) };
}

export interface HistoryParams { device: string; metric: string; from: number; to: number; bucket?: number; limit: number }

/**
 * The queries that load `w` as of `now`: closed buckets (if bucketed) and the raw
 * part (absent for a static bucketed window). Points at or before `sealedTo` are
 * inside the closed buckets.
 */
export function loadPlan(device: string, metric: string, w: Window, now: number): { buckets?: HistoryParams; raw?: HistoryParams; sealedTo: number } {
  const end = w.to ?? now;
  if (w.bucketMs === null) return { raw: { device, metric, from: w.from, to: end, limit: PAGE }, sealedTo: -Infinity };
  const b = w.bucketMs;
  const sealedTo = w.to === null ? Math.floor(end / b) * b - 1 : end;
  const buckets = sealedTo < w.from ? undefined : { device, metric, from: w.from, to: sealedTo, bucket: b, limit: Math.ceil((sealedTo - w.from) / b) + 2 };
  if (w.to !== null) return { ...(buckets ? { buckets } : {}), sealedTo };
  return { ...(buckets ? { buckets } : {}), raw: { device, metric, from: sealedTo + 1, to: end, limit: PAGE }, sealedTo };
}

/** Link to the streamed CSV export of the window (raw points, whole range). */
export function csvHref(device: string, metric: string, w: Window, now: number): string {
  const q = new URLSearchParams({ device, metric, from: String(Math.round(w.slidingMs ? now - w.slidingMs : w.from)), to: String(Math.round(w.to ?? now)) });
  return `/api/v1/history.csv?${q}`;
}

/** `datetime-local` input value ↔ ms, in the browser's time zone. */
export function toLocalInput(ms: number): string {
  const d = new Date(ms - new Date(ms).getTimezoneOffset() * M);
  return d.toISOString().slice(0, 16);
}
export function fromLocalInput(s: string): number | undefined {
  if (!s) return undefined;
  const t = new Date(s).getTime();
  return Number.isFinite(t) ? t : undefined;
}
