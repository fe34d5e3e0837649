#!/usr/bin/env python3
"""Example 2: a Raspberry Pi running a Flask server beside the Fieldlink hub.

It serves a page (static/) that shows every board's readings and the Pi's own
live, sends a command (``identify``) to a board, and draws the last hour from the
hub's history. It talks to Fieldlink only through the browser protocol v1 on
``/ws`` (fieldlink_browser.py: ``auth``, ``sub``, ``history``, ``call``, ``pub``),
and uses only Debian packages (python3-flask, python3-websockets).

    python3 flask_app.py --hub ws://127.0.0.1:8080/ws --port 5000
    python3 flask_app.py --hub ws://pi.local:8080/ws --token "$TOKEN" --host 0.0.0.0 --i2c-bus 1
    FIELDLINK_PASSWORD=… python3 flask_app.py --hub ws://127.0.0.1:8080/ws --user ann

Live updates reach the page as Server-Sent Events (``GET /events``): the page
talks to Flask only (one origin, no hub credentials in the browser, and the hub
can stay on 127.0.0.1 on the Pi), EventSource reconnects on its own, and SSE is
plain HTTP that Flask streams without extra packages.

The Pi's own sensor (``--i2c-bus 1`` for a VEML7700 on /dev/i2c-1, or ``--light
LUX`` for a synthetic one) is published to the hub as device ``--pi-id`` with
``pub`` (status, meta, telemetry), so it is stored and charted like any board,
and this app answers its ``identify`` command.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import queue
import signal
import socket
import sys
import threading
import time
from pathlib import Path
from typing import Any

from flask import Flask, Response, jsonify, request, send_from_directory

from fieldlink_browser import BrowserClient, FieldlinkError

STATIC = Path(__file__).resolve().parent / "static"
QUEUE_MAX = 256      # events waiting per open page; when full the oldest is dropped (counted)
MAX_STREAMS = 32     # open pages at once; more get 503
KEEPALIVE_S = 15     # a comment line this often, so a closed page is noticed and its queue freed
HEADERS = {
    "Content-Security-Policy": "default-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-cache",
}


def log(line: str) -> None:
    print(f"{time.strftime('%H:%M:%S')} {line}", file=sys.stderr, flush=True)


class Broadcaster:
    """Hub pushes fanned out to the open pages: one bounded queue per page."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queues: set[queue.Queue[tuple[str, Any]]] = set()
        self.dropped = 0

    def open(self) -> queue.Queue[tuple[str, Any]] | None:
        with self._lock:
            if len(self._queues) >= MAX_STREAMS:
                return None
            q: queue.Queue[tuple[str, Any]] = queue.Queue(QUEUE_MAX)
            self._queues.add(q)
            return q

    def close(self, q: queue.Queue[tuple[str, Any]]) -> None:
        with self._lock:
            self._queues.discard(q)

    @property
    def streams(self) -> int:
        return len(self._queues)

    def send(self, event: str, data: Any) -> None:
        with self._lock:
            for q in self._queues:
                while True:
                    try:
                        q.put_nowait((event, data))
                        break
                    except queue.Full:  # a page that cannot keep up loses its oldest events, never our memory
                        try:
                            q.get_nowait()
                            self.dropped += 1
                        except queue.Empty:
                            pass


class PiSensor:
    """The Pi's own VEML7700 (or a synthetic one), published to the hub as a device."""

    def __init__(self, client: BrowserClient, device: str, i2c_bus: int | None, light: float | None, interval_ms: int) -> None:
        from veml7700 import open_sensor  # the examples' driver: smbus2 only for a real chip
        self.client = client
        self.id = device
        self.sensor = open_sensor(i2c_bus, light)
        self.interval = interval_ms / 1000
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name="pi-sensor", daemon=True)

    def topic(self, kind: str) -> str:
        return f"devices/{self.id}/{kind}"

    def start(self) -> None:
        self.thread.start()
        try:
            self.client.subscribe(self.topic("cmd/+"), self._on_command, timeout=30)
        except FieldlinkError as e:  # kept by the client: sent when the hub is reachable
            log(f"{self.id}: commands: {e}")

    def _announce(self) -> None:
        self.client.publish(self.topic("meta"), {
            "model": self.sensor.model, "firmware": "fieldlink-flask-example/0.1.0",
            "metrics": {"lux": {"unit": "lx"}, "white": {"unit": "counts"}, "als": {"unit": "counts"}},
            "methods": {"identify": {"description": "log a line on the Pi"}},
        }, retain=True)
        self.client.publish(self.topic("status"), {"online": True, "ts": int(time.time() * 1000)}, retain=True)

    def _on_command(self, m: dict[str, Any]) -> None:
        if m.get("retained") or m["topic"].endswith("/res"):
            return
        req = m.get("payload") if isinstance(m.get("payload"), dict) else {}
        if not isinstance(req.get("id"), str):
            return
        method = m["topic"].rsplit("/", 1)[-1]
        if method == "identify":
            log(f"{self.id}: identify")
            res = {"id": req["id"], "ok": True, "result": {"identified": True}}
        else:
            res = {"id": req["id"], "ok": False, "error": {"message": f"unknown method '{method}'"}}
        # answered from another thread: the client's own thread must stay free to read the reply
        threading.Thread(target=lambda: self._safe(lambda: self.client.publish(m["topic"] + "/res", res)), daemon=True).start()

    def _safe(self, fn: Any) -> None:
        try:
            fn()
        except FieldlinkError as e:
            log(f"{self.id}: {e}")

    def _run(self) -> None:
        announced = False
        while not self.stop.wait(0 if not announced else self.interval):
            try:
                if not announced:
                    self._announce()
                    announced = True
                self.client.publish(self.topic("telemetry"), {**self.sensor.read(), "ts": int(time.time() * 1000)})
            except FieldlinkError as e:  # hub away: the client reconnects; this reading is skipped
                log(f"{self.id}: {e}")
                announced = announced and e.name not in ("NOT_CONNECTED", "CONNECTION_LOST")
            except OSError as e:
                log(f"{self.id}: reading failed: {e}")

    def close(self) -> None:
        self.stop.set()
        try:
            self.client.publish(self.topic("status"), {"online": False, "ts": int(time.time() * 1000), "reason": "shutdown"}, retain=True)
        except FieldlinkError:
            pass
        self.sensor.close()


def create_app(client: BrowserClient, events: Broadcaster, pi: PiSensor | None) -> Flask:
    app = Flask(__name__, static_folder=None)

    @app.after_request
    def headers(res: Response) -> Response:
        res.headers.update(HEADERS)
        return res

    @app.get("/")
    def index() -> Response:
        return send_from_directory(STATIC, "index.html")

    @app.get("/<any('app.js', 'style.css'):name>")
    def asset(name: str) -> Response:
        return send_from_directory(STATIC, name)

    @app.get("/api/devices")
    def devices() -> Any:
        try:
            return jsonify(devices=client.devices(), pi=pi.id if pi else None, hub={"url": client.url, "state": client.state})
        except FieldlinkError as e:
            return jsonify(error={"name": e.name, "message": e.message}, hub={"url": client.url, "state": client.state}), 502

    @app.get("/api/history")
    def history() -> Any:
        device, metric = request.args.get("device", ""), request.args.get("metric", "lux")
        try:
            return jsonify(client.history(device, metric, frm=request.args.get("from", "-1h"), to="now"))
        except FieldlinkError as e:
            return jsonify(error={"name": e.name, "message": e.message}), 400 if e.code and 1000 <= e.code < 2000 else 502

    @app.post("/api/call")
    def call() -> Any:
        body = request.get_json(silent=True) or {}
        device, method, params = body.get("device"), body.get("method"), body.get("params") or {}
        if not isinstance(device, str) or not isinstance(method, str) or not isinstance(params, dict):
            return jsonify(ok=False, error={"name": "BAD_REQUEST", "message": "send {device, method, params?}"}), 400
        try:
            return jsonify(ok=True, result=client.call(device, method, params))
        except FieldlinkError as e:
            return jsonify(ok=False, error={"name": e.name, "message": e.message}), 502

    @app.get("/events")
    def stream() -> Any:
        q = events.open()
        if q is None:
            return jsonify(error={"name": "OVERLOADED", "message": f"at most {MAX_STREAMS} pages at once"}), 503

        def gen() -> Any:
            try:
                yield "retry: 2000\n\n"
                yield f"event: hub\ndata: {json.dumps({'state': client.state})}\n\n"
                while True:
                    try:
                        event, data = q.get(timeout=KEEPALIVE_S)
                    except queue.Empty:
                        yield ": keepalive\n\n"
                        continue
                    yield f"event: {event}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"
            finally:
                events.close(q)

        return Response(gen(), mimetype="text/event-stream", headers={"X-Accel-Buffering": "no"})

    @app.get("/healthz")
    def health() -> Any:
        return jsonify(hub=client.state, reconnects=client.reconnects, streams=events.streams, dropped=events.dropped)

    return app


def parse_args() -> argparse.Namespace:
    host = "".join(c if c.isalnum() or c in "._:-" else "-" for c in socket.gethostname())[:60]
    p = argparse.ArgumentParser(description="Fieldlink example 2: a Flask page for the boards and the Pi beside the hub")
    p.add_argument("--hub", default="ws://127.0.0.1:8080/ws", help="the hub's browser API (default ws://127.0.0.1:8080/ws)")
    p.add_argument("--port", type=int, default=5000, help="Flask's port (default 5000; 0 picks a free one)")
    p.add_argument("--host", default="127.0.0.1", help="Flask's interface (default 127.0.0.1; 0.0.0.0 for the LAN)")
    p.add_argument("--token", default=os.environ.get("FIELDLINK_TOKEN"),
                   help="an API token, for a hub that requires authentication (fieldlink token create --role operator); default $FIELDLINK_TOKEN")
    p.add_argument("--user", help="a user name instead of a token; the password from $FIELDLINK_PASSWORD, else a prompt"
                   " (never on the command line, where ps and the shell history would show it)")
    p.add_argument("--pi-id", default=f"pi-{host}", help="device id of the Pi's own sensor (default pi-<hostname>)")
    p.add_argument("--i2c-bus", type=int, help="the Pi's own VEML7700 on /dev/i2c-N (needs python3-smbus2)")
    p.add_argument("--light", type=float, help="a synthetic Pi sensor at this lux (no hardware)")
    p.add_argument("--interval-ms", type=int, default=1000, help="the Pi sensor's reading period (default 1000)")
    a = p.parse_args()
    a.password = None
    if a.user is not None:
        a.password = os.environ.get("FIELDLINK_PASSWORD")
        if a.password is None and sys.stdin.isatty():
            a.password = getpass.getpass(f"password of {a.user}: ")
        if a.password is None:
            p.error("--user needs the password in FIELDLINK_PASSWORD (or run it on a terminal to be asked)")
        if a.token:
            p.error("give --token or --user, not both")
    return a


def main() -> None:
    a = parse_args()
    events = Broadcaster()
    client = BrowserClient(a.hub, token=a.token, user=a.user, password=a.password,
                           on_state=lambda s, d: (log(f"hub {a.hub}: {s} {d}".rstrip()), events.send("hub", {"state": s, "detail": d})))
    client.start()

    def on_telemetry(m: dict[str, Any]) -> None:
        events.send("telemetry", {"device": m["topic"].split("/")[1], "payload": m["payload"], "ts": m["ts"]})

    def on_status(m: dict[str, Any]) -> None:
        p = m["payload"] if isinstance(m["payload"], dict) else {}
        events.send("status", {"device": m["topic"].split("/")[1], "online": p.get("online") is True})

    # A subscription is kept by the client from here on: sent now if connected, and again
    # after every (re)connect, so a hub that is down at start-up only delays it.
    def subscribe_all() -> None:
        for flt, cb in (("devices/+/telemetry", on_telemetry), ("devices/+/status", on_status)):
            try:
                client.subscribe(flt, cb, timeout=30)
            except FieldlinkError as e:
                log(f"{flt}: {e}; subscribing when the hub is reachable")
    threading.Thread(target=subscribe_all, daemon=True).start()
    pi = PiSensor(client, a.pi_id, a.i2c_bus, a.light, a.interval_ms) if a.i2c_bus is not None or a.light is not None else None
    if pi:
        threading.Thread(target=pi.start, daemon=True).start()

    def shutdown(*_: Any) -> None:
        if pi:
            pi.close()
        client.stop()
        sys.exit(0)

    signal.signal(signal.SIGTERM, shutdown)
    signal.signal(signal.SIGINT, shutdown)
    app = create_app(client, events, pi)
    from werkzeug.serving import make_server  # Flask's own server, bound first so port 0 can be reported
    server = make_server(a.host, a.port, app, threaded=True)
    log(f"Flask page on http://{a.host}:{server.server_port}/ (hub {a.hub}{', Pi sensor ' + pi.id if pi else ''})")
    server.serve_forever()


if __name__ == "__main__":
    main()
