/**
 * The retained budget (auth/retained-budget.ts) charges in-process retained
 * publishes (services, WebSocket doors: `hub.bus.publish`) on both embedded
 * engines alike: to the device of a `devices/{id}/` topic, else the shared `hub`
 * account; a refusal rejects the publish with RetainedLimitError and nothing is
 * stored; clearing frees the account. Aedes charges them in its publish wrapper
 * (mqtt-security.ts), the core engine through the bus (bus/core.ts admitRetained).
 * Each engine is named here, whatever FIELDLINK_MQTT_ENGINE says.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import mqtt from 'mqtt';
import { RetainedLimitError } from '../../src/auth/retained-budget.js';
import { startTestHub } from '../helpers.js';

const payload = Buffer.alloc(1000, 1);

for (const engine of ['core', 'aedes'] as const) {
  test(`${engine}: in-process retained publishes are charged to the topic's owner and refused over the budget`, async () => {
    const hub = await startTestHub({ mqttEngine: engine, publishRate: 0, retainedMaxBytesPerClient: 4096, retainedMaxTopicsPerClient: 40 });
    try {
      const put = (topic: string, p: Buffer | string = payload) => hub.bus.publish(topic, p, { qos: 1, retain: true });
      for (let i = 0; i < 4; i++) await put(`lab/r/${i}`);
      await assert.rejects(put('lab/r/4'), RetainedLimitError, 'the hub account is full');
      assert.deepEqual((await hub.bus.retained('lab/r/#')).map((m) => m.topic).sort(), ['lab/r/0', 'lab/r/1', 'lab/r/2', 'lab/r/3'], 'the refused one is not stored');
      await put('lab/r/3', 'smaller'); // a replacement that does not grow the account is admitted
      await put('devices/d9/meta', payload); // another account: the device's
      await put('$fieldlink/x', payload); // the hub's own `$` topics are not charged
      await put('lab/r/0', ''); // clearing frees the account
      await put('lab/r/4');
      assert.equal((await hub.bus.retained('lab/r/4')).length, 1);
      // an MQTT subscriber gets what was admitted, nothing refused
      const sub = await mqtt.connectAsync(`mqtt://127.0.0.1:${hub.mqttPort}`, { reconnectPeriod: 0 });
      const got: string[] = [];
      sub.on('message', (t) => got.push(t));
      await sub.subscribeAsync('lab/r/#', { qos: 1 });
      await assert.rejects(put('lab/r/5'), RetainedLimitError);
      await hub.bus.publish('lab/r/done', 'x', { qos: 1 });
      await new Promise<void>((r) => { const t = setInterval(() => got.includes('lab/r/done') && (clearInterval(t), r()), 5); });
      assert.deepEqual(got.filter((t) => t !== 'lab/r/done').sort(), ['lab/r/1', 'lab/r/2', 'lab/r/3', 'lab/r/4']);
      await sub.endAsync();
    } finally {
      await hub.stop();
    }
  });
}
