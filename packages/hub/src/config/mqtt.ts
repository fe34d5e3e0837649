/**
 * The core MQTT engine's limits from the configuration: each limit has an
 * option (options.ts), and a profile (--mqtt-profile, the engine's PROFILES) may
 * fix some of them. `paho` is the Eclipse Paho reference broker's, so its
 * interoperability suite runs unmodified (its tests count on a receive maximum
 * of 2, a maximum packet size of 256, …); under it the profile's values win over
 * the options. docs/mqtt.md prints these tables (cli/mqtt-doc.ts).
 */
import { PROFILES, type EngineLimits } from '@fieldlink/mqtt';
import type { HubConfig } from './options.js';

export type MqttProfile = keyof typeof PROFILES;

/** Which option sets each limit the hub configures (docs: "the limits and their options"). */
export const LIMIT_OPTIONS = {
  maxPacketBytes: 'mqttMaxPacketBytes',
  receiveMaximum: 'mqttReceiveMaximum',
  topicAliasMaximum: 'mqttTopicAliasMaximum',
  serverKeepAlive: 'mqttServerKeepAlive',
  maxTopicBytes: 'mqttMaxTopicBytes',
  maxSubscriptionsPerClient: 'mqttMaxSubscriptionsPerClient',
  maxInflightIn: 'mqttMaxInflightIn',
  maxQueuedPerSession: 'mqttMaxQueuedPerSession',
  maxSessionExpirySec: 'mqttMaxSessionExpirySec',
  // the same totals as the retained budget of both engines (auth/retained-budget.ts): one option each
  maxRetainedTopics: 'retainedMaxTopics',
  maxRetainedBytes: 'retainedMaxBytes',
  maxClientIdBytes: 'mqttMaxClientIdBytes',
  maxWriteBufferBytes: 'mqttMaxWriteBufferBytes',
  ackReasonStrings: 'mqttAckReasonStrings',
} as const satisfies Partial<Record<keyof EngineLimits, keyof HubConfig>>;

/** What each profile is for (its values are the engine's PROFILES). */
export const PROFILE_DOCS: Record<MqttProfile, string> = {
  default: 'Follows the specification with the limits the options give; a refused SUBSCRIBE is SUBACK 0x87 on MQTT 5 and 0x80 on 3.1.1.',
  paho: "The Eclipse Paho reference broker's limits, which its interoperability suite assumes (test_flow_control2, test_maximum_packet_size, test_server_topic_alias, test_server_keep_alive, test_subscribe_failure): they win over the options.",
};

export function mqttLimits(cfg: HubConfig): Partial<EngineLimits> {
  const fromOptions: Partial<EngineLimits> = {
    maxPacketBytes: cfg.mqttMaxPacketBytes,
    receiveMaximum: cfg.mqttReceiveMaximum,
    topicAliasMaximum: cfg.mqttTopicAliasMaximum,
    ...(cfg.mqttServerKeepAlive > 0 ? { serverKeepAlive: cfg.mqttServerKeepAlive } : {}),
    maxTopicBytes: cfg.mqttMaxTopicBytes,
    maxSubscriptionsPerClient: cfg.mqttMaxSubscriptionsPerClient,
    maxInflightIn: cfg.mqttMaxInflightIn,
    maxQueuedPerSession: cfg.mqttMaxQueuedPerSession,
    maxSessionExpirySec: cfg.mqttMaxSessionExpirySec,
    maxRetainedTopics: cfg.retainedMaxTopics,
    maxRetainedBytes: cfg.retainedMaxBytes,
    maxClientIdBytes: cfg.mqttMaxClientIdBytes,
    maxWriteBufferBytes: cfg.mqttMaxWriteBufferBytes,
    ackReasonStrings: cfg.mqttAckReasonStrings,
  };
  return { ...fromOptions, ...PROFILES[cfg.mqttProfile as MqttProfile] };
}
