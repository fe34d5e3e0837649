/**
 * The alerts file (`--alerts-file`, YAML or JSON; docs/alerts.md): rules and
 * webhooks. Read at start and again on SIGHUP; a file that does not validate
 * is refused whole and the running rules stay.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { parseDuration } from '../history.js';
import { parseRules, RuleError, type AlertRule } from './rules.js';
import type { WebhookConfig } from './webhook.js';

export interface AlertsFile {
  rules: AlertRule[];
  webhooks: WebhookConfig[];
}

const WEBHOOK_KEYS = new Set(['url', 'secret', 'timeout', 'attempts', 'maxQueue', 'backoff', 'maxBackoff']);

function parseWebhook(raw: unknown, i: number): WebhookConfig {
  const bad = (why: string) => new RuleError(`webhooks[${i}]: ${why}`);
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw bad('must be an object');
  const o = raw as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!WEBHOOK_KEYS.has(k)) throw bad(`unknown field "${k}"`);
  let url: URL;
  try {
    url = new URL(String(o.url));
  } catch {
    throw bad('"url" must be an http:// or https:// URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw bad('"url" must be an http:// or https:// URL');
  if (typeof o.secret !== 'string' || o.secret.length < 16) throw bad('"secret" must be a string of at least 16 characters (it signs every delivery)');
  const ms = (k: string, d: number) => {
    if (o[k] === undefined) return d;
    const v = parseDuration(o[k]);
    if (v === undefined) throw bad(`"${k}" must be a duration such as 5s`);
    return v;
  };
  const int = (k: string, d: number, max: number) => {
    const v = o[k] ?? d;
    if (!Number.isInteger(v) || (v as number) < 1 || (v as number) > max) throw bad(`"${k}" must be an integer from 1 to ${max}`);
    return v as number;
  };
  return { url: url.href, secret: o.secret, timeoutMs: ms('timeout', 5000), attempts: int('attempts', 5, 100), maxQueue: int('maxQueue', 1000, 1_000_000), backoffMs: ms('backoff', 1000), maxBackoffMs: ms('maxBackoff', 60_000) };
}

export function parseAlertsFile(data: unknown, where = 'alerts file'): AlertsFile {
  if (data === null || data === undefined) return { rules: [], webhooks: [] };
  if (typeof data !== 'object' || Array.isArray(data)) throw new RuleError(`${where}: must be a mapping with "rules" and "webhooks"`);
  const o = data as Record<string, unknown>;
  for (const k of Object.keys(o)) if (k !== 'rules' && k !== 'webhooks') throw new RuleError(`${where}: unknown key "${k}" (expected "rules", "webhooks")`);
  const webhooks = o.webhooks ?? [];
  if (!Array.isArray(webhooks)) throw new RuleError(`${where}: "webhooks" must be a list`);
  return { rules: parseRules(o.rules ?? [], 'file'), webhooks: webhooks.map(parseWebhook) };
}

export function readAlertsFile(path: string): AlertsFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new RuleError(`--alerts-file ${path}: ${(e as Error).message}`);
  }
  let data: unknown;
  try {
    data = path.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (e) {
    throw new RuleError(`--alerts-file ${path} is not valid ${path.endsWith('.json') ? 'JSON' : 'YAML'}: ${(e as Error).message.split('\n')[0]}`);
  }
  return parseAlertsFile(data, `--alerts-file ${path}`);
}
