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

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export const common = o({
  config: str('', 'Path to a config file (YAML or JSON) with any of these options as keys (camelCase or kebab-case).', { group: 'General' }),
  logLevel: { kind: 'enum', default: 'info', values: LOG_LEVELS, doc: 'Log level of the structured (pino) log on stdout.', group: 'General' } as OptionDef<'enum'>,
});

export const hubOptions = o({
  ...common,
  host: str('127.0.0.1', 'Interface to listen on (HTTP, WebSocket and MQTT). Loopback only by default, as Mosquitto 2 does.', { group: 'Network' }),
  allowAnonymous: bool(false, 'Allow listening on a non-loopback --host without authentication. Anyone who reaches the port can read and publish everything: a warning is logged and shown in /healthz.', { group: 'Network' }),
  port: int(8080, 'HTTP port: dashboard, HTTP API, and the WebSocket doors /ws, /ws/device and /mqtt. 0 picks a free port.', { min: 0, max: 65535, group: 'Network' }),
  mqttPort: int(1883, 'MQTT over TCP port. 0 disables MQTT over TCP; -1 picks a free port (tests, side-by-side runs).', { min: -1, max: 65535, group: 'Network' }),
  dataDir: str('./data', 'Directory for the embedded SQLite store and other state.', { group: 'Storage' }),
  store: str('sqlite', 'Telemetry store: `sqlite` (file in --data-dir), `sqlite:<path>`, `postgres://user@host/db`, or `none`.', { group: 'Storage' }),
  retentionDays: int(30, 'Raw points older than this many days are pruned.', { min: 1, max: 36500, group: 'Storage' }),
  rollupRetentionDays: int(730, 'Hourly rollups older than this many days are pruned.', { min: 1, max: 36500, group: 'Storage' }),
  ingestBatchMs: int(50, 'Group commit: the ingest service writes a batch at least this often.', { min: 1, max: 10000, group: 'Storage', advanced: true }),
  ingestBatchPoints: int(5000, 'Group commit: a batch is written as soon as it holds this many points.', { min: 1, max: 1000000, group: 'Storage', advanced: true }),
  ingestQueuePoints: int(100000, 'Bound of the queue between the bus and the store. When full, new points are dropped and counted (ingest_dropped).', { min: 100, max: 100000000, group: 'Storage', advanced: true }),
  historyMaxLimit: int(10000, 'Largest `limit` a history query may ask for.', { min: 10, max: 1000000, group: 'Storage', advanced: true }),
  simulate: int(0, 'Start this many simulated VEML7700 light sensors inside the hub process (the demo uses 3).', { min: 0, max: 10000, group: 'Demo' }),
  simulateIntervalMs: int(1000, 'Interval between readings of each simulated sensor.', { min: 10, max: 3600000, group: 'Demo' }),
  maxFrameBytes: int(65536, 'Largest WebSocket frame accepted on /ws and /ws/device; larger frames get error 1005 (FRAME_TOO_LARGE).', { min: 1024, max: 16777216, group: 'Limits' }),
  mqttMaxPacketBytes: int(1048576, 'Largest MQTT packet accepted over /mqtt (WebSocket layer).', { min: 1024, max: 268435455, group: 'Limits', advanced: true }),
  maxSubscriptions: int(100, 'Subscriptions per browser connection; more get error 1015.', { min: 1, max: 100000, group: 'Limits' }),
  wsSoftLimitBytes: int(1048576, 'Slow consumers: while a browser has more than this buffered, live pushes to it are dropped (replies never are).', { min: 1024, max: 1073741824, group: 'Limits', advanced: true }),
  wsHardLimitBytes: int(8388608, 'Slow consumers: past this many buffered bytes the connection is closed with 4008.', { min: 1024, max: 1073741824, group: 'Limits', advanced: true }),
  callTimeoutMs: int(5000, 'Default timeout of a device command (`call`) when the request names none.', { min: 1, max: 60000, group: 'Devices' }),
  resumeBuffer: int(10000, 'Recent push frames kept so a browser that reconnects can resume without a gap (`sub` with epoch/since).', { min: 1, max: 10000000, group: 'Limits', advanced: true }),
  dashboardDir: str('', 'Serve the dashboard from this directory instead of the bundled build.', { group: 'General', advanced: true }),
  shutdownTimeoutMs: int(5000, 'Graceful shutdown: how long to wait for flushes before exiting anyway.', { min: 100, max: 600000, group: 'General', advanced: true }),
});

export type HubConfig = { [K in keyof typeof hubOptions]: (typeof hubOptions)[K]['default'] };
