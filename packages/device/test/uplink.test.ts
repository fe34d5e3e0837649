import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TelemetryBuffer } from '../src/node/buffer.js';
import { Uplink } from '../src/node/uplink.js';
import type { DeviceLink } from '../src/sim/link.js';

/** A link whose sends stay pending until the test settles them. */
class FakeLink implements DeviceLink {
  connected = true;
  sent: { ts: number; settle: (ok: boolean) => void }[] = [];
  async start() {}
  async stop() {}
  telemetry(_data: Record<string, number>, ts: number): Promise<void> {
    return new Promise((resolve, reject) => this.sent.push({ ts, settle: (ok) => (ok ? resolve() : reject(new Error('lost'))) }));
  }
}

const tick = () => new Promise((r) => setImmediate(r));

test('sends oldest first within the window, removes on ack, resends failures in order, never twice while pending', async () => {
  const buf = await TelemetryBuffer.open();
  const link = new FakeLink();
  const up = new Uplink(buf, link, 2);
  for (let i = 1; i <= 4; i++) await buf.append(i, { lux: i });
  up.flush();
  up.flush();
  assert.deepEqual(link.sent.map((s) => s.ts), [1, 2], 'window of 2, no duplicate on a second flush');
  link.sent[0]!.settle(true);
  await tick();
  assert.deepEqual(link.sent.map((s) => s.ts), [1, 2, 3]);
  link.connected = false;
  link.sent[1]!.settle(false);
  link.sent[2]!.settle(false);
  await tick();
  assert.deepEqual(buf.entries().map((e) => e.ts), [2, 3, 4]);
  link.connected = true;
  up.flush();
  assert.deepEqual(link.sent.slice(3).map((s) => s.ts), [2, 3], 'retried in order after reconnect');
  for (const s of link.sent.slice(3)) s.settle(true);
  await tick();
  link.sent.at(-1)!.settle(true);
  await tick();
  assert.equal(buf.size, 0);
  assert.equal(up.acked, 4);
});
