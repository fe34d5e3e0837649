// Webhook delivery against real HTTP receivers: retries with backoff after 5xx,
// no retry after 4xx, timeouts of a hanging receiver, the bounded queue
// (oldest dropped, counted), signatures; and a hub whose only receiver hangs
// keeps storing every reading a device sends.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createHmac } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { Webhook, sign, type WebhookConfig } from '../../src/services/alerts/webhook.js';
import { mqttConnect, startTestHub, until } from '../helpers.js';

async function serve(handler: (req: IncomingMessage, res: ServerResponse, body: string) => void) {
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => handler(req, res, body));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  return { url, close: () => { server.closeAllConnections(); server.close(); } };
}

const cfg = (url: string, over: Partial<WebhookConfig> = {}): WebhookConfig => ({ url, secret: 'x'.repeat(16), timeoutMs: 2000, attempts: 5, maxQueue: 100, backoffMs: 20, maxBackoffMs: 100, ...over });

describe('webhooks', () => {
  it('retries 5xx with backoff, keeps the delivery id, and signs each attempt', async () => {
    const got: { delivery: string; sig: string; body: string }[] = [];
    const srv = await serve((req, res, body) => {
      got.push({ delivery: String(req.headers['x-fieldlink-delivery']), sig: String(req.headers['x-fieldlink-signature']), body });
      res.writeHead(got.length <= 2 ? 503 : 200).end();
    });
    const h = new Webhook(cfg(srv.url));
    h.send('alert.firing', { alert: { id: 'a' } });
    await until(() => h.counts.delivered === 1, 5000, 'delivered');
    assert.equal(got.length, 3);
    assert.equal(h.counts.retries, 2);
    assert.equal(new Set(got.map((g) => g.delivery)).size, 1);
    for (const g of got) {
      const t = Number(/t=(\d+)/.exec(g.sig)![1]);
      assert.equal(g.sig, sign('x'.repeat(16), t, g.body));
      assert.equal(g.sig.split('sha256=')[1], createHmac('sha256', 'x'.repeat(16)).update(`${t}.${g.body}`).digest('hex'));
    }
    h.stop();
    srv.close();
  });

  it('gives up at once on a 4xx, and after `attempts` on a receiver that refuses connections', async () => {
    let n = 0;
    const srv = await serve((_q, res) => { n++; res.writeHead(400).end(); });
    const h = new Webhook(cfg(srv.url));
    h.send('alert.firing', {});
    await until(() => h.counts.failed === 1, 5000, 'failed');
    assert.equal(n, 1);
    srv.close();
    const gone = new Webhook(cfg(srv.url, { attempts: 3 }));
    gone.send('alert.firing', {});
    await until(() => gone.counts.failed === 1, 5000, 'failed after retries');
    assert.equal(gone.counts.retries, 2);
  });

  it('times out a hanging receiver, and its bounded queue drops the oldest events (counted)', async () => {
    let n = 0;
    const srv = await serve(() => { n++; }); // never answers
    const h = new Webhook(cfg(srv.url, { timeoutMs: 100, attempts: 2, maxQueue: 3 }));
    for (let i = 0; i < 10; i++) h.send('alert.firing', { i });
    assert.equal(h.stats().queued, 3);
    assert.equal(h.counts.dropped, 6); // one in flight, three queued, six dropped
    await until(() => h.counts.failed === 4, 10_000, 'each kept event tried and given up');
    assert.equal(n, 8);
    h.stop();
    srv.close();
  });

  it('a hanging receiver never slows ingest: every reading is stored while the webhook times out', async () => {
    let calls = 0;
    const srv = await serve(() => { calls++; });
    const dir = await mkdtemp(join(tmpdir(), 'fl-hook-'));
    const file = join(dir, 'alerts.yaml');
    // Every reading fires or resolves: a notification per reading into a receiver that never answers.
    await writeFile(file, `rules:\n  - { name: flip, kind: threshold, metric: v, above: 0.5 }\nwebhooks:\n  - { url: "${srv.url}", secret: "${'s'.repeat(16)}", timeout: 5s, maxQueue: 10 }\n`);
    const hub = await startTestHub({ store: `sqlite:${join(dir, 'hub.db')}`, alertsFile: file, publishRate: 0 });
    try {
      const dev = await mqttConnect(`mqtt://127.0.0.1:${hub.mqttPort}`, { clientId: 'flipper' });
      const N = 2000;
      const t0 = Date.UTC(2026, 0, 1);
      for (let i = 0; i < N; i++) await dev.publishAsync('devices/flipper/telemetry', JSON.stringify({ v: i % 2, ts: t0 + i }), { qos: 1 });
      await dev.endAsync();
      const count = async () => hub.store!.count({ device: 'flipper', metric: 'v', from: t0, to: t0 + N });
      let stored = 0;
      const end = Date.now() + 10_000;
      while ((stored = await count()) < N && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
      assert.equal(stored, N);
      const s = hub.alerts!.stats() as { fired: number; resolved: number; webhooks: { dropped: number; queued: number }[] };
      assert.equal(s.fired + s.resolved, N - 1); // the first reading (0) is no change
      assert.ok(s.webhooks[0]!.dropped >= N - 1 - 11, JSON.stringify(s.webhooks));
      assert.ok(s.webhooks[0]!.queued <= 10);
      assert.ok(calls >= 1);
      const metrics = await (await fetch(`${hub.url}/metrics`)).text();
      assert.match(metrics, /fieldlink_alert_webhooks\{url="http:\/\/127\.0\.0\.1:\d+\/",counter="dropped"\} [1-9]/);
      assert.match(metrics, /fieldlink_alerts\{counter="evaluations"\} [1-9]/);
    } finally {
      await hub.stop();
      srv.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
