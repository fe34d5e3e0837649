/**
 * Command forms generated from a device's meta: one field per param spec, and
 * the conversion of what was typed into the typed `params` of a `call`.
 * Contract: `parseParams` never sends what the spec rejects (min/max, integer,
 * enum); it returns the first problem per field instead, so the form can show it
 * next to the field before anything goes to the device.
 */
import type { ParamSpec } from '@fieldlink/protocol';

export type FieldKind = 'number' | 'select' | 'checkbox' | 'text';

export function fieldKind(spec: ParamSpec): FieldKind {
  if (spec.enum && spec.enum.length > 0) return 'select';
  if (spec.type === 'boolean') return 'checkbox';
  if (spec.type === 'number' || spec.type === 'integer') return 'number';
  return 'text';
}

/** The initial text of a field: the first enum entry, min, or empty. */
export function defaultValue(spec: ParamSpec): string {
  if (spec.enum && spec.enum.length > 0) return String(spec.enum[0]);
  if (spec.type === 'boolean') return 'false';
  if ((spec.type === 'number' || spec.type === 'integer') && spec.min !== undefined) return String(spec.min);
  return '';
}

/** Human hint for a field: range or choices. */
export function describe(spec: ParamSpec): string {
  const parts: string[] = [spec.enum ? `one of ${spec.enum.length}` : spec.type];
  if (spec.min !== undefined && spec.max !== undefined) parts.push(`${spec.min}–${spec.max}`);
  else if (spec.min !== undefined) parts.push(`≥ ${spec.min}`);
  else if (spec.max !== undefined) parts.push(`≤ ${spec.max}`);
  if (spec.description) parts.push(spec.description);
  return parts.join(', ');
}

export function parseValue(spec: ParamSpec, text: string): { ok: true; value: unknown } | { ok: false; problem: string } {
  if (spec.type === 'boolean') return { ok: true, value: text === 'true' };
  if (spec.type === 'number' || spec.type === 'integer') {
    const t = text.trim();
    const v = t === '' ? NaN : Number(t);
    if (!Number.isFinite(v)) return { ok: false, problem: 'enter a number' };
    if (spec.type === 'integer' && !Number.isInteger(v)) return { ok: false, problem: 'enter a whole number' };
    if (spec.min !== undefined && v < spec.min) return { ok: false, problem: `at least ${spec.min}` };
    if (spec.max !== undefined && v > spec.max) return { ok: false, problem: `at most ${spec.max}` };
    if (spec.enum && !spec.enum.includes(v)) return { ok: false, problem: `one of ${spec.enum.join(', ')}` };
    return { ok: true, value: v };
  }
  if (spec.enum && !spec.enum.map(String).includes(text)) return { ok: false, problem: `one of ${spec.enum.join(', ')}` };
  return { ok: true, value: text };
}

export type ParamsResult = { ok: true; params: Record<string, unknown> } | { ok: false; problems: Record<string, string> };

export function parseParams(specs: Record<string, ParamSpec>, values: Record<string, string>): ParamsResult {
  const params: Record<string, unknown> = {};
  const problems: Record<string, string> = {};
  for (const [name, spec] of Object.entries(specs)) {
    const r = parseValue(spec, values[name] ?? defaultValue(spec));
    if (r.ok) params[name] = r.value;
    else problems[name] = r.problem;
  }
  return Object.keys(problems).length > 0 ? { ok: false, problems } : { ok: true, params };
}
