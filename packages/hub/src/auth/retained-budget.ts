/**
 * Retained messages are bounded, engine-neutral: bytes (topic + payload) and
 * topics per owner, and in total. The broker asks `admit()` before it stores a
 * retained message; on a refusal the message is not published at all (MQTT
 * 3.1.1 has no negative PUBACK: it is acknowledged and dropped [MQTT-3.3.5-2];
 * the WebSocket doors answer an error), counted per reason.
 *
 * Accounting follows the retained store exactly: a message replaces the one on
 * its topic (the topic moves to the new publisher's account), an empty payload
 * clears it [MQTT-3.3.1-10]. A replacement that does not grow an account is
 * always admitted, and every message counts at least MIN_RETAINED_BYTES, so a
 * device can always update its small status whatever its other retained
 * messages weigh. The maps are bounded by the topic limits.
 */

/** The least a retained message counts: small updates of one topic (online/offline) never change an account. */
export const MIN_RETAINED_BYTES = 256;

export interface RetainedLimits {
  /** Retained bytes (topic + payload) one owner may hold. */
  perOwnerBytes: number;
  /** Retained topics one owner may hold. */
  perOwnerTopics: number;
  totalBytes: number;
  totalTopics: number;
}

export type RetainedRefusal = 'owner_bytes' | 'owner_topics' | 'total_bytes' | 'total_topics';

interface Account {
  bytes: number;
  topics: number;
}

export class RetainedBudget {
  private readonly byTopic = new Map<string, { owner: string; bytes: number }>();
  private readonly accounts = new Map<string, Account>();
  private total: Account = { bytes: 0, topics: 0 };
  readonly refused: Record<RetainedRefusal, number> = { owner_bytes: 0, owner_topics: 0, total_bytes: 0, total_topics: 0 };

  constructor(readonly limits: RetainedLimits) {}

  get bytes(): number {
    return this.total.bytes;
  }

  get topics(): number {
    return this.total.topics;
  }

  /** What `owner` holds now. */
  held(owner: string): Account {
    return { ...(this.accounts.get(owner) ?? { bytes: 0, topics: 0 }) };
  }

  /**
   * May `owner` store `payloadBytes` retained on `topic`? Records it when admitted
   * (an empty payload clears the topic and is always admitted).
   */
  admit(owner: string, topic: string, payloadBytes: number): RetainedRefusal | undefined {
    const old = this.byTopic.get(topic);
    if (payloadBytes === 0) {
      if (old) this.remove(topic, old);
      return undefined;
    }
    const bytes = Math.max(MIN_RETAINED_BYTES, Buffer.byteLength(topic) + payloadBytes);
    const acc = this.accounts.get(owner) ?? { bytes: 0, topics: 0 };
    const same = old?.owner === owner;
    const ownerBytes = acc.bytes + bytes - (same ? old.bytes : 0);
    const ownerTopics = acc.topics + (same ? 0 : 1);
    const totalBytes = this.total.bytes + bytes - (old?.bytes ?? 0);
    const totalTopics = this.total.topics + (old ? 0 : 1);
    const why: RetainedRefusal | undefined =
      ownerTopics > acc.topics && ownerTopics > this.limits.perOwnerTopics ? 'owner_topics'
      : ownerBytes > acc.bytes && ownerBytes > this.limits.perOwnerBytes ? 'owner_bytes'
      : totalTopics > this.total.topics && totalTopics > this.limits.totalTopics ? 'total_topics'
      : totalBytes > this.total.bytes && totalBytes > this.limits.totalBytes ? 'total_bytes'
      : undefined;
    if (why) {
      this.refused[why]++;
      return why;
    }
    if (old) this.remove(topic, old);
    const now = this.accounts.get(owner) ?? { bytes: 0, topics: 0 };
    now.bytes += bytes;
    now.topics++;
    this.accounts.set(owner, now);
    this.byTopic.set(topic, { owner, bytes });
    this.total = { bytes: this.total.bytes + bytes, topics: this.total.topics + 1 };
    return undefined;
  }

  private remove(topic: string, old: { owner: string; bytes: number }): void {
    this.byTopic.delete(topic);
    this.total = { bytes: this.total.bytes - old.bytes, topics: this.total.topics - 1 };
    const acc = this.accounts.get(old.owner)!;
    acc.bytes -= old.bytes;
    if (--acc.topics === 0) this.accounts.delete(old.owner);
  }
}

/** Raised to bus publishers (the WebSocket doors) when a retained message is refused: error RETAINED_LIMIT. */
export class RetainedLimitError extends Error {
  readonly code = 'RETAINED_LIMIT';
  constructor(readonly reason: RetainedRefusal) {
    super(`retained message refused: ${reason.replace('_', ' ')} limit reached`);
  }
}

/** The account a retained message is charged to when no identity is known (bus publishes: hub services, WebSocket doors). */
export function ownerOfTopic(topic: string): string {
  const m = /^devices\/([^/]+)\//.exec(topic);
  return m ? `device:${m[1]}` : 'hub';
}
