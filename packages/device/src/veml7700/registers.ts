/**
 * VEML7700 register map and field encodings.
 * Sources: Vishay VEML7700 datasheet (doc. 84286), "Command Register Format" and
 * Tables 1–7; application note "Designing the VEML7700 Into an Application"
 * (doc. 84323). Cross-checked against Adafruit_VEML7700 (VEML7700_* defines) and
 * the Linux iio driver drivers/iio/light/veml6030.c (same register layout).
 */

/** 7-bit I2C address, fixed for the VEML7700 (datasheet "Slave Address": 0x10). */
export const VEML7700_ADDR = 0x10;

export const Reg = {
  /** Command code 0x00, ALS_CONF_0: gain, integration time, persistence, interrupt enable, shutdown (W, readable). */
  ALS_CONF: 0x00,
  /** 0x01 ALS_WH: high threshold window (W). */
  ALS_WH: 0x01,
  /** 0x02 ALS_WL: low threshold window (W). */
  ALS_WL: 0x02,
  /** 0x03 Power saving: PSM (bits 2:1) and PSM_EN (bit 0) (W). */
  PSM: 0x03,
  /** 0x04 ALS: 16-bit output of the ALS (eye-response) channel (R). */
  ALS: 0x04,
  /** 0x05 WHITE: 16-bit output of the white (broadband) channel (R). */
  WHITE: 0x05,
  /** 0x06 ALS_INT: interrupt flags, bit 15 low-threshold, bit 14 high-threshold; cleared by reading (R). */
  ALS_INT: 0x06,
  /**
   * 0x07 ID (R): low byte is the device id 0x81. Listed in current datasheets; also
   * read as 0x07 by ESPHome's veml7700 component (ID_REG) and checked as 0x0081 by
   * VEML6030 drivers. The high byte is an address-option code, so only the low byte is checked.
   */
  ID: 0x07,
} as const;

/** Low byte of register 0x07 on a VEML7700. */
export const DEVICE_ID = 0x81;

/** ALS_CONF bit fields (datasheet Table 1). Bits 15:13, 10 and 3:2 are reserved: "Set 0". */
export const Conf = {
  GAIN_SHIFT: 11, GAIN_MASK: 0b11 << 11,
  IT_SHIFT: 6, IT_MASK: 0b1111 << 6,
  PERS_SHIFT: 4, PERS_MASK: 0b11 << 4,
  INT_EN: 1 << 1,
  SD: 1 << 0,
  RESERVED_MASK: 0b1110_0100_0000_1100,
} as const;

/** ALS_INT bits (datasheet Table 7). */
export const IntFlag = { LOW: 1 << 15, HIGH: 1 << 14 } as const;

export type Gain = '1/8' | '1/4' | '1' | '2';
/** ALS_GAIN codes (bits 12:11): 00 = x1, 01 = x2, 10 = x1/8, 11 = x1/4 (datasheet Table 1). */
export const GAIN_CODE: Record<Gain, number> = { '1': 0b00, '2': 0b01, '1/8': 0b10, '1/4': 0b11 };
export const GAIN_VALUE: Record<Gain, number> = { '1/8': 0.125, '1/4': 0.25, '1': 1, '2': 2 };
/** Ascending sensitivity: the order the app note's auto-ranging walks (Fig. 24 flow chart). */
export const GAINS: readonly Gain[] = ['1/8', '1/4', '1', '2'];

export type IntegrationTime = 25 | 50 | 100 | 200 | 400 | 800;
/** ALS_IT codes (bits 9:6): 1100 = 25, 1000 = 50, 0000 = 100, 0001 = 200, 0010 = 400, 0011 = 800 ms (datasheet Table 1). */
export const IT_CODE: Record<IntegrationTime, number> = { 25: 0b1100, 50: 0b1000, 100: 0b0000, 200: 0b0001, 400: 0b0010, 800: 0b0011 };
export const INTEGRATION_TIMES: readonly IntegrationTime[] = [25, 50, 100, 200, 400, 800];

export type Persistence = 1 | 2 | 4 | 8;
/** ALS_PERS codes (bits 5:4): 00 = 1, 01 = 2, 10 = 4, 11 = 8 samples out of window before ALS_INT (datasheet Table 1). */
export const PERS_CODE: Record<Persistence, number> = { 1: 0b00, 2: 0b01, 4: 0b10, 8: 0b11 };

export type PsmMode = 1 | 2 | 3 | 4;
/** Power-saving register (0x03): bits 2:1 PSM mode 1..4 (codes 00..11), bit 0 PSM_EN; bits 15:3 reserved (datasheet Table 4). */
export const Psm = { EN: 1, MODE_SHIFT: 1, MODE_MASK: 0b11 << 1, RESERVED_MASK: 0xfff8 } as const;
/**
 * Extra wait between conversions in power-saving mode, ms. Datasheet table
 * "Refresh Time, IDD and Resolution Relation": with ALS_IT = 100 ms the refresh
 * time is 600 / 1100 / 2100 / 4100 ms for PSM modes 1..4, i.e. IT + 500/1000/2000/4000 ms
 * (the table covers IT 100–800 ms at gain x2; we extrapolate the same waits to 25
 * and 50 ms and to other gains, which the datasheet does not state).
 */
export const PSM_WAIT_MS: Record<PsmMode, number> = { 1: 500, 2: 1000, 3: 2000, 4: 4000 };

export interface AlsConfig {
  gain: Gain;
  integrationMs: IntegrationTime;
  persistence: Persistence;
  interruptEnable: boolean;
  shutdown: boolean;
}

export function encodeConf(c: AlsConfig): number {
  return (GAIN_CODE[c.gain] << Conf.GAIN_SHIFT) | (IT_CODE[c.integrationMs] << Conf.IT_SHIFT)
    | (PERS_CODE[c.persistence] << Conf.PERS_SHIFT) | (c.interruptEnable ? Conf.INT_EN : 0) | (c.shutdown ? Conf.SD : 0);
}

/** Decodes ALS_CONF; undefined when an IT code is not one of the six the datasheet defines. */
export function decodeConf(word: number): AlsConfig | undefined {
  const gain = keyOf(GAIN_CODE, (word & Conf.GAIN_MASK) >> Conf.GAIN_SHIFT);
  const it = keyOf(IT_CODE, (word & Conf.IT_MASK) >> Conf.IT_SHIFT);
  const pers = keyOf(PERS_CODE, (word & Conf.PERS_MASK) >> Conf.PERS_SHIFT);
  if (gain === undefined || it === undefined || pers === undefined) return undefined;
  return {
    gain, integrationMs: Number(it) as IntegrationTime, persistence: Number(pers) as Persistence,
    interruptEnable: (word & Conf.INT_EN) !== 0, shutdown: (word & Conf.SD) !== 0,
  };
}

export interface PsmConfig { enabled: boolean; mode: PsmMode }

export function encodePsm(p: PsmConfig): number {
  return ((p.mode - 1) << Psm.MODE_SHIFT) | (p.enabled ? Psm.EN : 0);
}

export function decodePsm(word: number): PsmConfig {
  return { enabled: (word & Psm.EN) !== 0, mode: (((word & Psm.MODE_MASK) >> Psm.MODE_SHIFT) + 1) as PsmMode };
}

function keyOf<K extends string | number>(table: Record<K, number>, code: number): K | undefined {
  for (const k of Object.keys(table) as K[]) if (table[k] === code) return k;
  return undefined;
}
