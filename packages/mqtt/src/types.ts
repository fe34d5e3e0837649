/**
 * The engine's public types (ENGINE-API.md is the prose of this file). The hub
 * codes against these; nothing here knows about sockets, HTTP or the hub's config.
 */
export type QoS = 0 | 1 | 2;
export type ProtocolVersion = 3 | 4 | 5;

/** v5 PUBLISH properties forwarded unaltered (mqtt-packet's names). User properties keep their order. */
export interface PublishProps {
  payloadFormatIndicator?: boolean;
  /** seconds; on forward the engine sends what is left of it [MQTT-3.3.2-6] */
  messageExpiryInterval?: number;
  contentType?: string;
  responseTopic?: string;
  correlationData?: Buffer;
  userProperties?: Record<string, string | string[]>;
}

/** One object per publish, shared by every local subscriber (de-duplicate by identity). */
export interface EngineMessage {
  readonly topic: string;
  readonly payload: Buffer;
  readonly qos: QoS;
  /** the RETAIN flag as published */
  readonly retain: boolean;
  readonly properties?: PublishProps;
  /** ms since epoch, engine receive time */
  readonly ts: number;
}

export interface ConnectionMeta {
  remote: string;
  transport: 'tcp' | 'tls' | 'ws' | 'memory';
  tlsCommonName?: string;
  [k: string]: unknown;
}

export interface ConnectInfo {
  clientId: string;
  /** the engine generated the id (empty client id: [MQTT-3.1.3-6], v5 Assigned Client Identifier) */
  assigned: boolean;
  username?: string;
  password?: Buffer;
  protocolVersion: ProtocolVersion;
  /** 3.1.1 CleanSession / v5 Clean Start */
  clean: boolean;
  meta: ConnectionMeta;
  /** principal of the existing session with this client id (online or offline), if any: lets the hub refuse takeovers */
  sessionOwner?: unknown;
  /** v5 Authentication Method of the CONNECT, if any */
  authenticationMethod?: string;
}

export type ConnectDecision =
  | { ok: true; principal: unknown }
  /** v5 reason codes (0x85 id invalid, 0x86 bad user/pw, 0x87 not authorized, 0x89 busy, 0x8A banned, 0x9F rate); mapped to 3.1.1 return codes */
  | { ok: false; reasonCode: number; reasonString?: string };

export interface ClientContext {
  readonly clientId: string;
  readonly protocolVersion: ProtocolVersion;
  readonly username?: string;
  readonly meta: ConnectionMeta;
  readonly principal: unknown;
}

export interface Hooks {
  /** Called once per CONNECT, after the packet is validated, before any session is touched. */
  authenticate(c: ConnectInfo): Promise<ConnectDecision>;
  /**
   * 0 = allowed; else a v5 reason (0x87 not authorized, 0x97 quota exceeded, 0x90 topic invalid, 0x99 payload format).
   * v5: PUBACK/PUBREC carry it and the connection stays; 3.1.1: acknowledged and dropped [MQTT-3.3.5-2].
   * Wills are checked here at CONNECT (refused: CONNACK with that code).
   */
  authorizePublish(c: ClientContext, m: EngineMessage): number;
  /** granted QoS (0..2, ≤ requested) or a v5 failure code ≥ 0x80 (3.1.1 gets 0x80). */
  authorizeSubscribe(c: ClientContext, filter: string, qos: QoS): number;
  /** re-check at delivery of messages queued for a session (offline or over its window), under current rules */
  authorizeDelivery(c: ClientContext, m: EngineMessage): boolean;
  /**
   * After a granted SUBSCRIBE: true when the filter may match topics the client
   * must not receive (e.g. a wider grant with a narrower deny). From then on every
   * delivery to that session, live and retained, goes through authorizeDelivery.
   */
  screensSubscription?(c: ClientContext, filter: string): boolean;
  /**
   * v5 enhanced authentication (CONNECT with Authentication Method, AUTH packets). Absent: CONNACK/DISCONNECT 0x8C.
   * Result 0x00 accepts; 0x18 (continue) sends AUTH back with `data`; ≥ 0x80 refuses.
   */
  auth?(c: ClientContext | ConnectInfo, method: string, data: Buffer | undefined): Promise<{ reasonCode: number; data?: Buffer }>;
  /**
   * For an accepted and routed QoS 1/2 client PUBLISH: a promise that resolves when
   * what it carries is committed (the hub: telemetry points in its store), or
   * undefined when nothing needs to be. Its PUBACK/PUBREC waits for it (acks.ts);
   * a rejection refuses the message (v5: 0x97 when the error's `reasonCode` is
   * 0x97, else 0x80; 3.1.1: no ack, the client resends). Called before `published`.
   */
  durable?(c: ClientContext, m: EngineMessage): Promise<void> | undefined;
  /** after a client PUBLISH was accepted and routed (not called for in-process publishes) */
  published?(c: ClientContext, m: EngineMessage): void;
  connected?(c: ClientContext): void;
  /** reason: 'disconnect' (client DISCONNECT), 'takeover', 'keepalive', 'protocol', 'malformed', 'closed' (socket), 'server' */
  disconnected?(c: ClientContext, reason: string): void;
}

export interface EngineLimits {
  /** largest packet accepted (fixed header included); refused before its body is buffered: v5 DISCONNECT 0x95 */
  maxPacketBytes: number;
  /** v5 Receive Maximum we announce: QoS 2 PUBLISHes awaiting PUBREL; more is 0x93 [MQTT-3.3.4-9] */
  receiveMaximum: number;
  /** inbound v5 topic aliases we accept per connection (0 = none) */
  topicAliasMaximum: number;
  /** use topic aliases towards v5 clients that allow them (at most their Topic Alias Maximum) */
  outboundTopicAliases: boolean;
  /** maximum keep alive (s): a v5 client asking for more gets it in CONNACK (Server Keep Alive) and the connection uses it */
  serverKeepAlive?: number;
  /** topic names and filters longer than this (UTF-8 bytes) are refused */
  maxTopicBytes: number;
  maxClientIdBytes: number;
  maxSubscriptionsPerClient: number;
  /** 3.1.1 connections: QoS 2 PUBLISHes awaiting PUBREL (v5 uses receiveMaximum) */
  maxInflightIn: number;
  /** messages queued per session (offline, or over the client's window / socket backpressure); policy in session.ts */
  maxQueuedPerSession: number;
  /** cap of v5 Session Expiry Interval; also the lifetime of an offline 3.1.1 CleanSession 0 session */
  maxSessionExpirySec: number;
  maxRetainedTopics: number;
  maxRetainedBytes: number;
  /** bytes buffered in a connection's stream before it counts as not writable (messages then queue) */
  maxWriteBufferBytes: number;
  /** the paho profile: a refused SUBSCRIBE is 0x80 on v5 too (default: the hook's code, e.g. 0x87) */
  refuseSubscribeWith0x80: boolean;
  /** v5 PUBACK/PUBREC refusals carry a Reason String (when the client allows problem information); the paho profile: never (its suite's client refuses acks with properties) */
  ackReasonStrings: boolean;
  maximumQoS: QoS;
  retainAvailable: boolean;
  wildcardSubscriptionAvailable: boolean;
  subscriptionIdentifiersAvailable: boolean;
  sharedSubscriptionAvailable: boolean;
}
