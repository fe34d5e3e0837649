/**
 * The README's first command, as a newcomer runs it: the demo hub with three
 * simulated light sensors. A WebSocket client subscribed to devices/+/telemetry
 * receives the readings of all three (the time it took is reported, not asserted:
 * tests never assert on wall-clock time; on an idle machine it is about 1 s), and
 * after a restart the history from before it is still there.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebSocket } from 'ws';
import { FieldlinkClient, type MsgPush } from '@fieldlink/protocol';

const MAIN = fileURLToPath(new URL('../../packages/hub/src/cli/main.ts', import.meta.url));

async function startDemo(dataDir: string): Promise<{ child: ChildProcess; url: string }> {
  // As `npm start` does (`fieldlink hub --simulate 3`), on free ports: this machine already runs Mosquitto on 1883.
  const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', MAIN, 'hub', '--simulate', '3', '--port', '0', '--mqtt-port', '-1', '--data-dir', dataDir]);
  let out = '';
  const url = await new Promise<string>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`hub did not start:\n${out}`)), 20_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /"url":"(http:\/\/[^"]+)".*"msg":"hub listening"/.exec(out);
      if (m) {
        clearTimeout(t);
        resolve(m[1]!);
      }
    });
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  });
  return { child, url };
}

async function stop(child: ChildProcess): Promise<number | null> {
  child.kill('SIGTERM');
  return new Promise((r) => child.once('exit', (code) => r(code)));
}

test('demo: readings of all three sensors reach a WebSocket client, and survive a restart in the store', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'fl-demo-'));
  let { child, url } = await startDemo(dataDir);
  const client = new FieldlinkClient({ url: `${url.replace('http', 'ws')}/ws`, WebSocket: WebSocket as never });
  await client.connect();
  const t0 = Date.now();
  const got: MsgPush[] = [];
  await client.subscribe('devices/+/telemetry', (m) => got.push(m));
  while (new Set(got.map((m) => m.topic)).size < 3 && Date.now() - t0 < 15_000) await new Promise((r) => setTimeout(r, 20));
  const elapsed = Date.now() - t0;
  t.diagnostic(`all three sensors seen ${elapsed} ms after subscribing`);
  assert.deepEqual([...new Set(got.map((m) => m.topic))].sort(), ['devices/sim-1/telemetry', 'devices/sim-2/telemetry', 'devices/sim-3/telemetry'], `within ${elapsed} ms`);
  const lux = (got[0]!.payload as { lux: number }).lux;
  assert.ok(typeof lux === 'number' && lux >= 0);
  client.close();
  // give the group commit a moment, then stop cleanly: nothing may be lost
  await new Promise((r) => setTimeout(r, 300));
  const before = Date.now();
  assert.equal(await stop(child), 0);

  ({ child, url } = await startDemo(dataDir));
  const res = await fetch(`${url}/api/v1/history?device=sim-1&metric=lux&from=${t0 - 60_000}&to=${before}`);
  assert.equal(res.status, 200);
  const body = (await res.json()) as { points?: { ts: number; value: number }[] };
  assert.ok((body.points?.length ?? 0) >= 1, `points from before the restart: ${JSON.stringify(body).slice(0, 300)}`);
  assert.equal(await stop(child), 0);
});
