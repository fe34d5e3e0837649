/**
 * The link end to end: a site hub and a central hub as child processes with
 * their own data directories, a chaos proxy between them, a real MQTT.js device
 * publishing QoS 1 at the site. Invariant checked after every disturbance:
 * every reading the site acknowledged (PUBACK) is in central's store, once
 * (the store keeps one point per (device, metric, ts); the link counts the
 * duplicates it removed), with no gap record (no bound is reached here).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { WebSocket } from 'ws';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { FieldlinkClient } from '@fieldlink/protocol';
import { PYTHON, requirePeers } from '../../../../test/e2e/peers.js';
import { startChaosProxy } from './chaos-proxy.js';
import { FAST, addSite, linkStatus, sleep, startHubProc, stopHubProc, until, type HubProc } from './procs.js';

const T0 = Date.now() - 60_000;

/** `calls`: command requests the device received, by method (a command must arrive at most once). */
interface Device { client: MqttClient; acked: Set<number>; next: number; calls: Map<string, number> }

async function device(mqttPort: number, id: string, d?: Device): Promise<Device> {
  const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${mqttPort}`, { clientId: id, reconnectPeriod: 0, protocolVersion: 5 });
  client.on('error', () => undefined);
  const calls = d?.calls ?? new Map<string, number>();
  // A command handler, as a device has: `ping` answers with the params it got.
  await client.subscribeAsync(`devices/${id}/cmd/+`, { qos: 1 });
  client.on('message', (topic, payload) => {
    const m = /^devices\/[^/]+\/cmd\/([^/]+)$/.exec(topic);
    if (!m) return;
    const req = JSON.parse(payload.toString()) as { id: string; params: unknown };
    calls.set(m[1]!, (calls.get(m[1]!) ?? 0) + 1);
    client.publish(`${topic}/res`, JSON.stringify({ id: req.id, ok: true, result: { echo: req.params } }), { qos: 1 });
  });
  await client.publishAsync(`devices/${id}/status`, JSON.stringify({ online: true }), { qos: 1, retain: true });
  return { client, acked: d?.acked ?? new Set(), next: d?.next ?? 0, calls };
}

/** Publish `n` readings QoS 1; a reading counts as acknowledged once its PUBACK arrived. */
async function publish(d: Device, id: string, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const k = d.next++;
    await d.client.publishAsync(`devices/${id}/telemetry`, JSON.stringify({ n: k, ts: T0 + k }), { qos: 1 });
    d.acked.add(k);
  }
}

async function centralValues(central: HubProc, dev: string): Promise<number[]> {
  const r = await fetch(`${central.url}/api/v1/history?device=${encodeURIComponent(dev)}&metric=n&from=${T0}&to=${T0 + 100_000}&limit=10000`);
  const body = (await r.json()) as { points?: { ts: number; value: number }[] };
  return (body.points ?? []).map((p) => p.value);
}

async function allThere(central: HubProc, d: Device, dev: string): Promise<void> {
  let last: number[] = [];
  await until(`central to hold all ${d.acked.size} acknowledged readings`, async () => {
    last = await centralValues(central, dev).catch(() => last);
    return [...d.acked].every((k) => last.includes(k));
  }, 30_000).catch((err: Error) => { throw new Error(`${err.message}: missing ${[...d.acked].filter((k) => !last.includes(k)).slice(0, 20).join(',')}`); });
  assert.equal(new Set(last).size, last.length, 'no reading twice');
}

async function links(h: HubProc): Promise<{ site: Record<string, unknown> | null; sites: Record<string, unknown>[] }> {
  return (await (await fetch(`${h.url}/api/v1/links`)).json()) as never;
}

test('link: readings reach central exactly once through RST cuts, a blackhole, a mid-frame cut and kill -9 of each side; commands go down', async (t) => {
  const centralDir = mkdtempSync(join(tmpdir(), 'fl-central-'));
  const siteDir = mkdtempSync(join(tmpdir(), 'fl-site-'));
  const token = addSite(centralDir, 's1');
  const tokenFile = join(siteDir, 'token');
  writeFileSync(tokenFile, token);
  let central = await startHubProc(centralDir, ['--port', '0', '--mqtt-port', '0', ...FAST]);
  const centralPort = central.port;
  const proxy = await startChaosProxy(() => centralPort);
  const siteArgs = ['--port', '0', '--mqtt-port', '-1', '--link-url', `ws://127.0.0.1:${proxy.port}/link`, '--link-token-file', tokenFile, '--link-name', 'site1', '--mqtt-engine', 'core', '--publish-rate', '100000', ...FAST];
  let site = await startHubProc(siteDir, siteArgs);
  t.after(async () => {
    await Promise.allSettled([stopHubProc(site, 'SIGKILL'), stopHubProc(central, 'SIGKILL'), proxy.close()]);
  });
  let d = await device(site.mqttPort, 'dev-1');

  await publish(d, 'dev-1', 200);
  await allThere(central, d, 's1:dev-1');
  t.diagnostic('200 readings through the link');

  // A second device that nobody here wrote: Python paho-mqtt, QoS 1, over a cut.
  requirePeers(['python3-paho-mqtt']);
  proxy.cut();
  const py = spawnSync(PYTHON, [fileURLToPath(new URL('../fixtures/link_paho.py', import.meta.url)), '127.0.0.1', String(site.mqttPort), 'paho-1', '100', String(T0)], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(py.status, 0, py.stderr);
  const pahoAcked = (JSON.parse(py.stdout) as { acked: number[] }).acked;
  assert.equal(pahoAcked.length, 100);
  proxy.restore();
  await allThere(central, { acked: new Set(pahoAcked) } as Device, 's1:paho-1');

  // A command from a central browser reaches the site's device and its answer comes back.
  const browser = new FieldlinkClient({ url: `${central.url.replace('http', 'ws')}/ws`, WebSocket: WebSocket as never });
  await browser.connect();
  t.after(() => { browser.close(); d.client.end(true); });
  await until('the site device to be online at central', async () => {
    const devs = (await (await fetch(`${central.url}/api/v1/devices`)).json()) as { id: string; online: boolean }[];
    return devs.some((x) => x.id === 's1:dev-1' && x.online);
  });
  assert.deepEqual(await browser.call('s1:dev-1', 'ping', { x: 1 }, 5000), { echo: { x: 1 } });

  // RST cut: the site keeps acknowledging its device; during the cut a command is SITE_OFFLINE at once.
  proxy.cut();
  await until('central to see the site gone', async () => !((await links(central)).sites.find((s) => s.site === 's1')?.connected));
  await publish(d, 'dev-1', 200);
  await assert.rejects(browser.call('s1:dev-1', 'ping', {}, 5000), (e: { code?: number; name?: string }) => e.name === 'SITE_OFFLINE' || e.code === 2010);
  // Queued with a TTL: one that outlives the cut is executed once; one that expires first never is.
  const long = await browser.request<{ queued: boolean; id: string }>('call', { device: 's1:dev-1', method: 'q-long', params: { a: 1 }, queue: { ttl: 60_000 } });
  const short = await browser.request<{ queued: boolean }>('call', { device: 's1:dev-1', method: 'q-short', queue: { ttl: 200 } });
  assert.equal(long.queued, true);
  assert.equal(short.queued, true);
  await sleep(1000);
  proxy.restore();
  await allThere(central, d, 's1:dev-1');
  await until('the queued command to reach the device', () => d.calls.get('q-long') === 1);
  t.diagnostic('RST cut: caught up');

  // Blackhole: bytes stop, sockets stay open; the site must notice by itself (no frame / no ack progress).
  const dead = (s: { disconnects: Record<string, number> }) => Object.entries(s.disconnects).filter(([r]) => /^no (frame|acknowledgement)/.test(r)).reduce((a, [, n]) => a + n, 0);
  const before = dead((await links(site)).site as { disconnects: Record<string, number> });
  proxy.blackhole();
  await publish(d, 'dev-1', 100);
  await until('the site to declare the blackholed link dead (no frame / no ack progress)', async () => dead((await links(site)).site as { disconnects: Record<string, number> }) > before, 15_000);
  t.diagnostic(`blackhole: ${JSON.stringify(((await links(site)).site as { disconnects: unknown }).disconnects)}`);
  proxy.reset();
  proxy.restore();
  await allThere(central, d, 's1:dev-1');

  // Mid-frame cut: the next large chunk from the site is cut after 100 bytes.
  proxy.cutMidFrame(100);
  await publish(d, 'dev-1', 300);
  await allThere(central, d, 's1:dev-1');
  t.diagnostic('mid-frame cut: caught up');

  // kill -9 of central while the device keeps publishing; central restarts on the same port and data.
  await stopHubProc(central, 'SIGKILL');
  await publish(d, 'dev-1', 200);
  central = await startHubProc(centralDir, ['--port', String(centralPort), '--mqtt-port', '0', ...FAST]);
  await allThere(central, d, 's1:dev-1');
  t.diagnostic('kill -9 central: caught up');

  // kill -9 of the site. PUBACK is sent before the commit today (the durability work makes it after):
  // let the group commit pass first, so every acknowledged reading is in the site's outbox.
  proxy.cut();
  await publish(d, 'dev-1', 200);
  await sleep(500);
  d.client.end(true);
  await stopHubProc(site, 'SIGKILL');
  site = await startHubProc(siteDir, siteArgs);
  proxy.restore();
  d = await device(site.mqttPort, 'dev-1', d);
  await publish(d, 'dev-1', 100);
  await allThere(central, d, 's1:dev-1');
  t.diagnostic('kill -9 site: caught up');
  assert.equal(d.calls.get('q-long'), 1, 'a queued command runs once, across cuts and restarts of both sides');
  assert.equal(d.calls.get('q-short'), undefined, 'a queued command is never delivered past its deadline');

  const st = linkStatus(centralDir).central.find((c) => c.site === 's1')!;
  assert.deepEqual(st.events.filter((e) => e.kind === 'gap'), [], 'no gap: no bound was reached');
  const s1 = (await links(central)).sites.find((s) => s.site === 's1') as { duplicates: number; refused: number; applied: { telemetry: number } };
  t.diagnostic(`central counters: ${JSON.stringify(s1)}`);
  assert.equal(s1.refused, 0);
  browser.close();
  d.client.end(true);
});
