#!/usr/bin/env python3
"""A Fieldlink light sensor over the JSON device door, with only Debian's python3-websockets.

Frames (docs/protocol.md, "JSON device door"), one JSON object per text frame:
  → {"op":"auth","id":"1","device":"<id>"}        first; the hub then sets retained
                                                  status online itself, and offline
                                                  when the socket closes (the last will)
  → {"op":"meta","id":"2","meta":{…}}             retained devices/{id}/meta
  → {"op":"telemetry","data":{"lux":…,"white":…,"als":…},"ts":…}
  ← {"op":"cmd","id":"<cmd id>","method":"identify","params":{}}
  → {"op":"res","id":"<cmd id>","ok":true,"result":{…}}

    python3 ws_client.py --hub ws://pi.local:8080/ws/device --id balcony
    python3 ws_client.py --hub ws://127.0.0.1:8080/ws/device --i2c-bus 1   # a real VEML7700

Reconnects with backoff (1 s doubling to 30 s) when the hub goes away.
Works with websockets 10.4 (Debian 12) and later. SIGTERM or Ctrl-C closes with 1000.
"""

from __future__ import annotations

import asyncio
import json
import signal
from typing import Any

import websockets

from device import CommandError, Device, dumps, log, parse_args


class HubRefused(Exception):
    pass


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


async def session(dev: Device, url: str, stop: asyncio.Event, wake: asyncio.Event) -> None:
    """One connection: auth, meta, then readings and commands until it closes or we stop."""
    replies: dict[str, asyncio.Future[dict[str, Any]]] = {}
    seq = [0]
    async with websockets.connect(url, ping_interval=20, ping_timeout=20, close_timeout=2) as ws:

        async def send_reading(r: dict[str, Any]) -> None:
            data = {k: v for k, v in r.items() if k != "ts"}
            await ws.send(dumps({"op": "telemetry", "data": data, "ts": r["ts"]}))

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

        read_task = asyncio.create_task(reader())
        try:
            await request(ws, {"op": "auth", "device": dev.id}, replies, seq)
            await request(ws, {"op": "meta", "meta": dev.meta()}, replies, seq)
            log(f"{dev.id}: connected to {url}")
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
    while not stop.is_set():
        try:
            await session(dev, args.hub, stop, wake)
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
