/**
 * Every option of every role, as data. docs/configuration.md, `--help` and
 * `fieldlink config defaults` are generated from these tables; a test keeps the
 * committed docs in sync.
 */
import type { OptionDef, OptionSet } from './schema.js';

const o = <S extends OptionSet>(s: S) => s;
const int = (d: number, doc: string, extra: Partial<OptionDef<'int'>> = {}): OptionDef<'int'> => ({ kind: 'int', default: d, doc, ...extra });
const str = (d: string, doc: string, extra: Partial<OptionDef<'string'>> = {}): OptionDef<'string'> => ({ kind: 'string', default: d, doc, ...extra });
const bool = (d: boolean, doc: string, extra: Partial<OptionDef<'bool'>> = {}): OptionDef<'bool'> => ({ kind: 'bool', default: d, doc, ...extra });


/** The embedded bus's MQTT engine when --mqtt-engine is not given: `core` once issue 12's bars hold (docs/mqtt.md). */
export const DEFAULT_MQTT_ENGINE: 'core' | 'aedes' = 'aedes';

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
  retentionDays: int(30, 'Raw points older than this many days are pruned.', { min: 1, max: 36500, group: 'Storage' }),
  rollupRetentionDays: int(730, 'Hourly rollups older than this many days are pruned.', { min: 1, max: 36500, group: 'Storage' }),
  ingestBatchMs: int(50, 'Group commit: the ingest service writes a batch at least this often.', { min: 1, max: 10000, group: 'Storage', advanced: true }),
  ingestBatchPoints: int(5000, 'Group commit: a batch is written as soon as it holds this many points.', { min: 1, max: 1000000, group: 'Storage', advanced: true }),
  ingestQueuePoints: int(100000, 'Bound of the queue between the bus and the store. When full, new points are dropped and counted (ingest_dropped).', { min: 100, max: 100000000, group: 'Storage', advanced: true }),
  historyMaxLimit: int(10000, 'Largest `limit` a history query may ask for.', { min: 10, max: 1000000, group: 'Storage', advanced: true }),
  simulate: int(0, 'Start this many simulated VEML7700 light sensors inside the hub process (the demo uses 3): an indoor room whose day follows the local time zone (dark at night).', { min: 0, max: 10000, group: 'Demo' }),
  simulateIntervalMs: int(1000, 'Interval between readings of each simulated sensor.', { min: 10, max: 3600000, group: 'Demo' }),
  maxFrameBytes: int(65536, 'Largest WebSocket frame accepted on /ws and /ws/device; larger frames get error 1005 (FRAME_TOO_LARGE).', { min: 1024, max: 16777216, group: 'Limits' }),
  mqttMaxPacketBytes: int(1048576, 'Largest MQTT packet accepted (every MQTT door; `core`: also announced as MQTT 5 Maximum Packet Size, and larger ones are DISCONNECT 0x95 before their body is read).', { min: 1024, max: 268435455, group: 'Limits', advanced: true }),
  mqttEngine: { kind: 'enum', default: DEFAULT_MQTT_ENGINE, values: ['core', 'aedes'], doc: 'MQTT engine of the embedded bus: `core` (@fieldlink/mqtt: MQTT 3.1.1 and 5.0) or `aedes` (Aedes 1.2, MQTT 3.1.1 only; selectable for one release after `core` becomes the default, then removed).', group: 'MQTT' } as OptionDef<'enum'>,
  mqttProfile: { kind: 'enum', default: 'default', values: ['default', 'paho'], doc: 'Limits of the `core` engine: `default` (the options below) or `paho`, the Eclipse Paho reference broker\'s (receive maximum 2, maximum packet size 256, topic alias maximum 2, server keep alive 60, refused SUBSCRIBE answered 0x80), so its interoperability suite runs unmodified (docs/mqtt.md).', group: 'MQTT' } as OptionDef<'enum'>,
  mqttReceiveMaximum: int(64, '`core`: Receive Maximum announced to MQTT 5 clients: QoS 2 PUBLISHes a client may have awaiting PUBREL; one more is DISCONNECT 0x93.', { min: 1, max: 65535, group: 'MQTT', advanced: true }),
  mqttTopicAliasMaximum: int(16, '`core`: topic aliases a MQTT 5 client may set towards the hub (0: none); the hub also uses up to this many towards a client that allows them.', { min: 0, max: 65535, group: 'MQTT', advanced: true }),
  mqttServerKeepAlive: int(0, '`core`: longest keep alive (seconds) an MQTT 5 client may use: a client asking for more is given this one as Server Keep Alive in CONNACK (one asking for none keeps none, as in the Paho reference broker); 0: the client\'s own always.', { min: 0, max: 65535, group: 'MQTT', advanced: true }),
  mqttMaxQueuedPerSession: int(1000, '`core`: messages queued for one session (offline, or beyond its receive maximum). When full, QoS 0 is dropped first, then the new message; each drop is counted (fieldlink_mqtt_engine_total).', { min: 1, max: 10000000, group: 'MQTT', advanced: true }),
  mqttMaxInflightIn: int(64, '`core`: QoS 2 PUBLISHes an MQTT 3.1.1 client may have awaiting PUBREL (MQTT 5 clients: --mqtt-receive-maximum); more close the connection.', { min: 1, max: 65535, group: 'MQTT', advanced: true }),
  mqttMaxSubscriptionsPerClient: int(256, '`core`: subscriptions one MQTT client may hold; more are refused (SUBACK 0x97, 0x80 on 3.1.1).', { min: 1, max: 100000, group: 'MQTT', advanced: true }),
  mqttMaxTopicBytes: int(1024, '`core`: longest topic name or filter accepted, in bytes.', { min: 16, max: 65535, group: 'MQTT', advanced: true }),
  mqttMaxSessionExpirySec: int(604800, '`core`: longest MQTT 5 Session Expiry Interval granted (a client asking for more gets this, in CONNACK); MQTT 3.1.1 sessions with CleanSession 0 expire after it too.', { min: 0, max: 4294967295, group: 'MQTT', advanced: true }),
  mqttMaxRetainedTopics: int(100000, '`core`: retained messages kept in total; a retained PUBLISH beyond it is refused (0x97 on MQTT 5).', { min: 1, max: 100000000, group: 'MQTT', advanced: true }),
  mqttMaxRetainedBytes: int(67108864, '`core`: bytes of retained payloads kept in total, beyond which retained PUBLISHes are refused (0x97).', { min: 1024, max: 17179869184, group: 'MQTT', advanced: true }),
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
  authFreeFailures: int(5, 'Failed authentications allowed per IP before each further failure doubles a wait (1 s up to --auth-backoff-max-ms).', { min: 1, max: 1000, group: 'Security', advanced: true }),
  authBackoffMaxMs: int(60000, 'Longest wait imposed on an IP after repeated failed authentications.', { min: 1000, max: 3600000, group: 'Security', advanced: true }),
  origins: { kind: 'list', default: [], doc: 'Origins allowed to open WebSockets from a browser (e.g. https://dash.example.com). Empty: same origin only. `*`: any.', group: 'Security' } as OptionDef<'list'>,
  tlsCert: str('', 'PEM certificate (chain) for HTTPS/WSS and MQTTS. With --tls-key, the HTTP port serves TLS only.', { group: 'TLS' }),
  tlsKey: str('', 'PEM private key for --tls-cert.', { group: 'TLS' }),
  tlsCa: str('', 'PEM CA bundle that signs device client certificates (enables --tls-client-auth).', { group: 'TLS' }),
  tlsClientAuth: { kind: 'enum', default: 'off', values: ['off', 'optional', 'required'], doc: 'MQTTS client certificates signed by --tls-ca: the certificate CN is the device id. `required` refuses connections without one.', group: 'TLS' } as OptionDef<'enum'>,
  mqttsPort: int(8883, 'MQTT over TLS port (only with --tls-cert). 0 disables; -1 picks a free port.', { min: -1, max: 65535, group: 'TLS' }),
  maxConnections: int(20000, 'Connections in total across every door; more are refused (503 / CONNACK 3).', { min: 1, max: 1000000, group: 'Limits' }),
  maxConnectionsPerIp: int(2000, 'Connections from one IP address across every door.', { min: 1, max: 1000000, group: 'Limits' }),
  publishRate: int(100, 'Messages per second each client may publish (token bucket, burst = 5 s worth). 0: unlimited.', { min: 0, max: 10000000, group: 'Limits' }),
  dashboardDir: str('', 'Serve the dashboard from this directory instead of the bundled build.', { group: 'General', advanced: true }),
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
