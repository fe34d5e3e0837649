"""What both example clients share: arguments, the device's meta and its commands.

The meta a device publishes and the commands it accepts come from one table
(METHODS), as in the hub's own simulator, so they cannot drift apart.
"""

from __future__ import annotations

import argparse
import json
import socket
import sys
import time
from typing import Any, Callable

from veml7700 import open_sensor

FIRMWARE = "fieldlink-python-example/0.1.0"
MIN_INTERVAL_MS = 100
MAX_INTERVAL_MS = 3_600_000

METHODS: dict[str, dict[str, Any]] = {
    "set_interval": {"params": {"ms": {"type": "integer", "min": MIN_INTERVAL_MS, "max": MAX_INTERVAL_MS}}},
    "identify": {"description": "log a line and blink for 5 s"},
    "read_now": {"description": "take a reading, publish it and return it"},
}


class CommandError(Exception):
    """A bad request: answered ``{"ok": false, "error": {"message": …}}``."""


def now_ms() -> int:
    return int(time.time() * 1000)


def log(line: str) -> None:
    print(f"{time.strftime('%H:%M:%S')} {line}", file=sys.stderr, flush=True)


def parse_args(description: str, default_hub: str) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--hub", default=default_hub, help=f"hub address (default {default_hub})")
    p.add_argument("--id", default="py-" + "".join(c if c.isalnum() or c in "._:-" else "-" for c in socket.gethostname())[:60],
                   help="device id (default py-<hostname>)")
    p.add_argument("--interval-ms", type=int, default=1000, help="reading period (default 1000)")
    p.add_argument("--i2c-bus", type=int, default=None, help="read a real VEML7700 on /dev/i2c-N (needs smbus2)")
    p.add_argument("--light", type=float, default=None, help="synthetic sensor: this constant lux (default: a slow drift around 300 lx)")
    a = p.parse_args()
    if not (MIN_INTERVAL_MS <= a.interval_ms <= MAX_INTERVAL_MS):
        p.error(f"--interval-ms must be {MIN_INTERVAL_MS}..{MAX_INTERVAL_MS}")
    return a


class Device:
    """Sensor, reading period and the command table; transport-free."""

    def __init__(self, args: argparse.Namespace, on_interval: Callable[[], None] = lambda: None) -> None:
        self.id: str = args.id
        self.interval_ms: int = args.interval_ms
        self.sensor = open_sensor(args.i2c_bus, args.light)
        self.identify_until = 0.0
        self._on_interval = on_interval

    def meta(self) -> dict[str, Any]:
        return {
            "model": self.sensor.model,
            "firmware": FIRMWARE,
            "metrics": {"lux": {"unit": "lx"}, "white": {"unit": "counts"}, "als": {"unit": "counts"}},
            "methods": METHODS,
        }

    def reading(self) -> dict[str, Any]:
        return {**self.sensor.read(), "ts": now_ms()}

    def command(self, method: str, params: Any, publish: Callable[[dict[str, Any]], None]) -> Any:
        """Runs one command; returns its result or raises CommandError."""
        p = params if isinstance(params, dict) else {}
        if method == "set_interval":
            ms = p.get("ms")
            if not isinstance(ms, int) or isinstance(ms, bool) or not (MIN_INTERVAL_MS <= ms <= MAX_INTERVAL_MS):
                raise CommandError(f"params.ms must be an integer from {MIN_INTERVAL_MS} to {MAX_INTERVAL_MS}")
            self.interval_ms = ms
            self._on_interval()
            return {"intervalMs": ms}
        if method == "identify":
            self.identify_until = time.monotonic() + 5
            log(f"{self.id}: identify (a real board would blink its LED now)")
            return {"identified": True}
        if method == "read_now":
            r = self.reading()
            publish(r)
            return r
        raise CommandError(f"unknown method '{method}'")


def dumps(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"))
