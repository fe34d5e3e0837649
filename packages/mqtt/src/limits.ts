/**
 * Engine limits: every queue and map of the engine is bounded by one of these,
 * and each refusal increments a counter (engine.counters) with its reason.
 */
import type { EngineLimits } from './types.js';

export const DEFAULT_LIMITS: Readonly<EngineLimits> = Object.freeze({
  maxPacketBytes: 1024 * 1024, // 1 MiB (Mosquitto: 256 MiB; Fieldlink payloads are small)
  receiveMaximum: 64,
  topicAliasMaximum: 16,
  outboundTopicAliases: true,
  maxTopicBytes: 1024, // Fieldlink's documented topic cap
  maxClientIdBytes: 256,
  maxSubscriptionsPerClient: 256,
  maxInflightIn: 64,
  maxQueuedPerSession: 1000,
  maxSessionExpirySec: 7 * 24 * 3600,
  maxRetainedTopics: 100_000,
  maxRetainedBytes: 64 * 1024 * 1024,
  maxWriteBufferBytes: 256 * 1024,
  refuseSubscribeWith0x80: false,
  ackReasonStrings: true,
  maximumQoS: 2,
  retainAvailable: true,
  wildcardSubscriptionAvailable: true,
  subscriptionIdentifiersAvailable: true,
  sharedSubscriptionAvailable: true,
});

/**
 * Named profiles. `paho` mirrors the Eclipse Paho reference broker's limits so its
 * interoperability suite runs unmodified (issue 12).
 */
export const PROFILES: Readonly<Record<'default' | 'paho', Partial<EngineLimits>>> = Object.freeze({
  default: {},
  paho: { receiveMaximum: 2, maxPacketBytes: 256, topicAliasMaximum: 2, serverKeepAlive: 60, refuseSubscribeWith0x80: true, ackReasonStrings: false },
});

export function resolveLimits(partial?: Partial<EngineLimits>): EngineLimits {
  const l: EngineLimits = { ...DEFAULT_LIMITS, ...partial };
  for (const k of ['maxPacketBytes', 'receiveMaximum', 'maxTopicBytes', 'maxQueuedPerSession', 'maxInflightIn'] as const) {
    if (!Number.isInteger(l[k]) || l[k] < 1) throw new RangeError(`engine limit ${k} must be a positive integer (got ${l[k]})`);
  }
  if (l.receiveMaximum > 65535) throw new RangeError('engine limit receiveMaximum must be ≤ 65535');
  if (l.topicAliasMaximum < 0 || l.topicAliasMaximum > 65535) throw new RangeError('engine limit topicAliasMaximum must be 0..65535');
  if (l.maxPacketBytes > 268_435_460) throw new RangeError('engine limit maxPacketBytes is over the MQTT maximum (256 MiB)');
  return l;
}
