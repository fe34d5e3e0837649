/**
 * Every MQTT 5 feature a broker has to do something about, as data: whether the
 * hub on `--mqtt-engine core` supports it, how, what bounds it (an option) and
 * which test shows it. docs/mqtt.md prints this table (cli/mqtt-doc.ts); a test
 * keeps the page equal to it and checks that every option and test named here
 * exists, so a row cannot outlive what it describes.
 */
export interface MqttFeature {
  feature: string;
  /** Section of OASIS MQTT 5.0. */
  spec: string;
  supported: 'yes' | 'no' | 'partial';
  how: string;
  /** Options (camelCase keys of hubOptions) bounding it. */
  options: string[];
  /** Test files (under packages/) that exercise it through the hub or the engine. */
  tests: string[];
  /** Tests of the Eclipse Paho MQTT 5 interoperability suite (client_test5.py) that exercise it. */
  paho: string[];
}

const INTEROP = 'hub/test/mqtt5-interop.test.ts';
const PEERS = 'hub/test/mqtt5-peers.test.ts';
const E = (f: string) => `mqtt/test/${f}.test.ts`;
const SECURITY = 'hub/test/security/mqtt-core.test.ts';

export const MQTT5_FEATURES: readonly MqttFeature[] = [
  { feature: 'Reason codes and Reason String on acknowledgements', spec: '2.4, 3.4.2', supported: 'yes', how: 'Every PUBACK/PUBREC/PUBREL/PUBCOMP/SUBACK/UNSUBACK/CONNACK/DISCONNECT carries a reason code (table below); a refused CONNECT carries a Reason String saying why (e.g. the authenticator\'s message); a refused PUBLISH only with --mqtt-ack-reason-strings (the code says why; strict clients break on the property).', options: ['mqttAckReasonStrings'], tests: [E('publish'), E('session'), INTEROP], paho: ['test_basic'] },
  { feature: 'Refused PUBLISH without closing', spec: '3.4.2.1', supported: 'yes', how: 'A PUBLISH the access rules or `$` reservation refuse is answered PUBACK/PUBREC 0x87, one over --publish-rate 0x97; the connection stays. MQTT 3.1.1: acknowledged and dropped [MQTT-3.3.5-2].', options: ['publishRate'], tests: [E('publish'), SECURITY], paho: ['test_dollar_topics'] },
  { feature: 'Clean Start and Session Expiry Interval', spec: '3.1.2.4, 3.1.2.11.2', supported: 'yes', how: 'Sessions outlive the connection for the interval granted (at most --mqtt-max-session-expiry-sec, returned in CONNACK when lowered); DISCONNECT may change a non-zero interval, not a zero one (0x82).', options: ['mqttMaxSessionExpirySec'], tests: [E('session'), INTEROP], paho: ['test_session_expiry', 'test_offline_message_queueing'] },
  { feature: 'Message Expiry Interval', spec: '3.3.2.3.3', supported: 'yes', how: 'Forwarded decremented by the time the message waited; expired queued messages are dropped, never delivered.', options: ['mqttMaxQueuedPerSession'], tests: [E('publish'), E('retained'), INTEROP, PEERS], paho: ['test_publication_expiry'] },
  { feature: 'Will Delay Interval', spec: '3.1.3.2.2', supported: 'yes', how: 'The will is published after the delay or when the session ends, whichever is first; a reconnect within the delay cancels it.', options: [], tests: [E('will')], paho: ['test_will_delay'] },
  { feature: 'Server DISCONNECT with a reason', spec: '3.14', supported: 'yes', how: '0x8E when another connection takes the client id over, 0x8D on keep-alive timeout, 0x8B on shutdown, 0x93/0x94/0x95/0x81/0x82 on the violations in the table below.', options: [], tests: [E('connect'), E('framer')], paho: ['test_keepalive', 'test_flow_control2'] },
  { feature: 'Payload Format Indicator, Content Type', spec: '3.3.2.3.2, 3.3.2.3.9', supported: 'yes', how: 'Forwarded unaltered.', options: [], tests: [E('publish'), INTEROP, PEERS], paho: ['test_payload_format'] },
  { feature: 'User Properties', spec: '3.3.2.3.7', supported: 'yes', how: 'Forwarded unaltered, in order, repeated names kept.', options: ['mqttMaxPacketBytes'], tests: [E('publish'), INTEROP, PEERS], paho: ['test_user_properties'] },
  { feature: 'Request/response: Response Topic, Correlation Data', spec: '4.10', supported: 'yes', how: 'Forwarded unaltered; the responder publishes to the Response Topic under the same access rules as any topic.', options: [], tests: [E('publish'), INTEROP, PEERS], paho: ['test_request_response'] },
  { feature: 'Subscription options: No Local, Retain As Published, Retain Handling', spec: '3.8.3.1', supported: 'yes', how: 'Per subscription; Retain Handling 0 (send retained), 1 (only for a new subscription), 2 (never).', options: [], tests: [E('publish'), E('retained')], paho: ['test_subscribe_options'] },
  { feature: 'Subscription Identifiers', spec: '3.8.2.1.2', supported: 'yes', how: 'Every matching identifier of the session in the one copy delivered.', options: [], tests: [E('publish')], paho: ['test_subscribe_identifiers'] },
  { feature: 'Shared subscriptions `$share/{group}/{filter}`', spec: '4.8.2', supported: 'yes', how: 'Each message goes to one member of the group (round robin among connected members). The hub\'s own services never join a client\'s group.', options: ['mqttMaxSubscriptionsPerClient'], tests: [E('publish'), E('router'), INTEROP, PEERS], paho: ['test_shared_subscriptions'] },
  { feature: 'Topic Alias, client to server', spec: '3.3.2.3.4', supported: 'yes', how: 'Up to the Topic Alias Maximum announced in CONNACK; alias 0, over it or unknown is DISCONNECT 0x94.', options: ['mqttTopicAliasMaximum'], tests: [E('publish'), INTEROP, PEERS], paho: ['test_client_topic_alias'] },
  { feature: 'Topic Alias, server to client', spec: '3.3.2.3.4', supported: 'yes', how: 'Used towards a client that announced a Topic Alias Maximum, within it.', options: [], tests: [E('publish'), INTEROP], paho: ['test_server_topic_alias'] },
  { feature: 'Receive Maximum, both directions', spec: '3.1.2.11.3, 3.2.2.3.3', supported: 'yes', how: 'Announced in CONNACK (one more QoS 2 PUBLISH awaiting PUBREL is DISCONNECT 0x93); the hub never has more unacknowledged QoS 1/2 messages towards a client than its Receive Maximum: the rest wait in the session queue.', options: ['mqttReceiveMaximum', 'mqttMaxQueuedPerSession'], tests: [E('publish')], paho: ['test_flow_control1', 'test_flow_control2'] },
  { feature: 'Maximum Packet Size, both directions', spec: '3.1.2.11.4, 3.2.2.3.6', supported: 'yes', how: 'Announced in CONNACK; a larger packet is DISCONNECT 0x95 before its body is read. A message larger than the client\'s maximum is not sent to it (dropped and counted) [MQTT-3.1.2-25].', options: ['mqttMaxPacketBytes'], tests: [E('framer'), E('publish')], paho: ['test_maximum_packet_size'] },
  { feature: 'Server Keep Alive', spec: '3.2.2.3.14', supported: 'yes', how: 'With --mqtt-server-keep-alive (the paho profile: 60) a longer keep alive is lowered to it, announced in CONNACK.', options: ['mqttServerKeepAlive'], tests: [E('connect')], paho: ['test_server_keep_alive'] },
  { feature: 'Assigned Client Identifier', spec: '3.2.2.3.7', supported: 'yes', how: 'An empty client id gets a generated one, returned in CONNACK. MQTT 3.1.1: only with CleanSession 1 [MQTT-3.1.3-8].', options: ['mqttMaxClientIdBytes'], tests: [E('connect')], paho: ['test_assigned_clientid', 'test_zero_length_clientid'] },
  { feature: 'CONNACK capabilities', spec: '3.2.2.3', supported: 'yes', how: 'CONNACK carries Receive Maximum, Maximum Packet Size, Topic Alias Maximum, Retain Available and the Wildcard / Subscription Identifier / Shared Subscription Available flags (all available); Maximum QoS is 2 (so absent).', options: [], tests: [E('connect')], paho: [] },
  { feature: 'Enhanced authentication (AUTH)', spec: '4.12', supported: 'no', how: 'A CONNECT with an Authentication Method is answered CONNACK 0x8C (Bad authentication method); authenticate with user name and password, a token or a TLS client certificate.', options: [], tests: [E('connect')], paho: [] },
  { feature: 'Server redirection (Server Reference)', spec: '4.11', supported: 'no', how: 'Never sent: one hub serves its clients.', options: [], tests: [], paho: [] },
  { feature: 'Response Information', spec: '3.1.2.11.6', supported: 'no', how: 'Request Response Information is accepted and ignored: no Response Information is returned (the client chooses its response topics, as in the request/response row).', options: [], tests: [], paho: [] },
];
