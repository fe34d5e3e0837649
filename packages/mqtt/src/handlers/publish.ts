/**
 * PUBLISH from a client. Order of checks: topic alias [MQTT-3.3.2-7..12], QoS and
 * RETAIN the server offers [MQTT-3.2.2-11/14], topic name [MQTT-3.3.2-2], QoS 2
 * duplicate and window [MQTT-3.3.4-9], the hook, retained quota; then one route and
 * the ack. Routing happens here, synchronously, for every QoS, so QoS 0 and QoS 1/2
 * of one publisher keep their order [MQTT-4.6.0-5/6].
 * A refusal on v5 is an ack with the reason and the connection stays; on 3.1.1 the
 * ack is positive and the message dropped [MQTT-3.3.5-2].
 * The ack of an accepted QoS 1/2 PUBLISH waits for its commit when the hook
 * (Hooks.durable) or a store record asks for it; acks stay in order (acks.ts).
 */
import type { IPublishPacket } from 'mqtt-packet';
import { AckQueue, holdPubrec, pendingPubrec, sendAck } from '../acks.js';
import type { Connection } from '../connection.js';
import { Msg } from '../message.js';
import { RC } from '../reasons.js';
import { checkTopicName } from '../topics.js';
import type { PublishProps } from '../types.js';
import { protocolError } from './dispatch.js';

export function handlePublish(c: Connection, p: IPublishPacket): void {
  const e = c.engine;
  const L = e.limits;
  const s = c.session!;
  const v5 = c.version === 5;
  let topic = p.topic;
  const props = p.properties;
  e.count('publish_in');

  if (v5 && props !== undefined) {
    const alias = props.topicAlias;
    if (alias !== undefined) {
      if (alias === 0 || alias > L.topicAliasMaximum) return protocolError(c, 'topic alias out of range', RC.TOPIC_ALIAS_INVALID); // [MQTT-3.3.2-8/9]
      if (topic.length === 0) {
        const t = c.aliasIn?.get(alias);
        if (t === undefined) return protocolError(c, 'unknown topic alias'); // [MQTT-3.3.4-?] 0x82
        topic = t;
      } else (c.aliasIn ??= new Map()).set(alias, topic);
      delete props.topicAlias;
    }
    if (props.subscriptionIdentifier !== undefined) return protocolError(c, 'subscription identifier in a client PUBLISH'); // [MQTT-3.3.4-6]
  }
  if (p.qos > L.maximumQoS) return protocolError(c, 'QoS not supported', RC.QOS_NOT_SUPPORTED); // [MQTT-3.2.2-11]
  if (p.retain && !L.retainAvailable) return protocolError(c, 'retain not supported', RC.RETAIN_NOT_SUPPORTED); // [MQTT-3.2.2-14]

  const pid = p.messageId ?? 0;
  if (p.qos === 2 && s.inflightIn.has(pid)) { // a resend: route once; its PUBREC keeps its place and waits for the original's commit
    const w = pendingPubrec(s, pid);
    if (w === undefined) return ack(c, 2, pid, 0, undefined);
    (c.acks ??= new AckQueue(c, v5 ? L.receiveMaximum : L.maxInflightIn)).push(2, pid, 0, undefined, w);
    return;
  }
  const tooLong = topic.length > L.maxTopicBytes || (topic.length * 3 > L.maxTopicBytes && Buffer.byteLength(topic) > L.maxTopicBytes); // ≤ 3 bytes per UTF-16 unit
  if (!tooLong && checkTopicName(topic, L.maxTopicBytes) !== 0) return protocolError(c, 'invalid topic name', RC.TOPIC_NAME_INVALID); // [MQTT-3.3.2-2]
  if (p.qos === 2 && s.inflightIn.size >= (v5 ? L.receiveMaximum : L.maxInflightIn)) {
    return protocolError(c, 'receive maximum exceeded', RC.RECEIVE_MAXIMUM_EXCEEDED); // [MQTT-3.3.4-9]
  }

  const payload = typeof p.payload === 'string' ? Buffer.from(p.payload) : p.payload;
  const m = new Msg(topic, payload, p.qos, p.retain, v5 && props !== undefined && hasAny(props) ? props as PublishProps : undefined, e.now());
  const records = e.records;
  const before = records === null ? 0 : records.writes;
  let rc = tooLong ? RC.TOPIC_NAME_INVALID : e.hooks.authorizePublish(c.ctx!, m);
  if (rc === 0 && m.retain && !e.retain(m)) rc = RC.QUOTA_EXCEEDED;
  if (rc !== 0) {
    e.count('refused_publish');
    return ack(c, p.qos, pid, v5 ? rc : 0, 'refused');
  }
  const reached = e.route(m, s);
  const okRc = reached === 0 && v5 ? RC.NO_MATCHING_SUBSCRIBERS : 0;
  if (p.qos !== 0) {
    const hold = e.hooks.durable?.(c.ctx!, m);
    // A persistent session's QoS 2 packet id means "routed and stored": with a hold it is recorded only once
    // what the PUBLISH carries is committed. A crash before then makes the client's resend a new PUBLISH
    // (routed again; history keeps one copy), never a PUBREC for a message that was not stored.
    const recordLater = p.qos === 2 && hold !== undefined && s.persistent;
    if (p.qos === 2) s.addInflightIn(pid, !recordLater);
    const changed = records !== null && records.writes !== before;
    if (hold !== undefined || changed) {
      e.count('acks_deferred');
      const wait = recordLater
        ? hold.then(() => { if (s.inflightIn.has(pid)) s.recordInflightIn(pid); return e.store.flush(); }) // flushes the earlier records too
        : changed ? (hold !== undefined ? Promise.all([hold, e.store.flush()]) : e.store.flush()) : hold!;
      if (p.qos === 2) holdPubrec(s, pid, wait);
      (c.acks ??= new AckQueue(c, v5 ? L.receiveMaximum : L.maxInflightIn)).push(p.qos, pid, okRc, undefined, wait,
        p.qos === 2 ? () => { s.deleteInflightIn(pid); } : undefined); // refused: a resend is a new PUBLISH
    } else ack(c, p.qos, pid, okRc, undefined);
  }
  e.hooks.published?.(c.ctx!, m);
}

/** An ack now, or behind the connection's waiting ones [MQTT-4.6.0-2]. */
function ack(c: Connection, qos: number, pid: number, rc: number, why: string | undefined): void {
  if (qos === 0) return;
  if (c.acks !== null && c.acks.size > 0) c.acks.push(qos as 1 | 2, pid, rc, why, null);
  else sendAck(c, qos, pid, rc, why);
}

function hasAny(o: object): boolean {
  for (const _ in o) return true;
  return false;
}
