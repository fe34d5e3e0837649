/**
 * SUBSCRIBE: one reason code per filter, in order [MQTT-3.8.4-6/7]; a filter already
 * held is replaced [MQTT-3.8.4-3]; granted QoS ≤ requested [MQTT-3.8.4-8]. Retained
 * messages follow the SUBACK per Retain Handling (0 always, 1 only for a new
 * subscription, 2 never) [MQTT-3.3.1-9/10/11]; never for shared subscriptions.
 * The authorize hook sees the filter without its $share/{group}/ prefix.
 */
import type { ISubscribePacket, ISubscription } from 'mqtt-packet';
import type { Connection } from '../connection.js';
import { RC } from '../reasons.js';
import type { ClientSub } from '../router.js';
import { checkFilter, hasWildcard, parseShared } from '../topics.js';
import type { QoS } from '../types.js';
import { protocolError } from './dispatch.js';

export function handleSubscribe(c: Connection, p: ISubscribePacket): void {
  const e = c.engine;
  const s = c.session!;
  const v5 = c.version === 5;
  const id = v5 ? p.properties?.subscriptionIdentifier : undefined;
  if (id !== undefined) {
    if (!e.limits.subscriptionIdentifiersAvailable) return protocolError(c, 'subscription identifiers not supported', RC.SUBSCRIPTION_IDENTIFIERS_NOT_SUPPORTED);
    if (id === 0) return protocolError(c, 'subscription identifier 0'); // [MQTT-3.8.2-?] range 1..268435455
  }
  const granted: number[] = [];
  const retainedFor: ClientSub[] = [];
  for (const sub of p.subscriptions) {
    const rc = one(c, sub, id ?? 0, retainedFor);
    if (rc < 0) return; // connection closed
    granted.push(rc);
  }
  c.send({ cmd: 'suback', messageId: p.messageId!, granted });
  for (const sub of retainedFor) e.sendRetained(s, sub);
}

function one(c: Connection, sub: ISubscription, id: number, retainedFor: ClientSub[]): number {
  const e = c.engine;
  const L = e.limits;
  const s = c.session!;
  const v5 = c.version === 5;
  const fail = (rc: number): number => (v5 ? rc : 0x80);
  const key = sub.topic;
  const sh = parseShared(key);
  if (sh === undefined) return fail(RC.TOPIC_FILTER_INVALID); // [MQTT-4.8.2-1/2]
  const filter = sh ? sh.filter : key;
  if (checkFilter(filter, L.maxTopicBytes) !== 0) return fail(RC.TOPIC_FILTER_INVALID); // [MQTT-4.7.1-1/2/3]
  if (sh && !L.sharedSubscriptionAvailable) return fail(RC.SHARED_SUBSCRIPTIONS_NOT_SUPPORTED);
  if (sh && sub.nl) { protocolError(c, 'No Local on a shared subscription'); return -1; } // [MQTT-3.8.3-4]
  if (!L.wildcardSubscriptionAvailable && hasWildcard(filter)) return fail(RC.WILDCARD_SUBSCRIPTIONS_NOT_SUPPORTED);
  if (!s.subs.has(key) && s.subs.size >= L.maxSubscriptionsPerClient) { e.count('refused_subscribe'); return fail(RC.QUOTA_EXCEEDED); }
  const asked = (sub.qos < L.maximumQoS ? sub.qos : L.maximumQoS) as QoS;
  const g = e.hooks.authorizeSubscribe(c.ctx!, filter, asked);
  if (g >= 0x80) { e.count('refused_subscribe'); return v5 && !L.refuseSubscribeWith0x80 ? g : 0x80; }
  const qos = (g < asked ? g : asked) as QoS;
  const rh = v5 ? sub.rh ?? 0 : 0;
  if (e.hooks.screensSubscription?.(c.ctx!, filter)) s.screened = true;
  const existed = e.subscribe(s, key, { qos, nl: v5 && !!sub.nl, rap: v5 && !!sub.rap, rh, id });
  if (!sh && (rh === 0 || (rh === 1 && !existed))) retainedFor.push(s.subs.get(key)!);
  return qos;
}
