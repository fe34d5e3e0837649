/** Text for values, units and times, shared by every view. */

export function formatValue(v: unknown, unit?: string): string {
  if (typeof v !== 'number') return v === undefined || v === null ? '–' : String(v);
  const abs = Math.abs(v);
  // Integers (counts, and a dark sensor's 0) as they are: "920 counts", "0 lx", not "920.0", "0.00".
  const s = Number.isInteger(v) ? String(v) : abs >= 1000 ? v.toFixed(0) : abs >= 100 ? v.toFixed(1) : abs >= 1 ? v.toFixed(2) : v.toPrecision(3);
  return unit ? `${s} ${unit}` : s;
}

/** "just now", "12 s ago", "3 min ago", "5 h ago", "2 d ago"; "never" for 0/undefined. */
export function relativeTime(ts: number | undefined, now: number): string {
  if (!ts) return 'never';
  const s = Math.round((now - ts) / 1000);
  if (s < 2) return 'just now';
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86_400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86_400)} d ago`;
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** Local time with milliseconds: exact enough to tell 10 Hz readings apart. */
export function clockTime(ts: number): string {
  const d = new Date(ts);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

export function dateTime(ts: number): string {
  const d = new Date(ts);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${clockTime(ts)}`;
}

/** "2001 CALL_TIMEOUT: no response within 5000 ms" from a FieldlinkError or anything thrown. */
export function errorText(e: unknown): string {
  if (e && typeof e === 'object' && 'code' in e && 'codeName' in e) {
    const f = e as { code: number; codeName: string; message: string };
    return `${f.code} ${f.codeName}: ${f.message}`;
  }
  return e instanceof Error ? e.message : String(e);
}

/** Natural order: sim-2 before sim-10. */
export const naturalCompare = new Intl.Collator(undefined, { numeric: true }).compare;
