/**
 * The engine-neutral MQTT policy (auth/mqtt-policy.ts, auth/retained-budget.ts)
 * as the core engine's `MqttPolicy` (mqtt-core-security.ts): the same rules the
 * Aedes hooks apply (mqtt-security.ts), answered with MQTT 5 reason codes.
 *
 * CONNECT: a device's client id is its device id, an id reserved for a
 * registered device is refused to others, a session belongs to the identity
 * that made it (0x85 Client Identifier not valid; 3.1.1: return code 2); too
 * many stored sessions for one identity is 0x97 (3.1.1: 3). PUBLISH: topics over
 * the cap 0x90; a retained message over the budget 0x97. SUBSCRIBE: filters over
 * the cap 0x8F. The connection handle for claims is `c.meta`, one object per
 * connection.
 *
 * Retained messages published in-process (WebSocket doors, services) reach the
 * core engine without hooks: the bus asks `localRetained` first (bus/core.ts
 * admitRetained) and charges them to the owner of their topic, as the Aedes path
 * does (a device's `devices/{id}/…` to that device, else the shared `hub`
 * account; `$` topics of the hub are not charged); a refusal rejects the publish
 * with RetainedLimitError (the WebSocket doors answer RETAINED_LIMIT).
 */
import { isDeviceId } from '@fieldlink/protocol';
import type { Security } from '../auth/index.js';
import { ownerKey, publishTopicRefusal, subscribeFilterRefusal, type SessionOwners } from '../auth/mqtt-policy.js';
import { RetainedLimitError, ownerOfTopic, type RetainedBudget } from '../auth/retained-budget.js';
import type { MqttPolicy } from './mqtt-core-security.js';

export interface MqttPolicyState {
  owners: SessionOwners;
  retained: RetainedBudget;
  isRegisteredDevice(id: string): Promise<boolean>;
}

const CLIENT_ID_NOT_VALID = 0x85;
const QUOTA_EXCEEDED = 0x97;
const TOPIC_NAME_INVALID = 0x90;
const TOPIC_FILTER_INVALID = 0x8f;

export function corePolicy(state: MqttPolicyState, sec: Security): MqttPolicy {
  const note = (kind: string, fields: Record<string, unknown>) => sec.logs.warn(`mqtt:${kind}`, { ...fields, kind }, 'mqtt refused');
  return {
    async connect(who, c) {
      const reserved = who.kind !== 'device' && isDeviceId(c.clientId) ? await state.isRegisteredDevice(c.clientId) : false;
      // check and claim in one synchronous step after the await: no other CONNECT can slip in between
      const why = state.owners.claim(who, c.clientId, c.clean, reserved, c.meta);
      if (!why) return 0;
      note(`client_id_${why}`, { door: 'mqtt', remote: c.meta.remote, clientId: c.clientId, who: ownerKey(who) });
      return why === 'too_many_sessions' ? QUOTA_EXCEEDED : CLIENT_ID_NOT_VALID;
    },
    publish(who, c, m) {
      const bad = publishTopicRefusal(m.topic);
      if (bad) {
        sec.countError('mqtt', 'INVALID_TOPIC');
        note(`topic_${bad}`, { door: 'mqtt', clientId: c.clientId, who: ownerKey(who), bytes: Buffer.byteLength(m.topic) });
        return TOPIC_NAME_INVALID;
      }
      if (!m.retain) return 0;
      const why = state.retained.admit(ownerKey(who), m.topic, m.payload.length);
      if (!why) return 0;
      note(`retained_${why}`, { door: 'mqtt', owner: ownerKey(who), topic: m.topic.slice(0, 200) });
      return QUOTA_EXCEEDED;
    },
    subscribe(who, c, filter) {
      const bad = subscribeFilterRefusal(filter);
      if (!bad) return 0;
      sec.countError('mqtt', 'INVALID_FILTER');
      note(`filter_${bad}`, { door: 'mqtt', clientId: c.clientId, who: ownerKey(who), bytes: Buffer.byteLength(filter) });
      return TOPIC_FILTER_INVALID;
    },
    disconnected(_who, c) {
      state.owners.release(c.clientId, c.meta);
    },
    localRetained(topic, payloadBytes) {
      if (topic.charCodeAt(0) === 36) return undefined;
      const owner = ownerOfTopic(topic);
      const why = state.retained.admit(owner, topic, payloadBytes);
      if (!why) return undefined;
      note(`retained_${why}`, { door: 'bus', owner, topic: topic.slice(0, 200) });
      return new RetainedLimitError(why);
    },
  };
}
