/**
 * Unauthenticated CPU exhaustion (issue #11 item 7) and log flooding by failed
 * `auth` (item 9): one client floods a door with authentication attempts for
 * ever new names for 3 s. Password checks in flight stay within
 * --auth-checks-in-flight, the rest are answered RATE_LIMITED (CONNACK 5, 429)
 * without hashing, checked failures stay within the address bucket, a
 * legitimate user logging in meanwhile is answered (and let in), the legitimate
 * device's readings all reach the viewer, and the log gets summaries instead of
 * a line per attempt. Counts are asserted, never durations.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { RawClient, wsUrl } from '../helpers.js';
import { securedHub, type Secured } from './fixture.js';
import { legitTraffic, login, mqttTcpConnack, mqttWsConnack, sockets } from './peers.js';

const IN_FLIGHT = 4; // --auth-checks-in-flight (default)
const IP_FAILURES = 100; // --auth-ip-failures (default)
const IP_DECAY_MS = 6000; // --auth-ip-decay-ms (default)
const FLOOD_MS = 3000;

let s: Secured;
let legit: Awaited<ReturnType<typeof legitTraffic>>;
let legitPassword: string;

before(async () => {
  s = await securedHub({ authTimeoutMs: 60_000 }); // the flooding socket is not closed for never authenticating
  legit = await legitTraffic(s);
  legitPassword = await s.addUser('f-legit');
});
after(async () => {
  await legit.stop();
  await s.stop();
});

type Door = 'ws' | 'ws/device' | 'mqtt' | '/mqtt' | 'http';

/** Attempts for ever new names from `addr` until FLOOD_MS is over; the answers by kind. */
async function flood(door: Door, addr: string): Promise<Record<string, number>> {
  const answers: Record<string, number> = {};
  const count = (a: string | number) => (answers[a] = (answers[a] ?? 0) + 1);
  const end = Date.now() + FLOOD_MS;
  let n = 0;
  if (door === 'ws' || door === 'ws/device') {
    const [ws] = await sockets(wsUrl(s.hub, door === 'ws' ? '/ws' : '/ws/device'), 1, addr); // one socket, as in the report
    let sent = 0;
    let got = 0;
    ws!.on('message', (d: Buffer) => {
      const f = JSON.parse(d.toString()) as { ok?: boolean; error?: { name: string } };
      got++;
      count(f.ok ? 'ok' : (f.error?.name ?? '?'));
    });
    while (Date.now() < end) {
      for (let i = 0; i < 20; i++, sent++) {
        const frame = door === 'ws' ? { op: 'auth', id: `f${sent}`, user: `flood-${addr}-${sent}`, password: 'x' } : { op: 'auth', id: `f${sent}`, device: `flood-${addr}-${sent}`, secret: 'x' };
        ws!.send(JSON.stringify(frame));
      }
      await new Promise((r) => setTimeout(r, 10));
    }
    for (let i = 0; got < sent && ws!.readyState === ws!.OPEN && i < 1500; i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(got, sent, 'every attempt was answered');
    ws!.close();
    return answers;
  }
  // MQTT and HTTP take one attempt per connection (per request): 50 at a time
  const one = async () => {
    const name = `flood-${addr}-${n++}`;
    if (door === 'mqtt') return count(await mqttTcpConnack(s.hub.mqttPort!, name, 'x', addr));
    if (door === '/mqtt') return count(await mqttWsConnack(wsUrl(s.hub, '/mqtt'), name, 'x', addr));
    const r = await login(s.hub.url, name, 'x', addr);
    return count(r.error ?? r.status);
  };
  await Promise.all(Array.from({ length: 50 }, async () => {
    while (Date.now() < end) await one();
  }));
  return answers;
}

const cases: Array<[Door, string, string]> = [
  ['ws', '127.0.0.31', 'RATE_LIMITED'],
  ['ws/device', '127.0.0.32', 'RATE_LIMITED'],
  ['mqtt', '127.0.0.33', '5'],
  ['/mqtt', '127.0.0.34', '5'],
  ['http', '127.0.0.35', 'RATE_LIMITED'],
];

for (const [door, addr, refused] of cases) {
  test(`${door}: an auth flood for new names is bounded in checks and in flight; a legitimate login is answered, telemetry keeps flowing`, async (t) => {
    const a = s.hub.security.authenticator;
    const before = { ...a.counters, slotRefused: a.guard.slots.rejected, received: legit.received() };
    let maxInFlight = 0;
    const sampler = setInterval(() => (maxInFlight = Math.max(maxInFlight, a.guard.slots.count)), 2);
    const flooding = flood(door, addr);
    // a legitimate user logs in during the flood, on /ws and over HTTP, from its own address
    await new Promise((r) => setTimeout(r, FLOOD_MS / 3));
    const v = await RawClient.open(wsUrl(s.hub, '/ws'));
    const reply = await v.request('auth', { user: 'f-legit', password: legitPassword }, 20_000);
    v.close();
    const http = await login(s.hub.url, 'f-legit', legitPassword, '127.0.0.1');
    const receivedDuring = legit.received() - before.received;
    const answers = await flooding;
    clearInterval(sampler);
    assert.equal(reply.ok, true, `the legitimate login over /ws was answered and let in (${reply.error?.name ?? 'ok'})`);
    assert.equal(http.status, 200, 'and over HTTP');
    assert.ok(receivedDuring > 0, 'readings kept arriving during the flood');
    const total = Object.values(answers).reduce((x, y) => x + y, 0);
    const checked = door === 'ws/device' ? a.counters.sha256Checks - before.sha256Checks : a.counters.scryptChecks - before.scryptChecks;
    const bound = IP_FAILURES + Math.ceil((FLOOD_MS * 3) / IP_DECAY_MS) + 2 + 2; // the bucket, what leaked meanwhile, the legit logins
    t.diagnostic(`${total} attempts, ${checked} checked, at most ${maxInFlight} in flight, ${receivedDuring} readings meanwhile; answers ${JSON.stringify(answers)}`);
    assert.ok(checked <= bound, `${checked} secrets checked for ${total} attempts (bound ${bound})`);
    assert.ok((answers[refused] ?? 0) >= total - bound, `most were refused unchecked: ${JSON.stringify(answers)}`);
    assert.ok(!answers.ok && !answers[0] && !answers[200], 'no flood attempt got in');
    assert.ok(maxInFlight <= IN_FLIGHT, `${maxInFlight} password checks in flight at most`);
    if (door !== 'ws/device') assert.ok(a.guard.slots.rejected > before.slotRefused, 'password checks past the in-flight bound were refused without hashing');
    await legit.unaffected();
  });
}

test('failed and refused attempts are counted in /metrics and folded into summary log lines', async () => {
  const metrics = await (await fetch(`${s.hub.url}/metrics`, { headers: { authorization: `Bearer ${s.tokens.viewer}` } })).text();
  const value = (re: RegExp) => Number(re.exec(metrics)?.[1] ?? NaN);
  assert.ok(value(/^fieldlink_auth_checks_total\{hash="scrypt"\} (\d+)/m) > 0);
  assert.ok(value(/^fieldlink_auth_checks_total\{hash="sha256"\} (\d+)/m) > 0);
  assert.ok(value(/^fieldlink_auth_refused_total\{limit="checks_in_flight"\} (\d+)/m) > 0);
  assert.ok(value(/^fieldlink_auth_refused_total\{limit="guessing"\} (\d+)/m) > 0);
  for (const door of ['ws', 'ws/device', 'mqtt', 'http']) assert.ok(value(new RegExp(`^fieldlink_auth_failures_total\\{door="${door}",code="RATE_LIMITED"\\} (\\d+)`, 'm')) > 0, door);
  const folded = value(/^fieldlink_auth_log_folded_total (\d+)/m);
  const failures = s.hub.security.authFailures;
  const all = Object.values(failures.counts).reduce((x, y) => x + y, 0);
  assert.ok(folded > 0.9 * all, `${folded} of ${all} failures folded into summaries instead of a line each`);
  assert.equal(value(/^fieldlink_auth_checks_in_flight (\d+)/m), 0);
  await legit.unaffected();
});
