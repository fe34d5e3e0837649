/** link/records.ts: what central applies for a batch against its mark, and the site's records, without sockets or a store. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseLinkFrame, type LinkRecord } from '@fieldlink/protocol';
import { applyBatch, centralTopic, readingsOf } from '../../src/link/records.js';

const tel = (seq: number, n: number, device = 'dev-1'): LinkRecord => ({ seq, from: seq, body: { k: 'tel', device, ts: 1000 + n, values: { n } } });
const gap = (from: number, seq: number, count: number): LinkRecord => ({ seq, from, body: { k: 'gap', reason: 'queue_full', count, firstTs: 1, lastTs: 2 } });

test('readingsOf: one record per message (a run of points of one device and ts)', () => {
  const r = readingsOf([
    { device: 'a', metric: 'x', ts: 1, value: 1 }, { device: 'a', metric: 'y', ts: 1, value: 2 },
    { device: 'a', metric: 'x', ts: 2, value: 3 }, { device: 'b', metric: 'x', ts: 2, value: 4 },
  ]);
  assert.deepEqual(r.map((e) => JSON.parse(e.body)), [
    { k: 'tel', device: 'a', ts: 1, values: { x: 1, y: 2 } }, { k: 'tel', device: 'a', ts: 2, values: { x: 3 } }, { k: 'tel', device: 'b', ts: 2, values: { x: 4 } },
  ]);
  assert.ok(r.every((e) => e.lane === 'telemetry'));
});

test('applyBatch: a first batch sets the mark and namespaces the devices', () => {
  const a = applyBatch('s1', 'telemetry', 'e1', [tel(1, 1), tel(2, 2)], undefined, 5);
  assert.deepEqual(a.mark, { epoch: 'e1', seq: 2 });
  assert.deepEqual(a.points.map((p) => p.device), ['s1:dev-1', 's1:dev-1']);
  assert.deepEqual(a.write.mark, { site: 's1', lane: 'telemetry', epoch: 'e1', seq: 2, prev: null });
  assert.equal(a.live.length, 1, 'newest reading per device goes live');
  assert.equal(a.live[0]!.topic, 'devices/s1:dev-1/telemetry');
});

test('applyBatch: records at or below the mark are counted duplicates and not stored again', () => {
  const a = applyBatch('s1', 'telemetry', 'e1', [tel(1, 1), tel(2, 2), tel(3, 3)], { epoch: 'e1', seq: 2 }, 5);
  assert.equal(a.duplicates, 2);
  assert.deepEqual(a.points.map((p) => p.value), [3]);
  assert.deepEqual(a.write.mark?.prev, { epoch: 'e1', seq: 2 });
  const all = applyBatch('s1', 'telemetry', 'e1', [tel(1, 1)], { epoch: 'e1', seq: 2 }, 5);
  assert.equal(all.duplicates, 1);
  assert.equal(all.write.mark, undefined, 'nothing to write; the ack repeats the mark');
  assert.deepEqual(all.mark, { epoch: 'e1', seq: 2 });
});

test('applyBatch: a jump past the mark is refused from there; the contiguous prefix is kept', () => {
  const a = applyBatch('s1', 'telemetry', 'e1', [tel(3, 3), tel(5, 5)], { epoch: 'e1', seq: 2 }, 5);
  assert.deepEqual(a.mark.seq, 3);
  assert.deepEqual(a.jump, { expected: 4, got: 5 });
  assert.deepEqual(a.points.map((p) => p.value), [3]);
  const none = applyBatch('s1', 'telemetry', 'e1', [tel(9, 9)], { epoch: 'e1', seq: 2 }, 5);
  assert.equal(none.write.mark, undefined);
  assert.deepEqual(none.jump, { expected: 3, got: 9 });
});

test('applyBatch: a gap record continues the mark and is stored as an event; an overlap is trimmed to what central lacks', () => {
  const a = applyBatch('s1', 'telemetry', 'e1', [gap(1, 10, 10), tel(11, 11)], { epoch: 'e1', seq: 4 }, 5);
  assert.equal(a.mark.seq, 11);
  const ev = a.write.events!.find((e) => e.kind === 'gap')!;
  assert.deepEqual([ev.fromSeq, ev.toSeq, ev.reason, ev.count], [5, 10, 'queue_full', 10]);
  assert.equal(a.gaps, 1);
});

test('applyBatch: a new epoch is reported with the old mark, never skipped silently', () => {
  const a = applyBatch('s1', 'telemetry', 'e2', [tel(1, 1)], { epoch: 'e1', seq: 40 }, 5);
  assert.deepEqual(a.epochChange, { old: { epoch: 'e1', seq: 40 } });
  const ev = a.write.events!.find((e) => e.kind === 'epoch')!;
  assert.deepEqual(JSON.parse(ev.detail), { oldEpoch: 'e1', oldSeq: 40 });
  assert.deepEqual(a.write.mark?.prev, { epoch: 'e1', seq: 40 });
  // A new epoch whose first records central never saw (acknowledged elsewhere, or lost): an explicit gap.
  const late = applyBatch('s1', 'telemetry', 'e3', [tel(7, 7)], undefined, 5);
  assert.deepEqual(late.write.events!.map((e) => [e.kind, e.fromSeq, e.toSeq, e.reason]), [['gap', 1, 6, 'unknown']]);
});

test('applyBatch: a floor past the mark (central lost acknowledged records) is a gap, not a loop of resends', () => {
  const a = applyBatch('s1', 'telemetry', 'e1', [tel(11, 11)], { epoch: 'e1', seq: 4 }, 5, 10);
  assert.equal(a.jump, undefined);
  assert.equal(a.mark.seq, 11);
  assert.deepEqual(a.write.events!.map((e) => [e.kind, e.fromSeq, e.toSeq, e.reason]), [['gap', 5, 10, 'unknown']]);
  const same = applyBatch('s1', 'telemetry', 'e1', [tel(11, 11)], { epoch: 'e1', seq: 10 }, 5, 10);
  assert.equal(same.write.events, undefined, 'a floor at the mark says nothing');
});

test('applyBatch / centralTopic: state records outside the site namespace are refused and counted', () => {
  assert.equal(centralTopic('s1', 'devices/x/status'), 'devices/s1:x/status');
  assert.equal(centralTopic('s1', 'devices/x/cmd/reboot/res'), 'devices/s1:x/cmd/reboot/res');
  assert.equal(centralTopic('s1', 'devices/x/cmd/reboot'), undefined, 'a command request never comes up');
  assert.equal(centralTopic('s1', 'other/x'), undefined);
  const msg = (seq: number, topic: string): LinkRecord => ({ seq, from: seq, body: { k: 'msg', topic, payload: '{}', retain: true, ts: 1 } });
  const a = applyBatch('s1', 'state', 'e1', [msg(1, 'devices/x/status'), msg(2, 'devices/x/cmd/reboot'), msg(3, '$SYS/x')], undefined, 5);
  assert.equal(a.refused, 2);
  assert.equal(a.mark.seq, 3, 'refused records are consumed (counted), so the lane is not stuck');
  assert.deepEqual(a.live.map((m) => m.topic), ['devices/s1:x/status']);
});

test('parseLinkFrame: batches are validated record by record', () => {
  const ok = parseLinkFrame(JSON.stringify({ op: 'batch', lane: 'telemetry', epoch: 'e1', records: [tel(1, 1)] }));
  assert.equal(ok.ok, true);
  const wrongLane = parseLinkFrame(JSON.stringify({ op: 'batch', lane: 'state', epoch: 'e1', records: [tel(1, 1)] }));
  assert.equal(wrongLane.ok, false);
  const badRange = parseLinkFrame(JSON.stringify({ op: 'batch', lane: 'telemetry', epoch: 'e1', records: [{ ...tel(3, 3), from: 2 }] }));
  assert.deepEqual(badRange.ok ? null : badRange.code, 'BAD_PAYLOAD');
  const unknown = parseLinkFrame('{"op":"nope"}');
  assert.deepEqual(unknown.ok ? null : unknown.code, 'UNKNOWN_OP');
  assert.deepEqual((() => { const p = parseLinkFrame('[1]'); return p.ok ? null : p.code; })(), 'BAD_FRAME');
});
