#!/usr/bin/env python3
"""A Fieldlink light sensor over the JSON device door, with only Debian's python3-websockets.

Frames (docs/protocol.md, "JSON device door"), one JSON object per text frame:
  → {"op":"auth","id":"1","device":"<id>"}        first; the hub then sets retained
                                                  status online itself, and offline
                                                  when the socket closes (the last will)
  → {"op":"meta","id":"2","meta":{…}}             retained devices/{id}/meta
  → {"op":"telemetry","id":"7","data":{"lux":…,"white":…,"als":…},"ts":…}
                                                  ← {"id":"7","ok":true} once stored; an
                                                  error (OVERLOADED, STORE_UNAVAILABLE):
                                                  sent again after a second
  ← {"op":"cmd","id":"<cmd id>","method":"identify","params":{}}
  → {"op":"res","id":"<cmd id>","ok":true,"result":{…}}

    python3 ws_client.py --hub ws://pi.local:8080/ws/device --id balcony
    python3 ws_client.py --hub ws://127.0.0.1:8080/ws/device --i2c-bus 1   # a real VEML7700

Readings wait in an outbox (at most 1,000; the oldest is dropped beyond) until the
hub acknowledges them, at most 32 in flight; after a reconnect the unacknowledged
ones are sent again, oldest first (each has its own ts, so the hub stores it once).
Reconnects with backoff (1 s doubling to 30 s) when the hub goes away.
Works with websockets 10.4 (Debian 12) and later. SIGTERM or Ctrl-C closes with 1000.
"""

from __future__ import annotations

import asyncio
import collections
import json
import signal
from typing import Any

import websockets

from device import CommandError, Device, dumps, log, parse_args


class HubRefused(Exception):
    pass


class Outbox:
    """Readings not yet acknowledged (bounded), and which of them are in flight on this connection."""

    WINDOW = 32

    def __init__(self, limit: int = 1000) -> None:
        self.readings: collections.OrderedDict[int, dict[str, Any]] = collections.OrderedDict()
        self.limit = limit
        self.n = 0
        self.inflight: dict[str, int] = {}  # frame id -> reading key
        self.dropped = 0
        self.retry_at = 0.0

    def add(self, r: dict[str, Any]) -> None:
        self.n += 1
        self.readings[self.n] = r
        if len(self.readings) > self.limit:
            self.readings.popitem(last=False)
            self.dropped += 1

    def next_unsent(self) -> tuple[int, dict[str, Any]] | None:
        busy = set(self.inflight.values())
        for k, r in self.readings.items():
            if k not in busy:
                return k, r
        return None


async def request(ws: Any, frame: dict[str, Any], replies: dict[str, asyncio.Future[dict[str, Any]]], seq: list[int]) -> Any:
    """Send a frame with a fresh id and wait (10 s at most) for the hub's one reply."""
    seq[0] += 1
    fid = str(seq[0])
    fut: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
    replies[fid] = fut
    await ws.send(dumps({**frame, "id": fid}))
    try:
        reply = await asyncio.wait_for(fut, 10)
    finally:
        replies.pop(fid, None)
    if not reply.get("ok"):
        err = reply.get("error") or {}
        raise HubRefused(f"hub refused {frame['op']}: {err.get('name', '')} {err.get('message', '')}")
    return reply.get("result")


async def session(dev: Device, url: str, stop: asyncio.Event, wake: asyncio.Event, out: Outbox) -> None:
    """One connection: auth, meta, then readings and commands until it closes or we stop."""
    replies: dict[str, asyncio.Future[dict[str, Any]]] = {}
    seq = [0]
    out.inflight.clear()  # a new connection: everything unacknowledged is sent again
    async with websockets.connect(url, ping_interval=20, ping_timeout=20, close_timeout=2) as ws:
        loop = asyncio.get_running_loop()
        retry: list[asyncio.TimerHandle] = []

        async def pump() -> None:
            while len(out.inflight) < Outbox.WINDOW and loop.time() >= out.retry_at:
                nxt = out.next_unsent()
                if nxt is None:
                    return
                k, r = nxt
                seq[0] += 1
                fid = f"t{seq[0]}"
                out.inflight[fid] = k
                await ws.send(dumps({"op": "telemetry", "id": fid, "data": {a: v for a, v in r.items() if a != "ts"}, "ts": r["ts"]}))

        async def send_reading(r: dict[str, Any]) -> None:
            out.add(r)
            await pump()

        async def on_ack(f: dict[str, Any]) -> None:
            k = out.inflight.pop(f["id"])
            if f.get("ok"):
                out.readings.pop(k, None)
            else:  # not stored (retry-later codes): keep it, try again in a second
                log(f"{dev.id}: hub did not store a reading: {(f.get('error') or {}).get('name')}")
                out.retry_at = loop.time() + 1.0
                retry.append(loop.call_later(1.0, lambda: asyncio.ensure_future(pump())))
            await pump()

        async def on_cmd(f: dict[str, Any]) -> None:
            published: list[dict[str, Any]] = []
            try:
                res = {"op": "res", "id": f["id"], "ok": True, "result": dev.command(f["method"], f.get("params"), published.append)}
            except CommandError as e:
                res = {"op": "res", "id": f["id"], "ok": False, "error": {"message": str(e)}}
            except Exception as e:  # a sensor failure answers the call instead of dropping the session
                res = {"op": "res", "id": f["id"], "ok": False, "error": {"message": f"{type(e).__name__}: {e}"}}
            for r in published:
                await send_reading(r)
            await ws.send(dumps(res))

        async def reader() -> None:
            async for text in ws:
                try:
                    f = json.loads(text)
                except ValueError:
                    continue
                if not isinstance(f, dict):
                    continue
                if f.get("op") == "cmd" and isinstance(f.get("id"), str) and isinstance(f.get("method"), str):
                    await on_cmd(f)
                elif f.get("op") == "error":
                    log(f"{dev.id}: hub error {f.get('error')}")
                elif isinstance(f.get("id"), str) and f["id"] in replies:
                    replies[f["id"]].set_result(f)
                elif isinstance(f.get("id"), str) and f["id"] in out.inflight:
                    await on_ack(f)

        read_task = asyncio.create_task(reader())
        try:
            await request(ws, {"op": "auth", "device": dev.id}, replies, seq)
            await request(ws, {"op": "meta", "meta": dev.meta()}, replies, seq)
            log(f"{dev.id}: connected to {url}")
            await pump()
            while not stop.is_set() and not read_task.done():
                try:
                    await send_reading(dev.reading())
                except OSError as e:  # an I2C hiccup: skip this reading
                    log(f"{dev.id}: reading failed: {e}")
                wake.clear()
                try:
                    await asyncio.wait_for(wake.wait(), dev.interval_ms / 1000)
                except asyncio.TimeoutError:
                    pass
            if read_task.done() and read_task.exception():
                raise read_task.exception()  # type: ignore[misc]
        finally:
            read_task.cancel()
            for h in retry:
                h.cancel()
        # leaving the context closes with 1000: the hub publishes status offline (reason "closed")


async def run() -> None:
    args = parse_args("Fieldlink VEML7700 light sensor over the JSON device door", "ws://127.0.0.1:8080/ws/device")
    if not args.hub.startswith(("ws://", "wss://")):
        raise SystemExit("--hub must be ws://host:port/ws/device (for mqtt:// use mqtt_client.py)")
    stop = asyncio.Event()
    wake = asyncio.Event()
    dev = Device(args, on_interval=wake.set)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, lambda: (stop.set(), wake.set()))
    backoff = 1.0
    out = Outbox()
    while not stop.is_set():
        try:
            await session(dev, args.hub, stop, wake, out)
            backoff = 1.0
        except HubRefused as e:
            raise SystemExit(f"{dev.id}: {e}")  # a bad id will not get better by retrying
        except (OSError, asyncio.TimeoutError, websockets.exceptions.WebSocketException) as e:
            log(f"{dev.id}: {type(e).__name__}: {e}; retrying in {backoff:.0f} s")
        if stop.is_set():
            break
        try:
            await asyncio.wait_for(stop.wait(), backoff)
        except asyncio.TimeoutError:
            pass
        backoff = min(backoff * 2, 30.0)
    dev.sensor.close()
    log(f"{dev.id}: stopped")


if __name__ == "__main__":
    asyncio.run(run())
