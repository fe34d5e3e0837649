import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VirtualClock } from '../src/clock.js';
import { EmulatedVeml7700 } from '../src/veml7700/emulated.js';
import { Reg, encodeConf } from '../src/veml7700/registers.js';
import { resolution, uncorrectNonLinearity } from '../src/veml7700/lux.js';

const on = (gain: '1/8' | '2', integrationMs: 25 | 100 | 800) => encodeConf({ gain, integrationMs, persistence: 1, interruptEnable: false, shutdown: false });
const code = (c: string) => (e: Error & { code?: string }) => e.code === c;

test('powers up shut down; results appear one integration time after power-on', () => {
  const clock = new VirtualClock();
  const chip = new EmulatedVeml7700({ light: 100, clock });
  assert.equal(chip.readWord(Reg.ALS_CONF), 1);
  assert.equal(chip.readWord(Reg.ID), 0xc481);
  chip.writeWord(Reg.ALS_CONF, on('1/8', 100));
  clock.advance(99);
  assert.equal(chip.readWord(Reg.ALS), 0, 'no result before IT');
  clock.advance(1);
  assert.equal(chip.readWord(Reg.ALS), Math.round(uncorrectNonLinearity(100) / resolution('1/8', 100)), 'counts = linear lux / resolution');
});

test('saturates at 65535 and keeps the last value while shut down', () => {
  const clock = new VirtualClock();
  let lux = 1000;
  const chip = new EmulatedVeml7700({ light: () => lux, clock });
  chip.writeWord(Reg.ALS_CONF, on('2', 800));
  clock.advance(800);
  assert.equal(chip.readWord(Reg.ALS), 65535);
  chip.writeWord(Reg.ALS_CONF, on('1/8', 100));
  clock.advance(100);
  const v = chip.readWord(Reg.ALS);
  chip.writeWord(Reg.ALS_CONF, on('1/8', 100) | 1);
  lux = 5;
  clock.advance(10_000);
  assert.equal(chip.readWord(Reg.ALS), v, 'no conversions while shut down');
  assert.equal(chip.conversions, 2);
});

test('rejects what the chip would: read-only and unknown registers, reserved bits, undefined IT', () => {
  const chip = new EmulatedVeml7700({ clock: new VirtualClock() });
  for (const reg of [Reg.ALS, Reg.WHITE, Reg.ALS_INT, Reg.ID, 0x08]) assert.throws(() => chip.writeWord(reg, 0), code('EREMOTEIO'));
  assert.throws(() => chip.readWord(0x08), code('EREMOTEIO'));
  assert.throws(() => chip.writeWord(Reg.ALS_CONF, 1 << 13), code('EINVAL'));
  assert.throws(() => chip.writeWord(Reg.ALS_CONF, 0b0100 << 6), code('EINVAL'));
  assert.throws(() => chip.writeWord(Reg.PSM, 1 << 3), code('EINVAL'));
  assert.throws(() => chip.writeWord(Reg.ALS_WH, 0x10000), code('EINVAL'));
});

test('interrupt respects persistence and the threshold window', () => {
  const clock = new VirtualClock();
  const chip = new EmulatedVeml7700({ light: 10, clock });
  chip.writeWord(Reg.ALS_WL, 50);
  chip.writeWord(Reg.ALS_WH, 60000);
  chip.writeWord(Reg.ALS_CONF, encodeConf({ gain: '1/8', integrationMs: 25, persistence: 4, interruptEnable: true, shutdown: false }));
  clock.advance(75);
  assert.equal(chip.readWord(Reg.ALS_INT), 0, '3 samples < persistence 4');
  clock.advance(25);
  assert.equal(chip.readWord(Reg.ALS_INT), 0x8000, 'low threshold flag');
  assert.equal(chip.readWord(Reg.ALS_INT), 0, 'cleared by read');
});

test('white channel follows whiteRatio', () => {
  const clock = new VirtualClock();
  const chip = new EmulatedVeml7700({ light: 200, clock, whiteRatio: 1.5 });
  chip.writeWord(Reg.ALS_CONF, on('1/8', 100));
  clock.advance(100);
  const als = uncorrectNonLinearity(200) / resolution('1/8', 100);
  assert.equal(chip.readWord(Reg.WHITE), Math.round(als * 1.5));
});
