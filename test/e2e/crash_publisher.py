#!/usr/bin/env python3
"""A device for the crash harness (crash-harness.ts): publishes telemetry as fast
as the hub acknowledges it, with paho-mqtt (Debian's python3-paho-mqtt, 1.6).

  crash_publisher.py HOST PORT DEVICE QOS WINDOW BASE_TS

MQTT 3.1.1, CleanSession 0 (paho 1.6's on_publish does not look at a v5 reason
code, so v5 refusals would read as acknowledgements; on 3.1.1 a refusal is no ack).
Message n is {"n": n, "ts": BASE_TS + n} on devices/DEVICE/telemetry, at QoS QOS,
at most WINDOW unacknowledged. Prints "a <n>" when message n is acknowledged
(on_publish: PUBACK, or PUBCOMP for QoS 2), reconnects by itself after the hub
dies, and paho resends what was not acknowledged. Stops at stdin EOF.
"""
import json
import sys
import threading

import paho.mqtt.client as mqtt

host, port, device, qos, window, base = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
slots = threading.Semaphore(window)
lock = threading.Lock()
mid_to_n = {}
early = set()  # acks that arrived before publish() returned the mid
out = sys.stdout


def acked(n):
    out.write("a %d\n" % n)
    out.flush()
    slots.release()


# paho calls on_publish holding its own message lock: never call paho while holding `lock`
def on_publish(_c, _u, mid):
    with lock:
        n = mid_to_n.pop(mid, None)
        if n is None:
            early.add(mid)
    if n is not None:
        acked(n)


c = mqtt.Client(client_id=device, protocol=mqtt.MQTTv311, clean_session=False)
c.on_publish = on_publish
c.on_connect = lambda _c, _u, _f, rc: sys.stderr.write("connect rc=%s\n" % rc)
c.on_disconnect = lambda _c, _u, rc: sys.stderr.write("disconnect rc=%s\n" % rc)
c.max_inflight_messages_set(window)
c.max_queued_messages_set(0)
c.reconnect_delay_set(0.05, 0.3)
c.connect_async(host, port, keepalive=30)
c.loop_start()
stop = threading.Event()
threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()
n = 0
while not stop.is_set():
    if not slots.acquire(timeout=0.2):
        continue
    info = c.publish("devices/%s/telemetry" % device, json.dumps({"n": n, "ts": base + n}), qos=qos)
    with lock:
        now = info.mid in early
        if now:
            early.discard(info.mid)
        else:
            mid_to_n[info.mid] = n
    if now:
        acked(n)
    n += 1
c.loop_stop()
