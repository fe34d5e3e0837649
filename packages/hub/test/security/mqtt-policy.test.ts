/** The engine-neutral MQTT policy on its own: deny rules, `$` shielding, client-id ownership, the retained budget. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Acl, filterWithin, filtersOverlap, parseRules, type Identity } from '../../src/auth/acl.js';
import { SessionOwners, clientIdRefusal, publishTopicRefusal, subscribeFilterRefusal } from '../../src/auth/mqtt-policy.js';
import { MIN_RETAINED_BYTES, RetainedBudget, ownerOfTopic } from '../../src/auth/retained-budget.js';

const admin: Identity = { kind: 'user', id: 'ada', role: 'admin', user: 'ada' };
const viewer: Identity = { kind: 'user', id: 'vera', role: 'viewer', user: 'vera' };
const devA: Identity = { kind: 'device', id: 'dev-a', role: 'device' };
const devB: Identity = { kind: 'device', id: 'dev-b', role: 'device' };

test('deny wins over allow; a filter overlapping a deny is screened, one inside it refused', () => {
  const acl = new Acl(
    parseRules([
      { role: 'admin', allow: ['publish', 'subscribe', 'read', 'call', 'admin'], topics: ['#'] },
      { role: 'admin', deny: ['subscribe'], topics: ['test/nosubscribe'] },
      { role: 'admin', deny: ['publish'], topics: ['lab/locked/#'] },
    ]),
  );
  assert.equal(acl.subscribeScope(admin, 'test/nosubscribe'), 'none');
  assert.equal(acl.can(admin, 'subscribe', 'test/nosubscribe'), false);
  assert.equal(acl.subscribeScope(admin, 'test/other'), 'all');
  assert.equal(acl.subscribeScope(admin, 'test/#'), 'screened');
  assert.equal(acl.subscribeScope(admin, 'test/+'), 'screened');
  assert.equal(acl.subscribeScope(admin, '#'), 'screened');
  assert.equal(acl.subscribeScope(admin, '+/+/x'), 'all', 'three levels never match the two-level deny');
  assert.equal(acl.subscribeScope(admin, 'devices/#'), 'all');
  assert.equal(acl.can(admin, 'subscribe', '#'), true, 'screened is allowed');
  assert.ok(acl.can(admin, 'publish', 'lab/open') && !acl.can(admin, 'publish', 'lab/locked') && !acl.can(admin, 'publish', 'lab/locked/a/b'));
  assert.ok(acl.can(admin, 'subscribe', 'lab/locked/a'), 'a publish deny leaves subscribe alone');
  // the same answers again come from the memo
  assert.equal(acl.subscribeScope(admin, 'test/#'), 'screened');
});

test('filters overlap when some topic matches both', () => {
  const yes: [string, string][] = [['a/b', 'a/b'], ['a/+', 'a/b'], ['#', 'a/b/c'], ['a/#', 'a'], ['a', 'a/#'], ['+/b', 'a/+'], ['a/+/c', 'a/b/#']];
  const no: [string, string][] = [['a/b', 'a/c'], ['a/+', 'a'], ['a/b/c', 'a/b'], ['+/+', 'a'], ['#', '$SYS/x'], ['+/x', '$SYS/x'], ['$SYS/#', '+/y']];
  for (const [x, y] of yes) assert.ok(filtersOverlap(x, y) && filtersOverlap(y, x), `${x} ~ ${y}`);
  for (const [x, y] of no) assert.ok(!filtersOverlap(x, y) && !filtersOverlap(y, x), `${x} !~ ${y}`);
});

test('$ topics: a wildcard grant does not cover them [MQTT-4.7.2-1]; $SYS is for administrators', () => {
  assert.ok(!filterWithin('#', '$SYS/#') && !filterWithin('+/#', '$SYS/x') && filterWithin('$SYS/#', '$SYS/a/b'));
  const acl = new Acl();
  assert.equal(acl.can(viewer, 'subscribe', '$SYS/#'), false);
  assert.equal(acl.can(viewer, 'subscribe', '#'), true);
  assert.equal(acl.can(admin, 'subscribe', '$SYS/#'), true);
  assert.equal(acl.can({ ...viewer, role: 'operator' }, 'subscribe', '$SYS/broker/new/clients'), false);
});

test('rules with deny parse; a rule needs allow or deny; bad actions are named', () => {
  assert.deepEqual(parseRules([{ role: 'admin', deny: ['subscribe'], topics: ['x'] }]), [{ role: 'admin', deny: ['subscribe'], topics: ['x'] }]);
  assert.throws(() => parseRules([{ role: 'admin', topics: ['x'] }]), /"allow" or "deny"/);
  assert.throws(() => parseRules([{ role: 'admin', deny: ['fly'], topics: ['x'] }]), /"deny" must list/);
});

test('client ids: a device uses its own id; registered device ids are reserved; sessions are owned', () => {
  assert.equal(clientIdRefusal(devA, 'dev-a', false), undefined);
  assert.equal(clientIdRefusal(devA, 'dev-b', true), 'not_device_id');
  assert.equal(clientIdRefusal(devA, 'anything', false), 'not_device_id');
  assert.equal(clientIdRefusal(viewer, 'dev-b', true), 'reserved');
  assert.equal(clientIdRefusal(viewer, 'vera-laptop', false), undefined);
  const o = new SessionOwners(2);
  const c1 = {};
  const c2 = {};
  assert.equal(o.claim(viewer, 'shared', false, false, c1), undefined);
  assert.equal(o.claim(admin, 'shared', true, false, c2), 'session_owned', 'online: no takeover by another identity');
  o.release('shared', c1);
  assert.equal(o.ownerOf('shared'), 'user:vera', 'a persisted session stays its owner’s');
  assert.equal(o.claim(admin, 'shared', false, false, c2), 'session_owned', 'offline: still not yours');
  assert.equal(o.claim(viewer, 'shared', false, false, c2), undefined, 'the owner resumes it');
  o.release('shared', c1); // the replaced connection closing later changes nothing
  assert.equal(o.claim(admin, 'shared', true, false, {}), 'session_owned');
  // clean sessions end with the connection
  const c3 = {};
  assert.equal(o.claim(admin, 'tmp', true, false, c3), undefined);
  o.release('tmp', c3);
  assert.equal(o.ownerOf('tmp'), undefined);
  // stored sessions per identity are bounded; clean=true frees one
  assert.equal(o.claim(viewer, 'second', false, false, {}), undefined);
  assert.equal(o.claim(viewer, 'third', false, false, {}), 'too_many_sessions');
  assert.equal(o.claim(viewer, 'second', true, false, {}), undefined);
  assert.equal(o.claim(viewer, 'third', false, false, {}), undefined);
  assert.deepEqual(o.refused, { not_device_id: 0, reserved: 0, session_owned: 3, too_many_sessions: 1 });
  assert.equal(o.claim(devB, 'dev-b', false, true, {}), undefined, 'a device may of course use its reserved id');
});

test('topic and filter caps', () => {
  assert.equal(publishTopicRefusal('a'.repeat(1024)), undefined);
  assert.equal(publishTopicRefusal('a'.repeat(1025)), 'too_long');
  assert.equal(publishTopicRefusal('é'.repeat(513)), 'too_long', 'bytes, not characters');
  assert.equal(publishTopicRefusal(Array(33).fill('a').join('/')), 'too_deep');
  assert.equal(publishTopicRefusal('$SYS/x'), 'reserved');
  assert.equal(subscribeFilterRefusal('a/'.repeat(600) + '#'), 'too_long');
  assert.equal(subscribeFilterRefusal('a/#'), undefined);
});

test('retained budget: per owner and total, replacement and clearing accounted, growth refused', () => {
  const b = new RetainedBudget({ perOwnerBytes: 4096, perOwnerTopics: 3, totalBytes: 6000, totalTopics: 5 });
  assert.equal(b.admit('device:a', 'devices/a/meta', 3000), undefined);
  assert.equal(b.admit('device:a', 'devices/a/x', 2000), 'owner_bytes');
  assert.equal(b.admit('device:a', 'devices/a/meta', 3500), undefined, 'replacing within the limit');
  assert.equal(b.held('device:a').bytes, 3500 + 'devices/a/meta'.length);
  assert.equal(b.admit('device:a', 'devices/a/meta', 0), undefined, 'cleared');
  assert.deepEqual(b.held('device:a'), { bytes: 0, topics: 0 });
  assert.equal(b.bytes, 0);
  for (const t of ['s', 't', 'u']) assert.equal(b.admit('device:a', `devices/a/${t}`, 10), undefined);
  assert.equal(b.admit('device:a', 'devices/a/v', 10), 'owner_topics');
  assert.equal(b.held('device:a').bytes, 3 * MIN_RETAINED_BYTES, 'small messages count the minimum');
  assert.equal(b.admit('device:a', 'devices/a/s', 20), undefined, 'a replacement that does not grow is always fine');
  assert.equal(b.admit('device:b', 'devices/b/meta', 4000), undefined);
  assert.equal(b.admit('device:c', 'devices/c/meta', 1500), 'total_bytes');
  assert.equal(b.admit('device:c', 'devices/c/s', 1), undefined);
  assert.equal(b.admit('device:c', 'devices/c/t', 1), 'total_topics');
  // another owner replacing a topic takes it into its own account
  assert.equal(b.admit('device:c', 'devices/a/s', 1), undefined);
  assert.equal(b.held('device:a').topics, 2);
  assert.equal(b.held('device:c').topics, 2);
  assert.deepEqual(b.refused, { owner_bytes: 1, owner_topics: 1, total_bytes: 1, total_topics: 1 });
  assert.equal(ownerOfTopic('devices/d1/meta'), 'device:d1');
  assert.equal(ownerOfTopic('lab/x'), 'hub');
});
