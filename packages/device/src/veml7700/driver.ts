/**
 * VEML7700 driver at register level, over any I2cBus.
 *
 * Timing contract: the chip converts continuously, one result per integration
 * time (plus the PSM wait when power saving is on, datasheet "Refresh Time"
 * table). A read therefore first waits until a full window has passed since the
 * last configuration change or the last reading, so every value returned was
 * integrated entirely with the settings the caller asked for. Waits go through
 * the injected Clock (tests use a virtual one). `waitFactor` stretches each window
 * for the chip's oscillator tolerance; Adafruit_VEML7700 found the nominal time too
 * short on hardware and doubles it, we default to 1.1.
 */
import { systemClock, type Clock } from '../clock.js';
import type { I2cBus } from '../i2c/types.js';
import { hex } from '../i2c/types.js';
import { LADDER, START_RUNG, needsCorrection, nextRung, rungOf } from './ladder.js';
import { countsToLux, type ResolutionBasis } from './lux.js';
import {
  DEVICE_ID, IntFlag, PSM_WAIT_MS, Reg, VEML7700_ADDR, decodeConf, encodeConf, encodePsm,
  type AlsConfig, type Gain, type IntegrationTime, type Persistence, type PsmConfig,
} from './registers.js';

export interface Veml7700Options {
  address?: number;
  clock?: Clock;
  /** Which lx/count anchor to use (see lux.ts); default 'datasheet-1.7'. */
  resolution?: ResolutionBasis;
  /** Multiplier on each integration window before reading; default 1.1. */
  waitFactor?: number;
}

export interface Reading {
  lux: number;
  /** Raw ALS and WHITE counts. */
  als: number;
  white: number;
  gain: Gain;
  integrationMs: IntegrationTime;
  /** ALS at full scale: the true light may be higher than `lux`. */
  saturated: boolean;
  /** The app note's non-linearity correction was applied. */
  corrected: boolean;
  /** Readings taken to get here (1 for a plain read; up to LADDER.length for auto). */
  steps: number;
}

export const FULL_SCALE = 0xffff;

/** App note 84323: after clearing ALS_SD wait 2.5 ms before the first measurement (oscillator start). */
const POWER_ON_DELAY_MS = 2.5;

export class Veml7700 {
  readonly address: number;
  readonly basis: ResolutionBasis;
  #bus: I2cBus;
  #clock: Clock;
  #waitFactor: number;
  #conf: AlsConfig = { gain: '1/8', integrationMs: 100, persistence: 1, interruptEnable: false, shutdown: true };
  #psm: PsmConfig = { enabled: false, mode: 1 };
  /** Earliest time at which a result integrated entirely under #conf is available. */
  #readyAt = 0;
  #rung = START_RUNG;

  constructor(bus: I2cBus, opts: Veml7700Options = {}) {
    this.#bus = bus;
    this.address = opts.address ?? VEML7700_ADDR;
    this.#clock = opts.clock ?? systemClock;
    this.basis = opts.resolution ?? 'datasheet-1.7';
    this.#waitFactor = opts.waitFactor ?? 1.1;
  }

  /**
   * Checks the ID register, then writes the whole configuration (gain x1/8, IT
   * 100 ms, the app note's starting point, unless told otherwise), thresholds
   * and power saving, and powers the ALS on.
   */
  async init(cfg: Partial<Omit<AlsConfig, 'shutdown'>> & { psm?: PsmConfig } = {}): Promise<void> {
    const id = await this.readId();
    if ((id & 0xff) !== DEVICE_ID) {
      throw new Error(`no VEML7700 at ${hex(this.address)}: ID register low byte is ${hex(id & 0xff)}, expected ${hex(DEVICE_ID)}`);
    }
    const { psm, ...conf } = cfg;
    // Shut down while configuring, as the app note's initialisation sequence does.
    await this.#writeConf({ ...this.#conf, ...conf, shutdown: true });
    await this.setPowerSaving(psm ?? { enabled: false, mode: 1 });
    await this.powerOn();
  }

  async readId(): Promise<number> {
    return this.#bus.readWord(this.address, Reg.ID);
  }

  get config(): Readonly<AlsConfig> {
    return this.#conf;
  }

  get powerSaving(): Readonly<PsmConfig> {
    return this.#psm;
  }

  /** Refresh period, ms: integration time plus the PSM wait when enabled. */
  get periodMs(): number {
    return this.#conf.integrationMs + (this.#psm.enabled ? PSM_WAIT_MS[this.#psm.mode] : 0);
  }

  setGain(gain: Gain): Promise<void> {
    return this.#writeConf({ ...this.#conf, gain });
  }

  setIntegrationTime(integrationMs: IntegrationTime): Promise<void> {
    return this.#writeConf({ ...this.#conf, integrationMs });
  }

  setPersistence(persistence: Persistence): Promise<void> {
    return this.#writeConf({ ...this.#conf, persistence });
  }

  setInterrupt(interruptEnable: boolean): Promise<void> {
    return this.#writeConf({ ...this.#conf, interruptEnable });
  }

  async setThresholds(low: number, high: number): Promise<void> {
    await this.#bus.writeWord(this.address, Reg.ALS_WL, low);
    await this.#bus.writeWord(this.address, Reg.ALS_WH, high);
  }

  async setPowerSaving(psm: PsmConfig): Promise<void> {
    await this.#bus.writeWord(this.address, Reg.PSM, encodePsm(psm));
    this.#psm = { ...psm };
    this.#restartWindow();
  }

  shutdown(): Promise<void> {
    return this.#writeConf({ ...this.#conf, shutdown: true });
  }

  async powerOn(): Promise<void> {
    await this.#writeConf({ ...this.#conf, shutdown: false });
    await this.#clock.sleep(POWER_ON_DELAY_MS);
  }

  /** Reads ALS_INT; reading clears the flags (datasheet Table 7). */
  async readInterrupt(): Promise<{ low: boolean; high: boolean }> {
    const w = await this.#bus.readWord(this.address, Reg.ALS_INT);
    return { low: (w & IntFlag.LOW) !== 0, high: (w & IntFlag.HIGH) !== 0 };
  }

  /** Re-reads ALS_CONF from the chip (e.g. after someone else touched it). */
  async syncConfig(): Promise<AlsConfig> {
    const word = await this.#bus.readWord(this.address, Reg.ALS_CONF);
    const conf = decodeConf(word);
    if (!conf) throw new Error(`ALS_CONF holds an undefined setting: ${hex(word, 4)}`);
    this.#conf = conf;
    return conf;
  }

  /**
   * One reading at the current gain and integration time; `correct` applies the
   * app note's polynomial (meant for high illuminance at low gain).
   */
  async read(opts: { correct?: boolean } = {}): Promise<Reading> {
    if (this.#conf.shutdown) throw new Error('VEML7700 is shut down: call powerOn() first');
    await this.#waitReady();
    const als = await this.#bus.readWord(this.address, Reg.ALS);
    const white = await this.#bus.readWord(this.address, Reg.WHITE);
    this.#readyAt = this.#clock.now() + this.periodMs * this.#waitFactor;
    const { gain, integrationMs } = this.#conf;
    const corrected = opts.correct ?? false;
    const lux = countsToLux(als, gain, integrationMs, { basis: this.basis, correct: corrected });
    return { lux, als, white, gain, integrationMs, saturated: als >= FULL_SCALE, corrected, steps: 1 };
  }

  /**
   * Automatic ranging, app note 84323 Fig. 24 (see ladder.ts). `track: false`
   * (default) starts every time from gain x1/8, IT 100 ms exactly as the flow chart;
   * `track: true` starts from the rung the previous auto read settled on, so a
   * node polling steady light needs one conversion per reading instead of up to seven.
   */
  async readAuto(opts: { track?: boolean } = {}): Promise<Reading> {
    let rung = opts.track ? this.#rung : START_RUNG;
    let steps = 0;
    let reading: Reading | undefined;
    const visited = new Set<number>();
    for (;;) {
      const r = LADDER[rung]!;
      if (r.gain !== this.#conf.gain || r.integrationMs !== this.#conf.integrationMs) {
        await this.#writeConf({ ...this.#conf, gain: r.gain, integrationMs: r.integrationMs });
      }
      reading = await this.read();
      steps++;
      visited.add(rung);
      const next = nextRung(rung, reading.als);
      if (next === undefined || visited.has(next)) break;
      rung = next;
    }
    this.#rung = rung;
    const corrected = needsCorrection(rung, reading.als);
    const lux = countsToLux(reading.als, reading.gain, reading.integrationMs, { basis: this.basis, correct: corrected });
    return { ...reading, lux, corrected, steps };
  }

  /** The ladder rung matching the current setting, if any (for status pages). */
  get rung(): number | undefined {
    return rungOf(this.#conf.gain, this.#conf.integrationMs);
  }

  async #writeConf(conf: AlsConfig): Promise<void> {
    await this.#bus.writeWord(this.address, Reg.ALS_CONF, encodeConf(conf));
    const wasShutdown = this.#conf.shutdown;
    const changed = conf.gain !== this.#conf.gain || conf.integrationMs !== this.#conf.integrationMs || conf.shutdown !== wasShutdown;
    this.#conf = conf;
    if (changed) this.#restartWindow();
  }

  /** After a settings change the first result comes one integration time later; the PSM wait follows it. */
  #restartWindow(): void {
    this.#readyAt = this.#clock.now() + this.#conf.integrationMs * this.#waitFactor;
  }

  async #waitReady(): Promise<void> {
    const wait = this.#readyAt - this.#clock.now();
    if (wait > 0) await this.#clock.sleep(wait);
  }
}
