/**
 * An I2C bus in memory: chips are attached at 7-bit addresses and answer word
 * reads/writes synchronously. Failure modes follow i2c-dev on Linux: an address
 * nobody acknowledges fails with EREMOTEIO (or ENXIO, `nackCode`), a closed bus
 * with EBADF, so code written against the emulator handles real buses too.
 */
import { Errno, I2cError, assertAddr, assertWord, hex, type I2cBus } from './types.js';

/** A chip on the emulated bus. Throwing an I2cError models a NACK or rejection. */
export interface I2cDevice {
  readWord(reg: number): number;
  writeWord(reg: number, value: number): void;
}

export interface EmulatedI2cBusOptions {
  /** What an unacknowledged address gives; default EREMOTEIO (i2c-bcm2835, Raspberry Pi). */
  nackCode?: 'EREMOTEIO' | 'ENXIO';
}

export class EmulatedI2cBus implements I2cBus {
  readonly #devices = new Map<number, I2cDevice>();
  readonly #nackCode: 'EREMOTEIO' | 'ENXIO';
  #closed = false;
  /** Transfers done, for tests that count bus traffic. */
  transfers = 0;

  constructor(opts: EmulatedI2cBusOptions = {}) {
    this.#nackCode = opts.nackCode ?? 'EREMOTEIO';
  }

  attach(addr: number, device: I2cDevice): this {
    assertAddr(addr);
    if (this.#devices.has(addr)) throw new Error(`address ${hex(addr)} is already taken on this bus`);
    this.#devices.set(addr, device);
    return this;
  }

  detach(addr: number): void {
    this.#devices.delete(addr);
  }

  async readWord(addr: number, reg: number): Promise<number> {
    const dev = this.#target(addr, 'read');
    this.transfers++;
    return dev.readWord(reg);
  }

  async writeWord(addr: number, reg: number, value: number): Promise<void> {
    assertWord(value);
    const dev = this.#target(addr, 'write');
    this.transfers++;
    dev.writeWord(reg, value);
  }

  async close(): Promise<void> {
    this.#closed = true;
  }

  #target(addr: number, syscall: string): I2cDevice {
    if (this.#closed) throw new I2cError('EBADF', 9, syscall, 'Bad file descriptor (bus closed)');
    assertAddr(addr);
    const dev = this.#devices.get(addr);
    if (!dev) {
      const code = this.#nackCode;
      const msg = code === 'ENXIO' ? 'No such device or address' : 'Remote I/O error';
      throw new I2cError(code, Errno[code], syscall, `${msg} (no ACK from ${hex(addr)})`);
    }
    return dev;
  }
}
