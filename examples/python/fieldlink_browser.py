#!/usr/bin/env python3
"""A small client for Fieldlink's browser protocol v1 (``ws://HUB:8080/ws``), with
only Debian's python3-websockets (10.4 on Debian 12, or later). Copy it freely.

The protocol (docs/protocol.md, "Browser protocol v1"): JSON text frames; each
request has an ``op`` and an ``id`` and gets exactly one reply ``{id, ok, result}``
or ``{id, ok:false, error:{code, name, message}}``; the hub pushes
``{op:"msg", topic, payload, ts, seq, retained}`` for your subscriptions.

    client = BrowserClient("ws://127.0.0.1:8080/ws", token="…")   # or user=…, password=…
    client.start()                                # a background thread; returns at once
    client.subscribe("devices/+/telemetry", lambda m: print(m["topic"], m["payload"]))
    print(client.call("sim-1", "identify"))       # {'identified': True}
    print(client.history("sim-1", "lux", frm="-1h"))
    client.stop()

Every method blocks the calling thread (at most ``timeout`` seconds) and is safe
to call from any thread (Flask's, for example); the connection lives in one
asyncio loop in its own thread. On a lost connection it reconnects with
exponential backoff and full jitter (0.25 s doubling to 15 s, as the typed
JavaScript client does), sends ``auth`` again and every subscription again.
Requests made while it is away wait for the connection up to their timeout;
requests in flight when it drops fail with ``CONNECTION_LOST`` and are never
re-sent on their own (``pub`` and ``call`` are not idempotent). When the hub
refuses the credentials themselves it stops retrying (``closed_reason``).

Run it as a script to watch a hub: ``python3 fieldlink_browser.py --hub ws://127.0.0.1:8080/ws``.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import random
import sys
import threading
from typing import Any, Callable

import websockets

Push = dict[str, Any]

BACKOFF_MIN_S = 0.25
BACKOFF_MAX_S = 15.0
# `auth` refusals that retrying with the same credentials cannot fix (docs/errors.md);
# RATE_LIMITED and everything else are retried.
FATAL_AUTH = {"BAD_CREDENTIALS", "UNAUTHENTICATED"}


class FieldlinkError(Exception):
    """A request the hub (or the connection) answered with an error: ``name``, ``code``, ``message``."""

    def __init__(self, name: str, message: str, code: int | None = None) -> None:
        super().__init__(f"{name}: {message}")
        self.name = name
        self.code = code
        self.message = message


class BrowserClient:
    def __init__(self, url: str, token: str | None = None, user: str | None = None, password: str | None = None,
                 on_state: Callable[[str, str], None] = lambda state, detail: None) -> None:
        if not url.startswith(("ws://", "wss://")):
            raise ValueError("the hub's browser API is ws://host:port/ws (or wss://)")
        if (user is None) != (password is None):
            raise ValueError("give both user and password, or neither")
        self.url = url
        self._auth: dict[str, Any] = {"token": token} if token else {"user": user, "password": password} if user else {}
        self._on_state = on_state
        self._subs: dict[str, list[Callable[[Push], None]]] = {}
        self._replies: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._ids = itertools.count(1)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="fieldlink-ws", daemon=True)
        self._ws: Any = None
        self._connected: asyncio.Event | None = None
        self._stopping = False
        self._runner: asyncio.Task[None] | None = None
        self.state = "idle"
        self.closed_reason: str | None = None
        self.identity: dict[str, Any] | None = None
        self.reconnects = 0

    # ---- lifecycle ----
    def start(self) -> "BrowserClient":
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result()
        return self

    def stop(self) -> None:
        self._stopping = True

        async def close() -> None:
            if self._ws is not None:
                await self._ws.close()
            if self._runner:
                self._runner.cancel()
        asyncio.run_coroutine_threadsafe(close(), self._loop).result(5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    def wait_connected(self, timeout: float = 10) -> None:
        async def wait() -> None:
            assert self._connected
            await asyncio.wait_for(self._connected.wait(), timeout)
        asyncio.run_coroutine_threadsafe(wait(), self._loop).result(timeout + 1)

    # ---- requests (blocking, thread-safe) ----
    def request(self, op: str, *, wait: float = 10, **fields: Any) -> Any:
        """Send one request (``fields`` as the protocol names them) and return its ``result``,
        or raise FieldlinkError. ``wait``: seconds to wait for the connection and the reply."""
        return asyncio.run_coroutine_threadsafe(self._request({"op": op, **fields}, wait), self._loop).result(wait + 1)

    def subscribe(self, filter: str, callback: Callable[[Push], None], timeout: float = 10) -> Any:
        """Subscribe (MQTT filter); ``callback(push)`` runs in the client's thread for every message, retained first."""
        first = filter not in self._subs
        self._subs.setdefault(filter, []).append(callback)
        return self.request("sub", wait=timeout, filter=filter) if first else None

    def history(self, device: str, metric: str, frm: str | int = "-1h", to: str | int = "now", bucket: str | None = None,
                limit: int | None = None, timeout: float = 10) -> Any:
        q: dict[str, Any] = {"device": device, "metric": metric, "from": frm, "to": to}
        if bucket is not None:
            q["bucket"] = bucket
        if limit is not None:
            q["limit"] = limit
        return self.request("history", wait=timeout, **q)

    def call(self, device: str, method: str, params: dict[str, Any] | None = None, timeout_ms: int = 5000) -> Any:
        return self.request("call", wait=timeout_ms / 1000 + 2, device=device, method=method, params=params or {}, timeout=timeout_ms)

    def devices(self) -> list[dict[str, Any]]:
        return self.request("devices")["devices"]

    def publish(self, topic: str, payload: Any, retain: bool = False) -> Any:
        return self.request("pub", topic=topic, payload=payload, retain=retain)

    # ---- the connection (client thread) ----
    async def _start(self) -> None:
        self._connected = asyncio.Event()
        self._runner = asyncio.create_task(self._run())

    def _set_state(self, state: str, detail: str = "") -> None:
        self.state = state
        try:
            self._on_state(state, detail)
        except Exception as e:  # a broken callback must not stop the connection
            print(f"fieldlink: on_state failed: {e}", file=sys.stderr)

    async def _request(self, frame: dict[str, Any], timeout: float) -> Any:
        assert self._connected
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        try:
            await asyncio.wait_for(self._connected.wait(), timeout)
        except asyncio.TimeoutError:
            raise FieldlinkError("NOT_CONNECTED", self.closed_reason or f"no connection to {self.url} within {timeout} s") from None
        return await self._send(self._ws, frame, max(0.1, deadline - loop.time()))

    async def _send(self, ws: Any, frame: dict[str, Any], timeout: float) -> Any:
        fid = str(next(self._ids))
        fut: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._replies[fid] = fut
        try:
            await ws.send(json.dumps({**frame, "id": fid}, separators=(",", ":")))
            reply = await asyncio.wait_for(fut, timeout)
        except asyncio.TimeoutError:
            raise FieldlinkError("TIMEOUT", f"no reply to {frame['op']} within {timeout:.1f} s") from None
        except websockets.exceptions.ConnectionClosed:
            raise FieldlinkError("CONNECTION_LOST", f"the connection closed before the reply to {frame['op']}") from None
        finally:
            self._replies.pop(fid, None)
        if not reply.get("ok"):
            err = reply.get("error") or {}
            raise FieldlinkError(err.get("name", "ERROR"), err.get("message", ""), err.get("code"))
        return reply.get("result")

    async def _reader(self, ws: Any) -> None:
        async for text in ws:
            try:
                f = json.loads(text)
            except ValueError:
                continue
            if not isinstance(f, dict):
                continue
            if f.get("op") == "msg":
                for flt, callbacks in list(self._subs.items()):
                    if topic_matches(flt, f.get("topic", "")):
                        for cb in callbacks:
                            try:
                                cb(f)
                            except Exception as e:
                                print(f"fieldlink: subscriber of {flt} failed: {e}", file=sys.stderr)
            elif isinstance(f.get("id"), str) and f["id"] in self._replies and not self._replies[f["id"]].done():
                self._replies[f["id"]].set_result(f)

    async def _run(self) -> None:
        assert self._connected
        attempt = 0
        while not self._stopping:
            self._set_state("connecting" if attempt == 0 else "reconnecting")
            try:
                async with websockets.connect(self.url, ping_interval=20, ping_timeout=20, close_timeout=2, max_size=4 * 1024 * 1024) as ws:
                    reader = asyncio.create_task(self._reader(ws))
                    try:
                        hello = await self._send(ws, {"op": "auth", **self._auth}, 10)
                        self.identity = hello.get("identity")
                        for flt in list(self._subs):
                            try:
                                await self._send(ws, {"op": "sub", "filter": flt}, 10)
                            except FieldlinkError as e:
                                if e.name in ("CONNECTION_LOST", "TIMEOUT"):
                                    raise
                                del self._subs[flt]  # the hub now refuses it (access rules changed): drop it, as the JS client does
                                self._set_state("connecting", f"subscription {flt} dropped: {e}")
                        self._ws = ws
                        if attempt:
                            self.reconnects += 1
                        attempt = 0
                        self._connected.set()
                        self._set_state("open", json.dumps(self.identity))
                        await reader
                    finally:
                        self._connected.clear()
                        self._ws = None
                        reader.cancel()
                        for fut in self._replies.values():
                            if not fut.done():
                                fut.set_exception(websockets.exceptions.ConnectionClosedError(None, None))
            except FieldlinkError as e:
                if e.name in FATAL_AUTH:
                    self.closed_reason = str(e)
                    self._set_state("closed", str(e))
                    return
                detail = str(e)
            except (OSError, asyncio.TimeoutError, websockets.exceptions.WebSocketException) as e:
                detail = f"{type(e).__name__}: {e}"
            else:
                detail = "connection closed"
            if self._stopping:
                break
            # full jitter: a wave of clients after a hub restart spreads out [AWS architecture blog, "Exponential Backoff And Jitter"]
            delay = random.uniform(0, min(BACKOFF_MAX_S, BACKOFF_MIN_S * 2 ** attempt))
            attempt += 1
            self._set_state("reconnecting", f"{detail}; retrying in {delay:.2f} s")
            await asyncio.sleep(delay)
        self._set_state("closed", "stopped")


def topic_matches(flt: str, topic: str) -> bool:
    """MQTT filter matching ([MQTT-4.7]): ``+`` one level, ``#`` the rest (parent included); wildcards never match ``$`` topics."""
    if topic.startswith("$") and flt[:1] in ("+", "#"):
        return False
    f, t = flt.split("/"), topic.split("/")
    for i, part in enumerate(f):
        if part == "#":
            return True
        if i >= len(t) or (part != "+" and part != t[i]):
            return False
    return len(f) == len(t)


def main() -> None:
    p = argparse.ArgumentParser(description="Watch a Fieldlink hub over its browser protocol v1")
    p.add_argument("--hub", default="ws://127.0.0.1:8080/ws")
    p.add_argument("--token")
    p.add_argument("--user")
    p.add_argument("--password")
    p.add_argument("--filter", default="devices/+/telemetry")
    a = p.parse_args()
    client = BrowserClient(a.hub, token=a.token, user=a.user, password=a.password,
                           on_state=lambda s, d: print(f"[{s}] {d}", file=sys.stderr, flush=True)).start()
    client.wait_connected()
    client.subscribe(a.filter, lambda m: print(m["topic"], json.dumps(m["payload"]), flush=True))
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        client.stop()


if __name__ == "__main__":
    main()
