/**
 * An emulated VEML7700 with the chip's register semantics, for the simulator,
 * the sensor node without hardware, and driver tests.
 *
 * Model (the inverse of the driver, so the driver's math is tested end to end):
 *  - Conversions run continuously while ALS_SD = 0: the first result lands one
 *    integration time after a settings change or power-on, then one every refresh
 *    period (IT, plus the PSM wait when PSM_EN = 1). Until then the output
 *    registers keep the previous result. While shut down nothing converts and the
 *    outputs keep the last value (VEML6030/7700 datasheets, "Auto-Memorization").
 *  - counts = linear lux / resolution(gain, IT), where linear lux is the inverse of
 *    the app note's non-linearity polynomial applied to the true illuminance, so
 *    the corrected reading recovers the injected light; rounded, clipped at 65,535.
 *  - WHITE = ALS counts · `whiteRatio` (the white channel sees more of the spectrum,
 *    notably near infrared; the ratio depends on the light source).
 *  - ALS_INT flags: set after `persistence` consecutive results outside
 *    [ALS_WL, ALS_WH] when ALS_INT_EN = 1; reading ALS_INT clears them.
 *  - Strictness: register addresses above 0x07 and writes to read-only registers
 *    0x04–0x07 are NACKed (EREMOTEIO, what i2c-dev reports for a NACK on Linux);
 *    reserved bits or an undefined IT code are rejected with EINVAL. A real chip
 *    would ignore or misbehave silently; the emulator says so, to catch driver bugs.
 */
import { systemClock, type Clock } from '../clock.js';
import { Errno, I2cError, assertWord, hex } from '../i2c/types.js';
import type { I2cDevice } from '../i2c/emulated-bus.js';
import { resolution, uncorrectNonLinearity, type ResolutionBasis } from './lux.js';
import { Conf, DEVICE_ID, IntFlag, PSM_WAIT_MS, Psm, Reg, decodeConf, decodePsm, type AlsConfig, type PsmConfig } from './registers.js';

export interface EmulatedVeml7700Options {
  /** True illuminance in lux: a constant or a function of time (ms since epoch). */
  light?: number | ((t: number) => number);
  clock?: Clock;
  /** Must match the driver's basis for the round trip to be exact; default 'datasheet-1.7'. */
  resolution?: ResolutionBasis;
  whiteRatio?: number;
}

/** High byte of the ID register: address option code (0xC4 for 0x10, as the VEML6030 datasheet documents). */
const ID_WORD = 0xc400 | DEVICE_ID;
/** Power-on default of ALS_CONF is "shut down" (VEML6030 datasheet note on command code 0; same die family). */
const CONF_DEFAULT = Conf.SD;
/** Results older than this many periods cannot change state (persistence is at most 8). */
const MAX_REPLAY = 16;

export class EmulatedVeml7700 implements I2cDevice {
  light: number | ((t: number) => number);
  whiteRatio: number;
  readonly #clock: Clock;
  readonly #basis: ResolutionBasis;
  #confWord = CONF_DEFAULT;
  #conf: AlsConfig = decodeConf(CONF_DEFAULT)!;
  #psm: PsmConfig = { enabled: false, mode: 1 };
  #psmWord = 0;
  #wh = 0;
  #wl = 0;
  #als = 0;
  #white = 0;
  #int = 0;
  #outside = 0;
  /** Time of the first result after the last settings change; later results follow every period. */
  #firstAt = Number.POSITIVE_INFINITY;
  /** Index of the last result already latched into the registers (-1: none since the change). */
  #latched = -1;
  /** Conversions completed since construction: lets tests count work. */
  conversions = 0;

  constructor(opts: EmulatedVeml7700Options = {}) {
    this.light = opts.light ?? 100;
    this.#clock = opts.clock ?? systemClock;
    this.#basis = opts.resolution ?? 'datasheet-1.7';
    this.whiteRatio = opts.whiteRatio ?? 1.25;
  }

  readWord(reg: number): number {
    this.#update();
    switch (reg) {
      case Reg.ALS_CONF: return this.#confWord;
      case Reg.ALS_WH: return this.#wh;
      case Reg.ALS_WL: return this.#wl;
      case Reg.PSM: return this.#psmWord;
      case Reg.ALS: return this.#als;
      case Reg.WHITE: return this.#white;
      case Reg.ALS_INT: { const v = this.#int; this.#int = 0; return v; }
      case Reg.ID: return ID_WORD;
      default: throw nack('read', `VEML7700 has no register ${hex(reg)}`);
    }
  }

  writeWord(reg: number, value: number): void {
    assertWord(value);
    this.#update();
    switch (reg) {
      case Reg.ALS_CONF: return this.#writeConf(value);
      case Reg.ALS_WH: this.#wh = value; return;
      case Reg.ALS_WL: this.#wl = value; return;
      case Reg.PSM: {
        if (value & Psm.RESERVED_MASK) throw invalid(`power-saving register: reserved bits ${hex(value & Psm.RESERVED_MASK, 4)} set (datasheet: set 0)`);
        this.#psmWord = value;
        this.#psm = decodePsm(value);
        return;
      }
      case Reg.ALS: case Reg.WHITE: case Reg.ALS_INT: case Reg.ID:
        throw nack('write', `VEML7700 register ${hex(reg)} is read-only`);
      default: throw nack('write', `VEML7700 has no register ${hex(reg)}`);
    }
  }

  /** Current settings, for tests and status displays. */
  get config(): Readonly<AlsConfig> {
    return this.#conf;
  }

  #writeConf(value: number): void {
    if (value & Conf.RESERVED_MASK) throw invalid(`ALS_CONF: reserved bits ${hex(value & Conf.RESERVED_MASK, 4)} set (datasheet Table 1: set 0)`);
    const conf = decodeConf(value);
    if (!conf) throw invalid(`ALS_CONF: ALS_IT code ${((value & Conf.IT_MASK) >> Conf.IT_SHIFT).toString(2).padStart(4, '0')}b is not defined`);
    const restart = conf.shutdown !== this.#conf.shutdown || conf.gain !== this.#conf.gain || conf.integrationMs !== this.#conf.integrationMs;
    this.#confWord = value;
    this.#conf = conf;
    if (conf.shutdown) this.#firstAt = Number.POSITIVE_INFINITY;
    else if (restart) { this.#firstAt = this.#clock.now() + conf.integrationMs; this.#latched = -1; }
  }

  #period(): number {
    return this.#conf.integrationMs + (this.#psm.enabled ? PSM_WAIT_MS[this.#psm.mode] : 0);
  }

  /** Latches every result completed by now (the last MAX_REPLAY of them, which is all that matters). */
  #update(): void {
    const now = this.#clock.now();
    if (now < this.#firstAt) return;
    const period = this.#period();
    const last = Math.floor((now - this.#firstAt) / period);
    if (last <= this.#latched) return;
    for (let k = Math.max(this.#latched + 1, last - MAX_REPLAY + 1); k <= last; k++) this.#convert(this.#firstAt + k * period);
    this.conversions += last - this.#latched;
    this.#latched = last;
  }

  #convert(t: number): void {
    const lux = Math.max(0, typeof this.light === 'function' ? this.light(t) : this.light);
    const counts = uncorrectNonLinearity(lux) / resolution(this.#conf.gain, this.#conf.integrationMs, this.#basis);
    this.#als = Math.min(0xffff, Math.round(counts));
    this.#white = Math.min(0xffff, Math.round(counts * this.whiteRatio));
    if (!this.#conf.interruptEnable) { this.#outside = 0; return; }
    const high = this.#als > this.#wh;
    const low = this.#als < this.#wl;
    this.#outside = high || low ? this.#outside + 1 : 0;
    if (this.#outside >= this.#conf.persistence) this.#int |= (high ? IntFlag.HIGH : 0) | (low ? IntFlag.LOW : 0);
  }
}

function nack(syscall: string, why: string): I2cError {
  return new I2cError('EREMOTEIO', Errno.EREMOTEIO, syscall, `Remote I/O error (NACK: ${why})`);
}

function invalid(why: string): I2cError {
  return new I2cError('EINVAL', Errno.EINVAL, 'write', `emulated VEML7700 rejects the write: ${why}`);
}
