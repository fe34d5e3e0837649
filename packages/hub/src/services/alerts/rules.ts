/**
 * Alert rules as data (docs/alerts.md): their one validator, shared by the
 * alerts file, the HTTP API and the browser protocol, and the device-id globs
 * that scope them. A rule is one of three kinds:
 *
 *   threshold  `metric` above/below a value, resolved only once the value is
 *              back past `hysteresis`; fires after the condition held `for`
 *   absence    no telemetry from a device (or, with `offline`, a device whose
 *              status is offline) for `for`
 *   rate       `metric` rose (`rise`), fell (`fall`) or moved either way
 *              (`change`) by more than the amount within `window`
 *
 * Names are topic-safe (`alerts/{rule}/{device}` is the alert's MQTT topic).
 */
import { parseDuration } from '../history.js';
import { ConfigError } from '../../config/schema.js';

export type RuleKind = 'threshold' | 'absence' | 'rate';

export interface AlertRule {
  name: string;
  kind: RuleKind;
  /** Device id globs (`*` any run, `?` one character); default `["*"]`. */
  devices: string[];
  description?: string;
  /** threshold and rate: the telemetry field. */
  metric?: string;
  above?: number;
  below?: number;
  hysteresis?: number;
  /** Condition must hold this long (ms) before firing; absence: silence length. */
  forMs?: number;
  /** absence: an offline status counts as silence from that moment. */
  offline?: boolean;
  /** rate: the window (ms) and the amount. */
  windowMs?: number;
  rise?: number;
  fall?: number;
  change?: number;
  /** Re-send the firing notification this often while it lasts (0: never). */
  renotifyMs?: number;
  /** `file` rules come from --alerts-file and are edited there; `api` rules live in the store. */
  origin: 'file' | 'api';
}

export const RULE_NAME = /^[A-Za-z0-9_.:-]{1,64}$/;
const GLOB = /^[A-Za-z0-9_.:*?-]{1,64}$/;
export const MAX_RULES = 10_000;

/** A ConfigError, so a bad --alerts-file at start-up is reported as configuration (exit 2). */
export class RuleError extends ConfigError {}

const num = (o: Record<string, unknown>, k: string, bad: (w: string) => RuleError): number | undefined => {
  const v = o[k];
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw bad(`"${k}" must be a finite number`);
  return v;
};
const dur = (o: Record<string, unknown>, k: string, bad: (w: string) => RuleError): number | undefined => {
  if (o[k] === undefined) return undefined;
  const ms = parseDuration(o[k]);
  if (ms === undefined) throw bad(`"${k}" must be a duration such as 30s, 5m, 1h or a number of ms`);
  return ms;
};

/** Validate one rule (the JSON shape of docs/alerts.md: `for`, `window`, `renotify` as durations). */
export function parseRule(raw: unknown, origin: AlertRule['origin'], where = 'rule'): AlertRule {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new RuleError(`${where}: must be an object`);
  const o = raw as Record<string, unknown>;
  const name = typeof o.name === 'string' ? o.name : '';
  const bad = (why: string) => new RuleError(`${where}${name ? ` "${name}"` : ''}: ${why}`);
  if (!RULE_NAME.test(name)) throw bad('"name" must be 1–64 letters, digits, "_", "-", "." or ":"');
  const known = new Set(['name', 'kind', 'devices', 'description', 'metric', 'above', 'below', 'hysteresis', 'for', 'offline', 'window', 'rise', 'fall', 'change', 'renotify']);
  for (const k of Object.keys(o)) if (!known.has(k)) throw bad(`unknown field "${k}"`);
  const devices = o.devices === undefined ? ['*'] : o.devices;
  if (!Array.isArray(devices) || devices.length === 0 || devices.length > 100 || devices.some((d) => typeof d !== 'string' || !GLOB.test(d))) {
    throw bad('"devices" must be a list of 1–100 device id patterns (letters, digits, _ . : - and the wildcards * ?)');
  }
  if (o.description !== undefined && (typeof o.description !== 'string' || o.description.length > 500)) throw bad('"description" must be a string of at most 500 characters');
  const rule: AlertRule = { name, kind: o.kind as RuleKind, devices: devices as string[], origin };
  if (o.description !== undefined) rule.description = o.description as string;
  const renotify = o.renotify === 0 ? 0 : dur(o, 'renotify', bad);
  if (renotify) rule.renotifyMs = renotify;
  const needMetric = () => {
    if (typeof o.metric !== 'string' || o.metric === '' || o.metric === 'ts' || o.metric.length > 64) throw bad('"metric" must name a telemetry field');
    rule.metric = o.metric;
  };
  const forMs = o.for === 0 ? 0 : dur(o, 'for', bad);
  switch (o.kind) {
    case 'threshold': {
      needMetric();
      const above = num(o, 'above', bad);
      const below = num(o, 'below', bad);
      if ((above === undefined) === (below === undefined)) throw bad('a threshold rule needs exactly one of "above" or "below"');
      const h = num(o, 'hysteresis', bad) ?? 0;
      if (h < 0) throw bad('"hysteresis" must not be negative');
      if (above !== undefined) rule.above = above;
      if (below !== undefined) rule.below = below;
      rule.hysteresis = h;
      rule.forMs = forMs ?? 0;
      break;
    }
    case 'absence':
      if (!forMs) throw bad('an absence rule needs "for" (how long a device may stay silent)');
      if (o.offline !== undefined && typeof o.offline !== 'boolean') throw bad('"offline" must be true or false');
      rule.forMs = forMs;
      rule.offline = o.offline === true;
      break;
    case 'rate': {
      needMetric();
      const windowMs = dur(o, 'window', bad);
      if (!windowMs) throw bad('a rate rule needs "window"');
      const amounts = (['rise', 'fall', 'change'] as const).filter((k) => o[k] !== undefined);
      if (amounts.length !== 1) throw bad('a rate rule needs exactly one of "rise", "fall" or "change"');
      const k = amounts[0]!;
      const v = num(o, k, bad)!;
      if (v <= 0) throw bad(`"${k}" must be positive`);
      rule[k] = v;
      rule.windowMs = windowMs;
      break;
    }
    default:
      throw bad('"kind" must be "threshold", "absence" or "rate"');
  }
  return rule;
}

/** Parse a list of rules; names must be unique. */
export function parseRules(raw: unknown, origin: AlertRule['origin'], where = 'rules'): AlertRule[] {
  if (!Array.isArray(raw)) throw new RuleError(`${where} must be a list`);
  if (raw.length > MAX_RULES) throw new RuleError(`${where}: at most ${MAX_RULES} rules`);
  const seen = new Set<string>();
  return raw.map((r, i) => {
    const rule = parseRule(r, origin, `${where}[${i}]`);
    if (seen.has(rule.name)) throw new RuleError(`${where}[${i}]: duplicate rule name "${rule.name}"`);
    seen.add(rule.name);
    return rule;
  });
}

/** The JSON shape users write and read back (durations as ms numbers). */
export function ruleJson(r: AlertRule): Record<string, unknown> {
  const { forMs, windowMs, renotifyMs, ...rest } = r;
  return { ...rest, ...(forMs !== undefined ? { for: forMs } : {}), ...(windowMs !== undefined ? { window: windowMs } : {}), ...(renotifyMs ? { renotify: renotifyMs } : {}) };
}

/** Glob → RegExp: `*` any run of characters, `?` exactly one; everything else literal. */
export function globRegExp(glob: string): RegExp {
  const body = glob.replace(/[.:-]/g, (c) => `\\${c}`).replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`);
}

/** True when two rules would evaluate identically (a reload keeps the state of unchanged rules). */
export function sameRule(a: AlertRule, b: AlertRule): boolean {
  return JSON.stringify(ruleJson({ ...a, origin: 'file' })) === JSON.stringify(ruleJson({ ...b, origin: 'file' }));
}
