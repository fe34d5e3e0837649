/**
 * The in-memory store: the default. Records are applied at once (flush has nothing
 * to wait for). Its state lives in a MemoryStoreData object so a test can "restart"
 * by opening a second MemoryStore on the same data (the contract suite does).
 */
import type { EngineStore, StoreSnapshot, StoredMessage, StoredOutbound, StoredSession, StoredSessionHead, StoredSubscription, StoredWill } from './store.js';

interface MemSession {
  head: StoredSessionHead;
  expiresAt: number | null;
  subs: Map<string, StoredSubscription>;
  outbound: Map<number, StoredOutbound>;
  inflightIn: Set<number>;
  will: StoredWill | null;
  willAt: number | null;
}

export interface MemoryStoreData {
  sessions: Map<string, MemSession>;
  retained: Map<string, StoredMessage>;
}

export const memoryStoreData = (): MemoryStoreData => ({ sessions: new Map(), retained: new Map() });

export class MemoryStore implements EngineStore {
  constructor(private readonly data: MemoryStoreData = memoryStoreData()) {}

  async load(): Promise<StoreSnapshot> {
    const sessions: StoredSession[] = [];
    for (const s of this.data.sessions.values()) {
      sessions.push({
        ...s.head,
        expiresAt: s.expiresAt,
        subscriptions: [...s.subs.values()],
        outbound: [...s.outbound.values()].sort((a, b) => a.seq - b.seq),
        inflightIn: [...s.inflightIn],
        will: s.will,
        willAt: s.willAt,
      });
    }
    return { sessions, retained: [...this.data.retained.values()] };
  }

  putSession(head: StoredSessionHead): void {
    const s = this.data.sessions.get(head.clientId);
    if (s) s.head = { ...head };
    else this.data.sessions.set(head.clientId, { head: { ...head }, expiresAt: null, subs: new Map(), outbound: new Map(), inflightIn: new Set(), will: null, willAt: null });
  }

  setSessionExpiry(clientId: string, expiresAt: number | null): void {
    const s = this.data.sessions.get(clientId);
    if (s) s.expiresAt = expiresAt;
  }

  deleteSession(clientId: string): void { this.data.sessions.delete(clientId); }

  putSubscription(clientId: string, sub: StoredSubscription): void { this.data.sessions.get(clientId)?.subs.set(sub.key, { ...sub }); }
  deleteSubscription(clientId: string, key: string): void { this.data.sessions.get(clientId)?.subs.delete(key); }

  putOutbound(clientId: string, o: StoredOutbound): void { this.data.sessions.get(clientId)?.outbound.set(o.seq, { ...o }); }
  deleteOutbound(clientId: string, seq: number): void { this.data.sessions.get(clientId)?.outbound.delete(seq); }

  putInflightIn(clientId: string, pid: number): void { this.data.sessions.get(clientId)?.inflightIn.add(pid); }
  deleteInflightIn(clientId: string, pid: number): void { this.data.sessions.get(clientId)?.inflightIn.delete(pid); }

  putWill(clientId: string, will: StoredWill, willAt: number | null): void {
    const s = this.data.sessions.get(clientId);
    if (s) { s.will = will; s.willAt = willAt; }
  }

  deleteWill(clientId: string): void {
    const s = this.data.sessions.get(clientId);
    if (s) { s.will = null; s.willAt = null; }
  }

  putRetained(m: StoredMessage): void { this.data.retained.set(m.topic, m); }
  deleteRetained(topic: string): void { this.data.retained.delete(topic); }

  async flush(): Promise<void> {}
  async close(): Promise<void> {}
}
