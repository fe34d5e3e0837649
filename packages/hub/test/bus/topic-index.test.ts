// The external bus's topic trie must match exactly as MQTT (and topicMatches) does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { topicMatches } from '@fieldlink/protocol';
import { createTopicIndex } from '../../src/bus/topic-index.js';

const filters = ['#', '+', 'a', 'a/#', 'a/+', 'a/+/c', 'a/b/#', '+/b', '+/+', '+/#', 'a//c', 'a/+/+', '/a', '+/a/#', 'devices/+/telemetry', 'devices/#'];
const topics = ['a', 'a/b', 'a/b/c', 'a//c', 'a/', '/a', '/', 'b', 'b/b', 'a/b/c/d', 'devices/d1/telemetry', 'devices/d1', 'devices', 'x/a/y'];

test('topic index: every filter × topic pair agrees with topicMatches', () => {
  const index = createTopicIndex<string>();
  for (const f of filters) index.add(f, f);
  for (const t of topics) {
    const want = filters.filter((f) => topicMatches(f, t)).sort();
    assert.deepEqual([...index.match(t)].sort(), want, t);
  }
});

test('topic index: a removed value is no longer matched, others under the same filter stay', () => {
  const index = createTopicIndex<object>();
  const [x, y] = [{}, {}];
  index.add('a/+', x).add('a/+', y);
  index.remove('a/+', x);
  assert.deepEqual(index.match('a/b'), [y]);
});
