/**
 * Reading the Arduino sketch (examples/arduino/fieldlink_veml7700) as data: it
 * cannot be compiled here, so tests extract what it builds from its source.
 *
 * Markers in the sketch (one comment line each):
 *   // fieldlink:topic <name>            next line: snprintf(var, sizeof var, "<format>", …)
 *   // fieldlink:format device-id        next line: the snprintf that builds the device id
 *   // fieldlink:json <name>             next line: a raw string literal R"json(…)json"
 *   // fieldlink:frame <name> <example>  code until "// fieldlink:end" builds (or reads) that frame
 * The checks compare the example with what the code between the markers really
 * writes (`doc["key"] = …`) or reads (`req["key"]`); the tests then validate the
 * example with @fieldlink/protocol (MQTT frames, examples.test.ts) or the live
 * page's schema (live frames, arduino-page.test.ts).
 */
export const SKETCH_DIR = new URL('../../examples/arduino/fieldlink_veml7700/', import.meta.url);
export const SKETCH_PATH = new URL('fieldlink_veml7700.ino', SKETCH_DIR);

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
export interface Marker { type: 'topic' | 'format' | 'json' | 'frame'; name: string; example?: Json; body: string; line: number }

export const isObj = (v: unknown): v is Record<string, Json> => typeof v === 'object' && v !== null && !Array.isArray(v);

export function extractMarkers(src: string, problems: string[]): Marker[] {
  const lines = src.split('\n');
  const out: Marker[] = [];
  for (let i = 0; i < lines.length; i++) {
    const m = /^\s*\/\/ fieldlink:(\w+)(?: (\S+)(?: (.*))?)?$/.exec(lines[i]!);
    if (!m || m[1] === 'end') continue;
    const [, type, name = '', rest] = m;
    if (!['topic', 'format', 'json', 'frame'].includes(type!)) { problems.push(`line ${i + 1}: unknown marker fieldlink:${type}`); continue; }
    if (type !== 'frame') { out.push({ type: type as Marker['type'], name, body: lines[i + 1] ?? '', line: i + 1 }); continue; }
    const end = lines.findIndex((l, j) => j > i && /^\s*\/\/ fieldlink:end\s*$/.test(l));
    if (end < 0) { problems.push(`line ${i + 1}: frame ${name} has no "// fieldlink:end"`); continue; }
    let example: Json | undefined;
    try { example = JSON.parse(rest ?? '') as Json; } catch { problems.push(`line ${i + 1}: frame ${name}: the example is not JSON: ${rest}`); }
    out.push({ type: 'frame', name, example, body: lines.slice(i + 1, end).join('\n'), line: i + 1 });
  }
  return out;
}

/** printf as the sketch uses it: %s, and integer conversions with width/zero padding (args are strings or bigints). */
export function cFormat(fmt: string, args: (string | bigint)[]): string {
  let k = 0;
  return fmt.replace(/%(0?)(\d*)(?:ll|l)?([sduxX%])/g, (_all, zero: string, width: string, conv: string) => {
    if (conv === '%') return '%';
    const a = args[k++];
    if (a === undefined) throw new Error(`format "${fmt}" needs more arguments`);
    const text = conv === 's' ? String(a) : BigInt(a).toString(conv === 'd' || conv === 'u' ? 10 : 16);
    return text.padStart(Number(width || 0), zero ? '0' : ' ');
  });
}

/** Every `root["a"]["b"] = value` in the code: path and, when it is a literal, its value. */
export function writes(code: string, root: string): { path: string[]; literal?: Json }[] {
  const re = new RegExp(`\\b${root}((?:\\[\\s*"[^"]*"\\s*\\])+)\\s*=(?!=)\\s*([^;]*);`, 'g');
  return [...code.matchAll(re)].map((m) => {
    const path = [...m[1]!.matchAll(/"([^"]*)"/g)].map((p) => p[1]!);
    const v = m[2]!.trim();
    const literal = v === 'true' ? true : v === 'false' ? false : /^-?\d+(\.\d+)?$/.test(v) ? Number(v) : /^"[^"\\]*"$/.test(v) ? v.slice(1, -1) : undefined;
    return literal === undefined ? { path } : { path, literal };
  });
}

/** Every `root["a"]…` in the code, read or written. */
export function uses(code: string, root: string): string[][] {
  return [...code.matchAll(new RegExp(`\\b${root}((?:\\[\\s*"[^"]*"\\s*\\])+)`, 'g'))].map((m) => [...m[1]!.matchAll(/"([^"]*)"/g)].map((p) => p[1]!));
}

/** Leaf paths of a JSON example (an empty object counts as a leaf). */
export function leafPaths(v: Json, prefix: string[] = []): string[][] {
  if (!isObj(v) || (Object.keys(v).length === 0 && prefix.length > 0)) return [prefix];
  return Object.entries(v).flatMap(([k, x]) => leafPaths(x, [...prefix, k]));
}
export const at = (v: Json | undefined, path: string[]): Json | undefined => path.reduce<Json | undefined>((o, k) => (isObj(o) ? o[k] : undefined), v);
export const isPrefix = (p: string[], q: string[]) => p.length <= q.length && p.every((k, i) => q[i] === k);
export const show = (p: string[]) => p.map((k) => `["${k}"]`).join('');

/** The code's paths and the example's paths must cover each other (a code path may stop at an object it assigns whole). */
export function samePaths(what: string, code: string[][], example: Json | undefined, problems: string[]): void {
  const ex = example === undefined ? [] : leafPaths(example);
  for (const p of code) if (!ex.some((q) => isPrefix(p, q))) problems.push(`${what}: the code writes ${show(p)}, which the example lacks`);
  for (const q of ex) if (!code.some((p) => isPrefix(p, q))) problems.push(`${what}: the example has ${show(q)}, which the code does not write`);
}

export function checkLiterals(what: string, w: { path: string[]; literal?: Json }[], example: Json | undefined, problems: string[]): void {
  for (const { path, literal } of w) {
    if (literal !== undefined && at(example, path) !== literal) problems.push(`${what}: the code sets ${show(path)} = ${JSON.stringify(literal)}, the example has ${JSON.stringify(at(example, path))}`);
  }
}

/** All problems found in the sketch's source; empty means it speaks the protocol. */
