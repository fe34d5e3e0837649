/**
 * One simulated device: a LightSensor (real driver, emulated chip, its own
 * light) publishing telemetry through a DeviceLink at its interval, and
 * answering the command table. The first reading is delayed by `jitterMs` so a
 * fleet started at once does not publish in lockstep.
 */
import type { LightFn } from '../light/profiles.js';
import type { IntegrationTime } from '../veml7700/registers.js';
import { deviceMeta, runCommand, type CommandTarget, type GainSetting } from './commands.js';
import { errorMessage, type DeviceLink } from './link.js';
import { createLink } from './links.js';
import { LightSensor } from './sensor.js';

export interface Counters { sent: number; errors: number; connected: number }

export interface SimDeviceOptions {
  id: string;
  url: string;
  light: LightFn;
  intervalMs: number;
  jitterMs: number;
  counters: Counters;
  keepaliveSec?: number;
  /** The device's secret when the hub requires authentication (MQTT username = device id, password = secret). */
  secret?: string;
  /**
   * Ask for an acknowledgement per reading (MQTT QoS 1, a device frame with an id):
   * `sent` counts readings the hub stored. One reading in flight at a time: a tick
   * while it waits shares it (no second reading). Default false (QoS 0, a load generator).
   */
  ack?: boolean;
  onLog?: (line: string) => void;
}

export const SIM_MODEL = 'VEML7700 (emulated)';

export class SimDevice implements CommandTarget {
  readonly id: string;
  readonly sensor: LightSensor;
  readonly link: DeviceLink;
  intervalMs: number;
  #o: SimDeviceOptions;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(o: SimDeviceOptions) {
    this.#o = o;
    this.id = o.id;
    this.intervalMs = o.intervalMs;
    this.sensor = LightSensor.emulated(o.light);
    this.link = createLink({
      url: o.url, deviceId: o.id, ...(o.secret !== undefined ? { secret: o.secret } : {}), meta: deviceMeta(SIM_MODEL), keepaliveSec: o.keepaliveSec, onLog: o.onLog,
      onCommand: (method, params) => runCommand(this, method, params),
      onState: (up) => { o.counters.connected += up ? 1 : -1; },
    });
  }

  get gain(): GainSetting { return this.sensor.gain; }
  get integrationMs(): IntegrationTime { return this.sensor.integrationMs; }

  async start(): Promise<void> {
    await this.link.start();
    this.#schedule(this.#o.jitterMs);
  }

  #schedule(delay: number): void {
    clearTimeout(this.#timer);
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.#schedule(this.intervalMs); // fixed rate, independent of how long the read takes
      if (this.link.connected) void this.#publish().catch(() => undefined);
    }, delay);
  }

  #current: Promise<Record<string, number>> | undefined;

  /** One reading per conversion: a tick or read_now during a reading shares it (no duplicate telemetry). */
  #publish(): Promise<Record<string, number>> {
    this.#current ??= this.#readAndSend().finally(() => { this.#current = undefined; });
    return this.#current;
  }

  async #readAndSend(): Promise<Record<string, number>> {
    const c = this.#o.counters;
    try {
      const data = await this.sensor.read();
      const ts = Date.now();
      await this.link.telemetry(data, ts, { ack: this.#o.ack === true });
      c.sent++;
      return { ...data, ts };
    } catch (err) {
      c.errors++;
      this.#o.onLog?.(`${this.id}: telemetry failed: ${errorMessage(err)}`);
      throw err;
    }
  }

  setInterval(ms: number): void {
    this.intervalMs = ms;
    this.#schedule(ms);
  }

  setGain(gain: GainSetting): void { this.sensor.gain = gain; }
  setIntegration(ms: IntegrationTime): void {
    if (this.sensor.gain === 'auto') this.sensor.gain = this.sensor.driver.config.gain; // a fixed IT means manual ranging
    this.sensor.integrationMs = ms;
  }

  identify(): void { this.#o.onLog?.(`${this.id}: identify (blink)`); }
  readNow(): Promise<Record<string, number>> { return this.#publish(); }

  async stop(graceful: boolean): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.link.stop({ graceful });
    await this.sensor.close();
  }
}
