/**
 * The guessing limits on their own, with an injected clock (no real waits):
 * decay, per name vs per address, counted-before-check and serialisation,
 * password checks in flight, the guessing-rate bound docs/security.md states,
 * equal work for known and unknown names, and the failure log's summaries.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { addressKey, FailureCounts } from '../../src/auth/limits.js';
import { AuthGuard, GUARD_DEFAULTS, type Slot, type Verdict } from '../../src/auth/guard.js';
import { Authenticator, type Credentials } from '../../src/auth/authenticator.js';
import { fastHash, generateSecret, hashPassword, makeToken } from '../../src/auth/secrets.js';
import { openIdentities } from '../../src/storage/index.js';
import { FailureLog } from '../../src/auth/failure-log.js';
import type { Logger } from '../../src/log.js';

const BAD: Verdict = { ok: false, code: 'BAD_CREDENTIALS', message: 'bad' };
const OK: Verdict = { ok: true };

/** A guard on a fake clock, and a check that counts its calls (a password check when `password`). */
function rig(over: Partial<typeof GUARD_DEFAULTS> = {}) {
  let t = 0;
  const guard = new AuthGuard({ ...GUARD_DEFAULTS, ...over }, () => t);
  const stats = { checks: 0 };
  const attempt = (name: string, ip: string, right = false, password = false) =>
    guard.run(name, ip, async (slot: Slot) => {
      if (password && !slot()) return { ok: false, code: 'RATE_LIMITED', message: 'slots' } as const;
      stats.checks++;
      await new Promise((r) => setImmediate(r)); // a check takes a while: concurrent attempts overlap
      return right ? OK : BAD;
    });
  return { guard, stats, attempt, advance: (ms: number) => (t += ms), now: () => t };
}

test('backoff counts: free failures, doubling wait, decay one per decayMs, success clears', () => {
  const c = new FailureCounts('backoff', 3, 60_000, 1000, 8000, true);
  for (let i = 0; i < 3; i++) {
    assert.equal(c.admit('k', 0), 0, 'the free failures cost no wait');
    c.fail('k', 0);
  }
  assert.equal(c.admit('k', 0), 1000, 'then 1 s');
  assert.equal(c.admit('k', 500), 500);
  assert.equal(c.admit('k', 1000), 0);
  c.fail('k', 1000);
  assert.equal(c.admit('k', 1000), 2000, 'then 2 s');
  c.fail('k', 3000);
  assert.equal(c.admit('k', 3000), 4000, 'then 4 s');
  assert.equal(c.admit('other', 3000), 0, 'other keys are not affected');
  assert.ok(Math.abs(c.level('k', 3000) - (5 - 3000 / 60_000)) < 1e-9);
  assert.equal(c.level('k', 3000 + 5 * 60_000), 0, 'failures decay: one per decayMs');
  assert.equal(c.admit('k', 3000 + 5 * 60_000), 0);
  c.succeed('k');
  assert.equal(c.level('k', 0), 0, 'a success forgets the key');
});

test('counted before the check: concurrent attempts see each other; in backoff one at a time', () => {
  const c = new FailureCounts('backoff', 3, 60_000);
  assert.deepEqual([0, 1, 2, 3].map(() => c.admit('k', 0) === 0), [true, true, true, false], 'no more in flight than free failures left');
  c.fail('k', 0);
  c.fail('k', 0);
  c.cancel('k');
  assert.equal(c.level('k', 0), 2);
  assert.equal(c.admit('k', 0), 0);
  c.fail('k', 0); // 3 failures: the free ones are used up
  assert.equal(c.admit('k', 0), 1000, 'a wait after the free failures');
  assert.equal(c.admit('k', 1000), 0);
  assert.ok(c.admit('k', 1000) > 0, 'and then one attempt at a time');
  const b = new FailureCounts('bucket', 4, 1000);
  assert.deepEqual([0, 1, 2, 3, 4].map(() => b.admit('ip', 0) === 0), [true, true, true, true, false], 'bucket: pending attempts fill it');
  for (let i = 0; i < 4; i++) b.fail('ip', 0);
  assert.equal(b.admit('ip', 0), 1000, 'full: wait until one failure leaks out');
  assert.equal(b.admit('ip', 999), 1);
  assert.equal(b.admit('ip', 1000), 0, 'one leaked per decayMs');
  b.succeed('ip');
  assert.equal(Math.round(b.level('ip', 1000)), 3, 'a success does not empty an address bucket');
});

test('keys that hold nothing are not kept: successes and cancelled attempts leave no entries', () => {
  const c = new FailureCounts('bucket', 10, 1000);
  for (let i = 0; i < 100; i++) {
    c.admit(`ip${i}`, 0);
    if (i % 2) c.succeed(`ip${i}`);
    else c.cancel(`ip${i}`);
  }
  assert.equal(c.size, 0);
  c.admit('x', 0);
  c.fail('x', 0);
  c.admit('x', 0);
  c.succeed('x');
  assert.equal(c.size, 1, 'a key with failures is kept');
});

test('failure counts are bounded: the least recently failed key is evicted and counted', () => {
  const c = new FailureCounts('backoff', 1, 60_000, 1000, 60_000, false, 3);
  for (const k of ['a', 'b', 'c', 'a', 'd']) c.fail(k, 0);
  assert.equal(c.size, 3);
  assert.equal(c.evicted, 1);
  assert.equal(c.level('b', 0), 0, 'b failed least recently');
  assert.equal(c.level('a', 0), 2);
});

test('address keys: IPv4 as is (also IPv4-mapped), IPv6 by its /64', () => {
  assert.equal(addressKey('10.1.2.3'), '10.1.2.3');
  assert.equal(addressKey('::ffff:10.1.2.3'), '10.1.2.3');
  assert.equal(addressKey('2001:db8:1:2:aaaa::1'), '2001:db8:1:2::/64');
  assert.equal(addressKey('2001:db8:1:2:bbbb:cccc:dddd:eeee'), '2001:db8:1:2::/64');
  assert.equal(addressKey('2001:db8::1'), '2001:db8:0:0::/64');
  assert.equal(addressKey('::1'), '0:0:0:0::/64');
  assert.equal(addressKey('fe80::1%eth0'), 'fe80:0:0:0::/64');
});

test('serialised: 200 pipelined guesses for one name from one address get only the free checks; the right one is never reached', async () => {
  const { attempt, stats, guard } = rig({ freeFailures: 5 });
  const replies = await Promise.all(Array.from({ length: 200 }, (_, i) => attempt('name:vera', '10.0.0.9', i === 150)));
  assert.equal(stats.checks, 5);
  assert.equal(replies.filter((r) => !r.ok && r.code === 'RATE_LIMITED').length, 195);
  assert.ok(!replies.some((r) => r.ok), 'the right password was never checked');
  assert.ok(guard.queueRefused > 0, 'past 64 waiting for one name and address, refused at once');
});

test('a neighbour that keeps failing does not lock out a device on the same address', async () => {
  const { attempt, advance } = rig({ freeFailures: 5, ipFailures: 100 });
  for (let i = 0; i < 2000; i++) {
    await attempt('name:broken', '10.0.0.7'); // misconfigured, retrying every 3 s for 100 minutes
    advance(3000);
  }
  const r = await attempt('name:d1', '10.0.0.7', true);
  assert.ok(r.ok, 'its own backoff held the neighbour to about one failure a minute: the address bucket never filled');
});

test('cycling through names from one address stops at the address bucket; names that proved themselves there still log in; the bucket decays', async () => {
  const { attempt, stats, advance } = rig({ freeFailures: 5, ipFailures: 20, ipDecayMs: 6000 });
  assert.ok((await attempt('name:d1', '10.0.0.5', true)).ok, 'd1 logs in from the shared address');
  for (let i = 0; i < 100; i++) await attempt(`name:guess${i}`, '10.0.0.5');
  assert.equal(stats.checks, 21, 'one success + 20 failures checked; then the bucket is full');
  const fresh = await attempt('name:new-device', '10.0.0.5', true);
  assert.ok(!fresh.ok && fresh.code === 'RATE_LIMITED' && /address/.test(fresh.message), 'a name unknown at this address waits for the bucket');
  assert.ok((await attempt('name:d1', '10.0.0.5', true)).ok, 'd1 proved itself here before: not locked out by its neighbours');
  const checked = stats.checks;
  await attempt('name:guess-x', '10.0.0.6');
  assert.equal(stats.checks, checked + 1, 'another address is not affected');
  advance(6000);
  assert.ok((await attempt('name:new-device', '10.0.0.5', true)).ok, 'one failure leaked out after --auth-ip-decay-ms: the new device gets in');
});

test('one name guessed from many addresses stops at the name allowance, except where it proved itself', async () => {
  const { attempt, stats } = rig({ freeFailures: 5, nameFailures: 10 });
  assert.ok((await attempt('name:otto', '10.9.0.1', true)).ok);
  for (let i = 0; i < 50; i++) await attempt('name:otto', `10.8.0.${i}`);
  assert.equal(stats.checks, 1 + 10, 'the name allowance held across addresses');
  assert.ok((await attempt('name:otto', '10.9.0.1', true)).ok, 'otto at his usual address is not locked out');
  const elsewhere = await attempt('name:otto', '10.9.0.2', true);
  assert.ok(!elsewhere.ok && elsewhere.code === 'RATE_LIMITED', 'from a new address otto waits while his name is attacked (the documented price)');
});

test('password checks in flight: per address and in total; the rest refused without hashing', async () => {
  let t = 0;
  const guard = new AuthGuard({ ...GUARD_DEFAULTS, checksInFlight: 3, checksPerIp: 2 }, () => t);
  const gates: Array<() => void> = [];
  let hashed = 0;
  const slow = (name: string, ip: string) =>
    guard.run(name, ip, async (slot) => {
      if (!slot()) return { ok: false, code: 'RATE_LIMITED', message: 'slots' } as const;
      hashed++;
      await new Promise<void>((r) => gates.push(r));
      return BAD;
    });
  const a = [slow('name:a1', '10.0.0.1'), slow('name:a2', '10.0.0.1'), slow('name:a3', '10.0.0.1'), slow('name:b1', '10.0.0.2'), slow('name:c1', '10.0.0.3')];
  const r = await Promise.race([Promise.all([a[2], a[4]]), new Promise((r) => setTimeout(r, 1000))]);
  assert.ok(Array.isArray(r), 'the refused attempts were answered at once');
  assert.deepEqual((r as Verdict[]).map((v) => !v.ok && v.code), ['RATE_LIMITED', 'RATE_LIMITED']);
  assert.equal(hashed, 3);
  assert.equal(guard.slots.count, 3);
  assert.equal(guard.slots.rejected, 2);
  gates.forEach((g) => g());
  await Promise.all(a);
  assert.equal(guard.slots.count, 0, 'slots are released');
  t += 1;
  assert.equal(guard.ip.level('10.0.0.1', t) > 1.9, true, 'only the checked attempts count as failures');
});

test('the documented bound: a guesser trying every 100 ms for an hour gets at most free + 7 + 60 tries per name and address', async () => {
  const { attempt, stats, advance } = rig({ freeFailures: 5, maxMs: 60_000, nameFailures: 1e6, ipFailures: 1e6 });
  for (let i = 0; i < 36_000; i++) {
    await attempt('name:vera', '10.0.0.9');
    advance(100);
  }
  assert.ok(stats.checks <= 5 + 7 + 60, `${stats.checks} checks in an hour`);
  assert.ok(stats.checks >= 60, 'and it does not lock out forever: about one a minute');
});

test('equal work for known and unknown names: the same hash kinds run, counted', async () => {
  const ids = openIdentities({ url: `sqlite:${join(mkdtempSync(join(tmpdir(), 'fl-guard-')), 'ids.db')}` });
  const secret = generateSecret();
  await ids.putDevice({ id: 'known', secretHash: fastHash(secret), createdAt: 0 });
  await ids.putUser({ name: 'vera', passwordHash: await hashPassword('pw-1'), role: 'viewer', createdAt: 0 });
  const tok = makeToken('knownTok0001');
  await ids.putToken({ id: 'knownTok0001', hash: tok.hash, name: 't', role: 'viewer', subject: null, createdAt: 0, expiresAt: null, revokedAt: null });
  const auth = new Authenticator(ids, null, { ...GUARD_DEFAULTS, freeFailures: 1000, nameFailures: 1e6, ipFailures: 1e6 });
  const cost = async (c: Credentials) => {
    const before = { ...auth.counters };
    const r = await auth.authenticate(c, '10.1.1.1');
    assert.equal(r.ok ? 'ok' : r.code, 'BAD_CREDENTIALS');
    return [auth.counters.sha256Checks - before.sha256Checks, auth.counters.scryptChecks - before.scryptChecks];
  };
  assert.deepEqual(await cost({ device: 'known', secret: 'wrong' }), [1, 0], '/ws/device, known id');
  assert.deepEqual(await cost({ device: 'unknown', secret: 'wrong' }), [1, 0], '/ws/device, unknown id: the same one SHA-256');
  assert.deepEqual(await cost({ login: { name: 'known', secret: 'wrong' } }), [1, 1], 'MQTT, known device');
  assert.deepEqual(await cost({ login: { name: 'unknown', secret: 'wrong' } }), [1, 1], 'MQTT, unknown name');
  assert.deepEqual(await cost({ login: { name: 'vera', secret: 'wrong' } }), [1, 1], 'MQTT, known user');
  assert.deepEqual(await cost({ user: 'vera', password: 'wrong' }), [0, 1], '/ws, known user');
  assert.deepEqual(await cost({ user: 'nobody', password: 'wrong' }), [0, 1], '/ws, unknown user');
  assert.deepEqual(await cost({ token: `flt_knownTok0001_${'x'.repeat(43)}` }), [1, 0], 'token, known id');
  assert.deepEqual(await cost({ token: `flt_unknownTok01_${'x'.repeat(43)}` }), [1, 0], 'token, unknown id');
  assert.ok((await auth.authenticate({ login: { name: 'known', secret } }, '10.1.1.1')).ok, 'a device on MQTT still logs in with one SHA-256');
  await ids.close();
});

test('failure log: the first failure per door, address and code is a line, the rest one counted summary per interval; keys are bounded', () => {
  const lines: Array<[Record<string, unknown>, string]> = [];
  const log = { warn: (o: Record<string, unknown>, msg: string) => lines.push([o, msg]) } as unknown as Logger;
  const f = new FailureLog(log, 10_000, 3);
  for (let i = 0; i < 1000; i++) f.record('ws', '10.0.0.1', 'RATE_LIMITED');
  f.record('ws', '10.0.0.1', 'BAD_CREDENTIALS', { device: 'x' });
  for (let i = 0; i < 50; i++) f.record('mqtt', `10.0.1.${i}`, 'BAD_CREDENTIALS');
  assert.equal(lines.length, 4, 'one line per key; addresses past the bound share one key');
  assert.deepEqual(lines[1]![0], { door: 'ws', remote: '10.0.0.1', code: 'BAD_CREDENTIALS', device: 'x' });
  assert.equal(lines[3]![0].remote, '*');
  f.flush();
  const summaries = lines.slice(4).map(([o]) => `${String(o.door)} ${String(o.remote)} ${String(o.code)} ${String(o.count)}`);
  assert.deepEqual(summaries, ['ws 10.0.0.1 RATE_LIMITED 999', 'mqtt * BAD_CREDENTIALS 48']);
  assert.deepEqual(f.counts, { 'ws:RATE_LIMITED': 1000, 'ws:BAD_CREDENTIALS': 1, 'mqtt:BAD_CREDENTIALS': 50 });
  assert.equal(f.folded, 999 + 48);
  f.record('ws', '10.0.0.1', 'RATE_LIMITED');
  assert.equal(lines.length, 7, 'a new interval logs its first failure again');
  f.close();
});
