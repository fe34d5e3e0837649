/**
 * MQTT 5 reason codes the engine sends (OASIS MQTT 5.0 §2.4), with when it sends
 * them: docs/mqtt.md is generated from SENT_REASONS. 3.1.1 has no reason codes
 * except CONNACK return codes and SUBACK 0x80; connectReturnCode maps onto those.
 */
export const RC = {
  SUCCESS: 0x00,
  DISCONNECT_WITH_WILL: 0x04,
  NO_MATCHING_SUBSCRIBERS: 0x10,
  NO_SUBSCRIPTION_EXISTED: 0x11,
  CONTINUE_AUTHENTICATION: 0x18,
  REAUTHENTICATE: 0x19,
  UNSPECIFIED: 0x80,
  MALFORMED: 0x81,
  PROTOCOL_ERROR: 0x82,
  IMPLEMENTATION_SPECIFIC: 0x83,
  UNSUPPORTED_PROTOCOL_VERSION: 0x84,
  CLIENT_ID_INVALID: 0x85,
  BAD_USERNAME_OR_PASSWORD: 0x86,
  NOT_AUTHORIZED: 0x87,
  SERVER_UNAVAILABLE: 0x88,
  SERVER_BUSY: 0x89,
  BANNED: 0x8a,
  SERVER_SHUTTING_DOWN: 0x8b,
  BAD_AUTHENTICATION_METHOD: 0x8c,
  KEEP_ALIVE_TIMEOUT: 0x8d,
  SESSION_TAKEN_OVER: 0x8e,
  TOPIC_FILTER_INVALID: 0x8f,
  TOPIC_NAME_INVALID: 0x90,
  PACKET_ID_IN_USE: 0x91,
  PACKET_ID_NOT_FOUND: 0x92,
  RECEIVE_MAXIMUM_EXCEEDED: 0x93,
  TOPIC_ALIAS_INVALID: 0x94,
  PACKET_TOO_LARGE: 0x95,
  QUOTA_EXCEEDED: 0x97,
  ADMINISTRATIVE_ACTION: 0x98,
  PAYLOAD_FORMAT_INVALID: 0x99,
  RETAIN_NOT_SUPPORTED: 0x9a,
  QOS_NOT_SUPPORTED: 0x9b,
  SHARED_SUBSCRIPTIONS_NOT_SUPPORTED: 0x9e,
  SUBSCRIPTION_IDENTIFIERS_NOT_SUPPORTED: 0xa1,
  WILDCARD_SUBSCRIPTIONS_NOT_SUPPORTED: 0xa2,
} as const;

/** v5 CONNACK reason → 3.1.1 CONNACK return code (§3.2.2.3 of 3.1.1). */
export function connectReturnCode(reason: number): number {
  switch (reason) {
    case RC.SUCCESS: return 0;
    case RC.UNSUPPORTED_PROTOCOL_VERSION: return 1;
    case RC.CLIENT_ID_INVALID: return 2;
    case RC.BAD_USERNAME_OR_PASSWORD: return 4;
    case RC.NOT_AUTHORIZED: case RC.BANNED: case RC.BAD_AUTHENTICATION_METHOD: return 5;
    // a will the server refuses (topic or payload) is not a reason to retry later: 5, as Aedes answers it
    case RC.TOPIC_NAME_INVALID: case RC.PAYLOAD_FORMAT_INVALID: return 5;
    default: return 3; // server unavailable: busy, shutting down, rate, anything else
  }
}

export interface SentReason { code: number; name: string; packets: string; when: string }

/** Every reason code the engine itself sends, and when (hooks may add 0x87/0x97/0x86/… of their own). */
export const SENT_REASONS: readonly SentReason[] = [
  { code: 0x00, name: 'Success', packets: 'CONNACK, PUBACK, PUBREC, PUBREL, PUBCOMP, UNSUBACK, AUTH', when: 'accepted' },
  { code: 0x01, name: 'Granted QoS 1', packets: 'SUBACK', when: 'subscription granted at QoS 1' },
  { code: 0x02, name: 'Granted QoS 2', packets: 'SUBACK', when: 'subscription granted at QoS 2' },
  { code: 0x10, name: 'No matching subscribers', packets: 'PUBACK, PUBREC', when: 'a QoS 1/2 PUBLISH matched no subscription' },
  { code: 0x11, name: 'No subscription existed', packets: 'UNSUBACK', when: 'UNSUBSCRIBE of a filter the session does not hold' },
  { code: 0x80, name: 'Unspecified error', packets: 'SUBACK, PUBACK, PUBREC', when: 'a refused SUBSCRIBE under the paho profile (refuseSubscribeWith0x80); a PUBLISH whose commit failed (Hooks.durable rejected, the store failed): not stored' },
  { code: 0x81, name: 'Malformed Packet', packets: 'DISCONNECT', when: 'a packet mqtt-packet cannot parse, a bad remaining length' },
  { code: 0x82, name: 'Protocol Error', packets: 'DISCONNECT', when: 'a second CONNECT, a server-to-client packet type, session expiry set on DISCONNECT after 0 at CONNECT, AUTH without the CONNECT\'s method, unknown topic alias …' },
  { code: 0x84, name: 'Unsupported Protocol Version', packets: 'CONNACK', when: 'protocol level other than 3, 4, 5 (3.1.1 return code 1)' },
  { code: 0x85, name: 'Client Identifier not valid', packets: 'CONNACK', when: 'client id over maxClientIdBytes; 3.1.1 empty id with CleanSession 0 (return code 2) [MQTT-3.1.3-8]' },
  { code: 0x87, name: 'Not authorized', packets: 'SUBACK, PUBACK, PUBREC, CONNACK', when: 'a hook refused (default code of the hub)' },
  { code: 0x8b, name: 'Server shutting down', packets: 'DISCONNECT', when: 'engine.close()' },
  { code: 0x8c, name: 'Bad authentication method', packets: 'CONNACK', when: 'a CONNECT with an Authentication Method and no auth hook (an AUTH packet then is 0x82)' },
  { code: 0x8d, name: 'Keep Alive timeout', packets: 'DISCONNECT', when: 'nothing received for 1.5 × keep alive [MQTT-3.1.2-24]' },
  { code: 0x8e, name: 'Session taken over', packets: 'DISCONNECT', when: 'another connection with the same client id [MQTT-3.1.4-3]' },
  { code: 0x8f, name: 'Topic Filter invalid', packets: 'SUBACK, UNSUBACK', when: 'a filter with misplaced wildcards, over maxTopicBytes, a bad $share' },
  { code: 0x90, name: 'Topic Name invalid', packets: 'PUBACK, PUBREC, DISCONNECT', when: 'a topic over maxTopicBytes (ack); wildcards in a topic name (DISCONNECT)' },
  { code: 0x92, name: 'Packet Identifier not found', packets: 'PUBREL, PUBCOMP', when: 'PUBREC/PUBREL for an unknown packet id' },
  { code: 0x93, name: 'Receive Maximum exceeded', packets: 'DISCONNECT', when: 'more QoS 2 PUBLISHes awaiting PUBREL than our Receive Maximum [MQTT-3.3.4-9]' },
  { code: 0x94, name: 'Topic Alias invalid', packets: 'DISCONNECT', when: 'alias 0, over our Topic Alias Maximum, or unknown with an empty topic [MQTT-3.3.2-9]' },
  { code: 0x95, name: 'Packet too large', packets: 'DISCONNECT', when: 'a packet over maxPacketBytes, refused before its body is read' },
  { code: 0x97, name: 'Quota exceeded', packets: 'SUBACK, PUBACK, PUBREC', when: 'maxSubscriptionsPerClient, maxRetainedTopics or maxRetainedBytes reached; a PUBLISH the hub could not queue for its store (Hooks.durable rejected with 0x97): not stored, retry later' },
  { code: 0x98, name: 'Administrative action', packets: 'DISCONNECT', when: 'engine.disconnectClient() without a code (revocation)' },
  { code: 0x9b, name: 'QoS not supported', packets: 'DISCONNECT', when: 'a PUBLISH above maximumQoS [MQTT-3.2.2-11]' },
  { code: 0x9a, name: 'Retain not supported', packets: 'DISCONNECT', when: 'RETAIN with retainAvailable false [MQTT-3.2.2-14]' },
  { code: 0x9e, name: 'Shared Subscriptions not supported', packets: 'SUBACK', when: 'sharedSubscriptionAvailable false' },
  { code: 0xa1, name: 'Subscription Identifiers not supported', packets: 'DISCONNECT', when: 'subscriptionIdentifiersAvailable false and a SUBSCRIBE carries one' },
  { code: 0xa2, name: 'Wildcard Subscriptions not supported', packets: 'SUBACK', when: 'wildcardSubscriptionAvailable false' },
];
