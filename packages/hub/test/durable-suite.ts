// The restart suite (durable-restart*.test.ts): broker state across restarts of a real
// `fieldlink hub` process (core engine) with real clients (MQTT.js, Python paho):
// retained messages, persistent sessions and their queues, session expiry and will
// delay falling due while the hub is down; SQLite intact after every kill -9.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { committed, killHub, startHubProcess, stopHub, type HubProcess } from './hub-process.js';

const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
const PAHO = fileURLToPath(new URL('./fixtures/paho_session.py', import.meta.url));
const cleanups: (() => Promise<unknown>)[] = [];
after(async () => { for (const c of cleanups.reverse()) await c(); });

/** Where the hub keeps its state: its arguments, the SQLite file to check after kill -9, what removes it. */
export interface Backend { args: string[]; sqlitePath?: string; cleanup(): Promise<unknown> }

type Got = { topic: string; payload: string; retain: boolean }[];

/** An MQTT.js client, connected; `got` collects what it receives from the first packet on (queued messages follow CONNACK at once). */
async function client(h: HubProcess, opts: IClientOptions): Promise<MqttClient & { connack: { sessionPresent: boolean }; got: Got }> {
  const c = mqtt.connect(`mqtt://127.0.0.1:${h.mqttPort}`, { reconnectPeriod: 0, connectTimeout: 10_000, ...opts });
  const got: Got = [];
  c.on('message', (topic, payload, p) => got.push({ topic, payload: payload.toString(), retain: p.retain }));
  const connack = await new Promise<{ sessionPresent: boolean }>((resolve, reject) => { c.once('connect', (p) => resolve(p)); c.once('error', reject); });
  return Object.assign(c, { connack, got });
}

async function until(pred: () => boolean, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function paho(h: HubProcess, version: '5' | '311', cid: string, mode: 'sub' | 'recv', arg: string): Promise<{ sessionPresent: boolean; messages: string[] }> {
  return new Promise((resolve, reject) => {
    const p = spawn(PYTHON, [PAHO, '127.0.0.1', String(h.mqttPort), version, cid, mode, arg], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '', err = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    p.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out.trim().split('\n').at(-1)!)) : reject(new Error(`paho ${mode} exited ${code}: ${err}`))));
  });
}

const MAIN = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
/** The --data-dir / --store pairs of the hub's arguments (what `fieldlink token create` needs to find the store). */
const storeArgs = (args: string[]) => args.flatMap((a, i) => (a === '--data-dir' || a === '--store' ? [a, args[i + 1]!] : []));

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function restartSuite(name: string, backend: () => Promise<Backend>): void {
  describe(`broker state across restarts (${name})`, { timeout: 240_000 }, () => {
    let args: string[] = [];
    let dbPath: string | undefined;
    let hub: HubProcess;
    const restart = async (how: 'clean' | 'kill9') => {
      if (how === 'clean') assert.equal(await stopHub(hub), 0, hub.out());
      else await killHub(hub);
      if (dbPath && how === 'kill9') {
        const db = new Database(dbPath, { readonly: true });
        try { assert.equal(db.pragma('integrity_check', { simple: true }), 'ok'); } finally { db.close(); }
      }
      hub = await startHubProcess(args);
    };

    test('start', async () => {
      assert.equal(spawnSync(PYTHON, ['-c', 'import paho.mqtt.client']).status, 0, `Python paho-mqtt missing for ${PYTHON}: apt-get install python3-paho-mqtt`);
      const b = await backend();
      cleanups.push(() => b.cleanup());
      ({ args, sqlitePath: dbPath } = b);
      hub = await startHubProcess(args);
      cleanups.push(async () => { if (hub.child.exitCode === null && hub.child.signalCode === null) await killHub(hub); });
    });

    test('retained messages survive a clean restart and a kill -9', async () => {
      const p = await client(hub, { protocolVersion: 4 });
      await p.publishAsync('devices/x/meta', '{"model":"m1"}', { qos: 1, retain: true });
      await p.publishAsync('site/a/b', 'v1', { qos: 1, retain: true });
      await p.endAsync();
      await restart('clean'); // no wait for the commit: the clean shutdown flushes
      const read = async () => {
        const s = await client(hub, { protocolVersion: 5 });
        const got = s.got;
        await s.subscribeAsync({ 'devices/x/meta': { qos: 1 }, 'site/#': { qos: 1 } });
        await until(() => got.length >= 2, 'two retained messages');
        await s.endAsync();
        return got.map((m) => [m.topic, m.payload, m.retain]).sort();
      };
      assert.deepEqual(await read(), [['devices/x/meta', '{"model":"m1"}', true], ['site/a/b', 'v1', true]]);
      const p2 = await client(hub, { protocolVersion: 5 });
      await p2.publishAsync('site/a/b', 'v2', { qos: 1, retain: true });
      await p2.endAsync();
      await committed(hub);
      await restart('kill9');
      assert.deepEqual(await read(), [['devices/x/meta', '{"model":"m1"}', true], ['site/a/b', 'v2', true]]);
    });

    for (const version of ['311', '5'] as const) {
      test(`a paho MQTT ${version === '5' ? '5 (Session Expiry)' : '3.1.1 (CleanSession 0)'} session with 5 queued QoS 1 messages comes back after kill -9`, async () => {
        const cid = `paho-${version}-${name}`;
        assert.equal((await paho(hub, version, cid, 'sub', `q/${version}/#`)).sessionPresent, false);
        const p = await client(hub, { protocolVersion: 5 });
        for (let i = 1; i <= 5; i++) await p.publishAsync(`q/${version}/t`, `m${i}`, { qos: 1 });
        await p.endAsync();
        await committed(hub);
        await restart('kill9');
        const r = await paho(hub, version, cid, 'recv', '5');
        assert.equal(r.sessionPresent, true);
        assert.deepEqual(r.messages, ['m1', 'm2', 'm3', 'm4', 'm5']);
      });
    }

    test('MQTT.js: a 3.1.1 persistent session gets every queued QoS 1 message committed before a kill -9 that hits under load', async () => {
      const sub = await client(hub, { protocolVersion: 4, clientId: 'mqttjs-load', clean: false });
      await sub.subscribeAsync('load/#', { qos: 1 });
      await sub.endAsync(true);
      const p = await client(hub, { protocolVersion: 4 });
      const acked: number[] = [];
      let i = 0, paused = false;
      const run = (async () => {
        for (;;) {
          while (paused) await sleep(10);
          const n = ++i;
          try { await p.publishAsync('load/t', String(n), { qos: 1 }); acked.push(n); } catch { return; }
        }
      })();
      await until(() => acked.length >= 300, '300 acknowledged publishes');
      paused = true; // a checkpoint: everything acknowledged so far is committed
      await sleep(50);
      await committed(hub);
      const safe = acked.length;
      paused = false;
      await until(() => acked.length >= safe + 200, '200 more acknowledged publishes');
      await restart('kill9'); // while publishing
      p.end(true);
      void run; // its last publish never completes: the hub is gone
      const s2 = await client(hub, { protocolVersion: 4, clientId: 'mqttjs-load', clean: false });
      assert.equal(s2.connack.sessionPresent, true);
      const got = s2.got;
      await until(() => got.length >= safe, `${safe} messages`, 30_000);
      const nums = got.map((m) => Number(m.payload));
      for (let n = 1; n <= safe; n++) assert.ok(nums.includes(n), `message ${n} (acknowledged and committed before kill -9) missing`);
      await s2.endAsync();
    });

    test('a will delay and a session expiry that fall due while the hub is down fire right after it starts', async () => {
      // the observer: a persistent session subscribed to the wills (they are queued for it)
      const obs = await client(hub, { protocolVersion: 5, clientId: 'observer', clean: false, properties: { sessionExpiryInterval: 3600 } });
      await obs.subscribeAsync('wills/#', { qos: 1 });
      await obs.endAsync();
      // A: will delay 2 s (session outlives it); B: session expiry 2 s, will delay longer (published when the session ends)
      const a = await client(hub, { protocolVersion: 5, clientId: 'will-a', clean: false, properties: { sessionExpiryInterval: 3600 },
        will: { topic: 'wills/a', payload: Buffer.from('a gone'), qos: 1, retain: false, properties: { willDelayInterval: 2 } } });
      const b = await client(hub, { protocolVersion: 5, clientId: 'will-b', clean: false, properties: { sessionExpiryInterval: 2 },
        will: { topic: 'wills/b', payload: Buffer.from('b gone'), qos: 1, retain: true, properties: { willDelayInterval: 600 } } });
      a.stream.destroy(); // abnormal ends: the will timers start
      b.stream.destroy();
      await sleep(100);
      await committed(hub);
      await restart('kill9'); // well before 2 s: nothing has fired yet… unless the machine is slow, which the next checks tell apart
      const o = await client(hub, { protocolVersion: 5, clientId: 'observer', clean: false, properties: { sessionExpiryInterval: 3600 } });
      const got = o.got;
      await until(() => got.length >= 2, 'both wills', 15_000);
      assert.deepEqual(got.map((m) => [m.topic, m.payload]).sort(), [['wills/a', 'a gone'], ['wills/b', 'b gone']]);
      await o.endAsync();
      // B's session ended: a reconnect finds none; A's session is still there
      const b2 = await client(hub, { protocolVersion: 5, clientId: 'will-b', clean: false, properties: { sessionExpiryInterval: 2 } });
      assert.equal(b2.connack.sessionPresent, false);
      await b2.endAsync();
      const a2 = await client(hub, { protocolVersion: 5, clientId: 'will-a', clean: false, properties: { sessionExpiryInterval: 0 } });
      assert.equal(a2.connack.sessionPresent, true);
      await a2.endAsync();
    });

    test('after the hub is down past the deadlines (kill -9, 2.5 s down) the will fires at start and an expired queued message is not delivered', async () => {
      const obs = await client(hub, { protocolVersion: 5, clientId: 'observer2', clean: false, properties: { sessionExpiryInterval: 3600 } });
      await obs.subscribeAsync('late/#', { qos: 1 });
      await obs.endAsync();
      const c = await client(hub, { protocolVersion: 5, clientId: 'late-c', clean: false, properties: { sessionExpiryInterval: 1 },
        will: { topic: 'late/c', payload: Buffer.from('c gone'), qos: 1, retain: true, properties: { willDelayInterval: 1 } } });
      c.stream.destroy();
      // queued for observer2: one message whose Message Expiry (1 s) passes while the hub is down, one without
      const p = await client(hub, { protocolVersion: 5 });
      await p.publishAsync('late/exp', 'stale', { qos: 1, properties: { messageExpiryInterval: 1 } });
      await p.publishAsync('late/keep', 'fresh', { qos: 1 });
      await p.endAsync();
      await sleep(100);
      await committed(hub);
      await killHub(hub);
      await sleep(2500); // the will delay, the session expiry and the message expiry all fall due while the hub is down
      hub = await startHubProcess(args);
      const o2 = await client(hub, { protocolVersion: 5, clientId: 'observer2', clean: false, properties: { sessionExpiryInterval: 3600 } });
      await until(() => o2.got.some((m) => m.topic === 'late/keep') && o2.got.some((m) => m.topic === 'late/c'), 'the kept message and the will');
      assert.deepEqual(o2.got.map((m) => m.topic).sort(), ['late/c', 'late/keep'], 'the expired message is not delivered (it was queued before the kept one)');
      await o2.endAsync();
      // the will is retained: a brand-new subscriber sees it (so it was published during start)
      const s = await client(hub, { protocolVersion: 5 });
      const got = s.got;
      await s.subscribeAsync('late/#', { qos: 1 });
      await until(() => got.length >= 1, 'the retained will');
      assert.deepEqual([got[0]!.topic, got[0]!.payload, got[0]!.retain], ['late/c', 'c gone', true]);
      await s.endAsync();
    });

    test('a restored session stays its owner\'s: after kill -9 another identity is refused its client id, the owner resumes it', async () => {
      const made = spawnSync(process.execPath, ['--conditions=source', '--import', 'tsx', MAIN, 'token', 'create', '--role', 'viewer', '--json', ...storeArgs(args)], { encoding: 'utf8', timeout: 30_000 });
      assert.equal(made.status, 0, made.stderr);
      const { token } = JSON.parse(made.stdout) as { token: string };
      const asViewer = { protocolVersion: 5 as const, clientId: 'viewer-laptop', clean: false, username: 'token', password: token, properties: { sessionExpiryInterval: 3600 } };
      const v = await client(hub, asViewer);
      await v.subscribeAsync('devices/#', { qos: 1 });
      await v.endAsync();
      await committed(hub);
      await restart('kill9');
      // anonymous (loopback: admin) is another identity
      await assert.rejects(client(hub, { protocolVersion: 5, clientId: 'viewer-laptop', clean: false }), /Client Identifier not valid/);
      const v2 = await client(hub, asViewer);
      assert.equal(v2.connack.sessionPresent, true);
      await v2.endAsync();
    });

    test('a clean stop exits 0', async () => {
      assert.equal(await stopHub(hub), 0, hub.out());
    });
  });
}

