/**
 * Two hubs linked both ways (each is a site of the other), in this process:
 * each gets the other's devices once and never its own back (loop prevention by
 * namespace), both ends report the link in /metrics with the peer label, and a
 * revoked site token closes the open link and refuses its reconnects.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openLinkStore, openStore } from '../../src/storage/index.js';
import { makeToken, newTokenId } from '../../src/auth/secrets.js';
import type { Hub } from '../../src/hub.js';
import { mqttConnect, startTestHub, until } from '../helpers.js';
import { startChaosProxy } from './chaos-proxy.js';

async function addSiteToken(dataDir: string, site: string): Promise<string> {
  const store = await openStore({ dataDir });
  const ls = openLinkStore({ dataDir });
  const id = newTokenId();
  const { token, hash } = makeToken(id);
  await ls.putSiteToken({ id, site, hash, createdAt: Date.now(), revokedAt: null });
  await ls.close();
  await store.close();
  return token;
}

test('two hubs linked both ways: one copy of each device on each side, metrics with the peer, revocation closes the link', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fl-link-loop-'));
  const aDir = join(dir, 'a'), bDir = join(dir, 'b');
  writeFileSync(join(dir, 'a.token'), await addSiteToken(bDir, 'a')); // A is site "a" of B
  writeFileSync(join(dir, 'b.token'), await addSiteToken(aDir, 'b')); // B is site "b" of A
  const hubs: { a?: Hub; b?: Hub } = {};
  const toA = await startChaosProxy(() => hubs.a?.httpPort);
  const toB = await startChaosProxy(() => hubs.b?.httpPort);
  t.after(async () => { await Promise.allSettled([hubs.a?.stop(), hubs.b?.stop()]); await Promise.allSettled([toA.close(), toB.close()]); });
  const fast = { store: 'sqlite', mqttEngine: 'core', publishRate: 0, linkPingMs: 200, linkDeadMs: 2000, linkBackoffBaseMs: 50, linkBackoffMaxMs: 200 } as const;
  hubs.a = await startTestHub({ ...fast, dataDir: aDir, linkUrl: `ws://127.0.0.1:${toB.port}/link`, linkTokenFile: join(dir, 'a.token') });
  hubs.b = await startTestHub({ ...fast, dataDir: bDir, linkUrl: `ws://127.0.0.1:${toA.port}/link`, linkTokenFile: join(dir, 'b.token') });
  const { a, b } = hubs as { a: Hub; b: Hub };
  await until(() => a.link.site!.connected && b.link.site!.connected, 10_000, 'both links up');

  const x = await mqttConnect(`mqtt://127.0.0.1:${a.mqttPort}`, { clientId: 'x', protocolVersion: 5 });
  const y = await mqttConnect(`mqtt://127.0.0.1:${b.mqttPort}`, { clientId: 'y', protocolVersion: 5 });
  t.after(() => { x.end(true); y.end(true); });
  const ts = Date.now() - 10_000;
  for (let k = 0; k < 20; k++) {
    await x.publishAsync('devices/x/telemetry', JSON.stringify({ n: k, ts: ts + k }), { qos: 1 });
    await y.publishAsync('devices/y/telemetry', JSON.stringify({ n: k, ts: ts + k }), { qos: 1 });
  }
  const count = (h: Hub, device: string) => h.store!.count({ device, metric: 'n', from: ts, to: ts + 100 });
  const t0 = Date.now();
  while ((await count(b, 'a:x')) < 20 || (await count(a, 'b:y')) < 20) {
    if (Date.now() - t0 > 15_000) throw new Error('readings did not cross both ways');
    await new Promise((r) => setTimeout(r, 50));
  }
  // Give a loop time to show itself, then check nothing came back.
  await new Promise((r) => setTimeout(r, 1500));
  const ids = (h: Hub) => h.registry.list().map((d) => d.id).sort();
  assert.deepEqual(ids(a), ['b:y', 'x']);
  assert.deepEqual(ids(b), ['a:x', 'y']);
  assert.equal(await count(a, 'b:a:x'), 0);
  assert.equal(a.link.site!.stats.sent.telemetry, 20, 'A forwarded only its own device');

  const metrics = await (await fetch(`${a.url}/metrics`)).text();
  assert.match(metrics, /fieldlink_link_connected\{role="site",peer="central"\} 1/);
  assert.match(metrics, /fieldlink_link_connected\{role="central",peer="b"\} 1/);
  assert.match(metrics, /fieldlink_link_acked_total\{role="central",peer="b",lane="telemetry"\} 20/);
  assert.match(metrics, /fieldlink_link_lag_seconds\{role="site",peer="central",lane="telemetry"\} 0/);

  // Revoke A's token at B: the open link closes and reconnects are refused.
  const ls = openLinkStore({ dataDir: bDir });
  assert.equal(await ls.revokeSite('a', Date.now()), 1);
  await ls.close();
  await until(() => !a.link.site!.connected && Object.keys(a.link.site!.stats.snapshot().disconnects).some((r) => r.includes('HTTP 401')), 15_000, 'the revoked site to be refused');
  assert.equal(b.link.central!.snapshot().find((s) => s.site === 'a')?.connected, false);
});
