/**
 * Browsers across a restart of a real `fieldlink hub` process (clean, and kill -9):
 * a `ws` client on the browser protocol subscribed to `devices/+/telemetry`,
 * readings published by MQTT.js at QoS 1 (acknowledged = stored). What the client
 * missed (away before the restart; pushed before the kill but not read) comes back
 * through `sub` with the old epoch+since, every stored reading exactly once; the
 * typed client, which does not resume, backfills from `history` as before.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { WebSocket } from 'ws';
import { FieldlinkClient, type MsgPush } from '@fieldlink/protocol';
import { RawClient, mqttConnect, until, type Frame } from './helpers.js';
import { killHub, startHubProcess, stopHub, type HubProcess } from './hub-process.js';

const cleanups: (() => Promise<unknown>)[] = [];
after(async () => { for (const c of cleanups.reverse()) await c(); });

const ws = (h: HubProcess) => `${h.url.replace('http', 'ws')}/ws`;

async function publish(h: HubProcess, device: string, readings: [ts: number, lux: number][]): Promise<void> {
  const c = await mqttConnect(`mqtt://127.0.0.1:${h.mqttPort}`, { clientId: device });
  for (const [ts, lux] of readings) await c.publishAsync(`devices/${device}/telemetry`, JSON.stringify({ lux, ts }), { qos: 1 });
  await c.endAsync();
}

/** The hub's marks are committed up to `seq` (what a resume from `seq` needs), read from its SQLite file. */
async function marked(dbPath: string, epoch: string, seq: number): Promise<void> {
  const db = new Database(dbPath, { readonly: true, fileMustExist: true });
  try {
    await until(() => Number((db.prepare('SELECT hi FROM resume_epochs WHERE epoch = ?').get(epoch) as { hi?: number } | undefined)?.hi ?? 0) >= seq, 10_000, 'resume marks committed');
  } finally {
    db.close();
  }
}

const key = (f: Frame | MsgPush) => `${String(f.topic).split('/')[1]}@${(f.payload as { ts: number }).ts}`;

for (const how of ['clean', 'kill9'] as const) {
  test(`a browser resumes with epoch+since after a ${how === 'clean' ? 'clean restart' : 'kill -9'}: every stored reading once, no gap`, { timeout: 120_000 }, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fl-resume-proc-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const args = ['--data-dir', dir];
    let hub = await startHubProcess(args);
    cleanups.push(async () => { if (hub.child.exitCode === null && hub.child.signalCode === null) await killHub(hub); });
    const t0 = Date.now() - 120_000;

    const a = await RawClient.open(ws(hub));
    const epoch = ((await a.request('sub', { filter: 'devices/+/telemetry' })).result as { epoch: string }).epoch;
    await publish(hub, 'p', [[t0 + 1, 1], [t0 + 2, 2]]);
    await publish(hub, 'q', [[t0 + 1, 10]]);
    await until(() => a.msgs().length === 3);
    const since = a.msgs().at(-1)!.seq as number;
    // the client stops reading: what is pushed now is sent but never read (as a browser killed with the hub)
    a.ws.pause();
    await publish(hub, 'p', [[t0 + 3, 3], [t0 + 4, 4]]);
    await publish(hub, 'q', [[t0 + 2, 20]]);
    await marked(join(dir, 'fieldlink.db'), epoch, since);
    const seenBefore = a.msgs().map(key);
    a.ws.terminate();
    if (how === 'clean') assert.equal(await stopHub(hub), 0, hub.out());
    else await killHub(hub);

    hub = await startHubProcess(args);
    await publish(hub, 'q', [[t0 + 3, 30]]); // while the browser is still away
    const b = await RawClient.open(ws(hub));
    const reply = await b.request('sub', { filter: 'devices/+/telemetry', epoch, since });
    const r = reply.result as { resumed?: boolean; rebuilt?: number };
    assert.equal(r.resumed, true, JSON.stringify(reply));
    assert.equal(r.rebuilt, 4);
    await publish(hub, 'p', [[t0 + 5, 5]]);
    await b.waitFor((f) => f.op === 'msg' && f.rebuilt === undefined);
    const got = [...seenBefore, ...b.msgs().map(key)];
    assert.equal(new Set(got).size, got.length, `no reading twice: ${got.join(' ')}`);
    const stored = [1, 2, 3, 4, 5].map((i) => `p@${t0 + i}`).concat([1, 2, 3].map((i) => `q@${t0 + i}`));
    assert.deepEqual([...got].sort(), [...stored].sort(), 'every stored reading');
    b.close();
    assert.equal(await stopHub(hub), 0, hub.out());
  });
}

test('the typed client (no resume point) still backfills the gap from history after a kill -9', { timeout: 120_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'fl-resume-proc-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const args = ['--data-dir', dir];
  let hub = await startHubProcess(args);
  cleanups.push(async () => { if (hub.child.exitCode === null && hub.child.signalCode === null) await killHub(hub); });
  const t0 = Date.now() - 120_000;
  // the typed client dials one URL: a proxy-less restart on another port means a new client, as a reloaded page would
  const c = new FieldlinkClient({ url: ws(hub), WebSocket: WebSocket as never, backoff: { minMs: 50, maxMs: 300 } });
  await c.connect();
  const live: MsgPush[] = [];
  await c.subscribe('devices/+/telemetry', (m) => live.push(m));
  await publish(hub, 'p', [[t0 + 1, 1]]);
  await until(() => live.length === 1);
  c.close();
  await publish(hub, 'p', [[t0 + 2, 2], [t0 + 3, 3]]);
  await killHub(hub);
  hub = await startHubProcess(args);
  const c2 = new FieldlinkClient({ url: ws(hub), WebSocket: WebSocket as never });
  await c2.connect();
  await c2.subscribe('devices/+/telemetry', (m) => live.push(m));
  const last = (live.at(-1)!.payload as { ts: number }).ts;
  const gap = await c2.history<{ points: { ts: number; value: number }[] }>({ device: 'p', metric: 'lux', from: last + 1, to: Date.now() });
  assert.deepEqual(gap.points.map((p) => [p.ts, p.value]), [[t0 + 2, 2], [t0 + 3, 3]]);
  c2.close();
  assert.equal(await stopHub(hub), 0, hub.out());
});
