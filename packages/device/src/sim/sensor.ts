/**
 * A light sensor as devices use it: the real Veml7700 driver over a bus (an
 * emulated chip fed by a light model, or LinuxI2c), with the settings the
 * commands change. `gain: 'auto'` uses the app note's auto-ranging in tracking
 * mode (one conversion per reading in steady light). Readings never overlap: a
 * read that arrives while one is in progress gets the same promise.
 */
import { systemClock, type Clock } from '../clock.js';
import { EmulatedI2cBus } from '../i2c/emulated-bus.js';
import type { I2cBus } from '../i2c/types.js';
import { Veml7700 } from '../veml7700/driver.js';
import { EmulatedVeml7700 } from '../veml7700/emulated.js';
import type { ResolutionBasis } from '../veml7700/lux.js';
import { VEML7700_ADDR, type IntegrationTime } from '../veml7700/registers.js';
import type { LightFn } from '../light/profiles.js';
import type { GainSetting } from './commands.js';

export interface Telemetry extends Record<string, number> {
  lux: number;
  white: number;
  als: number;
}

export interface LightSensorOptions {
  clock?: Clock;
  resolution?: ResolutionBasis;
  gain?: GainSetting;
  integrationMs?: IntegrationTime;
}

export class LightSensor {
  readonly driver: Veml7700;
  readonly bus: I2cBus;
  readonly emulated: boolean;
  gain: GainSetting;
  integrationMs: IntegrationTime;
  #pending: Promise<Telemetry> | undefined;
  #ready: Promise<void>;

  constructor(bus: I2cBus, opts: LightSensorOptions & { emulated?: boolean } = {}) {
    this.bus = bus;
    this.emulated = opts.emulated ?? false;
    this.gain = opts.gain ?? 'auto';
    this.integrationMs = opts.integrationMs ?? 100;
    this.driver = new Veml7700(bus, { clock: opts.clock ?? systemClock, resolution: opts.resolution });
    this.#ready = this.driver.init();
    this.#ready.catch(() => undefined); // surfaced by the first read()
  }

  /** A sensor on an emulated bus whose chip sees `light`. */
  static emulated(light: LightFn, opts: LightSensorOptions = {}): LightSensor {
    const chip = new EmulatedVeml7700({ light, clock: opts.clock, resolution: opts.resolution });
    return new LightSensor(new EmulatedI2cBus().attach(VEML7700_ADDR, chip), { ...opts, emulated: true });
  }

  /** Resolves once the chip answered its ID and took the configuration; rejects with the bus error otherwise. */
  ready(): Promise<void> {
    return this.#ready;
  }

  read(): Promise<Telemetry> {
    this.#pending ??= this.#read().finally(() => { this.#pending = undefined; });
    return this.#pending;
  }

  async #read(): Promise<Telemetry> {
    await this.#ready;
    let r;
    if (this.gain === 'auto') {
      r = await this.driver.readAuto({ track: true });
    } else {
      const c = this.driver.config;
      if (c.gain !== this.gain) await this.driver.setGain(this.gain);
      if (c.integrationMs !== this.integrationMs) await this.driver.setIntegrationTime(this.integrationMs);
      r = await this.driver.read({ correct: this.gain === '1/8' || this.gain === '1/4' });
    }
    this.integrationMs = r.integrationMs;
    return { lux: round(r.lux), white: r.white, als: r.als };
  }

  close(): Promise<void> {
    return this.bus.close();
  }
}

/** Five significant digits, at most three decimals: enough for a 16-bit sensor, short on the wire. */
export function round(lux: number): number {
  return Math.round(Number(lux.toPrecision(5)) * 1000) / 1000;
}
