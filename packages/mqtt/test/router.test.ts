import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Router, type LocalSub, type MatchSink, type SharedGroup, type Sub } from '../src/router.js';
import { checkFilter, checkTopicName, matches, parseShared } from '../src/topics.js';

const local = (filter: string, group?: string): LocalSub => ({ kind: 'local', filter, group, handler: () => {} });

function hits(r: Router, topic: string): string[] {
  const out: string[] = [];
  const sink: MatchSink = { hit: (s: Sub) => out.push(s.filter), shared: (g: SharedGroup) => out.push(`$share/${g.name}`) };
  r.match(topic, sink);
  return out.sort();
}

test('[MQTT-4.7.1-2/3] router: + matches one level, # the rest including the parent', () => {
  const r = new Router();
  for (const f of ['a/b/c', 'a/+/c', 'a/#', '#', '+/+/+', 'a/b', '+', 'a/+']) r.add(local(f));
  assert.deepEqual(hits(r, 'a/b/c'), ['#', '+/+/+', 'a/#', 'a/+/c', 'a/b/c'].sort());
  assert.deepEqual(hits(r, 'a'), ['#', '+', 'a/#'].sort());
  assert.deepEqual(hits(r, 'a/b'), ['#', 'a/#', 'a/+', 'a/b'].sort());
  assert.deepEqual(hits(r, 'b//c'), ['#', '+/+/+']);
});

test('[MQTT-4.7.2-1] router: wildcards at the first level do not match $ topics', () => {
  const r = new Router();
  for (const f of ['#', '+/x', '$SYS/#', '$SYS/+']) r.add(local(f));
  assert.deepEqual(hits(r, '$SYS/x'), ['$SYS/#', '$SYS/+']);
  assert.deepEqual(hits(r, 'a/x'), ['#', '+/x']);
});

test('router: remove prunes and leaves the rest matching; shared groups are yielded once per group', () => {
  const r = new Router();
  const a = local('x/#');
  const b = local('x/#', 'g1');
  const c = local('x/#', 'g1');
  const d = local('x/#', 'g2');
  [a, b, c, d].forEach((s) => r.add(s));
  assert.deepEqual(hits(r, 'x/y'), ['$share/g1', '$share/g2', 'x/#']);
  assert.ok(r.remove(b));
  assert.ok(r.remove(d));
  assert.deepEqual(hits(r, 'x/y'), ['$share/g1', 'x/#']);
  assert.ok(r.remove(a) && r.remove(c));
  assert.equal(r.size, 0);
  assert.deepEqual(hits(r, 'x/y'), []);
  assert.equal(r.remove(a), false);
});

test('[MQTT-4.7.1-1] filter validation: wildcards only as whole levels, # last', () => {
  for (const ok of ['#', '+', 'a/+/b', 'a/#', '+/+', '/', 'a//b', '$SYS/#']) assert.equal(checkFilter(ok, 1024), 0, ok);
  for (const bad of ['', 'a#', 'a/#/b', 'a+', '+a/b', 'a/b#', 'a\u0000b', 'x'.repeat(1025)]) assert.equal(checkFilter(bad, 1024), 0x8f, bad);
});

test('[MQTT-3.3.2-2] topic name validation: no wildcards, not empty, no NUL, within the length cap', () => {
  for (const ok of ['a', 'a/b', '/', '$SYS/x', 'é/ü']) assert.equal(checkTopicName(ok, 1024), 0, ok);
  for (const bad of ['', 'a/+', '#', 'a\u0000', 'é'.repeat(600)]) assert.equal(checkTopicName(bad, 1024), 0x90, bad.slice(0, 10));
});

test('[MQTT-4.8.2-1/2] $share/{group}/{filter} parsing', () => {
  assert.deepEqual(parseShared('$share/g/a/#'), { group: 'g', filter: 'a/#' });
  assert.equal(parseShared('a/b'), null);
  for (const bad of ['$share/', '$share//a', '$share/g', '$share/g/', '$share/g+/a', '$share/#/a']) assert.equal(parseShared(bad), undefined, bad);
  assert.equal(matches('a/+', 'a/b'), true);
  assert.equal(matches('#', '$x'), false);
});
