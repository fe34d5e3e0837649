/**
 * The I2C surface the driver needs, and nothing more: SMBus "read word" and
 * "write word" (command byte, then LSB, then MSB: the VEML7700's 16-bit
 * little-endian register access, datasheet "I2C Interface"), and close.
 * Implementations: LinuxI2c (i2c-dev via the optional `i2c-bus` package) and
 * EmulatedI2cBus (chips in memory). Both fail the same way (see I2cError).
 */
export interface I2cBus {
  /** Reads a 16-bit register; resolves to 0..65535. */
  readWord(addr: number, reg: number): Promise<number>;
  /** Writes a 16-bit register; `value` must be an integer 0..65535. */
  writeWord(addr: number, reg: number, value: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * Errors shaped like Node's system errors from i2c-dev (`code`, `errno`,
 * `syscall`), so callers handle a real bus and the emulator with one `switch`.
 * On Linux a transfer to an address nobody acknowledges fails with EREMOTEIO
 * (121, e.g. i2c-bcm2835 on a Raspberry Pi) or ENXIO (6, many other adapters).
 */
export class I2cError extends Error {
  readonly code: string;
  readonly errno: number;
  readonly syscall: string;

  constructor(code: string, errno: number, syscall: string, message: string) {
    super(`${code}: ${message}`);
    this.name = 'I2cError';
    this.code = code;
    this.errno = errno;
    this.syscall = syscall;
  }
}

/** errno values from Linux include/uapi/asm-generic/errno-base.h and errno.h. */
export const Errno = { ENXIO: 6, EIO: 5, EINVAL: 22, EREMOTEIO: 121 } as const;

export function assertAddr(addr: number): void {
  // 7-bit addressing; 0x00–0x07 and 0x78–0x7F are reserved by the I2C specification (UM10204 §3.1.12).
  if (!Number.isInteger(addr) || addr < 0x08 || addr > 0x77) {
    throw new I2cError('EINVAL', Errno.EINVAL, 'ioctl', `invalid 7-bit I2C address ${String(addr)}`);
  }
}

export function assertWord(value: number): void {
  if (!Number.isInteger(value) || value < 0 || value > 0xffff) {
    throw new I2cError('EINVAL', Errno.EINVAL, 'write', `word out of range: ${String(value)}`);
  }
}

export function hex(n: number, digits = 2): string {
  return `0x${n.toString(16).padStart(digits, '0')}`;
}
