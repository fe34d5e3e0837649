import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EmulatedI2cBus } from '../src/i2c/emulated-bus.js';
import { I2cError } from '../src/i2c/types.js';

test('absent address fails like i2c-dev: EREMOTEIO by default, ENXIO on request', async () => {
  const bus = new EmulatedI2cBus();
  await assert.rejects(bus.readWord(0x23, 0), (e: I2cError) => e instanceof I2cError && e.code === 'EREMOTEIO' && e.errno === 121);
  const bus2 = new EmulatedI2cBus({ nackCode: 'ENXIO' });
  await assert.rejects(bus2.writeWord(0x23, 0, 1), (e: I2cError) => e.code === 'ENXIO' && e.errno === 6 && e.syscall === 'write');
});

test('routes words to the attached device; validates address and word; closed bus fails', async () => {
  const regs = new Map<number, number>();
  const bus = new EmulatedI2cBus().attach(0x10, { readWord: (r) => regs.get(r) ?? 0, writeWord: (r, v) => void regs.set(r, v) });
  await bus.writeWord(0x10, 3, 0xbeef);
  assert.equal(await bus.readWord(0x10, 3), 0xbeef);
  assert.equal(bus.transfers, 2);
  await assert.rejects(bus.readWord(0x80, 0), { code: 'EINVAL' });
  await assert.rejects(bus.writeWord(0x10, 0, -1), { code: 'EINVAL' });
  assert.throws(() => bus.attach(0x10, { readWord: () => 0, writeWord: () => undefined }), /already taken/);
  await bus.close();
  await assert.rejects(bus.readWord(0x10, 0), { code: 'EBADF' });
});
