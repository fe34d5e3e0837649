/**
 * `fieldlink device|user|token …` against a real store, then a hub on that
 * store: the printed secrets work exactly once they exist, and stop working
 * when rotated, revoked or removed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { RawClient, startTestHub, until, wsUrl } from '../helpers.js';
import { cli } from './fixture.js';

function connack(url: string, username: string, password: string): Promise<number> {
  return new Promise((resolve) => {
    const c = mqtt.connect(url, { username, password, clientId: username, reconnectPeriod: 0 }); // a device's client id is its id
    c.once('connect', () => (c.end(true), resolve(0)));
    c.once('error', (e: Error & { code?: number }) => (c.end(true), resolve(e.code ?? -1)));
  });
}

test('identities made with the CLI are what the hub accepts', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'fl-admin-'));
  const d = ['--data-dir', dataDir, '--json'];
  const added = await cli(['device', 'add', 'lamp-1', ...d]);
  assert.equal(added.code, 0, added.err);
  const { secret } = JSON.parse(added.out) as { secret: string };
  assert.ok(secret.length >= 40);
  assert.equal((await cli(['device', 'add', 'lamp-1', ...d])).code, 2, 'adding twice is refused');
  assert.equal((await cli(['device', 'add', 'bad id', ...d])).code, 2);
  const user = await cli(['user', 'add', 'ann', '--role', 'operator', '--password-stdin', ...d], 'a long password\n');
  assert.equal(user.code, 0, user.err);
  assert.equal((await cli(['user', 'add', 'bob', '--password-stdin', ...d], 'short\n')).code, 2, 'short passwords are refused');
  const tok = JSON.parse((await cli(['token', 'create', '--role', 'viewer', '--expires', '1d', '--name', 'grafana', ...d])).out) as { id: string; token: string };
  const list = JSON.parse((await cli(['token', 'list', ...d])).out) as { id: string; state: string }[];
  assert.deepEqual(list.map((t) => [t.id, t.state]), [[tok.id, 'active']]);
  const devices = JSON.parse((await cli(['device', 'list', ...d])).out) as { device: string }[];
  assert.deepEqual(devices.map((x) => x.device), ['lamp-1']);
  assert.ok(!(await cli(['device', 'list', ...d])).out.includes(secret), 'secrets are never listed');

  const hub = await startTestHub({ store: 'sqlite', dataDir, anonymous: 'none' });
  const url = `mqtt://127.0.0.1:${hub.mqttPort}`;
  assert.equal(await connack(url, 'lamp-1', secret), 0);
  assert.equal(await connack(url, 'ann', 'a long password'), 0, 'users may use MQTT too');
  const b = await RawClient.open(wsUrl(hub, '/ws'));
  assert.equal((await b.request('auth', { token: tok.token })).ok, true);

  const rotated = JSON.parse((await cli(['device', 'rotate', 'lamp-1', ...d])).out) as { secret: string };
  assert.equal(await connack(url, 'lamp-1', secret), 4, 'the old secret stopped working');
  assert.equal(await connack(url, 'lamp-1', rotated.secret), 0);
  assert.equal((await cli(['token', 'revoke', tok.id, ...d])).code, 0);
  await until(() => b.closed !== undefined, 10_000, 'the socket opened with the revoked token closes');
  assert.equal(b.closed!.code, 4003);
  const b2 = await RawClient.open(wsUrl(hub, '/ws'));
  assert.equal((await b2.request('auth', { token: tok.token })).error?.name, 'BAD_CREDENTIALS');
  b2.close();
  assert.equal((await cli(['device', 'remove', 'lamp-1', ...d])).code, 0);
  assert.equal(await connack(url, 'lamp-1', rotated.secret), 4);
  b.close();
  await hub.stop();
});
