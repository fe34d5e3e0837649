/**
 * Security for every door, assembled once from the configuration: who may
 * connect (authenticator, sessions, anonymous role), what they may do (ACL),
 * and how much (connection limits, publish rate). Doors ask; they decide nothing.
 */
import { readFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { parse as parseYaml } from 'yaml';
import type { HubConfig } from '../config/options.js';
import { ConfigError } from '../config/schema.js';
import type { Logger } from '../log.js';
import { Acl, DEFAULT_RULES, parseRules, type Action, type Identity, type Role } from './acl.js';
import { Authenticator } from './authenticator.js';
import type { IdentityStore } from './identities.js';
import { AuthBackoff, ConnectionLimits, TokenBucket } from './limits.js';
import { Sessions } from './sessions.js';
import { LogSummary } from '../log-summary.js';
import { ShapeGuard } from '../bus/shape.js';

export type { Identity, Role, Action } from './acl.js';

export interface Security {
  readonly authenticator: Authenticator;
  readonly acl: Acl;
  readonly sessions: Sessions;
  readonly connections: ConnectionLimits;
  readonly authTimeoutMs: number;
  readonly denied: Record<string, number>;
  /** Check and, when refused, log and count. */
  allow(who: Identity, action: Action, topic: string, door: string): boolean;
  /** A fresh publish-rate bucket for one client, or undefined when unlimited. */
  publishBucket(): TokenBucket | undefined;
  /** Browsers only: an upgrade whose Origin is not allowed is refused. */
  originAllowed(req: IncomingMessage): boolean;
  rateLimited: number;
  /** Error replies per door and code (every limit and refusal has one): `fieldlink_errors_total`. */
  readonly errors: Record<string, number>;
  countError(door: string, code: string): void;
  /** Repeatable events (refusals) are logged through this: first one, then counted summaries (log-summary.ts). */
  readonly logs: LogSummary;
  /** Payload shape bounds of device telemetry/meta/status, checked by every door (bus/shape.ts). */
  readonly shapes: ShapeGuard;
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost)$/;
export const isLoopback = (host: string) => LOOPBACK.test(host);

function loadRules(path: string) {
  if (!path) return DEFAULT_RULES;
  try {
    const text = readFileSync(path, 'utf8');
    return parseRules(path.endsWith('.json') ? JSON.parse(text) : parseYaml(text));
  } catch (e) {
    throw new ConfigError(`--acl-file ${path}: ${(e as Error).message}`);
  }
}

/** The anonymous role the configuration yields, or a one-line reason it is refused. */
export async function anonymousRole(cfg: HubConfig, ids: IdentityStore | undefined): Promise<Role | null> {
  const exposed = !isLoopback(cfg.host);
  const explicit = cfg.anonymous === 'auto' ? undefined : cfg.anonymous === 'none' ? null : (cfg.anonymous as Role);
  if (!exposed) return explicit === undefined ? 'admin' : explicit;
  if (cfg.allowAnonymous) return explicit === undefined ? 'admin' : explicit;
  if (explicit) throw new ConfigError(`--anonymous ${explicit} on --host ${cfg.host} needs --allow-anonymous`);
  if (!ids || !(await ids.hasAny())) {
    throw new ConfigError(`--host ${cfg.host} exposes the hub: configure authentication first (fieldlink user add / device add) or add --allow-anonymous on a trusted network`);
  }
  return null;
}

export function createSecurity(cfg: HubConfig, ids: IdentityStore | undefined, anon: Role | null, log: Logger): Security {
  const acl = new Acl(loadRules(cfg.aclFile));
  const backoff = new AuthBackoff(cfg.authFreeFailures, 1000, cfg.authBackoffMaxMs);
  const denied: Record<string, number> = {};
  const errors: Record<string, number> = {};
  /** Counters keyed `door:what`, read back by hub-metrics.ts. */
  const bump = (counts: Record<string, number>, door: string, what: string) => {
    const key = `${door}:${what}`;
    counts[key] = (counts[key] ?? 0) + 1;
  };
  const origins = new Set(cfg.origins);
  const logs = new LogSummary(log, { intervalMs: cfg.logSummaryMs });
  const sec: Security = {
    authenticator: new Authenticator(ids, anon, backoff),
    acl,
    sessions: new Sessions(),
    connections: new ConnectionLimits(cfg.maxConnections, cfg.maxConnectionsPerIp),
    authTimeoutMs: cfg.authTimeoutMs,
    denied,
    rateLimited: 0,
    errors,
    countError: (door, code) => bump(errors, door, code),
    logs,
    shapes: new ShapeGuard({ maxDepth: cfg.maxPayloadDepth, maxKeys: cfg.maxPayloadKeys, maxMetaBytes: cfg.maxMetaBytes }, logs),
    allow(who, action, topic, door) {
      if (acl.can(who, action, topic)) return true;
      bump(denied, door, action);
      const id = `${who.kind}:${who.id}`;
      logs.warn(`denied:${door}:${action}:${id}`, { door, action, topic, who: id, role: who.role }, 'denied');
      return false;
    },
    publishBucket: () => (cfg.publishRate > 0 ? new TokenBucket(cfg.publishRate, cfg.publishRate * 5) : undefined),
    originAllowed(req) {
      const origin = req.headers.origin;
      if (origin === undefined || origins.has('*')) return true; // non-browser clients send no Origin
      if (origins.has(origin)) return true;
      try {
        return new URL(origin).host === req.headers.host;
      } catch {
        return false;
      }
    },
  };
  return sec;
}
