import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LinuxI2c } from '../src/i2c/linux.js';

test('LinuxI2c.open rejects clearly without hardware or without the native addon', async () => {
  await assert.rejects(LinuxI2c.open(-1), /invalid I2C bus number/);
  // The device file is checked before the native addon is loaded: ENOENT from the kernel, with its code.
  await assert.rejects(LinuxI2c.open(250), (e: Error & { code?: string }) => e.code === 'ENOENT');
});
