/**
 * Example 2, the Flask app for a Raspberry Pi (examples/python/flask_app.py), as
 * a user runs it: Debian's /usr/bin/python3 with python3-flask and
 * python3-websockets, against a real hub (`fieldlink hub --simulate 2`, started
 * with the CLI), authenticating with a token made by `fieldlink token create`. Its page, in headless Chromium, shows the simulated boards and
 * the Pi's own (synthetic) sensor live, charts the last hour from the hub's
 * history, and round-trips `identify` to a board and to the Pi. Then the link
 * between Flask and the hub is cut and restored (a TCP proxy): the Python client
 * reconnects, re-authenticates and resubscribes, and the page keeps updating.
 * Bad credentials stop the client instead of retrying them forever. SIGTERM
 * stops Flask and the hub learns the Pi is offline.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchChromium, startCuttableProxy } from './browser.js';
import { requirePeers } from './peers.js';

const MAIN = fileURLToPath(new URL('../../packages/hub/src/cli/main.ts', import.meta.url));
const PY_DIR = fileURLToPath(new URL('../../examples/python/', import.meta.url));
const PI = 'pi-test';
const PI_LUX = 250;

interface Proc { child: ChildProcess; out: () => string; exited: Promise<number | null> }

function start(cmd: string, args: string[], cwd?: string): Proc {
  const child = spawn(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return { child, out: () => out, exited };
}

async function waitFor(p: Proc, re: RegExp, what: string, ms = 30_000): Promise<RegExpExecArray> {
  const end = Date.now() + ms;
  for (;;) {
    const m = re.exec(p.out());
    if (m) return m;
    if (p.child.exitCode !== null || Date.now() > end) throw new Error(`${what}: not seen (exit ${p.child.exitCode}):\n${p.out()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const fieldlink = (args: string[]) => spawnSync(process.execPath, ['--conditions=source', '--import', 'tsx', MAIN, ...args], { encoding: 'utf8', timeout: 60_000 });
const flask = (args: string[]) => start('/usr/bin/python3', ['-u', '-B', 'flask_app.py', ...args], PY_DIR);

async function json(url: string, init?: RequestInit): Promise<Record<string, unknown>> {
  return (await (await fetch(url, init)).json()) as Record<string, unknown>;
}

async function until(p: () => Promise<boolean> | boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!(await p())) {
    if (Date.now() > end) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('flask example: live page, last-hour chart and commands in Chromium, across a hub link cut', { timeout: 150_000 }, async () => {
  requirePeers(['python3-flask', 'python3-websockets', 'chromium']);
  const dataDir = mkdtempSync(join(tmpdir(), 'fl-flask-'));
  const made = fieldlink(['token', 'create', '--role', 'operator', '--name', 'flask', '--data-dir', dataDir]);
  assert.equal(made.status, 0, made.stderr);
  const token = (JSON.parse(made.stdout) as { token: string }).token;

  // --simulate needs anonymous MQTT for its in-process devices, so this hub keeps the loopback default;
  // Flask still authenticates with the token (the next test runs a hub that requires it).
  const hub = start(process.execPath, ['--conditions=source', '--import', 'tsx', MAIN, 'hub', '--simulate', '2', '--simulate-interval-ms', '300', '--port', '0', '--mqtt-port', '-1', '--data-dir', dataDir]);
  let app: Proc | undefined;
  let browser: Awaited<ReturnType<typeof launchChromium>> | undefined;
  const proxy = await startCuttableProxy(Number((await waitFor(hub, /"url":"http:\/\/127\.0\.0\.1:(\d+)".*"msg":"hub listening"/, 'hub'))[1]));
  try {
    app = flask(['--hub', `ws://127.0.0.1:${proxy.port}/ws`, '--port', '0', '--token', token, '--light', String(PI_LUX), '--pi-id', PI, '--interval-ms', '300']);
    const base = (await waitFor(app, /Flask page on (http:\/\/127\.0\.0\.1:\d+)\//, 'flask'))[1]!;
    browser = await launchChromium({ viewport: { width: 1000, height: 700 } });
    const page = await browser.context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
    page.on('response', (r) => { if (r.status() >= 400 && new URL(r.url()).pathname !== '/favicon.ico') errors.push(`${r.status()} ${r.url()}`); });
    page.setDefaultTimeout(20_000);
    await page.goto(`${base}/`);

    // every board and the Pi, with live values
    const lux = (d: string) => page.locator(`tr[data-device="${d}"] td.lux`);
    for (const d of ['sim-1', 'sim-2', PI]) await page.waitForFunction((sel) => /\d/.test(document.querySelector(sel)?.textContent ?? ''), `tr[data-device="${d}"] td.lux`);
    assert.equal(Number(await lux(PI).textContent()), PI_LUX);
    assert.equal(await page.locator('#hub-state').textContent(), 'live');
    const health = await json(`${base}/healthz`);
    assert.equal(health.hub, 'open');
    const stamp = (d: string) => page.locator(`tr[data-device="${d}"] td.time`).textContent();
    const moved = async (d: string) => {
      const before = await stamp(d);
      await page.waitForFunction(([sel, b]) => document.querySelector(sel!)?.textContent !== b, [`tr[data-device="${d}"] td.time`, before] as const);
    };
    await moved('sim-1');

    // the chart: the first device is selected and drawn from the hub's history, then live
    await page.waitForFunction(() => Number(document.querySelector('#chart')?.getAttribute('data-points')) >= 3);
    assert.ok(['sim-1', 'sim-2', PI].includes((await page.locator('#chart-device').textContent())!), 'a device is selected for the chart');
    const painted = await page.evaluate(() => {
      const c = document.querySelector('canvas')!;
      const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
      for (let k = 3; k < d.length; k += 4) if (d[k]! > 0) return true;
      return false;
    });
    assert.ok(painted, 'the chart draws the history');
    await page.locator('tr[data-device="sim-2"] td.id').click();
    await page.waitForFunction(() => document.querySelector('#chart-device')?.textContent === 'sim-2' && Number(document.querySelector('#chart')?.getAttribute('data-points')) >= 3);

    const shots = process.env.UPDATE_SCREENSHOTS ? fileURLToPath(new URL('../../examples/images/', import.meta.url)) : mkdtempSync(join(tmpdir(), 'fl-flask-shot-'));
    await page.screenshot({ path: join(shots, 'flask-page.png') });

    // commands round-trip: a simulated board, then the Pi's own sensor (answered by the Flask app)
    for (const d of ['sim-1', PI]) {
      await page.locator(`tr[data-device="${d}"] button[data-call="identify"]`).click();
      await page.waitForFunction((dev) => (document.querySelector('#call-result')?.textContent ?? '').startsWith(`identify → ${dev}: `), d);
      assert.equal(await page.locator('#call-result').textContent(), `identify → ${d}: {"identified":true}`);
    }
    const unknown = await json(`${base}/api/call`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ device: 'nobody', method: 'identify' }) });
    assert.deepEqual([unknown.ok, (unknown.error as { name: string }).name], [false, 'UNKNOWN_DEVICE']);

    // the hub link drops: the page says so, the client reconnects and the page goes on
    proxy.cut();
    await until(async () => (await json(`${base}/healthz`)).hub !== 'open', 20_000, 'flask sees the link down');
    await page.waitForFunction(() => document.querySelector('#hub-state')?.textContent !== 'live');
    proxy.restore();
    await until(async () => { const h = await json(`${base}/healthz`); return h.hub === 'open' && Number(h.reconnects) >= 1; }, 30_000, 'flask reconnects');
    await page.waitForFunction(() => document.querySelector('#hub-state')?.textContent === 'live');
    await moved('sim-1');
    await moved(PI);
    assert.deepEqual(errors.filter((e) => !/ERR_CONNECTION|net::|EventSource/.test(e)), []);

    // SIGTERM: a clean exit, and the Pi's status goes offline on the hub
    app.child.kill('SIGTERM');
    assert.equal(await app.exited, 0, app.out());
    const hubUrl = `http://127.0.0.1:${proxy.port}`;
    const pi = await json(`${hubUrl}/api/v1/devices/${PI}`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(pi.online, false, JSON.stringify(pi));
  } finally {
    await browser?.close();
    app?.child.kill('SIGKILL');
    hub.child.kill('SIGTERM');
    await hub.exited;
    await proxy.close();
  }
});

test('flask example: a refused token stops the client with the reason, no retry loop', { timeout: 60_000 }, async () => {
  requirePeers(['python3-flask', 'python3-websockets']);
  const dataDir = mkdtempSync(join(tmpdir(), 'fl-flask-bad-'));
  const hub = start(process.execPath, ['--conditions=source', '--import', 'tsx', MAIN, 'hub', '--port', '0', '--mqtt-port', '-1', '--anonymous', 'none', '--data-dir', dataDir]);
  let app: Proc | undefined;
  try {
    const port = (await waitFor(hub, /"url":"http:\/\/127\.0\.0\.1:(\d+)".*"msg":"hub listening"/, 'hub'))[1]!;
    app = flask(['--hub', `ws://127.0.0.1:${port}/ws`, '--port', '0', '--token', 'flt_nope_nope']);
    const base = (await waitFor(app, /Flask page on (http:\/\/127\.0\.0\.1:\d+)\//, 'flask'))[1]!;
    await waitFor(app, /closed BAD_CREDENTIALS/, 'the refusal in the log');
    assert.equal((await json(`${base}/healthz`)).hub, 'closed');
    const devices = await fetch(`${base}/api/devices`);
    assert.equal(devices.status, 502);
    assert.match(JSON.stringify(await devices.json()), /BAD_CREDENTIALS/);
    app.child.kill('SIGTERM');
    assert.equal(await app.exited, 0, app.out());
  } finally {
    app?.child.kill('SIGKILL');
    hub.child.kill('SIGTERM');
    await hub.exited;
  }
});
