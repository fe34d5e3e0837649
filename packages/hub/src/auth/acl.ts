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
 *
 * A rule may `deny` actions as well as `allow` them; a deny wins over any allow,
 * whatever the order of the rules. For `subscribe`, a filter is refused when no
 * grant holds it wholly or a deny holds it wholly; a filter held by a grant that
 * only *overlaps* a deny (`test/#` against deny `test/nosubscribe`, or `#`) is
 * accepted but `screened`: the door must then check every message it delivers
 * through it with `can(who, 'subscribe', topic)` (docs/security.md "Deny rules").
 * A grant starting with a wildcard never covers `$` topics or filters
 * [MQTT-4.7.2-1]: `$SYS/#` needs a grant of its own.
 */
import { topicMatches } from '@fieldlink/protocol';

export type Action = 'publish' | 'subscribe' | 'read' | 'call' | 'admin';
export type Role = 'device' | 'viewer' | 'operator' | 'admin';
export const ROLES: readonly Role[] = ['device', 'viewer', 'operator', 'admin'];
const ACTIONS: readonly Action[] = ['publish', 'subscribe', 'read', 'call', 'admin'];

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
  allow?: Action[];
  /** Refused even where an allow (of this or another rule) grants them. */
  deny?: Action[];
  topics: string[];
}

/** How a subscription filter stands: refused, wholly allowed, or allowed with a check per delivered message. */
export type SubscribeScope = 'none' | 'all' | 'screened';

/** The defaults of the security model (docs/security.md). */
export const DEFAULT_RULES: readonly Rule[] = [
  { role: 'device', allow: ['publish'], topics: ['devices/{id}/#'] },
  { role: 'device', allow: ['subscribe'], topics: ['devices/{id}/cmd/#'] },
  { role: 'viewer', allow: ['subscribe', 'read'], topics: ['#'] },
  { role: 'operator', allow: ['subscribe', 'read', 'publish', 'call'], topics: ['#'] },
  { role: 'admin', allow: ['subscribe', 'read', 'publish', 'call', 'admin'], topics: ['#'] },
  // the broker's own topics (client ids come and go there): administrators only
  { role: 'admin', allow: ['subscribe'], topics: ['$SYS/#'] },
];

const expand = (pattern: string, who: Identity) => pattern.replaceAll('{id}', who.id).replaceAll('{user}', who.user ?? who.id);

/** True when `filter` can only ever match topics that `grant` also matches. */
export function filterWithin(grant: string, filter: string): boolean {
  if (dollarShielded(grant, filter)) return false;
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

/** [MQTT-4.7.2-1]: a pattern starting with a wildcard does not reach topics starting with `$`. */
const dollarShielded = (a: string, b: string) => (a[0] === '+' || a[0] === '#') && b[0] === '$';

/** True when some topic matches both filters (either may hold wildcards). */
export function filtersOverlap(a: string, b: string): boolean {
  if (dollarShielded(a, b) || dollarShielded(b, a)) return false;
  const x = a.split('/');
  const y = b.split('/');
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const xl = x[i];
    const yl = y[i];
    if (xl === '#' || yl === '#') return true;
    if (xl === undefined || yl === undefined) return false; // a trailing `#` (which also matches its parent, 4.7.1.2) returned above
    if (xl !== '+' && yl !== '+' && xl !== yl) return false;
  }
  return true;
}

interface Grants {
  allow: string[];
  deny: string[];
}

export class Acl {
  /** Grants per identity and action, computed once: the rules never change while the hub runs. */
  private readonly memo = new Map<string, Grants>();

  constructor(private readonly rules: readonly Rule[] = DEFAULT_RULES) {}

  private grants(who: Identity, action: Action): Grants {
    const key = `${who.kind}\u0000${who.id}\u0000${who.role}\u0000${who.user ?? ''}\u0000${action}`;
    const known = this.memo.get(key);
    if (known) return known;
    if (this.memo.size > 50_000) this.memo.clear();
    const out: Grants = { allow: [], deny: [] };
    for (const r of this.rules) {
      if (r.identity !== undefined ? r.identity !== `${who.kind}:${who.id}` : r.role !== who.role) continue;
      if (r.allow?.includes(action)) for (const t of r.topics) out.allow.push(expand(t, who));
      if (r.deny?.includes(action)) for (const t of r.topics) out.deny.push(expand(t, who));
    }
    this.memo.set(key, out);
    return out;
  }

  /**
   * May `who` do `action` on this topic? For `subscribe`, `topic` may be a filter:
   * true for `all` and `screened` (see `subscribeScope`); a door that accepts a
   * screened filter must check each delivery.
   */
  can(who: Identity, action: Action, topic: string): boolean {
    if (action === 'subscribe') return this.subscribeScope(who, topic) !== 'none';
    const g = this.grants(who, action);
    return g.allow.some((p) => topicMatches(p, topic)) && !g.deny.some((p) => topicMatches(p, topic));
  }

  /** A filter is `none` unless a grant holds it wholly; `screened` when it also overlaps a deny (a concrete topic never is). */
  subscribeScope(who: Identity, filter: string): SubscribeScope {
    const g = this.grants(who, 'subscribe');
    if (!g.allow.some((p) => filterWithin(p, filter))) return 'none';
    if (g.deny.length === 0) return 'all';
    if (g.deny.some((p) => filterWithin(p, filter))) return 'none';
    return g.deny.some((p) => filtersOverlap(p, filter)) ? 'screened' : 'all';
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
    if (o.allow === undefined && o.deny === undefined) throw bad('needs "allow" or "deny" (or both)');
    for (const k of ['allow', 'deny'] as const) {
      const v = o[k];
      if (v !== undefined && (!Array.isArray(v) || v.some((a) => !ACTIONS.includes(a)))) throw bad(`"${k}" must list publish, subscribe, read, call or admin`);
    }
    if (!Array.isArray(o.topics) || o.topics.some((t) => typeof t !== 'string' || t === '')) throw bad('"topics" must be a list of topic patterns');
    return { ...(o.role ? { role: o.role } : { identity: o.identity! }), ...(o.allow ? { allow: o.allow } : {}), ...(o.deny ? { deny: o.deny } : {}), topics: o.topics };
  });
}
