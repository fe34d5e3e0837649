/**
 * MQTT policy, engine-neutral: which client id an identity may use, who owns a
 * session, and which topics and filters a door accepts. The Aedes hooks
 * (transports/mqtt-security.ts) call it today; the hooks of packages/mqtt call
 * the same functions. Nothing here knows a broker type: a connection is any
 * object used as a handle.
 *
 * Client ids (docs/security.md "MQTT client ids and sessions"):
 *   - a device identity (secret, device token, certificate CN) must use its
 *     device id as its client id;
 *   - a client id equal to a registered device id is reserved for that device;
 *   - a session (online, or persisted offline after clean=false) belongs to the
 *     identity that created it: a CONNECT by another identity is refused, never a
 *     takeover. The same identity reconnecting takes its own session over
 *     [MQTT-3.1.4-2].
 * A refusal is CONNACK 0x02 "identifier rejected" [MQTT-3.1.3-9] (MQTT 5: 0x85).
 */
import { MAX_TOPIC_BYTES, filterProblem, topicProblem, type TopicProblem } from '@fieldlink/protocol';
import type { Identity } from './acl.js';

export type ClientIdRefusal = 'not_device_id' | 'reserved' | 'session_owned' | 'too_many_sessions';

/** The key sessions and budgets are owned by: one per identity, whichever door or credential proved it. */
export const ownerKey = (who: Identity): string => `${who.kind}:${who.id}`;

/** The static half of the rule: may `who` use `clientId` at all? (`reserved`: a registered device has this id.) */
export function clientIdRefusal(who: Identity, clientId: string, reserved: boolean): ClientIdRefusal | undefined {
  if (who.kind === 'device') return clientId === who.id ? undefined : 'not_device_id';
  return reserved ? 'reserved' : undefined;
}

interface SessionEntry {
  owner: string;
  /** clean=false: the session outlives the connection. */
  persistent: boolean;
  /** The connection holding it now, if online. */
  live: object | undefined;
}

/**
 * Who owns each client id's session. Bounded: online entries by the connection
 * limits; persisted offline sessions by `perOwner` per identity (a device has
 * one, as its client id is fixed). A claim over the bound is refused
 * (`too_many_sessions`, CONNACK 0x03 server unavailable) and counted; connecting
 * once with clean=true ends a persisted session and frees its slot.
 */
export class SessionOwners {
  private readonly sessions = new Map<string, SessionEntry>();
  private readonly persisted = new Map<string, number>();
  readonly refused: Record<ClientIdRefusal, number> = { not_device_id: 0, reserved: 0, session_owned: 0, too_many_sessions: 0 };

  constructor(private readonly perOwner: number) {}

  get size(): number {
    return this.sessions.size;
  }

  ownerOf(clientId: string): string | undefined {
    return this.sessions.get(clientId)?.owner;
  }

  /**
   * Check and take `clientId` for `who` on connection `conn`, atomically (no await
   * between the check and the claim, so two CONNECTs cannot both pass).
   */
  claim(who: Identity, clientId: string, clean: boolean, reserved: boolean, conn: object): ClientIdRefusal | undefined {
    const owner = ownerKey(who);
    const existing = this.sessions.get(clientId);
    const why =
      clientIdRefusal(who, clientId, reserved) ??
      (existing && existing.owner !== owner ? 'session_owned' : undefined) ??
      (!clean && !existing?.persistent && (this.persisted.get(owner) ?? 0) >= this.perOwner ? 'too_many_sessions' : undefined);
    if (why) {
      this.refused[why]++;
      return why;
    }
    if (existing?.persistent && clean) this.count(owner, -1); // clean=true ends the stored session [MQTT-3.1.2-6]
    if (!clean && !existing?.persistent) this.count(owner, +1);
    this.sessions.set(clientId, { owner, persistent: !clean, live: conn });
    return undefined;
  }

  /**
   * A persisted session the engine restored from the store after a restart, owned
   * by `owner` (ownerKey of its identity): offline, counted against its owner's
   * bound, and refused to other identities as before the restart.
   */
  restored(clientId: string, owner: string): void {
    if (this.sessions.has(clientId)) return;
    this.sessions.set(clientId, { owner, persistent: true, live: undefined });
    this.count(owner, +1);
  }

  /** The connection is gone: a clean session ends with it; a persisted one stays its owner's. A stale handle (taken over) is ignored. */
  release(clientId: string, conn: object): void {
    const e = this.sessions.get(clientId);
    if (!e || e.live !== conn) return;
    if (e.persistent) e.live = undefined;
    else this.sessions.delete(clientId);
  }

  private count(owner: string, d: number): void {
    const n = (this.persisted.get(owner) ?? 0) + d;
    if (n > 0) this.persisted.set(owner, n);
    else this.persisted.delete(owner);
  }
}

export type TopicRefusal = TopicProblem | 'reserved';

/** A PUBLISH (or will) topic the hub refuses: over MAX_TOPIC_BYTES or too deep, malformed, or a `$` topic (the broker's own). */
export function publishTopicRefusal(topic: string): TopicRefusal | undefined {
  if (topic.startsWith('$')) return 'reserved';
  return topicProblem(topic);
}

/** A SUBSCRIBE filter the hub refuses (SUBACK 0x80 on 3.1.1). */
export function subscribeFilterRefusal(filter: string): TopicProblem | undefined {
  return filterProblem(filter);
}

export { MAX_TOPIC_BYTES };
