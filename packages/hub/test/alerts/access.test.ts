// Alerts behind authentication: who may list, acknowledge and change rules
// (docs/alerts.md), and bad alert requests on HTTP and /ws answered with coded
// errors while a legitimate device keeps publishing and a viewer keeps receiving.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { securedHub, type Secured } from '../security/fixture.js';
import { RawClient, mqttConnect, until, wsUrl } from '../helpers.js';

describe('alerts: roles and bad input', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fl-alerts-acl-'));
  let s: Secured;
  let device: MqttClient;
  let viewer: RawClient;
  let timer: NodeJS.Timeout;
  let alertId: string;
  const api = (path: string, token: string | undefined, init: RequestInit = {}) =>
    fetch(`${s.hub.url}${path}`, { ...init, headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(init.headers as Record<string, string> | undefined) } });
  const errName = async (r: Response) => ((await r.json()) as { error?: { name: string } }).error?.name;
  const status405 = async (r: Response) => (r.status === 405 && r.headers.get('allow') ? errName(r) : `status ${r.status}`);
  const json = { 'content-type': 'application/json' };

  before(async () => {
    const file = join(dir, 'alerts.yaml');
    writeFileSync(file, 'rules:\n  - { name: bright, kind: threshold, devices: [d1], metric: lux, above: 100 }\n');
    s = await securedHub({ alertsFile: file });
    device = await mqttConnect(`mqtt://127.0.0.1:${s.hub.mqttPort}`, { username: 'd1', password: s.secret.d1 });
    let n = 0;
    timer = setInterval(() => void device.publishAsync('devices/d1/telemetry', JSON.stringify({ lux: 500 + (n++ % 3) })).catch(() => undefined), 20);
    viewer = await RawClient.open(wsUrl(s.hub, '/ws'));
    assert.equal((await viewer.request('auth', { token: s.tokens.viewer })).ok, true);
    assert.equal((await viewer.request('sub', { filter: 'devices/d1/telemetry' })).ok, true);
    await until(() => s.hub.alerts!.firing().length === 1, 5000, 'alert firing');
    alertId = s.hub.alerts!.firing()[0]!.id;
  });
  after(async () => {
    clearInterval(timer);
    viewer.close();
    await device.endAsync();
    await s.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('viewers list alerts and rules but cannot acknowledge or change; operators acknowledge; devices and strangers see nothing', async () => {
    assert.equal(((await (await api('/api/v1/alerts?state=active', s.tokens.viewer)).json()) as { alerts: unknown[] }).alerts.length, 1);
    assert.equal((await api('/api/v1/alerts/rules', s.tokens.viewer)).status, 200);
    assert.equal(await errName(await api(`/api/v1/alerts/${alertId}/ack`, s.tokens.viewer, { method: 'POST', headers: json })), 'FORBIDDEN');
    assert.equal(await errName(await api('/api/v1/alerts/rules/x', s.tokens.viewer, { method: 'PUT', headers: json, body: '{"kind":"absence","for":"1m"}' })), 'FORBIDDEN');
    assert.equal(await errName(await api('/api/v1/alerts/rules/x', s.tokens.operator, { method: 'PUT', headers: json, body: '{"kind":"absence","for":"1m"}' })), 'FORBIDDEN');
    assert.equal(await errName(await api('/api/v1/alerts/rules/x', s.tokens.operator, { method: 'DELETE' })), 'FORBIDDEN');
    const acked = await api(`/api/v1/alerts/${alertId}/ack`, s.tokens.operator, { method: 'POST', headers: json });
    assert.equal(acked.status, 200);
    assert.equal(((await acked.json()) as { alert: { ackedBy: string } }).alert.ackedBy, 'operatorTok1');
    assert.equal(await errName(await api('/api/v1/alerts/rules', s.tokens.device)), 'FORBIDDEN');
    assert.deepEqual(((await (await api('/api/v1/alerts?state=active', s.tokens.device)).json()) as { alerts: unknown[] }).alerts, []);
    assert.equal(await errName(await api('/api/v1/alerts', undefined)), 'UNAUTHENTICATED');
    const ws = await RawClient.open(wsUrl(s.hub, '/ws'));
    assert.equal((await ws.request('rules')).error?.name, 'UNAUTHENTICATED');
    ws.close();
  });

  it('answers bad alert requests with coded errors on HTTP and /ws while the device and the viewer carry on', async () => {
    const before = viewer.msgs('devices/d1/telemetry').length;
    const op = s.tokens.operator;
    const http: [string, RequestInit, string][] = [
      [`/api/v1/alerts?state=bogus`, {}, 'WRONG_TYPE'],
      [`/api/v1/alerts?limit=5000`, {}, 'LIMIT_TOO_LARGE'],
      [`/api/v1/alerts?limit=-1`, {}, 'WRONG_TYPE'],
      [`/api/v1/alerts?from=now&to=-1h`, {}, 'BAD_TIME_RANGE'],
      [`/api/v1/alerts?from=yesterday-ish`, {}, 'BAD_TIME_RANGE'],
      [`/api/v1/alerts/not-an-id`, {}, 'UNKNOWN_ALERT'],
      [`/api/v1/alerts/%E0%A4%A/ack`, { method: 'POST', headers: json }, 'WRONG_TYPE'],
      [`/api/v1/alerts/00000000-0000-0000-0000-000000000000/ack`, { method: 'POST', headers: json }, 'UNKNOWN_ALERT'],
      [`/api/v1/alerts/${alertId}/ack`, { method: 'POST' }, 'WRONG_TYPE'],
      [`/api/v1/alerts/${alertId}/ack`, { method: 'POST', headers: { ...json, origin: 'https://evil.example' } }, 'ORIGIN_REJECTED'],
      [`/api/v1/alerts/${alertId}/ack`, { method: 'GET' }, 'WRONG_TYPE'], // 405 with Allow: POST
      [`/api/v1/alerts/rules/x`, { method: 'PUT', headers: json, body: '{not json' }, 'BAD_JSON'],
      [`/api/v1/alerts/rules/x`, { method: 'PUT', headers: json, body: JSON.stringify({ pad: 'x'.repeat(20_000) }) }, 'BAD_JSON'],
      [`/api/v1/alerts/rules/x`, { method: 'PUT', body: '{}' }, 'WRONG_TYPE'],
      [`/api/v1/alerts/rules/x`, { method: 'POST', headers: json }, 'WRONG_TYPE'],
      [`/api/v1/alerts/rules/${'x'.repeat(100)}`, { method: 'DELETE' }, 'INVALID_RULE'],
    ];
    for (const [path, init, want] of http) assert.equal(await errName(await api(path, op, init)), want, `${init.method ?? 'GET'} ${path}`);
    assert.equal(await status405(await api('/api/v1/alerts/rules', op, { method: 'DELETE' })), 'WRONG_TYPE');
    const ws = await RawClient.open(wsUrl(s.hub, '/ws'));
    assert.equal((await ws.request('auth', { token: op })).ok, true);
    const frames: [string, Record<string, unknown>, string][] = [
      ['alerts', { state: 7 }, 'WRONG_TYPE'],
      ['alerts', { limit: 'many' }, 'WRONG_TYPE'],
      ['ack', {}, 'MISSING_FIELD'],
      ['ack', { alert: 'x'.repeat(5000) }, 'UNKNOWN_ALERT'],
      ['putRule', { rule: 'threshold' }, 'WRONG_TYPE'],
      ['putRule', { rule: { name: 'x', kind: 'absence', for: '1m' } }, 'FORBIDDEN'],
      ['deleteRule', { name: 'bright' }, 'FORBIDDEN'],
      ['deleteRule', {}, 'MISSING_FIELD'],
    ];
    for (const [opName, fields, want] of frames) assert.equal((await ws.request(opName, fields)).error?.name, want, `${opName} ${JSON.stringify(fields).slice(0, 60)}`);
    assert.equal((await ws.request('ping')).ok, true); // the connection is still served
    ws.close();
    await until(() => viewer.msgs('devices/d1/telemetry').length > before + 5, 5000, 'viewer keeps receiving the device');
    assert.equal(viewer.closed, undefined);
  });
});
