/**
 * startNode: a sensor node (`fieldlink node`). Reads a VEML7700 (real, on
 * `i2cBus`, or emulated under a light profile) every `intervalMs`, shows it on
 * its own live page, and, with `hub`, publishes status/meta/telemetry and answers
 * commands. Every reading goes through the TelemetryBuffer first and leaves it
 * only when the hub acknowledges it, so a hub outage (or, with `bufferDir`, a
 * node restart) loses nothing: readings are sent after reconnect with their
 * original timestamps, oldest first.
 */
import { hostname } from 'node:os';
import { isDeviceId } from '@fieldlink/protocol';
import { LinuxI2c } from '../i2c/linux.js';
import { createLight } from '../light/profiles.js';
import type { ResolutionBasis } from '../veml7700/lux.js';
import type { IntegrationTime } from '../veml7700/registers.js';
import { deviceMeta, runCommand, type CommandTarget, type GainSetting } from '../sim/commands.js';
import { errorMessage, type DeviceLink } from '../sim/link.js';
import { createLink } from '../sim/links.js';
import { LightSensor, type Telemetry } from '../sim/sensor.js';
import { TelemetryBuffer } from './buffer.js';
import { startLivePage, type LivePage } from './http.js';
import { Uplink } from './uplink.js';

export interface NodeOptions {
  /** Device id; default `node-<hostname>`. */
  id?: string;
  /** Linux I2C bus number of a real VEML7700 (/dev/i2c-N). Without it the sensor is emulated. */
  i2cBus?: number;
  /** Emulated light: profile name or lux (light/profiles.ts); default 'indoor'. */
  light?: string;
  latitude?: number;
  /** Degrees east; sets the scene's local solar time (0: UTC). */
  longitude?: number;
  seed?: number;
  resolution?: ResolutionBasis;
  /** Reading period, ms; default 1000. */
  intervalMs?: number;
  /** Live page port; default 8090, 0 picks a free one. */
  port?: number;
  /** Live page interface; default 127.0.0.1 (design.md: loopback unless configured). */
  host?: string;
  /** Hub URL: mqtt://…, ws://…/mqtt or ws://…/ws/device. Without it the node is standalone. */
  hub?: string;
  secret?: string;
  /** Keep unacknowledged readings on disk here (JSON lines) so they survive a restart. */
  bufferDir?: string;
  /** Readings kept while the hub is unreachable; default 10,000 (oldest dropped first). */
  bufferMax?: number;
  reconnectMs?: number;
  onLog?: (line: string) => void;
  /** Called with every reading as it is taken (before it is buffered or sent). */
  onReading?: (reading: Telemetry & { ts: number }) => void;
}

export interface SensorNode {
  readonly id: string;
  /** Bound port of the live page. */
  readonly port: number;
  readonly url: string;
  latest(): (Telemetry & { ts: number }) | undefined;
  hubStatus(): { url?: string; connected: boolean; buffered: number; acked: number; dropped: number };
  stop(): Promise<void>;
}

const HISTORY = 300;

interface LatestReading { lux: number; white: number; als: number; ts: number; gain: string; integrationMs: number }

export async function startNode(opts: NodeOptions = {}): Promise<SensorNode> {
  const id = opts.id ?? `node-${hostname().replace(/[^A-Za-z0-9._:-]/g, '-')}`.slice(0, 64);
  if (!isDeviceId(id)) throw new Error(`invalid device id '${id}'`);
  const log = opts.onLog ?? (() => undefined);
  const real = opts.i2cBus !== undefined;
  const sensor = real
    ? new LightSensor(await LinuxI2c.open(opts.i2cBus!), { resolution: opts.resolution })
    : LightSensor.emulated(createLight(opts.light ?? 'indoor', { latitude: opts.latitude, longitude: opts.longitude, seed: opts.seed }), { resolution: opts.resolution });
  try {
    await sensor.ready();
  } catch (err) {
    await sensor.close();
    throw new Error(`no VEML7700 on ${real ? `/dev/i2c-${opts.i2cBus!}` : 'the emulated bus'} at 0x10: ${errorMessage(err)}`, { cause: err });
  }
  const model = real ? 'VEML7700' : 'VEML7700 (emulated)';
  let intervalMs = opts.intervalMs ?? 1000;
  const history: { ts: number; lux: number }[] = [];
  let latest: LatestReading | undefined;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;

  const buffer = await TelemetryBuffer.open({ dir: opts.bufferDir, max: opts.bufferMax });
  if (buffer.size) log(`${id}: ${buffer.size} readings from the buffer wait for the hub`);

  const target: CommandTarget = {
    get intervalMs() { return intervalMs; },
    get gain() { return sensor.gain; },
    get integrationMs() { return sensor.integrationMs; },
    setInterval(ms) { intervalMs = ms; schedule(ms); },
    setGain(g: GainSetting) { sensor.gain = g; },
    setIntegration(ms: IntegrationTime) {
      if (sensor.gain === 'auto') sensor.gain = sensor.driver.config.gain;
      sensor.integrationMs = ms;
    },
    identify() { page?.broadcast({ op: 'identify', until: Date.now() + 5000, durationMs: 5000 }); log(`${id}: identify`); },
    readNow: () => takeReading(),
  };

  let link: DeviceLink | undefined;
  let uplink: Uplink | undefined;
  if (opts.hub) {
    link = createLink({
      url: opts.hub, deviceId: id, meta: deviceMeta(model), secret: opts.secret, reconnectMs: opts.reconnectMs, onLog: log,
      onCommand: (method, params) => runCommand(target, method, params),
      onState: (up) => { log(`${id}: hub ${up ? 'connected' : 'unreachable, buffering'}`); if (up) uplink?.flush(); },
    });
    uplink = new Uplink(buffer, link);
  }

  const hubStatus = () => ({ url: opts.hub, connected: link?.connected ?? false, buffered: buffer.size, acked: uplink?.acked ?? 0, dropped: buffer.dropped });

  /**
   * One reading per conversion: a tick that comes while a reading is still in
   * progress (interval shorter than the sensor needs, or read_now) shares it
   * instead of producing a second reading with the same data.
   */
  let current: Promise<Telemetry & { ts: number }> | undefined;
  function takeReading(): Promise<Telemetry & { ts: number }> {
    current ??= readAndSend().finally(() => { current = undefined; });
    return current;
  }

  async function readAndSend(): Promise<Telemetry & { ts: number }> {
    const data = await sensor.read();
    const ts = Date.now();
    latest = { ...data, ts, gain: sensor.driver.config.gain, integrationMs: sensor.driver.config.integrationMs };
    history.push({ ts, lux: data.lux });
    opts.onReading?.({ ...data, ts });
    if (history.length > HISTORY) history.shift();
    if (link) {
      await buffer.append(ts, data);
      uplink!.flush();
    }
    page?.broadcast({ op: 'reading', ...latest, hub: hubStatus() });
    return { ...data, ts };
  }

  function schedule(delay: number): void {
    clearTimeout(timer);
    if (stopped) return;
    timer = setTimeout(() => {
      schedule(intervalMs);
      takeReading().catch((err: unknown) => log(`${id}: reading failed: ${errorMessage(err)}`));
    }, delay);
  }

  let page: LivePage | undefined;
  try {
    page = await startLivePage({
      port: opts.port ?? 8090, host: opts.host ?? '127.0.0.1',
      hello: () => ({ id, model, intervalMs, history, latest, hub: hubStatus() }),
      latest: () => latest && { id, ...latest },
    });
    if (link) {
      // The first connection may fail (hub down at boot): keep buffering and let the link retry.
      await link.start().catch((err: unknown) => { log(`${id}: ${errorMessage(err)}; buffering until it is reachable`); void retryStart(link!); });
    }
  } catch (err) {
    await page?.close();
    await sensor.close();
    throw err;
  }
  schedule(0);

  async function retryStart(l: DeviceLink): Promise<void> {
    while (!stopped && !l.connected) {
      await new Promise((r) => setTimeout(r, opts.reconnectMs ?? 1000));
      if (stopped) return;
      try { await l.start(); } catch { /* still down */ }
    }
  }

  const port = page.port;
  log(`${id}: live page on http://${opts.host ?? '127.0.0.1'}:${port}/ (${model}${opts.hub ? `, hub ${opts.hub}` : ', no hub'})`);
  return {
    id, port, url: `http://${opts.host ?? '127.0.0.1'}:${port}/`,
    latest: () => latest && { lux: latest.lux, white: latest.white, als: latest.als, ts: latest.ts },
    hubStatus,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await link?.stop({ graceful: true });
      await page?.close();
      await buffer.close();
      await sensor.close();
    },
  };
}
