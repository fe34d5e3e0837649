// Resume marks (storage/resume-marks.ts) against both backends: what a boundary
// proves, and each bound (hi, floor from pruning and from a full buffer, kept epochs).
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { postgresResumeMarks, sqliteResumeMarks, type ResumeMarkOptions, type ResumeMarks } from '../../src/storage/resume-marks.js';
import { PostgresStore } from '../../src/storage/postgres.js';
import { PG_URL, dropSchema, randomSchema, requirePostgres } from './pg-harness.js';

const cleanups: (() => Promise<unknown>)[] = [];
after(async () => { for (const c of cleanups.reverse()) await c(); });

type Open = (o?: ResumeMarkOptions) => Promise<ResumeMarks>;

function suite(name: string, backend: () => Promise<Open>): void {
  describe(`resume marks (${name})`, () => {
    test('a boundary per device up to since; undefined past hi, at or below floor, for an unknown epoch', async () => {
      const open = await backend();
      const m = await open();
      await m.begin('e1', 1000);
      m.mark(1, 'a', 10, 2000);
      m.mark(2, 'b', 5, 2001);
      m.mark(3, 'a', 12, 2002);
      m.mark(4, 'b', 7, 2003);
      await m.flush();
      const b = await m.boundary('e1', 3);
      assert.deepEqual([...b!.perDevice].sort(), [['a', 12], ['b', 5]]);
      assert.equal(b!.at, 2002);
      assert.deepEqual([...b!.firstAfter], [['b', 7]]);
      assert.equal(await m.boundary('e1', 5), undefined, 'past hi');
      assert.equal(await m.boundary('e1', 0), undefined, 'at floor');
      assert.equal(await m.boundary('nope', 1), undefined);
      await m.close();
      const again = await open();
      assert.equal((await again.boundary('e1', 4))!.perDevice.get('b'), 7, 'committed marks outlive the connection');
      await again.close();
    });

    test('pruning and a full buffer raise the floor; only the last epochs are kept', async () => {
      const open = await backend();
      const m = await open({ maxMarks: 2, maxBuffered: 3, keepEpochs: 2 });
      await m.begin('old', 1);
      m.mark(1, 'a', 1, 1);
      await m.flush();
      await m.begin('e2', 2);
      for (let s = 1; s <= 4; s++) m.mark(s, 'a', s, s); // the 4th does not fit the buffer
      assert.equal(m.stats().dropped, 1);
      await m.flush();
      assert.equal(await m.boundary('e2', 3), undefined, 'below the floor the dropped mark raised');
      for (let s = 5; s <= 7; s++) m.mark(s, 'a', s, s);
      await m.flush();
      assert.equal(await m.boundary('e2', 4), undefined, 'pruned to the last 2');
      assert.equal((await m.boundary('e2', 6))!.perDevice.get('a'), 6);
      await m.close();
      const n = await open({ keepEpochs: 2 });
      await n.begin('e3', 3);
      assert.equal(await n.boundary('old', 1), undefined, 'older epochs deleted at start');
      assert.ok(await n.boundary('e2', 7), 'the previous epoch is kept');
      await n.close();
    });
  });
}

suite('SQLite', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'fl-marks-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return async (o) => sqliteResumeMarks(join(dir, 'fieldlink.db'), 'process', o);
});

suite('PostgreSQL', async () => {
  await requirePostgres();
  const schema = randomSchema();
  cleanups.push(() => dropSchema(schema));
  const s = new PostgresStore({ url: PG_URL, schema });
  await s.init();
  await s.close();
  return async (o) => postgresResumeMarks(PG_URL, schema, o);
});
