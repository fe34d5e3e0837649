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
import { FailureLog } from './failure-log.js';
import { ConnectionLimits, TokenBucket } from './limits.js';
import { Sessions } from './sessions.js';
import { LiveConnections } from './live.js';
import { createPeerResolver, type Peer } from './peer.js';
import { createHostCheck, hostName } from '../http/hosts.js';

const MAX_HOST_WARNINGS = 100;
import { LogSummary } from '../log-summary.js';
import { ShapeGuard } from '../bus/shape.js';

export type { Identity, Role, Action } from './acl.js';
export type { Peer } from './peer.js';

export interface Security {
  readonly authenticator: Authenticator;
  /** Doors report failed and refused authentications here (counted summaries, not a line each). */
  readonly authFailures: FailureLog;
  readonly acl: Acl;
  readonly sessions: Sessions;
  /** Authenticated connections of every door by identity, so revocation can close them (auth/live.ts). */
  readonly live: LiveConnections;
  readonly connections: ConnectionLimits;
  readonly authTimeoutMs: number;
  readonly denied: Record<string, number>;
  /** Check and, when refused, log and count. */
  allow(who: Identity, action: Action, topic: string, door: string): boolean;
  /** A fresh publish-rate bucket for one client, or undefined when unlimited. */
  publishBucket(): TokenBucket | undefined;
  /** Browsers only: an upgrade whose Origin is not allowed is refused. */
  originAllowed(req: IncomingMessage): boolean;
  /** DNS-rebinding protection: is the request's Host a name the hub is known by (http/hosts.ts)? */
  hostAllowed(req: IncomingMessage): boolean;
  /** The client behind a request: its address (through trusted proxies) and whether it was proxied (auth/peer.ts). */
  peer(req: IncomingMessage): Peer;
  /** The anonymous identity for a request's client, if anonymous access is allowed for it. */
  anonymousFor(req: IncomingMessage): Identity | undefined;
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

/**
 * Role of credential-less clients that came through a reverse proxy. A proxy on
 * the hub's machine makes every client look like 127.0.0.1, so the loopback
 * default (`auto` → admin) never applies to them: on a loopback --host they get
 * the anonymous role only with --allow-anonymous, as on an exposed --host.
 */
export function proxiedAnonymousRole(cfg: HubConfig, anon: Role | null): Role | null {
  return isLoopback(cfg.host) && !cfg.allowAnonymous ? null : anon;
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
  const guard = {
    freeFailures: cfg.authFreeFailures,
    nameFailures: cfg.authNameFailures,
    ipFailures: cfg.authIpFailures,
    ipDecayMs: cfg.authIpDecayMs,
    baseMs: 1000,
    maxMs: cfg.authBackoffMaxMs,
    checksInFlight: cfg.authChecksInFlight,
    checksPerIp: cfg.authChecksPerIp,
  };
  const denied: Record<string, number> = {};
  const errors: Record<string, number> = {};
  /** Counters keyed `door:what`, read back by hub-metrics.ts. */
  const bump = (counts: Record<string, number>, door: string, what: string) => {
    const key = `${door}:${what}`;
    counts[key] = (counts[key] ?? 0) + 1;
  };
  const origins = new Set(cfg.origins);
  const peer = createPeerResolver(cfg.trustedProxies, cfg.forwardedHeader);
  const hostOk = createHostCheck(cfg.host, cfg.allowedHosts);
  const warnedHosts = new Set<string>();
  const authenticator = new Authenticator(ids, anon, guard, undefined, proxiedAnonymousRole(cfg, anon));
  const logs = new LogSummary(log, { intervalMs: cfg.logSummaryMs });
  const sec: Security = {
    authenticator,
    authFailures: new FailureLog(log),
    acl,
    sessions: new Sessions({ maxAgeMs: cfg.sessionMaxAgeMs }),
    live: new LiveConnections(cfg.maxConnections),
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
    peer,
    anonymousFor: (req) => authenticator.anonymous(peer(req).proxied),
    hostAllowed(req) {
      if (hostOk(req.headers.host)) return true;
      // Logged once per name (at most MAX_HOST_WARNINGS names, then only counted): tells the operator what to set.
      const name = hostName(req.headers.host ?? '').slice(0, 100);
      if (warnedHosts.size < MAX_HOST_WARNINGS && !warnedHosts.has(name)) {
        warnedHosts.add(name);
        log.warn({ host: name }, 'request for a Host this hub is not known by refused (DNS-rebinding protection): if the hub is reached by this name, add it with --allowed-hosts');
      }
      return false;
    },
    originAllowed(req) {
      const origin = req.headers.origin;
      if (origin === undefined || origins.has('*')) return true; // non-browser clients send no Origin
      if (origins.has(origin)) return true;
      try {
        // Host was checked against the names the hub is known by (hostAllowed); same-origin means the same name and port.
        return new URL(origin).host === req.headers.host?.toLowerCase();
      } catch {
        return false;
      }
    },
  };
  return sec;
}
