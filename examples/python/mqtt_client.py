#!/usr/bin/env python3
"""A Fieldlink light sensor over MQTT 3.1.1, with only Debian's python3-paho-mqtt.

Speaks the hub's device conventions (docs/protocol.md, "Topics"):
  devices/{id}/status     retained {"online":true,"ts":…} on connect (birth); the
                          last will {"online":false,"ts":0,"reason":"will"} is set in
                          CONNECT, so the hub marks the device offline if it vanishes
  devices/{id}/meta       retained model, firmware, metrics and methods
  devices/{id}/telemetry  {"lux":…,"white":…,"als":…,"ts":…} every --interval-ms, QoS 1:
                          acknowledged once stored, resent after a reconnect
  devices/{id}/cmd/+      {"id","params"} answered on …/cmd/{method}/res with the same id

    python3 mqtt_client.py --hub mqtt://pi.local:1883 --id kitchen
    python3 mqtt_client.py --hub mqtt://127.0.0.1:1883 --i2c-bus 1     # a real VEML7700

Works with paho-mqtt 1.6 (Debian 12) and 2.x (CallbackAPIVersion.VERSION2).
SIGTERM or Ctrl-C publishes {"online":false,"reason":"shutdown"} and disconnects.
"""

from __future__ import annotations

import json
import signal
import threading
from typing import Any
from urllib.parse import urlsplit

import paho.mqtt.client as mqtt

from device import CommandError, Device, dumps, log, now_ms, parse_args


def make_client(client_id: str) -> mqtt.Client:
    # paho 2.x wants the callback API version; VERSION2 callbacks get (…, reason_code, properties).
    if hasattr(mqtt, "CallbackAPIVersion"):
        return mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv311, clean_session=True)
    return mqtt.Client(client_id=client_id, protocol=mqtt.MQTTv311, clean_session=True)


def failed(rc: Any) -> bool:
    """CONNACK/DISCONNECT code: an int in 1.x, a ReasonCode in 2.x."""
    return rc.is_failure if hasattr(rc, "is_failure") else rc != 0


def main() -> None:
    args = parse_args("Fieldlink VEML7700 light sensor over MQTT", "mqtt://127.0.0.1:1883")
    url = urlsplit(args.hub)
    if url.scheme not in ("mqtt", "tcp"):
        raise SystemExit("--hub must be mqtt://host:port (for ws://…/ws/device use ws_client.py)")
    wake = threading.Event()  # set to re-arm the reading timer (set_interval) or to stop
    stopping = threading.Event()
    dev = Device(args, on_interval=wake.set)
    t = {k: f"devices/{dev.id}/{k}" for k in ("status", "meta", "telemetry")}
    connected = threading.Event()

    client = make_client(dev.id)
    # [MQTT-3.1.2-8] the broker publishes the will when the connection drops without DISCONNECT.
    client.will_set(t["status"], dumps({"online": False, "ts": 0, "reason": "will"}), qos=1, retain=True)
    client.reconnect_delay_set(min_delay=1, max_delay=30)

    # QoS 1: the hub's PUBACK means the reading is stored (docs/storage.md). paho keeps at
    # most 32 unacknowledged, queues up to 1,000 more while the hub is away (beyond that
    # publish() refuses and the reading is dropped, logged), and resends on reconnect.
    # Each reading carries its own ts, so a resend is stored once.
    client.max_inflight_messages_set(32)
    client.max_queued_messages_set(1000)

    def publish_reading(r: dict[str, Any]) -> None:
        info = client.publish(t["telemetry"], dumps(r), qos=1)
        if info.rc == mqtt.MQTT_ERR_QUEUE_SIZE:
            log(f"{dev.id}: 1,000 readings waiting for the hub; dropped this one")

    def on_connect(c: mqtt.Client, _ud: Any, _flags: Any, rc: Any, _props: Any = None) -> None:
        if failed(rc):
            log(f"{dev.id}: hub refused the connection: {rc}")
            return
        # Birth and meta are retained: late subscribers (the hub's registry, dashboards) see them at once.
        c.publish(t["status"], dumps({"online": True, "ts": now_ms()}), qos=1, retain=True)
        c.publish(t["meta"], dumps(dev.meta()), qos=1, retain=True)
        c.subscribe(f"devices/{dev.id}/cmd/+", qos=1)
        connected.set()
        log(f"{dev.id}: connected to {args.hub}")

    def on_disconnect(_c: mqtt.Client, _ud: Any, *rest: Any) -> None:
        # 1.x: (rc); 2.x: (flags, reason_code, properties)
        connected.clear()
        if not stopping.is_set():
            log(f"{dev.id}: connection lost ({rest[-2] if len(rest) >= 2 else rest[0]}), reconnecting")

    def on_message(c: mqtt.Client, _ud: Any, msg: mqtt.MQTTMessage) -> None:
        parts = msg.topic.split("/")
        if len(parts) != 4 or parts[2] != "cmd":
            return
        method = parts[3]
        try:
            req = json.loads(msg.payload)
        except ValueError:
            log(f"{dev.id}: ignored a command that is not JSON on {msg.topic}")
            return
        if not isinstance(req, dict) or not isinstance(req.get("id"), str):
            return  # nobody to answer
        try:
            res = {"id": req["id"], "ok": True, "result": dev.command(method, req.get("params"), publish_reading)}
        except CommandError as e:
            res = {"id": req["id"], "ok": False, "error": {"message": str(e)}}
        except Exception as e:  # a sensor failure must not kill the network thread
            res = {"id": req["id"], "ok": False, "error": {"message": f"{type(e).__name__}: {e}"}}
        c.publish(f"{msg.topic}/res", dumps(res), qos=1)

    client.on_connect = on_connect
    client.on_disconnect = on_disconnect
    client.on_message = on_message

    def on_signal(_sig: int, _frame: Any) -> None:
        stopping.set()
        wake.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    # connect_async + loop_start: the network thread keeps retrying until the hub is up.
    client.connect_async(url.hostname or "127.0.0.1", url.port or 1883, keepalive=30)
    client.loop_start()
    try:
        while not stopping.is_set():
            if connected.is_set():
                try:
                    publish_reading(dev.reading())
                except OSError as e:  # an I2C hiccup: skip this reading
                    log(f"{dev.id}: reading failed: {e}")
            wake.wait(dev.interval_ms / 1000)
            wake.clear()
    finally:
        if connected.is_set():
            info = client.publish(t["status"], dumps({"online": False, "ts": now_ms(), "reason": "shutdown"}), qos=1, retain=True)
            info.wait_for_publish(timeout=2)
        client.disconnect()  # a clean DISCONNECT: the broker discards the will
        client.loop_stop()
        dev.sensor.close()
        log(f"{dev.id}: stopped")


if __name__ == "__main__":
    main()
