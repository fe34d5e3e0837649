/**
 * PUBLISH from a client. Order of checks: topic alias [MQTT-3.3.2-7..12], QoS and
 * RETAIN the server offers [MQTT-3.2.2-11/14], topic name [MQTT-3.3.2-2], QoS 2
 * duplicate and window [MQTT-3.3.4-9], the hook, retained quota; then one route and
 * the ack. Routing happens here, synchronously, for every QoS, so QoS 0 and QoS 1/2
 * of one publisher keep their order [MQTT-4.6.0-5/6].
 * A refusal on v5 is an ack with the reason and the connection stays; on 3.1.1 the
 * ack is positive and the message dropped [MQTT-3.3.5-2].
 */
import type { IPublishPacket } from 'mqtt-packet';
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
  if (p.qos === 2 && s.inflightIn.has(pid)) { c.send({ cmd: 'pubrec', messageId: pid }); return; } // a resend: route once
  const tooLong = topic.length > L.maxTopicBytes || (topic.length * 3 > L.maxTopicBytes && Buffer.byteLength(topic) > L.maxTopicBytes); // ≤ 3 bytes per UTF-16 unit
  if (!tooLong && checkTopicName(topic, L.maxTopicBytes) !== 0) return protocolError(c, 'invalid topic name', RC.TOPIC_NAME_INVALID); // [MQTT-3.3.2-2]
  if (p.qos === 2 && s.inflightIn.size >= (v5 ? L.receiveMaximum : L.maxInflightIn)) {
    return protocolError(c, 'receive maximum exceeded', RC.RECEIVE_MAXIMUM_EXCEEDED); // [MQTT-3.3.4-9]
  }

  const payload = typeof p.payload === 'string' ? Buffer.from(p.payload) : p.payload;
  const m = new Msg(topic, payload, p.qos, p.retain, v5 && props !== undefined && hasAny(props) ? props as PublishProps : undefined, e.now());
  let rc = tooLong ? RC.TOPIC_NAME_INVALID : e.hooks.authorizePublish(c.ctx!, m);
  if (rc === 0 && m.retain && !e.retain(m)) rc = RC.QUOTA_EXCEEDED;
  if (rc !== 0) {
    e.count('refused_publish');
    return ack(c, p.qos, pid, v5 ? rc : 0, 'refused');
  }
  const reached = e.route(m, s);
  if (p.qos === 2) s.addInflightIn(pid);
  ack(c, p.qos, pid, reached === 0 && v5 ? RC.NO_MATCHING_SUBSCRIBERS : 0, undefined);
  e.hooks.published?.(c.ctx!, m);
}

function ack(c: Connection, qos: number, pid: number, rc: number, why: string | undefined): void {
  if (qos === 0) return;
  const cmd = qos === 1 ? 'puback' : 'pubrec';
  if (c.version !== 5 || rc === 0) { c.send({ cmd, messageId: pid }); return; }
  c.send({ cmd, messageId: pid, reasonCode: rc, properties: rc >= 0x80 ? c.reasonProps(why) : undefined });
}

function hasAny(o: object): boolean {
  for (const _ in o) return true;
  return false;
}
