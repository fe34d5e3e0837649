/**
 * Typed configuration, defined once (the centrifugo habit): each option's
 * definition yields its default, its `--flag`, its `FIELDLINK_*` variable, its
 * config-file key, its validation, the `--help` text and docs/configuration.md.
 * Precedence: default < config file < environment < command line.
 */
export type Kind = 'string' | 'int' | 'bool' | 'enum' | 'list';

export interface OptionDef<K extends Kind = Kind> {
  kind: K;
  default: K extends 'int' ? number : K extends 'bool' ? boolean : K extends 'list' ? string[] : string;
  doc: string;
  min?: number;
  max?: number;
  values?: readonly string[];
  /** Short group heading in docs and --help. */
  group?: string;
  /** Not shown in --help (still documented). */
  advanced?: boolean;
}

export type OptionSet = Record<string, OptionDef>;
export type Values<S extends OptionSet> = { [K in keyof S]: S[K]['default'] };

export const kebab = (key: string) => key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
export const envName = (key: string) => `FIELDLINK_${key.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** Parse one raw value (string from flags/env, or a typed value from a file) against its definition. */
export function coerce(key: string, def: OptionDef, raw: unknown, source: string): unknown {
  const where = `${source} ${source === 'flag' ? `--${kebab(key)}` : source === 'env' ? envName(key) : key}`;
  switch (def.kind) {
    case 'int': {
      const n = typeof raw === 'number' ? raw : typeof raw === 'string' && /^-?\d+$/.test(raw.trim()) ? Number(raw) : NaN;
      if (!Number.isInteger(n)) throw new ConfigError(`${where}: expected an integer, got ${JSON.stringify(raw)}`);
      if (def.min !== undefined && n < def.min) throw new ConfigError(`${where}: must be ≥ ${def.min}, got ${n}`);
      if (def.max !== undefined && n > def.max) throw new ConfigError(`${where}: must be ≤ ${def.max}, got ${n}`);
      return n;
    }
    case 'bool': {
      if (typeof raw === 'boolean') return raw;
      const s = String(raw).toLowerCase();
      if (['1', 'true', 'yes', 'on', ''].includes(s)) return true;
      if (['0', 'false', 'no', 'off'].includes(s)) return false;
      throw new ConfigError(`${where}: expected true or false, got ${JSON.stringify(raw)}`);
    }
    case 'enum': {
      const s = String(raw);
      if (!def.values?.includes(s)) throw new ConfigError(`${where}: expected one of ${def.values?.join(', ')}, got ${JSON.stringify(raw)}`);
      return s;
    }
    case 'list':
      if (Array.isArray(raw)) return raw.map(String);
      return String(raw).split(',').map((s) => s.trim()).filter(Boolean);
    case 'string':
      if (typeof raw !== 'string' && typeof raw !== 'number') throw new ConfigError(`${where}: expected a string, got ${JSON.stringify(raw)}`);
      return String(raw);
  }
}

export interface Sources {
  argv: string[];
  env: Record<string, string | undefined>;
  file?: Record<string, unknown>;
  /** Called for unknown keys in the file or environment (warned, not fatal). */
  warn: (message: string) => void;
}

/** Resolve a full, validated configuration; throws ConfigError with a one-line message. */
export function resolve<S extends OptionSet>(set: S, src: Sources): Values<S> {
  const out: Record<string, unknown> = {};
  for (const [k, d] of Object.entries(set)) out[k] = d.default;
  const byKebab = new Map(Object.keys(set).map((k) => [kebab(k), k]));
  if (src.file) {
    for (const [fk, v] of Object.entries(src.file)) {
      const k = set[fk] ? fk : byKebab.get(fk);
      if (!k) src.warn(`config file: unknown key "${fk}" (ignored)`);
      else out[k] = coerce(k, set[k]!, v, 'config file');
    }
  }
  const envKeys = new Map(Object.keys(set).map((k) => [envName(k), k]));
  for (const [ek, v] of Object.entries(src.env)) {
    if (!ek.startsWith('FIELDLINK_') || v === undefined) continue;
    const k = envKeys.get(ek);
    if (!k) src.warn(`environment: unknown variable ${ek} (ignored)`);
    else out[k] = coerce(k, set[k]!, v, 'env');
  }
  const args = src.argv;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (!a.startsWith('--')) throw new ConfigError(`unexpected argument "${a}" (options start with --)`);
    const eq = a.indexOf('=');
    let name = eq > 0 ? a.slice(2, eq) : a.slice(2);
    let value: string | undefined = eq > 0 ? a.slice(eq + 1) : undefined;
    let negate = false;
    if (!byKebab.has(name) && name.startsWith('no-') && set[byKebab.get(name.slice(3)) ?? '']?.kind === 'bool') {
      name = name.slice(3);
      negate = true;
    }
    const k = byKebab.get(name);
    if (!k) throw new ConfigError(`unknown option --${name} (see --help)`);
    const def = set[k]!;
    if (def.kind === 'bool') {
      out[k] = negate ? false : value === undefined ? true : coerce(k, def, value, 'flag');
      continue;
    }
    if (value === undefined) {
      value = args[++i];
      if (value === undefined) throw new ConfigError(`option --${name} needs a value`);
    }
    out[k] = coerce(k, def, value, 'flag');
  }
  return out as Values<S>;
}
