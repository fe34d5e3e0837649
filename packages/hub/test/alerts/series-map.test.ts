// SeriesMap: the engine's (rule, device) state in two levels of maps.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SeriesMap } from '../../src/services/alerts/series-map.js';

test('get, set, delete and size by (rule, device); a device\'s last delete empties it', () => {
  const m = new SeriesMap<string>();
  m.set('dark', 'gh-1', 'a');
  m.set('dark', 'gh-2', 'b');
  m.set('silent', 'gh-1', 'c');
  m.set('dark', 'gh-1', 'a2'); // replaces, not counted twice
  assert.equal(m.size, 3);
  assert.equal(m.get('dark', 'gh-1'), 'a2');
  assert.equal(m.get('dark', 'gh-3'), undefined);
  assert.equal(m.has('silent', 'gh-2'), false);
  assert.deepEqual(m.ofDevice('gh-1').sort(), ['a2', 'c']);
  assert.equal(m.delete('dark', 'gh-1'), true);
  assert.equal(m.delete('dark', 'gh-1'), false);
  assert.equal(m.delete('silent', 'gh-1'), true);
  assert.deepEqual(m.ofDevice('gh-1'), []);
  assert.equal(m.size, 1);
  assert.deepEqual([...m.values()], ['b']);
});

test('deleting while iterating values() visits every series once and leaves none', () => {
  const m = new SeriesMap<{ rule: string; device: string }>();
  for (let d = 0; d < 5; d++) for (let r = 0; r < 3; r++) m.set(`r${r}`, `d${d}`, { rule: `r${r}`, device: `d${d}` });
  let seen = 0;
  for (const s of m.values()) {
    seen++;
    m.delete(s.rule, s.device);
  }
  assert.equal(seen, 15);
  assert.equal(m.size, 0);
  assert.deepEqual([...m.values()], []);
});
