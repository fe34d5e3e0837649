// Alerts end to end with real peers: simulated VEML7700 greenhouses (MQTT) go
// dark at noon, a real HTTP server receives signed webhooks, an MQTT client
// watches alerts/#, the HTTP API and the browser door list and acknowledge;
// a killed device raises an absence alert; SIGHUP-style reload; rules over the API.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { startFleet, type Fleet } from '@fieldlink/device';
import type { Hub } from '../../src/hub.js';
import { RawClient, mqttConnect, startTestHub, until, wsUrl } from '../helpers.js';

const SECRET = 'greenhouse-secret-0123456789';

interface Hook { headers: IncomingMessage['headers']; body: Record<string, unknown>; valid: boolean }

/** A webhook receiver that checks the signature the way docs/alerts.md tells receivers to. */
async function receiver(): Promise<{ server: Server; url: string; hooks: Hook[] }> {
  const hooks: Hook[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const sig = String(req.headers['x-fieldlink-signature'] ?? '');
      const m = /^t=(\d+),sha256=([0-9a-f]{64})$/.exec(sig);
      const want = m ? createHmac('sha256', SECRET).update(`${m[1]}.${text}`).digest() : Buffer.alloc(32);
      const valid = Boolean(m) && timingSafeEqual(want, Buffer.from(m![2]!, 'hex'));
      hooks.push({ headers: req.headers, body: JSON.parse(text) as Record<string, unknown>, valid });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, hooks };
}

const alertOf = (h: Hook) => h.body.alert as { id: string; rule: string; device: string; state: string; ackedBy: string | null };

describe('alerts end to end', () => {
  let dir: string;
  let hub: Hub;
  let fleet: Fleet;
  let rx: Awaited<ReturnType<typeof receiver>>;
  let lux = 20_000; // noon, sunny
  let alertsFile: string;
  const hooksOf = (type: string, rule?: string) => rx.hooks.filter((h) => h.body.type === type && (!rule || alertOf(h).rule === rule));

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fl-alerts-e2e-'));
    rx = await receiver();
    alertsFile = join(dir, 'alerts.yaml');
    await writeFile(alertsFile, [
      'rules:',
      '  - { name: greenhouse-dark, kind: threshold, devices: ["greenhouse-*"], metric: lux, below: 50, hysteresis: 20, for: 1s }',
      '  - { name: greenhouse-silent, kind: absence, devices: ["greenhouse-*"], for: 2s }',
      '  - { name: greenhouse-plunge, kind: rate, devices: ["greenhouse-*"], metric: lux, fall: 1000, window: 2s }',
      '  - { name: greenhouse-down, kind: absence, offline: true, devices: ["greenhouse-*"], for: 1s }',
      'webhooks:',
      `  - { url: "${rx.url}", secret: "${SECRET}", timeout: 2s, backoff: 50ms }`,
    ].join('\n'));
    hub = await startTestHub({ store: `sqlite:${join(dir, 'hub.db')}`, alertsFile });
    fleet = await startFleet({ url: `mqtt://127.0.0.1:${hub.mqttPort}`, count: 2, idPrefix: 'greenhouse-', intervalMs: 100, light: () => lux });
  });

  after(async () => {
    await fleet?.stop();
    await hub?.stop();
    rx?.server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('fires when the greenhouse goes dark at noon: signed webhook, retained MQTT topic, API and browser list; resolves when light returns', async () => {
    const watcher = await mqttConnect(`mqtt://127.0.0.1:${hub.mqttPort}`);
    const seen: { topic: string; text: string; retain: boolean }[] = [];
    watcher.on('message', (topic, p, packet) => seen.push({ topic, text: p.toString(), retain: packet.retain }));
    await watcher.subscribeAsync('alerts/#', { qos: 1 });
    await new Promise((r) => setTimeout(r, 1500)); // bright readings flowing: nothing fires
    assert.equal(hooksOf('alert.firing', 'greenhouse-dark').length, 0);

    lux = 5;
    await until(() => hooksOf('alert.firing', 'greenhouse-dark').length === 2, 15_000, 'two firing webhooks');
    for (const h of rx.hooks) assert.ok(h.valid, 'HMAC signature verifies');
    assert.deepEqual(hooksOf('alert.firing', 'greenhouse-dark').map((h) => alertOf(h).device).sort(), ['greenhouse-1', 'greenhouse-2']);
    assert.equal(rx.hooks[0]!.headers['x-fieldlink-event'], 'alert.firing');
    // The sudden drop is also a rate-of-change alert, which resolves once the bright readings leave its 2 s window.
    await until(() => hooksOf('alert.resolved', 'greenhouse-plunge').length === 2, 10_000, 'rate alerts fired and resolved');
    assert.equal(hooksOf('alert.firing', 'greenhouse-plunge').length, 2);
    await until(() => seen.some((m) => m.topic === 'alerts/greenhouse-dark/greenhouse-1'), 5000, 'alert topic');

    // A late subscriber gets the retained alert; the browser door lists it too.
    const late = await mqttConnect(`mqtt://127.0.0.1:${hub.mqttPort}`);
    const retained: string[] = [];
    late.on('message', (t, p, packet) => packet.retain && retained.push(`${t} ${JSON.parse(p.toString()).state}`));
    await late.subscribeAsync('alerts/greenhouse-dark/+', { qos: 1 });
    await until(() => retained.length === 2, 5000, 'retained alerts');
    assert.deepEqual(retained.sort(), ['alerts/greenhouse-dark/greenhouse-1 firing', 'alerts/greenhouse-dark/greenhouse-2 firing']);
    await late.endAsync();
    const active = (await (await fetch(`${hub.url}/api/v1/alerts?state=active&rule=greenhouse-dark`)).json()) as { alerts: { id: string; device: string }[] };
    assert.equal(active.alerts.length, 2);
    const ws = await RawClient.open(wsUrl(hub, '/ws'));
    const listed = await ws.request('alerts', { state: 'active', device: 'greenhouse-1' });
    assert.equal((listed.result as { alerts: unknown[] }).alerts.length, 1);

    // Acknowledge over the browser door: stored, announced.
    const id = active.alerts.find((a) => a.device === 'greenhouse-1')!.id;
    const acked = await ws.request('ack', { alert: id });
    assert.equal(acked.ok, true, JSON.stringify(acked));
    await until(() => hooksOf('alert.acknowledged').length === 1, 5000, 'ack webhook');
    ws.close();

    // Inside the hysteresis band (50 < 60 < 70): still dark, no resolve.
    lux = 60;
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal(hooksOf('alert.resolved', 'greenhouse-dark').length, 0);
    lux = 20_000;
    await until(() => hooksOf('alert.resolved', 'greenhouse-dark').length === 2, 10_000, 'two resolved webhooks');
    await until(() => seen.filter((m) => m.topic === 'alerts/greenhouse-dark/greenhouse-1' && m.text === '').length === 1, 5000, 'retained cleared');
    assert.ok(seen.some((m) => m.topic === 'alerts/greenhouse-dark/greenhouse-1' && m.text.includes('"resolved"')));
    assert.equal(hooksOf('alert.firing', 'greenhouse-dark').length, 2, 'no duplicate firing notifications');
    await watcher.endAsync();

    // History: both resolved, one acknowledged by the anonymous loopback admin.
    const hist = (await (await fetch(`${hub.url}/api/v1/alerts?rule=greenhouse-dark`)).json()) as { alerts: { state: string; ackedBy: string | null }[] };
    assert.deepEqual(hist.alerts.map((a) => a.state), ['resolved', 'resolved']);
    assert.equal(hist.alerts.filter((a) => a.ackedBy !== null).length, 1);
  });

  it('raises absence and offline alerts for a killed device, not for the one still publishing', async () => {
    await fleet.stopDevice('greenhouse-2', { graceful: false });
    await until(() => hooksOf('alert.firing', 'greenhouse-silent').length === 1, 15_000, 'absence webhook');
    assert.equal(alertOf(hooksOf('alert.firing', 'greenhouse-silent')[0]!).device, 'greenhouse-2');
    // Its last will said offline: the offline rule fires too, for it alone.
    await until(() => hooksOf('alert.firing', 'greenhouse-down').length === 1, 10_000, 'offline webhook');
    assert.equal(alertOf(hooksOf('alert.firing', 'greenhouse-down')[0]!).device, 'greenhouse-2');
  });

  it('changes rules over the HTTP API (API rules only), and reloads the file', async () => {
    const put = (name: string, body: unknown) => fetch(`${hub.url}/api/v1/alerts/rules/${name}`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    let r = await put('bright', { kind: 'threshold', metric: 'lux', above: 1000, devices: ['greenhouse-1'] });
    assert.equal(r.status, 200, await r.clone().text());
    await until(() => hooksOf('alert.firing', 'bright').length === 1, 10_000, 'API rule fires');
    r = await put('greenhouse-dark', { kind: 'absence', for: '1m' });
    assert.equal(r.status, 409);
    assert.equal(((await r.json()) as { error: { name: string } }).error.name, 'RULE_READ_ONLY');
    r = await put('bad', { kind: 'threshold', metric: 'lux' });
    assert.equal(((await r.json()) as { error: { name: string } }).error.name, 'INVALID_RULE');
    r = await fetch(`${hub.url}/api/v1/alerts/rules/bright`, { method: 'DELETE' });
    assert.equal(r.status, 200);
    await until(() => hooksOf('alert.resolved', 'bright').length === 1, 5000, 'deleted rule resolves its alert');

    await writeFile(alertsFile, 'rules: []\n');
    hub.reloadAlerts();
    const rules = (await (await fetch(`${hub.url}/api/v1/alerts/rules`)).json()) as { rules: unknown[] };
    assert.deepEqual(rules.rules, []);
    await writeFile(alertsFile, 'rules: [ { name: x } ]\n');
    assert.throws(() => hub.reloadAlerts(), /"kind"/);
  });
});
