/**
 * Access control as data: rules grant actions on topic patterns to a role or
 * one identity, with `{id}` (the identity's id: device id, user name, token id)
 * and `{user}` substituted. Deny by default; every door asks the same `can()`.
 *
 * Actions and the topic each door checks:
 *   publish    the topic published (MQTT PUBLISH, `pub`, device frames)
 *   subscribe  the filter subscribed, and each message delivered through it
 *   read       `devices/{device}/telemetry` for history, CSV and the device list
 *   call       `devices/{device}/cmd/{method}`
 *   admin      identities (device/user/token management)
 */
import { topicMatches } from '@fieldlink/protocol';

export type Action = 'publish' | 'subscribe' | 'read' | 'call' | 'admin';
export type Role = 'device' | 'viewer' | 'operator' | 'admin';
export const ROLES: readonly Role[] = ['device', 'viewer', 'operator', 'admin'];

export interface Identity {
  kind: 'device' | 'user' | 'token' | 'anonymous';
  /** Device id, user name or token id. */
  id: string;
  role: Role;
  /** Tokens: the user they act for, if any. */
  user?: string;
  /**
   * What proved it, for revocation (auth/revocation.ts): `token:<id>`,
   * `secret:<generation>`, `password:<generation>` (auth/secrets.ts) or `cert`.
   */
  credential?: string;
  /** When it stops being valid (token expiry, a session's maximum age), ms since the epoch. */
  expiresAt?: number;
}

export interface Rule {
  role?: Role;
  identity?: string;
  allow: Action[];
  topics: string[];
}

/** The defaults of the security model (docs/security.md). */
export const DEFAULT_RULES: readonly Rule[] = [
  { role: 'device', allow: ['publish'], topics: ['devices/{id}/#'] },
  { role: 'device', allow: ['subscribe'], topics: ['devices/{id}/cmd/#'] },
  { role: 'viewer', allow: ['subscribe', 'read'], topics: ['#'] },
  { role: 'operator', allow: ['subscribe', 'read', 'publish', 'call'], topics: ['#'] },
  { role: 'admin', allow: ['subscribe', 'read', 'publish', 'call', 'admin'], topics: ['#'] },
];

const expand = (pattern: string, who: Identity) => pattern.replaceAll('{id}', who.id).replaceAll('{user}', who.user ?? who.id);

/** True when `filter` can only ever match topics that `grant` also matches. */
export function filterWithin(grant: string, filter: string): boolean {
  const g = grant.split('/');
  const f = filter.split('/');
  for (let i = 0; i < f.length; i++) {
    const gl = g[i];
    if (gl === '#') return true;
    if (gl === undefined) return false;
    const fl = f[i]!;
    if (fl === '#') return false; // the filter reaches deeper than the grant at this level
    if (gl === '+') continue;
    if (fl === '+' || fl !== gl) return false;
  }
  // `a/#` also matches its parent `a` (MQTT 4.7.1.2)
  return f.length === g.length || (g.length === f.length + 1 && g[f.length] === '#');
}

export class Acl {
  /** Grants per identity and action, computed once: the rules never change while the hub runs. */
  private readonly memo = new Map<string, string[]>();

  constructor(private readonly rules: readonly Rule[] = DEFAULT_RULES) {}

  private grants(who: Identity, action: Action): string[] {
    const key = `${who.kind}\u0000${who.id}\u0000${who.role}\u0000${who.user ?? ''}\u0000${action}`;
    const known = this.memo.get(key);
    if (known) return known;
    if (this.memo.size > 50_000) this.memo.clear();
    const out: string[] = [];
    for (const r of this.rules) {
      if (r.identity !== undefined ? r.identity !== `${who.kind}:${who.id}` : r.role !== who.role) continue;
      if (!r.allow.includes(action)) continue;
      for (const t of r.topics) out.push(expand(t, who));
    }
    this.memo.set(key, out);
    return out;
  }

  /** May `who` do `action` on this topic? For `subscribe`, `topic` may be a filter: it must lie wholly within a grant. */
  can(who: Identity, action: Action, topic: string): boolean {
    const grants = this.grants(who, action);
    if (action === 'subscribe') return grants.some((g) => filterWithin(g, topic));
    return grants.some((g) => topicMatches(g, topic));
  }
}

/** Parse rules from configuration (JSON array); throws with a message naming the bad entry. */
export function parseRules(raw: unknown): Rule[] {
  if (!Array.isArray(raw)) throw new Error('rules must be an array');
  return raw.map((r: unknown, i) => {
    const o = r as Partial<Rule>;
    const bad = (why: string) => new Error(`rule ${i}: ${why}`);
    if (typeof o !== 'object' || o === null) throw bad('must be an object');
    if ((o.role === undefined) === (o.identity === undefined)) throw bad('needs exactly one of "role" or "identity"');
    if (o.role !== undefined && !ROLES.includes(o.role)) throw bad(`unknown role "${String(o.role)}"`);
    if (!Array.isArray(o.allow) || o.allow.some((a) => !['publish', 'subscribe', 'read', 'call', 'admin'].includes(a))) throw bad('"allow" must list publish, subscribe, read, call or admin');
    if (!Array.isArray(o.topics) || o.topics.some((t) => typeof t !== 'string' || t === '')) throw bad('"topics" must be a list of topic patterns');
    return { ...(o.role ? { role: o.role } : { identity: o.identity! }), allow: o.allow, topics: o.topics };
  });
}
