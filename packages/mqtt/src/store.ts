/**
 * The engine's store: what must outlive a process (sessions that persist, their
 * subscriptions, queued and in-flight messages in both directions with packet ids,
 * wills and their deadlines, retained messages).
 *
 * Contract (test/store-contract.ts, every implementation passes it):
 *  - The engine keeps live state in memory and RECORDS changes here with
 *    synchronous calls, in the order they happen, on the hot path. A durable store
 *    buffers them and commits once per tick (one transaction per batch); `flush()`
 *    resolves once everything recorded before the call is durable. So the hot path
 *    never awaits, and acknowledgements can wait on `flush()` (design.md: "an
 *    acknowledgement means stored").
 *  - Only sessions that persist (v5 Session Expiry > 0, 3.1.1 CleanSession 0) are
 *    ever recorded; clean sessions and QoS 0 of them cost no store call at all.
 *  - `load()` returns the state as last recorded (after a restart: as last flushed).
 *    Outbound messages come back in `seq` order; a `put*` of an existing key replaces.
 *  - `deleteSession` removes the session with its subscriptions, outbound, inbound
 *    packet ids and will.
 *  - Values are plain data (Buffers for payloads and correlation data); `owner` is
 *    the hub's principal, which a durable store persists as JSON.
 */
import type { PublishProps, QoS, ProtocolVersion } from './types.js';

export interface StoredMessage {
  topic: string;
  payload: Buffer;
  qos: QoS;
  retain: boolean;
  properties?: PublishProps;
  /** engine receive time, ms since epoch (Message Expiry counts from it) */
  ts: number;
}

export interface StoredSubscription {
  /** as subscribed, with its $share/{group}/ prefix if shared */
  key: string;
  qos: QoS;
  nl: boolean;
  rap: boolean;
  rh: number;
  /** Subscription Identifier, 0 = none */
  id: number;
}

export interface StoredOutbound {
  /** per-session order of delivery */
  seq: number;
  msg: StoredMessage;
  qos: QoS;
  retain: boolean;
  ids: number[] | null;
  /** 0 while queued; the packet id once sent */
  pid: number;
  /** 'queued' | 'publish' (sent, awaiting PUBACK/PUBREC) | 'pubrel' (PUBREL sent, awaiting PUBCOMP) */
  state: 'queued' | 'publish' | 'pubrel';
}

export interface StoredWill extends StoredMessage {
  delaySec: number;
}

export interface StoredSessionHead {
  clientId: string;
  protocolVersion: ProtocolVersion;
  expirySec: number;
  owner?: unknown;
}

export interface StoredSession extends StoredSessionHead {
  /** ms since epoch at which an offline session ends; null while connected */
  expiresAt: number | null;
  subscriptions: StoredSubscription[];
  outbound: StoredOutbound[];
  /** QoS 2 packet ids received and not yet released */
  inflightIn: number[];
  will: StoredWill | null;
  /** ms since epoch at which the will is due (null: not pending) */
  willAt: number | null;
}

export interface StoreSnapshot {
  sessions: StoredSession[];
  retained: StoredMessage[];
}

export interface EngineStore {
  load(): Promise<StoreSnapshot>;
  putSession(s: StoredSessionHead): void;
  setSessionExpiry(clientId: string, expiresAt: number | null): void;
  deleteSession(clientId: string): void;
  putSubscription(clientId: string, sub: StoredSubscription): void;
  deleteSubscription(clientId: string, key: string): void;
  putOutbound(clientId: string, o: StoredOutbound): void;
  deleteOutbound(clientId: string, seq: number): void;
  putInflightIn(clientId: string, pid: number): void;
  deleteInflightIn(clientId: string, pid: number): void;
  putWill(clientId: string, will: StoredWill, willAt: number | null): void;
  deleteWill(clientId: string): void;
  putRetained(m: StoredMessage): void;
  deleteRetained(topic: string): void;
  flush(): Promise<void>;
  close(): Promise<void>;
}
