/** The security building blocks on their own: ACL, secrets, limiters. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Acl, filterWithin, parseRules, type Identity } from '../../src/auth/acl.js';
import { fastHash, hashPassword, makeToken, parseToken, verifySecret } from '../../src/auth/secrets.js';
import { ConnectionLimits, TokenBucket } from '../../src/auth/limits.js';
import { MqttPacketGuard } from '../../src/transports/mqtt-limit.js';

const dev: Identity = { kind: 'device', id: 'd1', role: 'device' };
const viewer: Identity = { kind: 'user', id: 'vera', role: 'viewer', user: 'vera' };
const op: Identity = { kind: 'user', id: 'otto', role: 'operator', user: 'otto' };

test('default rules: devices own their prefix, viewers read, operators act', () => {
  const acl = new Acl();
  assert.ok(acl.can(dev, 'publish', 'devices/d1/telemetry'));
  assert.ok(!acl.can(dev, 'publish', 'devices/d2/telemetry'));
  assert.ok(!acl.can(dev, 'publish', 'devices/d1x/telemetry'));
  assert.ok(acl.can(dev, 'subscribe', 'devices/d1/cmd/+'));
  assert.ok(!acl.can(dev, 'subscribe', '#'));
  assert.ok(!acl.can(dev, 'subscribe', 'devices/+/cmd/#'));
  assert.ok(!acl.can(dev, 'subscribe', 'devices/d2/cmd/+'));
  assert.ok(!acl.can(dev, 'read', 'devices/d1/telemetry'));
  assert.ok(!acl.can(dev, 'call', 'devices/d1/cmd/x'));
  assert.ok(acl.can(viewer, 'subscribe', '#') && acl.can(viewer, 'read', 'devices/d1/telemetry'));
  assert.ok(!acl.can(viewer, 'publish', 'a') && !acl.can(viewer, 'call', 'devices/d1/cmd/x') && !acl.can(viewer, 'admin', '#'));
  assert.ok(acl.can(op, 'publish', 'a/b') && acl.can(op, 'call', 'devices/d1/cmd/identify') && !acl.can(op, 'admin', '#'));
});

test('a subscription must lie wholly inside a grant', () => {
  assert.ok(filterWithin('#', 'a/+/c'));
  assert.ok(filterWithin('a/#', 'a'));
  assert.ok(filterWithin('a/+/c', 'a/b/c'));
  assert.ok(filterWithin('a/+/c', 'a/+/c'));
  assert.ok(!filterWithin('a/b/c', 'a/+/c'));
  assert.ok(!filterWithin('a/+', 'a/#'));
  assert.ok(!filterWithin('a/b', 'a/b/c'));
});

test('custom rules: identity rules and substitution; bad rules are explained', () => {
  const acl = new Acl(parseRules([{ identity: 'user:vera', allow: ['publish'], topics: ['lab/{user}/#'] }, { role: 'viewer', allow: ['subscribe'], topics: ['lab/#'] }]));
  assert.ok(acl.can(viewer, 'publish', 'lab/vera/x'));
  assert.ok(!acl.can(viewer, 'publish', 'lab/otto/x'));
  assert.ok(acl.can(viewer, 'subscribe', 'lab/+/x') && !acl.can(viewer, 'subscribe', '#'));
  assert.throws(() => parseRules([{ allow: ['publish'], topics: ['x'] }]), /exactly one of "role" or "identity"/);
  assert.throws(() => parseRules([{ role: 'god', allow: ['publish'], topics: ['x'] }]), /unknown role/);
  assert.throws(() => parseRules([{ role: 'viewer', allow: ['fly'], topics: ['x'] }]), /"allow"/);
});

test('secrets: scrypt for passwords, fast hashes for generated secrets, tokens parse', async () => {
  const h = await hashPassword('correct horse');
  assert.match(h, /^scrypt\$16384\$8\$1\$/);
  assert.ok(await verifySecret('correct horse', h));
  assert.ok(!(await verifySecret('correct hors', h)));
  assert.ok(await verifySecret('s3cret', fastHash('s3cret')));
  assert.ok(!(await verifySecret('s3cret', 'plain')));
  const { token, hash } = makeToken('abcdEFGH1234');
  const p = parseToken(token)!;
  assert.equal(p.id, 'abcdEFGH1234');
  assert.ok(await verifySecret(p.secret, hash));
  assert.equal(parseToken('flt_x_y'), undefined);
});

test('limiters: token bucket, connection caps (the guessing limits: guard.test.ts)', () => {
  const b = new TokenBucket(10, 3, 0);
  assert.deepEqual([b.take(0), b.take(0), b.take(0), b.take(0)], [true, true, true, false]);
  assert.ok(b.take(100), 'one token back after 100 ms at 10/s');
  const c = new ConnectionLimits(3, 2);
  const r1 = c.acquire('a')!;
  c.acquire('a');
  assert.equal(c.acquire('a'), undefined, 'per-IP cap');
  c.acquire('b');
  assert.equal(c.acquire('c'), undefined, 'total cap');
  r1();
  r1();
  assert.ok(c.acquire('c'), 'release is idempotent and frees a slot');
});

test('MQTT packet guard: follows packets across chunks, refuses a large Remaining Length before the body arrives', () => {
  const g = new MqttPacketGuard(100);
  const ping = Buffer.from([0xc0, 0x00]);
  const pub = Buffer.concat([Buffer.from([0x30, 7, 0, 1, 0x74]), Buffer.from('abcd')]);
  const both = Buffer.concat([ping, pub, ping]);
  for (let i = 0; i < both.length; i++) assert.ok(g.feed(both.subarray(i, i + 1)), `byte ${i}`);
  assert.equal(g.feed(Buffer.from([0x30, 0xff, 0xff, 0x7f])), false, '2 MB announced');
  assert.equal(new MqttPacketGuard(1e9).feed(Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x01])), false, 'five length bytes');
});
