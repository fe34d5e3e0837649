/**
 * CONNECT: validate, authenticate (the hook sees the existing session's owner so the
 * hub can refuse a takeover by another identity), take over [MQTT-3.1.4-3], start or
 * resume the session (3.1.1 CleanSession, v5 Clean Start + Session Expiry
 * [MQTT-3.1.2-4/5/6]), CONNACK with the v5 capabilities, then resend what was in
 * flight [MQTT-4.4.0-1] and release packets held meanwhile [MQTT-3.1.4-5].
 */
import type { IConnackPacket, IConnectPacket } from 'mqtt-packet';
import { State, type Connection } from '../connection.js';
import type { Engine } from '../engine.js';
import { resumed } from '../lifecycle.js';
import { Msg } from '../message.js';
import { RC, connectReturnCode } from '../reasons.js';
import { Session } from '../session.js';
import { checkTopicName } from '../topics.js';
import type { ClientContext, ConnectInfo, ProtocolVersion } from '../types.js';

export async function handleConnect(c: Connection, p: IConnectPacket): Promise<void> {
  const e = c.engine;
  const L = e.limits;
  c.state = State.Connecting;
  c.version = (p.protocolVersion ?? 4) as ProtocolVersion;
  const v5 = c.version === 5;
  const props = p.properties;
  c.hold();

  if (v5 && (props?.receiveMaximum === 0 || props?.maximumPacketSize === 0)) return refuse(c, RC.PROTOCOL_ERROR); // [MQTT-3.1.2-?] 0 is a protocol error
  let clientId = p.clientId ?? '';
  let assigned = false;
  if (clientId === '') {
    if (!v5 && !p.clean) return refuse(c, RC.CLIENT_ID_INVALID); // [MQTT-3.1.3-8] return code 2
    clientId = e.newClientId(); // [MQTT-3.1.3-6] [MQTT-3.2.2-16]
    assigned = true;
  }
  if (Buffer.byteLength(clientId) > L.maxClientIdBytes) return refuse(c, RC.CLIENT_ID_INVALID);
  const w = p.will;
  if (w) {
    if (checkTopicName(w.topic, L.maxTopicBytes) !== 0) return refuse(c, RC.TOPIC_NAME_INVALID);
    if ((w.qos ?? 0) > L.maximumQoS) return refuse(c, RC.QOS_NOT_SUPPORTED); // [MQTT-3.2.2-12]
    if (w.retain && !L.retainAvailable) return refuse(c, RC.RETAIN_NOT_SUPPORTED); // [MQTT-3.2.2-13]
  }
  const method = v5 ? props?.authenticationMethod : undefined;
  const info: ConnectInfo = {
    clientId, assigned, protocolVersion: c.version, clean: !!p.clean, meta: c.meta,
    ...(p.username !== undefined ? { username: p.username } : {}), ...(p.password !== undefined ? { password: p.password } : {}),
    ...(method !== undefined ? { authenticationMethod: method } : {}),
  };
  const existing0 = e.sessions.get(clientId);
  if (existing0 && existing0.owner !== undefined) info.sessionOwner = existing0.owner;

  let principal: unknown;
  try {
    if (method !== undefined) {
      if (!e.hooks.auth) return refuse(c, RC.BAD_AUTHENTICATION_METHOD);
      const r = await e.hooks.auth(info, method, props?.authenticationData);
      if (closed(c)) return;
      // multi-step (0x18) exchanges during CONNECT are not supported yet: refused as a bad method
      if (r.reasonCode !== 0) return refuse(c, r.reasonCode === RC.CONTINUE_AUTHENTICATION ? RC.BAD_AUTHENTICATION_METHOD : r.reasonCode);
      c.authMethod = method;
    }
    const d = await e.hooks.authenticate(info);
    if (closed(c)) return;
    if (!d.ok) return refuse(c, d.reasonCode, d.reasonString);
    principal = d.principal;
  } catch {
    if (closed(c)) return;
    return refuse(c, RC.UNSPECIFIED);
  }
  const ctx: ClientContext = { clientId, protocolVersion: c.version, meta: c.meta, principal, ...(p.username !== undefined ? { username: p.username } : {}) };
  let will: Msg | null = null;
  if (w) {
    const payload = typeof w.payload === 'string' ? Buffer.from(w.payload) : w.payload;
    const { willDelayInterval: _d, ...wprops } = w.properties ?? {};
    will = new Msg(w.topic, payload, w.qos ?? 0, !!w.retain, v5 && Object.keys(wprops).length ? wprops : undefined, e.now());
    const rc = e.hooks.authorizePublish(ctx, will);
    if (rc !== 0) return refuse(c, rc);
  }
  attach(e, c, p, ctx, principal, will, assigned);
}

function attach(e: Engine, c: Connection, p: IConnectPacket, ctx: ClientContext, principal: unknown, will: Msg | null, assigned: boolean): void {
  const L = e.limits;
  const v5 = c.version === 5;
  const props = p.properties;
  const clientId = ctx.clientId;
  let s = e.sessions.get(clientId);
  if (s?.conn) { e.count('takeovers'); s.conn.terminate(RC.SESSION_TAKEN_OVER, 'takeover'); } // [MQTT-3.1.4-3]
  s = e.sessions.get(clientId); // the takeover may have ended a clean session
  let sessionPresent = false;
  if (s && p.clean) { e.endSession(s); s = undefined; } // [MQTT-3.1.2-4/6]
  if (s) { sessionPresent = true; resumed(e, s); } // [MQTT-3.1.2-5]
  else { s = new Session(clientId, e.store); e.sessions.set(clientId, s); }

  const asked = v5 ? props?.sessionExpiryInterval ?? 0 : p.clean ? 0 : L.maxSessionExpirySec;
  const expiry = Math.min(asked, L.maxSessionExpirySec);
  const wasStored = s.stored;
  s.expirySec = s.connectExpirySec = expiry;
  s.owner = principal;
  s.protocolVersion = c.version;
  s.will = will ? { msg: will, delaySec: v5 ? p.will?.properties?.willDelayInterval ?? 0 : 0 } : null;
  if (s.persistent) s.persistAll();
  else if (wasStored) { e.store.deleteSession(clientId); s.stored = false; }
  if (s.persistent && s.will) e.store.putWill(clientId, { topic: will!.topic, payload: will!.payload, qos: will!.qos, retain: will!.retain, ...(will!.properties ? { properties: will!.properties } : {}), ts: will!.ts, delaySec: s.will.delaySec }, null);

  c.ctx = ctx;
  c.session = s;
  s.conn = c;
  if (v5) {
    c.clientReceiveMax = props?.receiveMaximum ?? 65535;
    c.clientMaxPacket = props?.maximumPacketSize ?? Infinity;
    c.clientAliasMax = L.outboundTopicAliases ? props?.topicAliasMaximum ?? 0 : 0;
    c.problemInfo = props?.requestProblemInformation !== false;
  }
  // Server Keep Alive is a maximum: a v5 client asking for more is told the server's value and must use
  // it [MQTT-3.2.2-21]; a lower value, or 0, stays (as the Paho reference broker does)
  const asked0 = p.keepalive ?? 0;
  const capKa = v5 && L.serverKeepAlive !== undefined && asked0 > L.serverKeepAlive;
  const keepAlive = capKa ? L.serverKeepAlive! : asked0;
  const ack: IConnackPacket = { cmd: 'connack', sessionPresent };
  if (v5) {
    ack.reasonCode = 0;
    ack.properties = {
      receiveMaximum: L.receiveMaximum,
      maximumPacketSize: L.maxPacketBytes,
      topicAliasMaximum: L.topicAliasMaximum,
      retainAvailable: L.retainAvailable,
      wildcardSubscriptionAvailable: L.wildcardSubscriptionAvailable,
      subscriptionIdentifiersAvailable: L.subscriptionIdentifiersAvailable,
      sharedSubscriptionAvailable: L.sharedSubscriptionAvailable,
      ...(L.maximumQoS < 2 ? { maximumQoS: L.maximumQoS } : {}),
      ...(expiry !== asked ? { sessionExpiryInterval: expiry } : {}),
      ...(assigned ? { assignedClientIdentifier: clientId } : {}), // [MQTT-3.2.2-16]
      ...(capKa ? { serverKeepAlive: keepAlive } : {}), // [MQTT-3.2.2-21]
      ...(c.authMethod !== undefined ? { authenticationMethod: c.authMethod } : {}),
    };
  } else ack.returnCode = 0;
  c.send(ack);
  c.state = State.Connected;
  c.startKeepAlive(keepAlive);
  e.hooks.connected?.(ctx);
  if (sessionPresent) { e.delivery.resend(s); e.pump(s); }
  c.release();
}

/** CONNACK with a failure, then close [MQTT-3.2.2-6/7]; nothing held is processed [MQTT-3.1.4-5]. */
/** the socket may have closed while a hook was awaited (the state changes behind TypeScript's back) */
const closed = (c: Connection): boolean => (c.state as State) === State.Closed;

function refuse(c: Connection, reasonCode: number, reasonString?: string): void {
  if (closed(c)) return;
  c.engine.count('connects_refused');
  const rc = reasonCode < 0x80 ? RC.UNSPECIFIED : reasonCode;
  if (c.version === 5) c.send({ cmd: 'connack', sessionPresent: false, reasonCode: rc, ...(reasonString ? { properties: { reasonString } } : {}) });
  else c.send({ cmd: 'connack', sessionPresent: false, returnCode: connectReturnCode(rc) });
  c.terminate(undefined, 'refused');
}
