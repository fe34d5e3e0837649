"""VEML7700 ambient light sensor for the Fieldlink Python examples.

Real hardware through ``smbus2`` (``pip install smbus2`` or Debian's
``python3-smbus2``) when it is installed and ``--i2c-bus`` is given; otherwise a
synthetic reading, so the examples run on any machine.

Constants are from the Vishay datasheet (doc. 84286, rev. 1.7) and the
application note "Designing the VEML7700 Into an Application" (doc. 84323);
packages/device/README.md lists the same sources.
"""

from __future__ import annotations

import math
import random
import time

ADDRESS = 0x10
REG_ALS_CONF = 0x00
REG_ALS = 0x04
REG_WHITE = 0x05
REG_ID = 0x07
ID_LOW_BYTE = 0x81

# ALS_GAIN (bits 12:11) and ALS_IT (bits 9:6) codes, datasheet table 1.
GAIN_BITS = {0.125: 0b10, 0.25: 0b11, 1.0: 0b00, 2.0: 0b01}
IT_BITS = {25: 0b1100, 50: 0b1000, 100: 0b0000, 200: 0b0001, 400: 0b0010, 800: 0b0011}

# lx per count at gain x2 and 800 ms (datasheet rev. 1.7; earlier revisions said 0.0036).
RESOLUTION_X2_800 = 0.0042

# Settings from least to most sensitive: the ladder of the app note's flow chart
# (raise the gain first, then the integration time).
LADDER = [(0.125, 100), (0.25, 100), (1.0, 100), (2.0, 100), (2.0, 200), (2.0, 400), (2.0, 800)]

MODEL = "VEML7700"
WHITE_RATIO = 1.25  # synthetic WHITE/ALS ratio (the hub's emulator uses the same)


def resolution(gain: float, it_ms: int) -> float:
    """lx per count at a setting (app note table "Resolution and maximum detection range")."""
    return RESOLUTION_X2_800 * (2.0 / gain) * (800.0 / it_ms)


def correct(lux: float) -> float:
    """The app note's non-linearity correction, for readings above 100 counts."""
    return ((((6.0135e-13 * lux) - 9.3924e-9) * lux + 8.1488e-5) * lux + 1.0023) * lux


def conf_word(gain: float, it_ms: int) -> int:
    """ALS_CONF_0: gain, integration time, persistence 1, interrupt off, ALS_SD=0 (powered on)."""
    return (GAIN_BITS[gain] << 11) | (IT_BITS[it_ms] << 6)


class Veml7700:
    """A real sensor on /dev/i2c-<bus>, auto-ranging one step per reading."""

    def __init__(self, bus: int) -> None:
        from smbus2 import SMBus  # optional: only real hardware needs it

        self._bus = SMBus(bus)
        ident = self._bus.read_word_data(ADDRESS, REG_ID)
        if ident & 0xFF != ID_LOW_BYTE:
            raise RuntimeError(f"no VEML7700 at 0x{ADDRESS:02x} on /dev/i2c-{bus} (ID register 0x{ident:04x})")
        self._step = 0
        self._apply()
        self.model = MODEL

    def _apply(self) -> None:
        gain, it_ms = LADDER[self._step]
        self._bus.write_word_data(ADDRESS, REG_ALS_CONF, conf_word(gain, it_ms))
        # One full conversion after a settings change; Adafruit found 1x too short on hardware.
        time.sleep(2 * it_ms / 1000 + 0.0025)

    def read(self) -> dict[str, float]:
        gain, it_ms = LADDER[self._step]
        als = self._bus.read_word_data(ADDRESS, REG_ALS)
        white = self._bus.read_word_data(ADDRESS, REG_WHITE)
        lux = als * resolution(gain, it_ms)
        if als > 100:
            lux = correct(lux)
        # Track the light for the next reading: too few counts -> more sensitive, near saturation -> less.
        if als <= 100 and self._step < len(LADDER) - 1:
            self._step += 1
            self._apply()
        elif als > 10000 and self._step > 0:
            self._step -= 1
            self._apply()
        return {"lux": round(lux, 3), "white": white, "als": als}

    def close(self) -> None:
        self._bus.write_word_data(ADDRESS, REG_ALS_CONF, 0x0001)  # ALS_SD: shut down
        self._bus.close()


class SyntheticSensor:
    """No hardware: a constant light (``--light 321``) or an indoor-like drift around 300 lx."""

    def __init__(self, light: float | None) -> None:
        self._light = light
        self._t0 = time.monotonic()
        self.model = MODEL + " (synthetic)"

    def read(self) -> dict[str, float]:
        if self._light is not None:
            lux = self._light
        else:
            t = time.monotonic() - self._t0
            lux = max(0.0, 300 + 60 * math.sin(2 * math.pi * t / 120) + random.gauss(0, 3))
        als = round(lux / resolution(0.125, 100))
        return {"lux": round(lux, 3), "white": round(als * WHITE_RATIO), "als": als}

    def close(self) -> None:
        pass


def open_sensor(i2c_bus: int | None, light: float | None) -> Veml7700 | SyntheticSensor:
    """The real chip when asked for and possible, else the synthetic one (with a note on stderr)."""
    if i2c_bus is None:
        return SyntheticSensor(light)
    try:
        return Veml7700(i2c_bus)
    except ImportError:
        raise SystemExit("--i2c-bus needs smbus2: sudo apt install python3-smbus2 (or pip install smbus2)")
