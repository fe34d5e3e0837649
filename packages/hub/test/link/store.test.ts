/**
 * The link's storage on both backends: outbox rows committed in the telemetry
 * transaction with seqs per lane, the fenced mark, eviction into gap records,
 * acknowledgement, executed command ids, site tokens.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openLinkStore, openStore } from '../../src/storage/index.js';
import { isMarkFence, type OutboxEntry } from '../../src/storage/link-sql.js';
import { PG_URL, dropSchema, randomSchema, requirePostgres } from '../storage/pg-harness.js';

const entry = (n: number, lane: 'state' | 'telemetry' = 'telemetry', ts = 1000 + n): OutboxEntry => ({ lane, ts, body: JSON.stringify({ k: 'tel', device: 'd', ts, values: { n } }) });

for (const kind of ['sqlite', 'postgres'] as const) {
  test(`${kind}: link storage`, async (t) => {
    let opts: { url?: string; dataDir?: string; schema?: string };
    if (kind === 'postgres') {
      await requirePostgres();
      const schema = randomSchema();
      opts = { url: PG_URL, schema };
      t.after(() => dropSchema(schema));
    } else opts = { dataDir: mkdtempSync(join(tmpdir(), 'fl-link-store-')) };
    const store = await openStore(opts);
    const link = openLinkStore(opts);
    t.after(async () => { await link.close(); await store.close(); });

    await t.test('outbox rows commit with the points, numbered per lane', async () => {
      await store.append([{ device: 'd', metric: 'n', ts: 1001, value: 1 }], { outbox: [entry(1), entry(2)] });
      await store.append([], { outbox: [entry(3, 'state')] });
      await store.append([{ device: 'd', metric: 'n', ts: 1003, value: 3 }], { outbox: [entry(3)] });
      const lanes = await link.lanes();
      assert.deepEqual(lanes.map((l) => [l.lane, l.nextSeq, l.acked]), [['state', 2, 0], ['telemetry', 4, 0]]);
      const rows = await link.outbox('telemetry', 0, 100, 1 << 20);
      assert.deepEqual(rows.map((r) => [r.seq, r.from]), [[1, 1], [2, 2], [3, 3]]);
      assert.equal(await store.count({ device: 'd', metric: 'n', from: 0, to: 1e6 }), 2);
    });

    await t.test('a failing append writes no outbox row', async () => {
      await assert.rejects(store.append([{ device: 'd', metric: 'n', ts: -1, value: 1 }], { outbox: [entry(9)] }), RangeError);
      assert.equal((await link.outbox('telemetry', 0, 100, 1 << 20)).length, 3);
    });

    await t.test('ack drops rows up to the seq of the lane\'s epoch only', async () => {
      const tel = (await link.lanes()).find((l) => l.lane === 'telemetry')!;
      assert.equal(await link.ack('telemetry', 'other-epoch', 2), 0);
      assert.equal(await link.ack('telemetry', tel.epoch, 2), 2);
      assert.deepEqual((await link.outbox('telemetry', 0, 100, 1 << 20)).map((r) => r.seq), [3]);
      // Acknowledged seqs are never reused.
      await store.append([], { outbox: [entry(4)] });
      assert.deepEqual((await link.outbox('telemetry', 0, 100, 1 << 20)).map((r) => r.seq), [3, 4]);
    });

    await t.test('evict replaces the oldest telemetry by one gap record; state is never evicted', async () => {
      for (let i = 0; i < 20; i++) await store.append([], { outbox: [entry(10 + i)] });
      const before = await link.fill('telemetry');
      const e = await link.evict('telemetry', Math.floor(before.bytes / 2), 0);
      assert.equal(e?.reason, 'queue_full');
      assert.equal(e?.from, 3);
      const rows = await link.outbox('telemetry', 0, 100, 1 << 20);
      const g = JSON.parse(rows[0]!.body) as { k: string; count: number };
      assert.equal(g.k, 'gap');
      assert.equal(rows[0]!.from, 3);
      assert.equal(rows[0]!.seq, e!.to);
      assert.equal(g.count, e!.to - 3 + 1);
      assert.ok((await link.fill('telemetry')).bytes <= before.bytes / 2);
      // Age bound: everything older than ts 1025 goes, merged with the head gap.
      const e2 = await link.evict('telemetry', 1 << 30, 1025);
      assert.equal(e2?.reason, 'ttl');
      assert.equal(e2?.from, 3, 'merged with the gap at the head');
      const head = await link.outbox('telemetry', 0, 1, 1 << 20);
      assert.equal((JSON.parse(head[0]!.body) as { count: number }).count, e2!.to - 3 + 1);
      assert.equal((await link.fill('state')).records, 1);
      // The lane's running totals match its rows (the bound reads them instead of scanning).
      const all = await link.outbox('telemetry', 0, 10_000, 1 << 30);
      assert.deepEqual(await link.fill('telemetry'), { records: all.length, bytes: all.reduce((a, r) => a + r.bytes, 0), oldestTs: all[0]!.ts });
      const tel = (await link.lanes()).find((l) => l.lane === 'telemetry')!;
      await link.ack('telemetry', tel.epoch, all[1]!.seq);
      const rest = await link.outbox('telemetry', 0, 10_000, 1 << 30);
      assert.deepEqual(await link.fill('telemetry'), { records: rest.length, bytes: rest.reduce((a, r) => a + r.bytes, 0), oldestTs: rest[0]!.ts });
    });

    await t.test('the mark is fenced on the value it was read at', async () => {
      await store.append([{ device: 's1:d', metric: 'n', ts: 5, value: 5 }], { mark: { site: 's1', lane: 'telemetry', epoch: 'e1', seq: 10, prev: null } });
      assert.deepEqual(await link.marks('s1'), { telemetry: { epoch: 'e1', seq: 10 } });
      await assert.rejects(store.append([{ device: 's1:d', metric: 'n', ts: 6, value: 6 }], { mark: { site: 's1', lane: 'telemetry', epoch: 'e1', seq: 12, prev: { epoch: 'e1', seq: 9 } } }), isMarkFence);
      assert.equal(await store.count({ device: 's1:d', metric: 'n', from: 0, to: 100 }), 1, 'the fenced batch stored nothing');
      await assert.rejects(store.append([], { mark: { site: 's1', lane: 'telemetry', epoch: 'e1', seq: 1, prev: null } }), isMarkFence);
      await store.append([], {
        mark: { site: 's1', lane: 'telemetry', epoch: 'e2', seq: 3, prev: { epoch: 'e1', seq: 10 } },
        events: [{ site: 's1', lane: 'telemetry', kind: 'epoch', epoch: 'e2', fromSeq: 10, toSeq: 0, reason: 'new_epoch', count: 0, detail: '{}', at: 1 }],
      });
      assert.deepEqual(await link.marks('s1'), { telemetry: { epoch: 'e2', seq: 3 } });
      assert.deepEqual((await link.events('s1', 10)).map((e) => e.kind), ['epoch']);
    });

    await t.test('queued commands: bounded per site, expired ones never returned', async () => {
      const c = (id: string, deadline: number) => ({ id, site: 's9', device: 'd', method: 'm', params: { a: 1 }, deadline, createdAt: 1 });
      assert.equal(await link.queueCommand(c('q1', 100), 2), true);
      assert.equal(await link.queueCommand(c('q2', 1000), 2), true);
      assert.equal(await link.queueCommand(c('q3', 1000), 2), false, 'over the bound');
      assert.deepEqual((await link.queuedCommands('s9', 500)).map((x) => [x.id, x.params]), [['q2', { a: 1 }]]);
      await link.dropCommand('q2');
      assert.deepEqual(await link.queuedCommands('s9', 500), []);
    });

    await t.test('executed ids and site tokens', async () => {
      assert.equal(await link.markExecuted('c1', 1), true);
      assert.equal(await link.markExecuted('c1', 2), false);
      await link.putSiteToken({ id: 'tok1', site: 's1', hash: 'h', createdAt: 1, revokedAt: null });
      assert.equal((await link.siteToken('tok1'))?.site, 's1');
      assert.equal(await link.revokeSite('s1', 9), 1);
      assert.equal((await link.siteToken('tok1'))?.revokedAt, 9);
    });
  });
}

