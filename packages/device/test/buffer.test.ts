import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TelemetryBuffer } from '../src/node/buffer.js';

test('in memory: FIFO, removal by seq, bounded with the oldest dropped', async () => {
  const b = await TelemetryBuffer.open({ max: 3 });
  for (let i = 1; i <= 5; i++) await b.append(i * 1000, { lux: i });
  assert.deepEqual(b.entries().map((e) => e.ts), [3000, 4000, 5000]);
  assert.equal(b.dropped, 2);
  b.remove(b.entries()[1]!.seq);
  assert.deepEqual(b.entries().map((e) => e.data.lux), [3, 5]);
  b.remove(999);
  assert.equal(b.size, 2);
});

test('on disk: survives reopen, removals are persisted, a torn last line is ignored', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'fl-buf-'));
  try {
    const b = await TelemetryBuffer.open({ dir, compactMs: 10 });
    const a = await b.append(1, { lux: 1 });
    await b.append(2, { lux: 2 });
    await b.append(3, { lux: 3 });
    b.remove(a.seq);
    await b.close();
    await appendFile(join(dir, 'buffer.jsonl'), '{"seq":99,"ts":4,"da'); // crash mid-append
    const again = await TelemetryBuffer.open({ dir });
    assert.deepEqual(again.entries().map((e) => e.ts), [2, 3]);
    const next = await again.append(5, { lux: 5 });
    assert.ok(next.seq > 3, 'sequence continues after the loaded entries');
    await again.close();
    const lines = (await readFile(join(dir, 'buffer.jsonl'), 'utf8')).trim().split('\n');
    assert.equal(lines.length, 3);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
