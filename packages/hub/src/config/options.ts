/**
 * Every option of every role, as data. docs/configuration.md, `--help` and
 * `fieldlink config defaults` are generated from these tables; a test keeps the
 * committed docs in sync.
 */
import type { OptionDef, OptionSet } from './schema.js';
import { linkOptions } from './link.js';

const o = <S extends OptionSet>(s: S) => s;
const int = (d: number, doc: string, extra: Partial<OptionDef<'int'>> = {}): OptionDef<'int'> => ({ kind: 'int', default: d, doc, ...extra });
const str = (d: string, doc: string, extra: Partial<OptionDef<'string'>> = {}): OptionDef<'string'> => ({ kind: 'string', default: d, doc, ...extra });
const bool = (d: boolean, doc: string, extra: Partial<OptionDef<'bool'>> = {}): OptionDef<'bool'> => ({ kind: 'bool', default: d, doc, ...extra });


/** The embedded bus's MQTT engine when --mqtt-engine is not given (issue 12; docs/mqtt.md): `core`, Fieldlink's own. */
export const DEFAULT_MQTT_ENGINE: 'core' | 'aedes' = 'core';
/** The release that removes `--mqtt-engine aedes` (selectable for one release after `core` became the default in 0.2.0). */
export const AEDES_REMOVED_IN = '0.3.0';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export const common = o({
  config: str('', 'Path to a config file (YAML or JSON) with any of these options as keys (camelCase or kebab-case).', { group: 'General' }),
  shutdownTimeoutMs: int(5000, 'Graceful shutdown: how long to wait for flushes before exiting anyway.', { min: 100, max: 600000, group: 'General', advanced: true }),
  logLevel: { kind: 'enum', default: 'info', values: LOG_LEVELS, doc: 'Log level of the structured (pino) log on stdout.', group: 'General' } as OptionDef<'enum'>,
});

export const hubOptions = o({
  ...common,
  host: str('127.0.0.1', 'Interface to listen on (HTTP, WebSocket and MQTT). Loopback only by default, as Mosquitto 2 does.', { group: 'Network' }),
  allowAnonymous: bool(false, 'Allow listening on a non-loopback --host without authentication. Anyone who reaches the port can read and publish everything: a warning is logged and shown in /healthz.', { group: 'Network' }),
  port: int(8080, 'HTTP port: dashboard, HTTP API, and the WebSocket doors /ws, /ws/device and /mqtt. 0 picks a free port.', { min: 0, max: 65535, group: 'Network' }),
  mqttPort: int(1883, 'MQTT over TCP port. 0 disables MQTT over TCP; -1 picks a free port (tests, side-by-side runs).', { min: -1, max: 65535, group: 'Network' }),
  bus: str('', 'An MQTT 5 broker (or cluster) to use as the bus instead of the embedded one: mqtt://[user:pass@]host:1883, mqtts://…, ws(s)://…. Devices then connect to that broker (the hub serves no MQTT door of its own) and several hubs sharing it and one PostgreSQL store serve the same devices; each telemetry message is stored once (shared subscription). Empty: the embedded broker.', { group: 'Network' }),
  dataDir: str('./data', 'Directory for the embedded SQLite store and other state.', { group: 'Storage' }),
  store: str('sqlite', 'Telemetry store: `sqlite` (file in --data-dir), `sqlite:<path>`, `postgres://user@host/db`, or `none`.', { group: 'Storage' }),
  durability: { kind: 'enum', default: 'process', values: ['process', 'power'], doc: 'What a commit (and so an acknowledgement) survives, for telemetry and the MQTT engine\'s state alike (docs/storage.md): `process`: a crash or `kill -9` of the hub, not a power cut or OS crash (SQLite WAL, synchronous=NORMAL); `power`: also a power cut (synchronous=FULL: an fsync per commit, still one commit per batch). PostgreSQL commits with synchronous_commit=on in both.', group: 'Storage' } as OptionDef<'enum'>,
  mqttStateMaxPending: int(200000, '`core` with a store: rows of engine state (sessions, queued and in-flight messages, retained) recorded and not yet committed. When the database stops answering they wait and are retried; beyond this bound new rows are dropped and counted (fieldlink_mqtt_state{counter="dropped"}) and every acknowledgement that waits for a commit is refused until the hub restarts.', { min: 1000, max: 100000000, group: 'Storage', advanced: true }),
  retentionDays: int(30, 'Raw points older than this many days are pruned.', { min: 1, max: 36500, group: 'Storage' }),
  rollupRetentionDays: int(730, 'Hourly rollups older than this many days are pruned.', { min: 1, max: 36500, group: 'Storage' }),
  ingestBatchMs: int(10, 'Group commit: the ingest service writes a batch at least this often; acknowledged telemetry (QoS 1/2, device frames with ack) waits for this commit.', { min: 1, max: 10000, group: 'Storage', advanced: true }),
  ingestBatchPoints: int(5000, 'Group commit: a batch is written as soon as it holds this many points.', { min: 1, max: 1000000, group: 'Storage', advanced: true }),
  ingestQueuePoints: int(100000, 'Bound of the queue between the bus and the store. When full, new QoS 0 points are dropped and counted (ingest_dropped); acknowledged ones are refused (MQTT 5 PUBACK 0x97, 3.1.1 no ack, device frame error) and counted (ingest notStored).', { min: 100, max: 100000000, group: 'Storage', advanced: true }),
  historyMaxLimit: int(10000, 'Largest `limit` a history query may ask for.', { min: 10, max: 1000000, group: 'Storage', advanced: true }),
  simulate: int(0, 'Start this many simulated VEML7700 light sensors inside the hub process (the demo uses 3): an indoor room whose day follows the local time zone (dark at night).', { min: 0, max: 10000, group: 'Demo' }),
  simulateIntervalMs: int(1000, 'Interval between readings of each simulated sensor.', { min: 10, max: 3600000, group: 'Demo' }),
  fallbackPorts: bool(false, 'Demo (`npm start`): when --port or --mqtt-port is taken, use a free port instead and print the one chosen. Without it a taken port stops the hub with an error.', { group: 'Demo' }),
  maxFrameBytes: int(65536, 'Largest WebSocket frame accepted on /ws and /ws/device; larger frames get error 1005 (FRAME_TOO_LARGE).', { min: 1024, max: 16777216, group: 'Limits' }),
  mqttMaxPacketBytes: int(1048576, 'Largest MQTT packet accepted (every MQTT door; `core`: also announced as MQTT 5 Maximum Packet Size, and larger ones are DISCONNECT 0x95 before their body is read).', { min: 1024, max: 268435455, group: 'Limits', advanced: true }),
  mqttEngine: { kind: 'enum', default: DEFAULT_MQTT_ENGINE, values: ['core', 'aedes'], doc: `MQTT engine of the embedded bus: \`core\` (@fieldlink/mqtt: MQTT 3.1.1 and 5.0, the default) or \`aedes\` (Aedes 1.2, MQTT 3.1.1 only; deprecated: selectable for one release after \`core\` became the default, removed in ${AEDES_REMOVED_IN}).`, group: 'MQTT' } as OptionDef<'enum'>,
  mqttProfile: { kind: 'enum', default: 'default', values: ['default', 'paho'], doc: 'Limits of the `core` engine: `default` (the options below) or `paho`, the Eclipse Paho reference broker\'s (receive maximum 2, maximum packet size 256, topic alias maximum 2, server keep alive 60, refused SUBSCRIBE answered 0x80), so its interoperability suite runs unmodified (docs/mqtt.md).', group: 'MQTT' } as OptionDef<'enum'>,
  mqttReceiveMaximum: int(64, '`core`: Receive Maximum announced to MQTT 5 clients: QoS 2 PUBLISHes a client may have awaiting PUBREL; one more is DISCONNECT 0x93.', { min: 1, max: 65535, group: 'MQTT', advanced: true }),
  mqttTopicAliasMaximum: int(16, '`core`: topic aliases a MQTT 5 client may set towards the hub (0: none); the hub also uses up to this many towards a client that allows them.', { min: 0, max: 65535, group: 'MQTT', advanced: true }),
  mqttServerKeepAlive: int(0, '`core`: longest keep alive (seconds) an MQTT 5 client may use: a client asking for more is given this one as Server Keep Alive in CONNACK (one asking for none keeps none, as in the Paho reference broker); 0: the client\'s own always.', { min: 0, max: 65535, group: 'MQTT', advanced: true }),
  mqttAckReasonStrings: bool(false, '`core`: a refused MQTT 5 PUBLISH is answered PUBACK/PUBREC with its reason code and also a Reason String (when the client did not turn problem information off). Off by default: the reason code says it all, and some clients (the Eclipse Paho test client) cannot parse an acknowledgement with properties (docs/mqtt.md).', { group: 'MQTT', advanced: true }),
  mqttSysIntervalSec: int(10, '`core`: seconds between updates of the `$SYS/broker/…` tree (retained counters, published when changed; connections are announced as they happen). 0: the counters once at start, then only the connection events. Only `admin` may subscribe to `$SYS/#` (docs/mqtt.md).', { min: 0, max: 86400, group: 'MQTT', advanced: true }),
  mqttMaxQueuedPerSession: int(1000, '`core`: messages queued for one session (offline, or beyond its receive maximum). When full, QoS 0 is dropped first, then the new message; each drop is counted (fieldlink_mqtt_engine_total).', { min: 1, max: 10000000, group: 'MQTT', advanced: true }),
  mqttMaxInflightIn: int(64, '`core`: QoS 2 PUBLISHes an MQTT 3.1.1 client may have awaiting PUBREL (MQTT 5 clients: --mqtt-receive-maximum); more close the connection.', { min: 1, max: 65535, group: 'MQTT', advanced: true }),
  mqttMaxSubscriptionsPerClient: int(256, '`core`: subscriptions one MQTT client may hold; more are refused (SUBACK 0x97, 0x80 on 3.1.1).', { min: 1, max: 100000, group: 'MQTT', advanced: true }),
  mqttMaxTopicBytes: int(1024, '`core`: longest topic name or filter accepted, in bytes.', { min: 16, max: 65535, group: 'MQTT', advanced: true }),
  mqttMaxSessionExpirySec: int(604800, '`core`: longest MQTT 5 Session Expiry Interval granted (a client asking for more gets this, in CONNACK); MQTT 3.1.1 sessions with CleanSession 0 expire after it too.', { min: 0, max: 4294967295, group: 'MQTT', advanced: true }),
  mqttMaxClientIdBytes: int(256, '`core`: longest client identifier accepted (CONNACK 0x85, 3.1.1 return code 2).', { min: 23, max: 65535, group: 'MQTT', advanced: true }),
  mqttMaxWriteBufferBytes: int(262144, '`core`: bytes buffered in one connection\'s socket before further messages wait in its session queue (--mqtt-max-queued-per-session).', { min: 1024, max: 1073741824, group: 'MQTT', advanced: true }),
  maxSubscriptions: int(100, 'Subscriptions per browser connection; more get error 1015.', { min: 1, max: 100000, group: 'Limits' }),
  wsSoftLimitBytes: int(1048576, 'Slow consumers: while a browser has more than this buffered, its pushes wait in a queue of this size that drops the oldest first (counted); replies are never dropped.', { min: 1024, max: 1073741824, group: 'Limits', advanced: true }),
  wsHardLimitBytes: int(8388608, 'Slow consumers: past this many buffered bytes the connection is closed with 4008.', { min: 1024, max: 1073741824, group: 'Limits', advanced: true }),
  wsStallTimeoutMs: int(30000, 'Slow consumers: a browser whose push queue has not drained for this long is closed with 4008.', { min: 100, max: 3600000, group: 'Limits', advanced: true }),
  callTimeoutMs: int(5000, 'Default timeout of a device command (`call`) when the request names none.', { min: 1, max: 60000, group: 'Devices' }),
  resumeBuffer: int(10000, 'Recent push frames kept so a browser that reconnects can resume without a gap (`sub` with epoch/since).', { min: 1, max: 10000000, group: 'Limits', advanced: true }),
  localSensor: { kind: 'list', default: [], doc: 'Gateway role: sensors attached to this machine, read in-process and published as devices, e.g. `veml7700@i2c-1` (real, /dev/i2c-1) or `veml7700@emulated`; append `:id` to name the device. Comma-separated.', group: 'Devices' } as OptionDef<'list'>,
  anonymous: { kind: 'enum', default: 'auto', values: ['auto', 'none', 'viewer', 'operator', 'admin'], doc: 'Role of connections without credentials. `auto`: `admin` on a loopback --host (the out-of-the-box demo), refused elsewhere unless --allow-anonymous. `none`: every connection must authenticate.', group: 'Security' } as OptionDef<'enum'>,
  aclFile: str('', 'JSON or YAML file with access rules replacing the defaults (docs/security.md).', { group: 'Security' }),
  authTimeoutMs: int(10000, 'A WebSocket that has not authenticated within this time is closed with 4001.', { min: 100, max: 600000, group: 'Security', advanced: true }),
  authFreeFailures: int(5, 'Failed authentications allowed per name and address before each further failure doubles a wait (1 s up to --auth-backoff-max-ms); attempts for one name from one address are checked one at a time.', { min: 1, max: 1000, group: 'Security', advanced: true }),
  authBackoffMaxMs: int(60000, 'Longest wait after repeated failed authentications for one name; per-name failure counts also forget one failure per this interval, so a guesser gets one try per interval in the long run.', { min: 1000, max: 3600000, group: 'Security', advanced: true }),
  authNameFailures: int(50, 'Failed authentications allowed for one name across all addresses before the same doubling wait applies to that name from any address where it has not logged in successfully within 7 days.', { min: 1, max: 100000, group: 'Security', advanced: true }),
  authIpFailures: int(100, 'Failed authentications one address may hold across all names (a leaky bucket); when full, that address may only log in with names that succeeded from it within 7 days.', { min: 1, max: 1000000, group: 'Security', advanced: true }),
  authIpDecayMs: int(6000, 'The per-address bucket of --auth-ip-failures forgets one failure per this interval (6000: 10 a minute).', { min: 10, max: 3600000, group: 'Security', advanced: true }),
  authChecksInFlight: int(4, 'Password (scrypt) checks running at once, in total; further password attempts are answered RATE_LIMITED without hashing.', { min: 1, max: 1024, group: 'Security', advanced: true }),
  authChecksPerIp: int(2, 'Password (scrypt) checks running at once for one address.', { min: 1, max: 1024, group: 'Security', advanced: true }),
  sessionMaxAgeMs: int(86400000, 'Absolute lifetime of a dashboard login session (and of WebSockets opened with its cookie), however active; sessions also end after 12 h idle.', { min: 1000, max: 31536000000, group: 'Security' }),
  revocationPollMs: int(1000, 'How often the hub reads the store\'s identity change log: a revoked token, removed or re-passworded user, or rotated or removed device loses its connections and sessions within about this long, across processes and hubs.', { min: 50, max: 60000, group: 'Security', advanced: true }),
  origins: { kind: 'list', default: [], doc: 'Origins allowed to open WebSockets from a browser (e.g. https://dash.example.com). Empty: same origin only. `*`: any.', group: 'Security' } as OptionDef<'list'>,
  allowedHosts: { kind: 'list', default: [], doc: 'Names the hub may be reached by, besides the ones always allowed (`localhost`, `*.localhost`, 127.0.0.0/8, `[::1]`, this machine\'s hostname and `<hostname>.local`, the --host address, and every interface address when --host is 0.0.0.0 or ::). An HTTP request, or a WebSocket upgrade from a browser (one with an Origin), with any other `Host` is refused with 421 `HOST_REJECTED` (DNS-rebinding protection). Entries: a name (`hub.example.com`), `.example.com` for a domain and its subdomains, an address or CIDR range, or `*` for any.', group: 'Security' } as OptionDef<'list'>,
  trustedProxies: { kind: 'list', default: [], doc: 'Addresses or CIDR ranges of reverse proxies (e.g. 127.0.0.1, ::1, 10.0.0.0/8) whose forwarding header is believed: the client address it names is used for connection limits, authentication backoff and logs. Requests carrying forwarding headers are never treated as local by `--anonymous auto` (docs/security.md).', group: 'Security' } as OptionDef<'list'>,
  forwardedHeader: { kind: 'enum', default: 'x-forwarded-for', values: ['x-forwarded-for', 'forwarded'], doc: 'Which header a trusted proxy sets: `X-Forwarded-For` (nginx, Caddy, Traefik, HAProxy) or RFC 7239 `Forwarded`. The other one is never read, so a client cannot smuggle an address in it.', group: 'Security', advanced: true } as OptionDef<'enum'>,
  ...linkOptions,
  tlsCert: str('', 'PEM certificate (chain) for HTTPS/WSS and MQTTS. With --tls-key, the HTTP port serves TLS only.', { group: 'TLS' }),
  tlsKey: str('', 'PEM private key for --tls-cert.', { group: 'TLS' }),
  tlsCa: str('', 'PEM CA bundle that signs device client certificates (enables --tls-client-auth).', { group: 'TLS' }),
  tlsClientAuth: { kind: 'enum', default: 'off', values: ['off', 'optional', 'required'], doc: 'MQTTS client certificates signed by --tls-ca: the certificate CN is the device id. `required` refuses connections without one.', group: 'TLS' } as OptionDef<'enum'>,
  mqttsPort: int(8883, 'MQTT over TLS port (only with --tls-cert). 0 disables; -1 picks a free port.', { min: -1, max: 65535, group: 'TLS' }),
  maxConnections: int(20000, 'Connections in total across every door; more are refused (503 / CONNACK 3).', { min: 1, max: 1000000, group: 'Limits' }),
  maxConnectionsPerIp: int(2000, 'Connections from one IP address across every door.', { min: 1, max: 1000000, group: 'Limits' }),
  retainedMaxBytesPerClient: int(1048576, 'Retained bytes (topic + payload, at least 256 per message) one identity may hold on the embedded broker; retained publishes beyond are acknowledged and dropped on MQTT, error 1025 (RETAINED_LIMIT) on the WebSocket doors, counted in fieldlink_retained_refused_total. Publishes of hub services and WebSocket doors count against the device of a devices/{id}/ topic, else a shared `hub` account.', { min: 1024, max: 1073741824, group: 'Limits' }),
  retainedMaxTopicsPerClient: int(1000, 'Retained topics one identity may hold on the embedded broker (see --retained-max-bytes-per-client).', { min: 1, max: 10000000, group: 'Limits', advanced: true }),
  retainedMaxBytes: int(67108864, 'Retained bytes on the embedded broker in total, for all identities together.', { min: 1024, max: 17179869184, group: 'Limits' }),
  retainedMaxTopics: int(100000, 'Retained topics on the embedded broker in total.', { min: 1, max: 100000000, group: 'Limits', advanced: true }),
  mqttSessionsPerIdentity: int(100, 'Stored MQTT sessions (clean=false, kept while offline) one identity may own; a CONNECT for one more gets CONNACK 3. A device owns at most one (its client id is its device id). Connecting once with clean=true ends a stored session.', { min: 1, max: 1000000, group: 'Limits', advanced: true }),
  publishRate: int(100, 'Messages per second each client may publish (token bucket, burst = 5 s worth). 0: unlimited.', { min: 0, max: 10000000, group: 'Limits' }),
  dashboardDir: str('', 'Serve the dashboard from this directory instead of the bundled build.', { group: 'General', advanced: true }),
  // Bounds (docs/security.md, "Bounds"): one client must not degrade the hub for everyone.
  maxPayloadDepth: int(32, 'Deepest nesting of objects/arrays in a device telemetry, meta or status payload (and in a /ws or /ws/device frame, one level more); deeper publishes are refused with PAYLOAD_LIMIT (MQTT: acknowledged and dropped), counted in fieldlink_payload_refused_total.', { min: 2, max: 1000, group: 'Bounds', advanced: true }),
  maxPayloadKeys: int(1000, 'Keys in one device telemetry, meta or status payload (all its objects together); more are refused like --max-payload-depth.', { min: 1, max: 1000000, group: 'Bounds', advanced: true }),
  maxMetaBytes: int(16384, 'Largest device meta payload (the registry keeps it for every reader); larger ones are refused like --max-payload-depth.', { min: 256, max: 16777216, group: 'Bounds', advanced: true }),
  maxMetricsPerDevice: int(128, 'Reading names the registry keeps, and ingest stores, per device; new names past it are ignored and counted (fieldlink_registry_refused_total, fieldlink_ingest{counter="overCap"}).', { min: 1, max: 100000, group: 'Bounds', advanced: true }),
  maxDevices: int(20000, 'Devices the registry keeps and ingest stores; further devices are ignored and counted (reason devices_over_cap).', { min: 1, max: 10000000, group: 'Bounds', advanced: true }),
  resumeLingerMs: int(30000, 'How long the browser fan-out keeps an unsubscribed filter on the bus so a reconnecting client can resume without a gap.', { min: 0, max: 3600000, group: 'Bounds', advanced: true }),
  maxLingeringFilters: int(10000, 'Unsubscribed filters kept lingering (--resume-linger-ms) in total; past it the oldest lingering one is dropped first (fieldlink_ws_linger_evicted_total).', { min: 0, max: 10000000, group: 'Bounds', advanced: true }),
  maxLingeringPerClient: int(200, 'Lingering filters left by one identity (one remote address when anonymous); past it its oldest lingering one is dropped first.', { min: 0, max: 1000000, group: 'Bounds', advanced: true }),
  logSummaryMs: int(10000, 'Repeated refusals (denied publishes and subscriptions) are logged once, then as one line per kind and client per this interval with a count (fieldlink_log_suppressed_total).', { min: 100, max: 3600000, group: 'Bounds', advanced: true }),
  haDiscovery: bool(false, 'Publish Home Assistant MQTT discovery configs (retained, under --ha-discovery-prefix) for every device with a meta (docs/integrations.md).', { group: 'Integrations' }),
  haDiscoveryPrefix: str('homeassistant', 'Discovery prefix Home Assistant listens on.', { group: 'Integrations', advanced: true }),
  alertsFile: str('', 'YAML or JSON file with alert rules and webhooks (docs/alerts.md); re-read on SIGHUP. Rules can also be made over the API; alerts need a store.', { group: 'Alerts' }),
});

export const RESOLUTIONS = ['datasheet-1.7', 'legacy-0.0036'] as const;

export const nodeOptions = o({
  ...common,
  id: str('', 'Device id (default node-<hostname>).', { group: 'Device' }),
  i2cBus: int(-1, 'Linux I2C bus of a real VEML7700 (/dev/i2c-N). -1 uses an emulated sensor.', { min: -1, max: 255, group: 'Device' }),
  light: str('indoor', 'Emulated light: outdoor, sunlight, indoor, office, dark, or a number of lux.', { group: 'Device' }),
  latitude: int(48, 'Latitude in degrees for the emulated sun.', { min: -90, max: 90, group: 'Device', advanced: true }),
  longitude: int(0, 'Longitude in degrees east: the emulated scene follows local solar time there (0: UTC).', { min: -180, max: 180, group: 'Device', advanced: true }),
  resolution: { kind: 'enum', default: 'datasheet-1.7', values: RESOLUTIONS, doc: 'Lux per count basis: the current datasheet (0.0042 lx/count at gain 2, 800 ms) or the older 0.0036 many libraries use.', group: 'Device' } as OptionDef<'enum'>,
  intervalMs: int(1000, 'Reading period.', { min: 10, max: 3600000, group: 'Device' }),
  host: str('127.0.0.1', 'Interface of the live page.', { group: 'Live page' }),
  port: int(8090, 'Port of the live page (HTTP + WebSocket). 0 picks a free port.', { min: 0, max: 65535, group: 'Live page' }),
  hub: str('', 'Publish to a hub: mqtt://host:1883, ws://host:8080/mqtt or ws://host:8080/ws/device. Without it the node runs standalone.', { group: 'Hub' }),
  secret: str('', 'Device secret for the hub, when it requires one.', { group: 'Hub', advanced: true }),
  bufferDir: str('', 'Keep unsent readings on disk here (survive restarts); in memory when empty.', { group: 'Hub' }),
  bufferMax: int(10000, 'Readings kept while the hub is unreachable (oldest dropped first, counted).', { min: 1, max: 10000000, group: 'Hub' }),
});

export const simOptions = o({
  ...common,
  url: str('mqtt://127.0.0.1:1883', 'Hub to connect to: mqtt://…, ws://…/mqtt or ws://…/ws/device.', { group: 'Simulation' }),
  devices: int(10, 'Number of simulated VEML7700 devices, each a real client.', { min: 1, max: 10000, group: 'Simulation' }),
  intervalMs: int(1000, 'Interval between readings of each device.', { min: 10, max: 3600000, group: 'Simulation' }),
  idPrefix: str('sim-', 'Device ids are <prefix>1 … <prefix>N.', { group: 'Simulation' }),
  light: str('outdoor', 'Light profile: outdoor, sunlight, indoor, office, dark, or a number of lux.', { group: 'Simulation' }),
  latitude: int(48, 'Latitude in degrees for the simulated sun.', { min: -90, max: 90, group: 'Simulation', advanced: true }),
  longitude: int(0, 'Longitude in degrees east: the simulated day follows local solar time there (0: UTC).', { min: -180, max: 180, group: 'Simulation', advanced: true }),
  seed: int(1, 'Random seed: the same seed gives the same light and noise.', { min: 0, max: 2147483647, group: 'Simulation', advanced: true }),
  connectConcurrency: int(100, 'Connections opened at once while starting.', { min: 1, max: 10000, group: 'Simulation', advanced: true }),
  durationSec: int(0, 'Stop after this many seconds (0 runs until Ctrl-C).', { min: 0, max: 31536000, group: 'Simulation' }),
  ack: bool(true, 'Ask for an acknowledgement of every reading (MQTT QoS 1, device frames with an id): the hub answers once it is stored, and `sent` counts stored readings. Off: QoS 0 fire-and-forget (a pure load generator).', { group: 'Simulation' }),
});

export type HubConfig = { [K in keyof typeof hubOptions]: (typeof hubOptions)[K]['default'] };
export type NodeConfig = { [K in keyof typeof nodeOptions]: (typeof nodeOptions)[K]['default'] };
export type SimConfig = { [K in keyof typeof simOptions]: (typeof simOptions)[K]['default'] };

export const adminOptions = o({
  config: common.config,
  logLevel: { ...common.logLevel, default: 'warn' } as OptionDef<'enum'>,
  dataDir: hubOptions.dataDir,
  store: hubOptions.store,
  role: { kind: 'enum', default: 'viewer', values: ['device', 'viewer', 'operator', 'admin'], doc: 'Role of a new user or token.', group: 'Identities' } as OptionDef<'enum'>,
  device: str('', 'For `token create --role device`: the device id the token acts as.', { group: 'Identities' }),
  expires: str('', 'For `token create`: lifetime such as 30d, 12h or 90m (empty: no expiry).', { group: 'Identities' }),
  name: str('', 'For `token create`: a label saying what the token is for.', { group: 'Identities' }),
  passwordStdin: bool(false, 'For `user add|passwd`: read the password from standard input (first line) instead of prompting.', { group: 'Identities' }),
  json: bool(false, 'Print results as JSON.', { group: 'Identities' }),
});
export type AdminConfig = { [K in keyof typeof adminOptions]: (typeof adminOptions)[K]['default'] };

export const certOptions = o({
  logLevel: common.logLevel,
  out: str('./certs', 'Directory to write ca.pem, ca-key.pem, server.pem, server-key.pem and device-<id>.pem/-key.pem into.', { group: 'Certificates' }),
  hosts: { kind: 'list', default: ['localhost', '127.0.0.1'], doc: 'Names and addresses the server certificate is valid for (comma-separated).', group: 'Certificates' } as OptionDef<'list'>,
  device: str('', 'Also issue a client certificate for this device id (its CN), for --tls-client-auth.', { group: 'Certificates' }),
  days: int(825, 'Validity of the certificates in days.', { min: 1, max: 3650, group: 'Certificates' }),
});
