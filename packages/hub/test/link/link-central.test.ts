/**
 * Central's side of the link against a raw WebSocket peer (the peer is "a
 * site" only by its token): authentication in the upgrade, records outside the
 * site's namespace refused and counted, jumps refused with the mark, resent
 * records counted as duplicates, one session per site. Then a real site whose
 * outbox bound is reached during a cut: the dropped readings arrive at central
 * as gap records, and readings + gaps account for every acknowledged reading.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { WebSocket } from 'ws';
import { LINK_SUBPROTOCOL } from '@fieldlink/protocol';
import { startChaosProxy } from './chaos-proxy.js';
import { FAST, addSite, linkStatus, startHubProc, stopHubProc, until } from './procs.js';

type Frame = Record<string, unknown> & { op: string };

function refusal(url: string, headers: Record<string, string>, protocol = LINK_SUBPROTOCOL): Promise<{ status: number; body: { error: { code: number; name: string } } }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, protocol, { headers });
    ws.on('open', () => reject(new Error('the upgrade was accepted')));
    ws.on('error', () => undefined);
    ws.on('unexpected-response', (_req, res) => {
      let b = '';
      res.on('data', (c: Buffer) => (b += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(b) as never }));
    });
  });
}

class Peer {
  readonly frames: Frame[] = [];
  closed: number | undefined;
  private constructor(readonly ws: WebSocket) {
    ws.on('message', (d: Buffer) => this.frames.push(JSON.parse(d.toString()) as Frame));
    ws.on('close', (code) => (this.closed = code));
  }
  static async open(url: string, token: string): Promise<Peer> {
    const ws = new WebSocket(url, LINK_SUBPROTOCOL, { headers: { authorization: `Bearer ${token}` } });
    const p = new Peer(ws);
    await until('hello', () => p.frames.some((f) => f.op === 'hello'), 10_000);
    return p;
  }
  async next(op: string, after = 0): Promise<Frame> {
    await until(`a ${op} frame`, () => this.frames.slice(after).some((f) => f.op === op), 10_000);
    return this.frames.slice(after).find((f) => f.op === op)!;
  }
  send(f: unknown): number {
    const n = this.frames.length;
    this.ws.send(JSON.stringify(f));
    return n;
  }
}

const msg = (seq: number, topic: string) => ({ seq, from: seq, body: { k: 'msg', topic, payload: '{"online":true}', retain: true, ts: Date.now() } });

test('central: upgrade auth, namespace refusal, jumps, duplicates, one session per site', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fl-central-'));
  const token = addSite(dir, 'evil');
  const central = await startHubProc(dir, ['--port', '0', '--mqtt-port', '0', ...FAST]);
  t.after(() => stopHubProc(central, 'SIGKILL'));
  const url = `${central.url.replace('http', 'ws')}/link`;

  const wrong = await refusal(url, { authorization: `Bearer ${token.slice(0, -4)}AAAA` });
  assert.deepEqual([wrong.status, wrong.body.error.name], [401, 'BAD_CREDENTIALS']);
  const none = await refusal(url, {});
  assert.deepEqual([none.status, none.body.error.name], [401, 'UNAUTHENTICATED']);
  const inUrl = await refusal(`${url}?token=${token}`, {});
  assert.equal(inUrl.status, 401, 'a token in the URL is never read');
  const noProto = await refusal(url, { authorization: `Bearer ${token}` }, 'other');
  assert.equal(noProto.status, 400);

  const a = await Peer.open(url, token);
  assert.equal(a.frames[0]!.site, 'evil', 'the identity comes from the token');
  let at = a.send({ op: 'batch', lane: 'state', epoch: 'e1', records: [msg(1, 'devices/x/status'), msg(2, 'devices/x/cmd/reboot')] });
  assert.deepEqual(await a.next('ack', at), { op: 'ack', lane: 'state', epoch: 'e1', seq: 2, duplicates: 0 });
  assert.equal(((await a.next('error', at)).error as { name: string }).name, 'LINK_NAMESPACE');
  at = a.send({ op: 'batch', lane: 'state', epoch: 'e1', records: [msg(5, 'devices/x/status')] });
  const resend = await a.next('resend', at);
  assert.deepEqual([resend.seq, (resend.error as { name: string }).name], [2, 'LINK_SEQ_GAP']);
  at = a.send({ op: 'batch', lane: 'state', epoch: 'e1', records: [msg(1, 'devices/x/status'), msg(2, 'devices/x/status'), msg(3, 'devices/y/status')] });
  assert.deepEqual(await a.next('ack', at), { op: 'ack', lane: 'state', epoch: 'e1', seq: 3, duplicates: 2 });
  // The site's outbox was lost: a new epoch starts at 1 and central keeps an event with the old mark.
  at = a.send({ op: 'batch', lane: 'state', epoch: 'e2', records: [msg(1, 'devices/x/status')] });
  assert.deepEqual(await a.next('ack', at), { op: 'ack', lane: 'state', epoch: 'e2', seq: 1, duplicates: 0 });
  const epochEvent = linkStatus(dir).central.find((c) => c.site === 'evil')!.events.find((e) => e.kind === 'epoch') !;
  assert.deepEqual(JSON.parse(epochEvent.detail), { oldEpoch: 'e1', oldSeq: 3 });

  const b = await Peer.open(url, token);
  await until('the old session to be replaced', () => a.closed !== undefined);
  assert.equal(a.closed, 4009);
  assert.deepEqual(b.frames[0]!.marks, { state: { epoch: 'e2', seq: 1 } });
  a.send({ op: 'batch', lane: 'state', epoch: 'e1', records: [msg(4, 'devices/z/status')] }); // on a closed socket: never applied

  const links = (await (await fetch(`${central.url}/api/v1/links`)).json()) as { sites: { site: string; refused: number; duplicates: number; jumps: number; replaced: number }[] };
  const evil = links.sites.find((s) => s.site === 'evil')!;
  assert.deepEqual([evil.refused, evil.duplicates, evil.jumps, evil.replaced, (evil as unknown as { epochChanges: number }).epochChanges], [1, 2, 1, 1, 1]);
  const devices = (await (await fetch(`${central.url}/api/v1/devices`)).json()) as { id: string }[];
  assert.deepEqual(devices.map((d) => d.id).sort(), ['evil:x', 'evil:y']);
  b.ws.close();
});

test('site: a full outbox drops the oldest telemetry as gap records; central stores them, and readings + gaps account for every acknowledged reading', async (t) => {
  const centralDir = mkdtempSync(join(tmpdir(), 'fl-central-'));
  const siteDir = mkdtempSync(join(tmpdir(), 'fl-site-'));
  writeFileSync(join(siteDir, 'token'), addSite(centralDir, 'field'));
  const central = await startHubProc(centralDir, ['--port', '0', '--mqtt-port', '0', ...FAST]);
  const proxy = await startChaosProxy(() => central.port);
  const site = await startHubProc(siteDir, ['--port', '0', '--mqtt-port', '-1', '--mqtt-engine', 'core', '--publish-rate', '100000',
    '--link-url', `ws://127.0.0.1:${proxy.port}/link`, '--link-token-file', join(siteDir, 'token'), '--link-outbox-max-bytes', '16384', ...FAST]);
  t.after(async () => { await Promise.allSettled([stopHubProc(site, 'SIGKILL'), stopHubProc(central, 'SIGKILL'), proxy.close()]); });
  const dev = await mqtt.connectAsync(`mqtt://127.0.0.1:${site.mqttPort}`, { clientId: 'probe', reconnectPeriod: 0, protocolVersion: 5 });
  t.after(() => dev.end(true));
  const T0 = Date.now() - 60_000;
  proxy.cut();
  const N = 800;
  for (let k = 0; k < N; k++) await dev.publishAsync('devices/probe/telemetry', JSON.stringify({ n: k, ts: T0 + k }), { qos: 1 });
  const siteLinks = async () => ((await (await fetch(`${site.url}/api/v1/links`)).json()) as { site: { dropped: { queue_full: number }; queue: { telemetry: { records: number } } } }).site;
  await until('the outbox bound to drop telemetry', async () => (await siteLinks()).dropped.queue_full > 0);
  proxy.restore();
  await until('the outbox to drain', async () => (await siteLinks()).queue.telemetry.records === 0, 30_000);
  const r = (await (await fetch(`${central.url}/api/v1/history?device=field:probe&metric=n&from=${T0}&to=${T0 + N}&limit=10000`)).json()) as { points: { value: number }[] };
  const got = r.points.map((p) => p.value);
  const gaps = linkStatus(centralDir).central.find((c) => c.site === 'field')!.events.filter((e) => e.kind === 'gap');
  const gapped = gaps.reduce((a, g) => a + g.count, 0);
  t.diagnostic(`${got.length} readings at central, ${gapped} in ${gaps.length} gap record(s): ${JSON.stringify(gaps.map((g) => [g.fromSeq, g.toSeq, g.reason, g.count]))}`);
  assert.ok(gaps.length >= 1 && gaps.every((g) => g.reason === 'queue_full'));
  assert.equal(got.length + gapped, N, 'every acknowledged reading is either at central or counted in a gap');
  const api = (await (await fetch(`${central.url}/api/v1/links`)).json()) as { sites: { site: string; gaps: number; events: { kind: string; count: number }[] }[] };
  const field = api.sites.find((s) => s.site === 'field')!;
  assert.deepEqual(field.events.filter((e) => e.kind === 'gap').map((e) => e.count), gaps.map((g) => g.count), 'GET /api/v1/links exposes the gap records');
  assert.equal(new Set(got).size, got.length);
  // Oldest first: what is missing is older than everything that arrived.
  const missing = [...Array(N).keys()].filter((k) => !got.includes(k));
  assert.ok(Math.max(...missing) < Math.min(...got), 'the oldest readings were dropped');
});
