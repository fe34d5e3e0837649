/**
 * Revocation ends access now: the hub follows the store's identity change log
 * (identity_events, written by triggers in the same transaction as each change,
 * whichever process makes it: the admin CLI, another hub) and, for every
 * subject a change names, re-reads the subject's record and closes what its
 * current credentials no longer cover: live connections on every door
 * (auth/live.ts) and dashboard sessions (auth/sessions.ts).
 *
 * The log is polled by sequence number every `pollMs` (--revocation-poll-ms,
 * 1 s): that works across processes on SQLite and across hubs on one
 * PostgreSQL schema alike, and costs one indexed query per second. Re-checking
 * the current record (not trusting the event alone) makes each event
 * idempotent and spares connections that already use the new credentials.
 *
 * What a record no longer covers:
 *   token:<id>   revoked, expired, deleted, or its role or device changed
 *   device:<id>  a secret connection whose secret generation is not the stored
 *                one (rotated or removed); certificate connections on `removed`
 *   user:<name>  a password connection or session whose generation (password
 *                hash and role) is not the stored one; a token acting for a
 *                user that is gone
 * Expiry needs no event: every tick closes connections whose `expiresAt` passed.
 *
 * A gap in the log (events pruned before this hub read them, or the store
 * unreachable for long) re-checks every live subject. Events older than
 * `keepMs` (7 days) are pruned, once an hour.
 */
import type { Logger } from '../log.js';
import type { IdentityEvent, IdentityStore } from './identities.js';
import type { LiveConnections, LiveEntry } from './live.js';
import type { Sessions } from './sessions.js';
import { generation } from './secrets.js';
import type { Identity } from './acl.js';

export interface RevocationOptions {
  pollMs: number;
  /** Events older than this are pruned (default 7 days). */
  keepMs?: number;
  now?: () => number;
}

export interface RevocationStats {
  events: number;
  rechecks: number;
  pollErrors: number;
}

export interface RevocationWatch {
  readonly stats: RevocationStats;
  /** One poll now (tests; the timer calls it too). */
  poll(): Promise<void>;
  stop(): Promise<void>;
}

const BATCH = 500;
const HOUR = 3_600_000;

export async function startRevocationWatch(ids: IdentityStore, live: LiveConnections, sessions: Sessions, log: Logger, opts: RevocationOptions): Promise<RevocationWatch> {
  const now = opts.now ?? Date.now;
  const keepMs = opts.keepMs ?? 7 * 24 * HOUR;
  const stats: RevocationStats = { events: 0, rechecks: 0, pollErrors: 0 };
  // Changes before this hub started concern nobody here: every connection authenticates after.
  live.seq = await ids.lastEventSeq();
  let lastPrune = 0;
  let failing = false;

  const stale = (e: LiveEntry, current: string | undefined, removed: boolean): boolean => {
    const c = e.identity.credential;
    if (c === 'cert') return removed;
    if (c?.startsWith('token:')) return false; // judged under its own token:<id> subject
    return c !== current;
  };

  const recheck = async (key: string, reasons: ReadonlySet<string> = new Set()): Promise<void> => {
    stats.rechecks++;
    const colon = key.indexOf(':');
    const kind = key.slice(0, colon);
    const id = key.slice(colon + 1);
    const t = now();
    if (kind === 'token') {
      const rec = await ids.getToken(id);
      const dead = !rec || rec.revokedAt !== null || (rec.expiresAt !== null && rec.expiresAt <= t);
      const covers = (i: Identity) => !dead && i.role === rec.role && (rec.role !== 'device' || i.id === rec.subject);
      live.closeWhere(key, (e) => !covers(e.identity), 'revoked');
      sessions.revokeWhere((i) => i.credential === key && !covers(i));
    } else if (kind === 'device') {
      const rec = await ids.getDevice(id);
      const current = rec ? `secret:${generation(rec.secretHash)}` : undefined;
      live.closeWhere(key, (e) => e.identity.kind === 'device' && stale(e, current, reasons.has('removed')), 'revoked');
    } else if (kind === 'user') {
      const rec = await ids.getUser(id);
      const current = rec ? `password:${generation(rec.passwordHash, rec.role)}` : undefined;
      const ofUser = (i: Identity) => i.kind === 'user' && i.id === id;
      live.closeWhere(key, (e) => (ofUser(e.identity) ? stale(e, current, false) : !rec), 'revoked');
      sessions.revokeWhere((i) => ofUser(i) && i.credential !== current);
    }
  };

  const apply = async (events: IdentityEvent[]): Promise<void> => {
    const reasons = new Map<string, Set<string>>();
    for (const e of events) {
      const key = `${e.kind}:${e.id}`;
      (reasons.get(key) ?? reasons.set(key, new Set()).get(key)!).add(e.reason);
    }
    // Noted first: a door registering while the re-checks run then asks for its own (live.ts).
    for (const e of events) live.noted(e.seq, `${e.kind}:${e.id}`);
    for (const [key, why] of reasons) await recheck(key, why);
    stats.events += events.length;
  };

  const poll = async (): Promise<void> => {
    try {
      for (;;) {
        const events = await ids.eventsAfter(live.seq, BATCH);
        if (events.length > 0 && events[0]!.seq > live.seq + 1) {
          // Missed events (pruned, or a rolled-back writer's seq): re-check everyone.
          log.warn({ from: live.seq, to: events[0]!.seq }, 'identity change log has a gap: re-checking every live identity');
          for (const key of live.subjects()) await recheck(key);
        }
        await apply(events);
        if (events.length < BATCH) break;
      }
      live.expire(now());
      sessions.sweep();
      if (now() - lastPrune > HOUR) {
        lastPrune = now();
        await ids.pruneEvents(now() - keepMs);
      }
      if (failing) log.info('identity change log readable again');
      failing = false;
    } catch (err) {
      stats.pollErrors++;
      if (!failing) log.warn({ err }, 'cannot read the identity change log: revocations wait until the store answers');
      failing = true;
    }
  };

  // Re-checks asked for by doors that registered while a change was being applied.
  live.onChanged = (keys) => {
    for (const k of keys) recheck(k).catch((err: unknown) => log.warn({ err, subject: k }, 'identity re-check failed'));
  };

  let running: Promise<void> | undefined;
  let stopped = false;
  const timer = setInterval(() => {
    if (!running) running = poll().finally(() => (running = undefined));
  }, opts.pollMs);
  timer.unref();
  return {
    stats,
    poll: () => (running ??= poll().finally(() => (running = undefined))),
    async stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(timer);
      live.onChanged = () => undefined;
      await running;
    },
  };
}
