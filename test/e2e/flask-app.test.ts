/**
 * Example 2, the Flask app for a Raspberry Pi (examples/python/flask_app.py), as
 * a user runs it: Debian's /usr/bin/python3 with python3-flask and
 * python3-websockets, against a real hub (`fieldlink hub --simulate 2`, started
 * with the CLI), authenticating with a token made by `fieldlink token create`. Its page, in headless Chromium, shows the simulated boards and
 * the Pi's own (synthetic) sensor live, charts the last hour from the hub's
 * history, and round-trips `identify` to a board and to the Pi. Then the link
 * between Flask and the hub is cut and restored (a TCP proxy): the Python client
 * reconnects, re-authenticates and resubscribes, and the page keeps updating
 * (Flask is also started while the hub is unreachable: it connects later).
 * SIGTERM stops Flask and the hub learns the Pi is offline. On a hub that
 * requires authentication, a user (password from FIELDLINK_PASSWORD) publishes
 * the Pi's sensor and answers its command, and a refused token stops the client
 * once instead of retrying it forever.
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

function start(cmd: string, args: string[], cwd?: string, env: Record<string, string> = {}): Proc {
  const child = spawn(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
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
    // Flask starts while the hub is unreachable: it serves at once and connects when it can.
    proxy.cut();
    app = flask(['--hub', `ws://127.0.0.1:${proxy.port}/ws`, '--port', '0', '--token', token, '--light', String(PI_LUX), '--pi-id', PI, '--interval-ms', '300']);
    const base = (await waitFor(app, /Flask page on (http:\/\/127\.0\.0\.1:\d+)\//, 'flask'))[1]!;
    await waitFor(app, /reconnecting .*retrying in/, 'a failed first connection');
    assert.notEqual((await json(`${base}/healthz`)).hub, 'open');
    proxy.restore();
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

test('flask example: on a hub that requires authentication: a user and password work, a refused token stops the client', { timeout: 90_000 }, async () => {
  requirePeers(['python3-flask', 'python3-websockets']);
  const dataDir = mkdtempSync(join(tmpdir(), 'fl-flask-auth-'));
  // the password comes from stdin's first line, as the CLI takes it in scripts
  const added = spawnSync(process.execPath, ['--conditions=source', '--import', 'tsx', MAIN, 'user', 'add', 'ann', '--role', 'operator', '--data-dir', dataDir], { input: 'correct horse battery\n', encoding: 'utf8', timeout: 60_000 });
  assert.equal(added.status, 0, added.stderr);
  const hub = start(process.execPath, ['--conditions=source', '--import', 'tsx', MAIN, 'hub', '--port', '0', '--mqtt-port', '-1', '--anonymous', 'none', '--data-dir', dataDir]);
  const apps: Proc[] = [];
  try {
    const port = (await waitFor(hub, /"url":"http:\/\/127\.0\.0\.1:(\d+)".*"msg":"hub listening"/, 'hub'))[1]!;
    // a user: the Pi's own sensor is published and its identify answered, all as ann
    const good = start('/usr/bin/python3', ['-u', '-B', 'flask_app.py', '--hub', `ws://127.0.0.1:${port}/ws`, '--port', '0', '--user', 'ann', '--light', '42', '--pi-id', PI, '--interval-ms', '200'], PY_DIR, { FIELDLINK_PASSWORD: 'correct horse battery' });
    apps.push(good);
    const goodBase = (await waitFor(good, /Flask page on (http:\/\/127\.0\.0\.1:\d+)\//, 'flask'))[1]!;
    await until(async () => (await json(`${goodBase}/healthz`)).hub === 'open', 20_000, 'authenticated');
    await until(async () => {
      const d = await json(`${goodBase}/api/devices`);
      return (d.devices as { id: string; last?: { lux?: { value: number } } }[] | undefined)?.some((x) => x.id === PI && x.last?.lux?.value === 42) ?? false;
    }, 20_000, 'the Pi sensor on the hub');
    const call = await json(`${goodBase}/api/call`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ device: PI, method: 'identify' }) });
    assert.deepEqual(call, { ok: true, result: { identified: true } });

    // a refused token: closed with the reason, no retry loop
    const bad = flask(['--hub', `ws://127.0.0.1:${port}/ws`, '--port', '0', '--token', 'flt_nope_nope']);
    apps.push(bad);
    const base = (await waitFor(bad, /Flask page on (http:\/\/127\.0\.0\.1:\d+)\//, 'flask'))[1]!;
    await waitFor(bad, /closed BAD_CREDENTIALS/, 'the refusal in the log');
    assert.equal((await json(`${base}/healthz`)).hub, 'closed');
    const devices = await fetch(`${base}/api/devices`);
    assert.equal(devices.status, 502);
    assert.match(JSON.stringify(await devices.json()), /BAD_CREDENTIALS/);
    assert.equal((bad.out().match(/closed BAD_CREDENTIALS/g) ?? []).length, 1, 'refused once, not retried');
    for (const a of apps) {
      a.child.kill('SIGTERM');
      assert.equal(await a.exited, 0, a.out());
    }
  } finally {
    for (const a of apps) a.child.kill('SIGKILL');
    hub.child.kill('SIGTERM');
    await hub.exited;
  }
});
