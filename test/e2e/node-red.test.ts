/**
 * docs/integrations.md "Node-RED", run: the flow block (```json node-red-flow)
 * imported as printed into a real Node-RED (pinned, installed by the peers
 * script: scripts/node-red-peer.mjs), the alerts block (```yaml node-red-alerts)
 * as the hub's --alerts-file, two simulated greenhouses over MQTT, all on free
 * ports. Rewrites (the only ones): the webhook's port 1880 becomes Node-RED's
 * (written once Node-RED listens, then the file is reloaded as on SIGHUP),
 * `for: 5m` becomes `for: 1s`, and for MQTT 3.1.1 the broker node's
 * `"protocolVersion": 5` becomes 4, the doc's own instruction for Aedes.
 * Asserted on both sides: what Node-RED's debug nodes got (its editor websocket
 * /comms), what the device received and answered (an MQTT client beside it),
 * the hub's webhook counters, and a forged webhook answered 401. Timeouts are
 * upper bounds.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import net from 'node:net';
import WebSocket from 'ws';
import { startFleet, type Fleet } from '@fieldlink/device';
import type { MqttClient } from 'mqtt';
import type { Hub } from '../../packages/hub/src/hub.js';
import { mqttConnect, startTestHub, until } from '../../packages/hub/test/helpers.js';
import { NODE_RED_JS, NODE_RED_VERSION, nodeRedMissingLine, nodeRedPresent, nodeRedVersion } from '../../scripts/node-red-peer.mjs';

const DOC = readFileSync(join(fileURLToPath(new URL('../../', import.meta.url)), 'docs/integrations.md'), 'utf8');
/** The body of the one fenced block whose info string is exactly `lang mode`. */
const block = (lang: string, mode: string) => {
  const bodies = [...DOC.matchAll(new RegExp(`^\`\`\`${lang} ${mode}\n([\\s\\S]*?)\n\`\`\`$`, 'gm'))].map((m) => m[1]!);
  assert.equal(bodies.length, 1, `docs/integrations.md has one \`\`\`${lang} ${mode} block`);
  return bodies[0]!;
};
const FLOW = block('json', 'node-red-flow');
const ALERTS = block('yaml', 'node-red-alerts');
const SECRET = /secret: "([^"]+)"/.exec(ALERTS)?.[1] ?? assert.fail('the alerts block names a webhook secret');

interface Debug { name: string; msg: Record<string, unknown> }

/** Node-RED as its CLI runs it, in its own user directory; resolves once it listens and its flow's broker node is connected. */
async function startNodeRed(dir: string, env: Record<string, string>): Promise<{ child: ChildProcess; url: string; log: () => string }> {
  const child = spawn(process.execPath, [NODE_RED_JS, '--userDir', dir, '--port', '0', '-D', 'uiHost=127.0.0.1'], {
    env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  for (const s of [child.stdout!, child.stderr!]) s.on('data', (d: Buffer) => { log += d.toString(); });
  try {
    await until(() => /Server now running at http:\/\/127\.0\.0\.1:\d+\//.test(log) && /Connected to broker/.test(log) || child.exitCode !== null, 60_000, 'Node-RED started and connected to the hub');
  } catch (e) {
    child.kill('SIGKILL');
    throw new Error(`${String(e)}\n${log.slice(-3000)}`, { cause: e });
  }
  assert.equal(child.exitCode, null, `Node-RED exited:\n${log.slice(-3000)}`);
  const url = /Server now running at (http:\/\/127\.0\.0\.1:\d+)\//.exec(log)![1]!;
  return { child, url, log: () => log };
}

function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((r) => {
    const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('exit', () => { clearTimeout(t); r(); });
    child.kill('SIGINT');
  });
}

/**
 * A pass-through TCP proxy in front of the hub's MQTT port that records the
 * protocol level of each connection's CONNECT (5: MQTT 5, 4: MQTT 3.1.1), so
 * the test knows which protocol Node-RED actually spoke.
 */
async function levelProxy(target: number): Promise<{ port: number; levels: number[]; close(): void }> {
  const levels: number[] = [];
  const socks = new Set<net.Socket>();
  const server = net.createServer((a) => {
    const b = net.connect(target, '127.0.0.1');
    for (const s of [a, b]) { socks.add(s); s.on('error', () => undefined); s.on('close', () => { socks.delete(s); a.destroy(); b.destroy(); }); }
    a.once('data', (d: Buffer) => {
      let i = 1; // after the fixed header's first byte: the remaining length (1–4 bytes), then 00 04 "MQTT", then the level
      while (i < 5 && (d[i]! & 0x80)) i++;
      if (d.subarray(i + 1, i + 7).toString('latin1') === '\u0000\u0004MQTT') levels.push(d[i + 7]!);
    });
    a.pipe(b);
    b.pipe(a);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as net.AddressInfo).port, levels, close: () => { server.close(); for (const s of socks) s.destroy(); } };
}

const CASES = [
  { engine: 'core', protocolVersion: 5 },
  { engine: 'core', protocolVersion: 4 },
  { engine: 'aedes', protocolVersion: 4 },
] as const;

for (const c of CASES) {
  describe(`the Node-RED recipe (Node-RED ${NODE_RED_VERSION}, MQTT ${c.protocolVersion === 5 ? '5' : '3.1.1'}, --mqtt-engine ${c.engine})`, () => {
    const dir = mkdtempSync(join(tmpdir(), 'fl-node-red-'));
    const alertsFile = join(dir, 'alerts.yaml');
    const alertsYaml = (port: number) => ALERTS.replace('http://127.0.0.1:1880/', `http://127.0.0.1:${port}/`).replace('for: 5m', 'for: 1s');
    let hub: Hub;
    let red: Awaited<ReturnType<typeof startNodeRed>>;
    let proxy: Awaited<ReturnType<typeof levelProxy>>;
    let comms: WebSocket;
    let fleet: Fleet;
    let device: MqttClient;
    let lux = 20_000; // noon, sunny
    const debug: Debug[] = [];
    const atDevice: { topic: string; text: string }[] = [];
    const got = (name: string) => debug.filter((d) => d.name === name);
    const webhooks = () => ((hub.alerts!.stats().webhooks as { delivered: number; failed: number }[])[0]!);

    before(async () => {
      if (!nodeRedPresent()) throw new Error(`${nodeRedMissingLine()} (found ${nodeRedVersion() ?? 'none'})`);
      writeFileSync(alertsFile, alertsYaml(1880));
      hub = await startTestHub({ store: 'sqlite', dataDir: join(dir, 'data'), alertsFile, mqttEngine: c.engine });
      const userDir = join(dir, 'node-red');
      assert.ok(FLOW.includes('"protocolVersion": 5'), 'the flow block\'s broker node says MQTT 5');
      const flow = c.protocolVersion === 5 ? FLOW : FLOW.replace('"protocolVersion": 5', '"protocolVersion": 4');
      mkdirSync(userDir);
      writeFileSync(join(userDir, 'flows.json'), flow);
      proxy = await levelProxy(hub.mqttPort);
      red = await startNodeRed(userDir, { FIELDLINK_MQTT_HOST: '127.0.0.1', FIELDLINK_MQTT_PORT: String(proxy.port), FIELDLINK_SECRET: SECRET });
      assert.deepEqual(proxy.levels, [c.protocolVersion], 'Node-RED connected once, with the protocol the broker node says');
      writeFileSync(alertsFile, alertsYaml(Number(new URL(red.url).port)));
      hub.reloadAlerts();
      comms = new WebSocket(`${red.url.replace('http', 'ws')}/comms`);
      comms.on('message', (data: Buffer) => {
        for (const m of JSON.parse(data.toString()) as { topic: string; data: { name?: string; msg?: string } }[]) {
          if (m.topic === 'debug' && m.data.name && typeof m.data.msg === 'string') debug.push({ name: m.data.name, msg: JSON.parse(m.data.msg) as Record<string, unknown> });
        }
      });
      await new Promise<void>((r, j) => { comms.once('open', () => r()); comms.once('error', j); });
      comms.send(JSON.stringify({ subscribe: 'debug' }));
      device = await mqttConnect(`mqtt://127.0.0.1:${hub.mqttPort}`);
      device.on('message', (topic, p) => atDevice.push({ topic, text: p.toString() }));
      await device.subscribeAsync('devices/greenhouse-1/cmd/#', { qos: 1 });
      fleet = await startFleet({ url: `mqtt://127.0.0.1:${hub.mqttPort}`, count: 2, idPrefix: 'greenhouse-', intervalMs: 200, light: () => lux });
    });

    after(async () => {
      comms?.close();
      await device?.endAsync();
      await fleet?.stop();
      if (red) await stop(red.child);
      proxy?.close();
      await hub?.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    it('telemetry reaches the flow; when the greenhouse goes dark the alert arrives on alerts/# and as a verified webhook, and so does the resolve', async () => {
      lux = 10;
      await until(() => got('dark').length > 0, 20_000, 'Node-RED saw a dark reading');
      const dark = got('dark')[0]!.msg as { topic: string; payload: { lux: number } };
      assert.match(dark.topic, /^devices\/greenhouse-[12]\/telemetry$/);
      assert.ok(dark.payload.lux < 50, `the switch let only lux < 50 through: ${JSON.stringify(dark.payload)}`);

      const firing = (d: Debug) => (d.msg.payload as { state?: string } | undefined)?.state === 'firing';
      await until(() => got('alert topics').some(firing), 20_000, 'the retained alert topic in Node-RED');
      assert.match(String(got('alert topics').find(firing)!.msg.topic), /^alerts\/greenhouse-dark\/greenhouse-[12]$/);
      await until(() => got('webhook alerts').some((d) => d.msg.type === 'alert.firing'), 20_000, 'the firing webhook in Node-RED');
      const hook = got('webhook alerts').find((d) => d.msg.type === 'alert.firing')!.msg as { alert: { rule: string; device: string }; rule: { name: string } };
      assert.equal(hook.alert.rule, 'greenhouse-dark');
      assert.equal(hook.rule.name, 'greenhouse-dark');
      assert.ok(webhooks().delivered >= 1, 'Node-RED answered the hub 2xx (the signature verified)');
      assert.equal(webhooks().failed, 0);

      lux = 20_000;
      await until(() => got('webhook alerts').some((d) => d.msg.type === 'alert.resolved'), 20_000, 'the resolved webhook in Node-RED');
      await until(() => got('alert topics').some((d) => (d.msg.payload as { state?: string } | undefined)?.state === 'resolved'), 20_000, 'the resolved body on alerts/#');
      await until(() => got('alert topics').some((d) => d.msg.payload === ''), 20_000, 'the cleared retained alert');
    });

    it('the inject node sends a command the device receives and answers; the answer reaches the flow', async () => {
      const r = await fetch(`${red.url}/inject/fl-set-interval`, { method: 'POST' });
      assert.equal(r.status, 200);
      await until(() => atDevice.some((m) => m.topic === 'devices/greenhouse-1/cmd/set_interval'), 20_000, 'the command at the device');
      assert.deepEqual(JSON.parse(atDevice.find((m) => m.topic === 'devices/greenhouse-1/cmd/set_interval')!.text), { id: 'nr-1', params: { ms: 5000 } });
      await until(() => got('command answers').length > 0, 20_000, 'the answer in Node-RED');
      const answer = got('command answers')[0]!.msg as { topic: string; payload: Record<string, unknown> };
      assert.equal(answer.topic, 'devices/greenhouse-1/cmd/set_interval/res');
      assert.equal(answer.payload.id, 'nr-1');
      assert.match(JSON.stringify(answer.payload), /"intervalMs":5000/);
    });

    it('the flow answers 401 to a webhook that is not signed with the secret, and does not pass it on', async () => {
      const before = got('webhook alerts').length;
      const body = JSON.stringify({ type: 'alert.firing', alert: { rule: 'forged' } });
      const forged = await fetch(`${red.url}/fieldlink`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-fieldlink-signature': `t=1,sha256=${'0'.repeat(64)}` }, body });
      assert.equal(forged.status, 401);
      const unsigned = await fetch(`${red.url}/fieldlink`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      assert.equal(unsigned.status, 401);
      assert.equal(got('webhook alerts').length, before);
      assert.doesNotMatch(red.log(), /\[error\]/, 'Node-RED logged no error');
    });
  });
}
