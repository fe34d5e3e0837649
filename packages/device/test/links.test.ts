import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createLink, linkKind } from '../src/sim/links.js';
import { MqttLink } from '../src/sim/link-mqtt.js';
import { WsDeviceLink } from '../src/sim/link-ws.js';

const base = { deviceId: 'd1', meta: {}, onCommand: async () => null };

test('URL picks the door: /ws/device is the JSON door, everything else MQTT', () => {
  assert.ok(createLink({ ...base, url: 'ws://h:8080/ws/device' }) instanceof WsDeviceLink);
  assert.ok(createLink({ ...base, url: 'wss://h/ws/device/' }) instanceof WsDeviceLink);
  assert.ok(createLink({ ...base, url: 'ws://h:8080/mqtt' }) instanceof MqttLink);
  assert.ok(createLink({ ...base, url: 'mqtt://h:1883' }) instanceof MqttLink);
  assert.equal(linkKind('ws://h/ws/device'), 'ws-device');
  assert.equal(linkKind('mqtts://h'), 'mqtt');
  assert.throws(() => createLink({ ...base, url: 'h:1883' }), /unsupported hub URL scheme 'h:'/);
  assert.throws(() => createLink({ ...base, url: 'not a url' }), /invalid hub URL/);
});
