/**
 * I2C on Linux through /dev/i2c-N, using the optional `i2c-bus` package
 * (SMBus read/write word = the VEML7700's little-endian 16-bit access).
 * `i2c-bus` is a native addon: it is an optionalDependency and is imported
 * lazily, only when real hardware is asked for, so the simulator and tests run
 * anywhere. Errors from the kernel (EREMOTEIO/ENXIO for an absent chip, ENOENT
 * for a missing bus) pass through with their `code`.
 */
import { access, constants } from 'node:fs/promises';
import { assertAddr, assertWord, type I2cBus } from './types.js';

/** The part of i2c-bus's PromisifiedBus we use (i2c-bus README, "PromisifiedBus"). */
interface PromisifiedBus {
  readWord(address: number, command: number): Promise<number>;
  writeWord(address: number, command: number, word: number): Promise<void>;
  close(): Promise<void>;
}

interface I2cBusModule {
  openPromisified(busNumber: number): Promise<PromisifiedBus>;
}

export class LinuxI2c implements I2cBus {
  readonly busNumber: number;
  readonly #bus: PromisifiedBus;

  private constructor(busNumber: number, bus: PromisifiedBus) {
    this.busNumber = busNumber;
    this.#bus = bus;
  }

  /** Opens /dev/i2c-{busNumber}. Rejects with a clear message when `i2c-bus` is not installed or did not build. */
  static async open(busNumber: number): Promise<LinuxI2c> {
    if (!Number.isInteger(busNumber) || busNumber < 0) throw new Error(`invalid I2C bus number: ${String(busNumber)}`);
    // i2c-bus opens the device file lazily on first transfer; fail here instead, with the kernel's ENOENT/EACCES.
    await access(`/dev/i2c-${busNumber}`, constants.R_OK | constants.W_OK);
    const mod = await loadI2cBus();
    const bus = await mod.openPromisified(busNumber);
    return new LinuxI2c(busNumber, bus);
  }

  readWord(addr: number, reg: number): Promise<number> {
    assertAddr(addr);
    return this.#bus.readWord(addr, reg);
  }

  writeWord(addr: number, reg: number, value: number): Promise<void> {
    assertAddr(addr);
    assertWord(value);
    return this.#bus.writeWord(addr, reg, value);
  }

  close(): Promise<void> {
    return this.#bus.close();
  }
}

async function loadI2cBus(): Promise<I2cBusModule> {
  const name = 'i2c-bus'; // a variable, so bundlers and tsc do not try to resolve the optional module
  try {
    const mod = (await import(name)) as { default?: I2cBusModule } & Partial<I2cBusModule>;
    const api = mod.openPromisified ? (mod as I2cBusModule) : mod.default;
    if (!api?.openPromisified) throw new Error('module has no openPromisified()');
    return api;
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new Error(
      `real I2C needs the optional native package 'i2c-bus' (npm install i2c-bus; it compiles with node-gyp, so build tools and Linux headers are required): ${why}`,
      { cause: err },
    );
  }
}
