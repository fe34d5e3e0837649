/**
 * Live connections by identity, for every door: a door registers a connection
 * once it has authenticated, with a callback that closes it, and unregisters it
 * when it closes. Revocation (auth/revocation.ts) finds an identity's
 * connections here and closes the ones its credentials no longer cover. The
 * registry knows nothing of sockets or protocols, so any door (browser /ws,
 * /ws/device, MQTT over TCP, TLS and /mqtt, a future MQTT engine) registers
 * the same way.
 *
 * An entry is filed under the subjects a change to the store can name:
 * `device:<id>`, `user:<name>` (users, and tokens acting for a user) and
 * `token:<id>` (anything proven with that token). Anonymous connections are not
 * filed: nothing can revoke them.
 *
 * Bounded: one entry per connection, and every connection was admitted by the
 * connection limits first, so at most `max` (--max-connections) entries; a
 * register past that is refused (the door closes the connection) and counted.
 *
 * A door reads `mark()` before it checks credentials and passes it to
 * `register`: a change logged after the mark may have been read by the
 * revocation watcher before the entry existed, so the watcher is asked to
 * re-check that entry's subjects (`onChanged`). The last RECENT changes are kept
 * for this; a mark older than those re-checks unconditionally.
 */
import type { Identity } from './acl.js';

export interface LiveEntry {
  readonly door: string;
  readonly identity: Identity;
  /** The subjects it is filed under. */
  readonly keys: readonly string[];
}

interface Entry extends LiveEntry {
  close(reason: string): void;
  gone: boolean;
}

export interface LiveHandle {
  unregister(): void;
}

const NOOP: LiveHandle = { unregister: () => undefined };
const RECENT = 1024;

/** The subjects a change to the store may name for this identity. */
export function subjectsOf(who: Identity): string[] {
  const keys = new Set<string>();
  if (who.credential?.startsWith('token:')) keys.add(who.credential);
  if (who.kind === 'device' || who.kind === 'user' || who.kind === 'token') keys.add(`${who.kind}:${who.id}`);
  if (who.user !== undefined) keys.add(`user:${who.user}`);
  return [...keys];
}

export class LiveConnections {
  private readonly bySubject = new Map<string, Set<Entry>>();
  /** Entries with an expiry (tokens, sessions): scanned by `expire`. */
  private readonly expiring = new Set<Entry>();
  private readonly recent: { seq: number; key: string }[] = [];
  private forgotten = 0;
  private count = 0;
  /** The newest change the watcher has applied (its seq); doors read it through `mark()`. */
  seq = 0;
  /** Closed entries by `door:reason`, for /metrics. */
  readonly closed: Record<string, number> = {};
  /** Registrations refused because the registry was full. */
  refused = 0;
  /** Set by the watcher: re-check these subjects against the store now. */
  onChanged: (keys: readonly string[]) => void = () => undefined;

  constructor(readonly max = 20_000) {}

  get size(): number {
    return this.count;
  }

  mark(): number {
    return this.seq;
  }

  /** The watcher applied change `seq` to `key`: remembered for entries registered late. */
  noted(seq: number, key: string): void {
    this.recent.push({ seq, key });
    if (this.recent.length > RECENT) this.forgotten = this.recent.shift()!.seq;
    if (seq > this.seq) this.seq = seq;
  }

  /** Did a change after `mark` name one of these subjects (or can that no longer be told)? */
  changedSince(keys: readonly string[], mark: number): boolean {
    if (mark < this.forgotten) return true;
    // Newest first: a mark taken since the last change (the usual case) stops at once.
    for (let i = this.recent.length - 1; i >= 0 && this.recent[i]!.seq > mark; i--) if (keys.includes(this.recent[i]!.key)) return true;
    return false;
  }

  /** A login that read the store at `mark` and made something outside this registry (a session): re-check if it raced a change. */
  settle(who: Identity, mark: number): void {
    const keys = subjectsOf(who);
    if (keys.length && this.changedSince(keys, mark)) this.onChanged(keys);
  }

  /**
   * File a connection. `close` ends it (the door picks its close code) and must be
   * idempotent. Undefined: the registry is full and the door must close the
   * connection. With `mark`, see the file comment.
   */
  register(door: string, identity: Identity, close: (reason: string) => void, mark?: number): LiveHandle | undefined {
    const keys = subjectsOf(identity);
    if (keys.length === 0) return NOOP;
    if (this.count >= this.max) {
      this.refused++;
      return undefined;
    }
    const e: Entry = { door, identity, keys, close, gone: false };
    for (const k of keys) {
      let set = this.bySubject.get(k);
      if (!set) this.bySubject.set(k, (set = new Set()));
      set.add(e);
    }
    if (identity.expiresAt !== undefined) this.expiring.add(e);
    this.count++;
    if (mark !== undefined && this.changedSince(keys, mark)) this.onChanged(keys);
    return { unregister: () => this.remove(e) };
  }

  /** Entries filed under `key`. */
  entries(key: string): LiveEntry[] {
    return [...(this.bySubject.get(key) ?? [])];
  }

  /** Subjects with at least one entry (a full re-check walks these). */
  subjects(): string[] {
    return [...this.bySubject.keys()];
  }

  /** Close (and forget) the entries under `key` that `stale` picks. Returns how many. */
  closeWhere(key: string, stale: (e: LiveEntry) => boolean, reason: string): number {
    let n = 0;
    for (const e of this.bySubject.get(key) ?? []) if (stale(e)) n += this.end(e, reason);
    return n;
  }

  /** Close entries whose identity has expired (token expiry, a session's maximum age). */
  expire(now: number): number {
    let n = 0;
    for (const e of this.expiring) if (e.identity.expiresAt! <= now) n += this.end(e, 'expired');
    return n;
  }

  private end(e: Entry, reason: string): number {
    if (e.gone) return 0;
    this.remove(e);
    const key = `${e.door}:${reason}`;
    this.closed[key] = (this.closed[key] ?? 0) + 1;
    e.close(reason);
    return 1;
  }

  private remove(e: Entry): void {
    if (e.gone) return;
    e.gone = true;
    this.count--;
    this.expiring.delete(e);
    for (const k of e.keys) {
      const set = this.bySubject.get(k);
      set?.delete(e);
      if (set?.size === 0) this.bySubject.delete(k);
    }
  }
}
