/**
 * MQTT 5 and 3.1.1 peers nobody here wrote, through the hub on the core engine:
 * Python paho-mqtt (Debian's 1.6; MQTT 5 and 3.1.1, on TCP and /mqtt) and
 * Debian's mosquitto_pub / mosquitto_sub / mosquitto_rr (`-V 5`, `-V 311`; TCP:
 * they have no WebSocket transport). Shared subscriptions, topic aliases,
 * message expiry and request/response. MQTT.js: mqtt5-interop.test.ts.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Hub } from '../src/hub.js';
import { mqttConnect, startTestHub, until } from './helpers.js';

const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
const inCI = Boolean(process.env.CI);
const hasMosquittoClients = inCI || spawnSync('mosquitto_rr', ['--help']).error === undefined;
const hasPaho = inCI || spawnSync(PYTHON, ['-c', 'import paho.mqtt.client']).status === 0;
const FIXTURE = fileURLToPath(new URL('./fixtures/paho_v5.py', import.meta.url));

let hub: Hub;
before(async () => {
  hub = await startTestHub({ mqttEngine: 'core', publishRate: 0 });
});
after(async () => {
  await hub.stop();
});

/** A child process whose stdout lines are collected; stopped by its own PID at the end of the test. */
function peer(cmd: string, args: string[], input?: string): { child: ChildProcess; lines: string[]; exited: Promise<{ status: number | null; stderr: string }> } {
  // Line-buffered stdout: mosquitto_sub's -d lines would otherwise sit in its pipe buffer while it runs.
  const child = spawn('stdbuf', ['-oL', cmd, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let buf = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => {
    const parts = (buf + d.toString()).split('\n');
    buf = parts.pop()!;
    lines.push(...parts);
  });
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  if (input !== undefined) child.stdin!.end(input);
  else child.stdin!.end();
  const exited = new Promise<{ status: number | null; stderr: string }>((r) => child.on('exit', (status) => r({ status, stderr })));
  return { child, lines, exited };
}
const stop = (p: { child: ChildProcess }) => p.child.exitCode === null && p.child.kill('SIGTERM');
const port = () => ['-h', '127.0.0.1', '-p', String(hub.mqttPort)];
/** mosquitto_sub -d prints "… received SUBACK" once subscribed; format lines are the messages. */
const subscribed = (lines: string[]) => lines.some((l) => l.includes('received SUBACK'));
const messages = (lines: string[]) => lines.filter((l) => l.startsWith('M '));

for (const transport of ['tcp', 'websockets'] as const) {
  for (const version of ['5', '311'] as const) {
    test(`paho-mqtt MQTT ${version === '5' ? '5' : '3.1.1'} over ${transport === 'tcp' ? 'TCP' : '/mqtt'}`, { skip: !hasPaho && 'paho-mqtt not installed', timeout: 60_000 }, async () => {
      const p = peer(PYTHON, [FIXTURE, '127.0.0.1', String(transport === 'tcp' ? hub.mqttPort : Number(new URL(hub.url).port)), transport, version, `paho${version}${transport}`]);
      const r = await p.exited;
      assert.equal(r.status, 0, r.stderr);
      const out = JSON.parse(p.lines.at(-1)!) as Record<string, unknown>;
      if (version === '311') {
        assert.deepEqual(out.roundtrip, [0, 1, 2].map((q) => [`paho311${transport}/q/${q}`, `q${q}`, q]));
        return;
      }
      assert.deepEqual(out.reply, { payload: 're:ping', correlation: '00636f7272ff', user: [['k', 'v1'], ['k', 'v2'], ['z', 'last']] });
      const shared = out.shared as { a: string[]; b: string[] };
      assert.deepEqual([...shared.a, ...shared.b].sort(), Array.from({ length: 20 }, (_, i) => `s${i}`).sort(), 'each shared message once');
      assert.ok(shared.a.length > 0 && shared.b.length > 0, 'both members of the group served');
      const alias = out.alias as [string, string, number | null][];
      const topic = `paho5${transport}/alias/long/topic`;
      assert.deepEqual(alias.map(([t, m]) => [t, m]), [[topic, 'x1'], [topic, 'x2']], 'a topic alias set by the publisher resolves');
      assert.ok(alias[0]![2] !== null && alias[0]![2] <= 120 && alias[0]![2] >= 115, 'message expiry forwarded');
    });
  }
}

const noClients = !hasMosquittoClients && 'mosquitto-clients not installed';

test('mosquitto_sub -V 5: a shared subscription splits mosquitto_pub -V 5 messages between two members', { skip: noClients, timeout: 30_000 }, async () => {
  const subs = [0, 1].map(() => peer('mosquitto_sub', ['-V', '5', ...port(), '-d', '-q', '1', '-t', '$share/ms/peers/ms/shared/#', '-F', 'M %p']));
  try {
    await until(() => subs.every((s) => subscribed(s.lines)), 10_000, 'both subscribed');
    const lines = Array.from({ length: 20 }, (_, i) => `m${i}`);
    const pub = peer('mosquitto_pub', ['-V', '5', ...port(), '-q', '1', '-t', 'peers/ms/shared/x', '-l'], lines.join('\n') + '\n');
    assert.equal((await pub.exited).status, 0);
    await until(() => subs.reduce((n, s) => n + messages(s.lines).length, 0) === 20, 10_000, 'every message once in the group');
    const got = subs.flatMap((s) => messages(s.lines).map((l) => l.slice(2)));
    assert.deepEqual(got.sort(), [...lines].sort());
    assert.ok(subs.every((s) => messages(s.lines).length > 0), 'both members served');
  } finally {
    subs.forEach(stop);
  }
});

test('mosquitto_pub -V 5 with a topic alias, message expiry, content type and user properties → mosquitto_sub -V 5', { skip: noClients, timeout: 30_000 }, async () => {
  const sub = peer('mosquitto_sub', ['-V', '5', ...port(), '-d', '-q', '1', '-t', 'peers/ms/props/#', '-F', 'M %t|%p|%E|%C|%P']);
  try {
    await until(() => subscribed(sub.lines), 10_000, 'subscribed');
    const pub = peer('mosquitto_pub', ['-V', '5', ...port(), '-q', '1', '-t', 'peers/ms/props/a', '-l',
      '-D', 'publish', 'topic-alias', '1', '-D', 'publish', 'message-expiry-interval', '90',
      '-D', 'publish', 'content-type', 'text/plain', '-D', 'publish', 'user-property', 'k', 'v'], 'one\ntwo\nthree\n');
    assert.equal((await pub.exited).status, 0);
    await until(() => messages(sub.lines).length === 3, 10_000, 'three messages');
    for (const [i, l] of messages(sub.lines).entries()) {
      const [topic, payload, expiry, ct, up] = l.slice(2).split('|');
      assert.equal(topic, 'peers/ms/props/a');
      assert.equal(payload, ['one', 'two', 'three'][i]);
      assert.ok(Number(expiry) <= 90 && Number(expiry) >= 85, `expiry ${expiry}`);
      assert.equal(ct, 'text/plain');
      assert.equal(up, 'k:v');
    }
  } finally {
    stop(sub);
  }
});

test('mosquitto_rr -V 5: request/response with an MQTT.js responder (Response Topic and Correlation Data unaltered)', { skip: noClients, timeout: 30_000 }, async () => {
  const responder = await mqttConnect(`mqtt://127.0.0.1:${hub.mqttPort}`, { protocolVersion: 5 });
  const seen: { corr?: string; expiry?: number }[] = [];
  responder.on('message', (_t, payload, packet) => {
    const p = packet.properties ?? {};
    seen.push({ corr: p.correlationData?.toString(), expiry: p.messageExpiryInterval });
    void responder.publishAsync(p.responseTopic!, `pong:${String(payload)}`, { qos: 1, properties: { correlationData: p.correlationData } });
  });
  await responder.subscribeAsync('peers/ms/rr/req', { qos: 1 });
  try {
    const rr = peer('mosquitto_rr', ['-V', '5', ...port(), '-q', '1', '-t', 'peers/ms/rr/req', '-e', 'peers/ms/rr/resp', '-m', 'ping',
      '-D', 'publish', 'correlation-data', 'c-42', '-D', 'publish', 'message-expiry-interval', '60', '-W', '10']);
    const r = await rr.exited;
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(rr.lines.filter(Boolean), ['pong:ping']);
    assert.equal(seen[0]?.corr, 'c-42');
    assert.ok(seen[0]!.expiry! <= 60 && seen[0]!.expiry! >= 55);
  } finally {
    await responder.endAsync();
  }
});

test('mosquitto_pub -V 311 → mosquitto_sub -V 311 at QoS 2, and an MQTT 5 publish reaches a 3.1.1 subscriber', { skip: noClients, timeout: 30_000 }, async () => {
  const sub = peer('mosquitto_sub', ['-V', '311', ...port(), '-d', '-q', '2', '-t', 'peers/ms/v311/#', '-F', 'M %t %p']);
  try {
    await until(() => subscribed(sub.lines), 10_000, 'subscribed');
    assert.equal((await peer('mosquitto_pub', ['-V', '311', ...port(), '-q', '2', '-t', 'peers/ms/v311/a', '-m', 'from311']).exited).status, 0);
    assert.equal((await peer('mosquitto_pub', ['-V', '5', ...port(), '-q', '1', '-t', 'peers/ms/v311/b', '-m', 'from5', '-D', 'publish', 'user-property', 'k', 'v']).exited).status, 0);
    await until(() => messages(sub.lines).length === 2, 10_000, 'two messages');
    assert.deepEqual(messages(sub.lines), ['M peers/ms/v311/a from311', 'M peers/ms/v311/b from5']);
  } finally {
    stop(sub);
  }
});
