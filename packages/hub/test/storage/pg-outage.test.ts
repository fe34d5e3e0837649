// Nothing lost when PostgreSQL goes away for a while: ingest writes through a TCP
// proxy that is cut while devices keep publishing, then restored. Statements in
// flight at the cut may have committed without their answer arriving; their retry
// must neither duplicate points nor count them twice in the rollups.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { createBus } from '../../src/bus/index.js';
import { startIngest } from '../../src/services/ingest.js';
import { PostgresStore } from '../../src/storage/postgres.js';
import { startCuttableProxy } from '../proxy.js';
import { PG_URL, dropSchema, randomSchema, requirePostgres } from './pg-harness.js';

describe('PostgreSQL outage during ingest', () => {
  before(requirePostgres);
  it('writes every point once after the server is reachable again; rollups agree with the points', async () => {
    const target = new URL(PG_URL);
    const proxy = await startCuttableProxy(Number(target.port || 5432), target.hostname);
    const viaProxy = new URL(PG_URL);
    viaProxy.hostname = '127.0.0.1';
    viaProxy.port = String(proxy.port);
    const schema = randomSchema();
    const store = new PostgresStore({ url: viaProxy.href, schema, connectTimeoutMs: 1000 });
    const bus = await createBus({ kind: 'embedded' });
    const errors: string[] = [];
    const direct = new pg.Client({ connectionString: PG_URL });
    await direct.connect();
    try {
      await store.init();
      const ingest = await startIngest(bus, store, { batchMs: 10, retryBaseMs: 20, retryMaxMs: 200, onError: (e) => errors.push((e as Error).message) });
      const t0 = Date.UTC(2026, 0, 1);
      let sent = 0;
      const publish = async (messages: number) => {
        for (let i = 0; i < messages; i++, sent++) {
          const body: Record<string, number> = { ts: t0 + sent * 1000 };
          for (let m = 0; m < 5; m++) body[`m${m}`] = sent + m;
          await bus.publish(`devices/d${sent % 4}/telemetry`, JSON.stringify(body));
          if (sent % 20 === 0) await new Promise((r) => setTimeout(r, 5));
        }
      };
      await publish(400);
      proxy.cut(); // in the middle of writes: statements in flight lose their answer
      await publish(600);
      await new Promise((r) => setTimeout(r, 500));
      assert.ok(ingest.stats().retries > 0, 'writes failed and were retried while the server was unreachable');
      proxy.restore();
      await publish(400);
      await ingest.flush();
      const st = ingest.stats();
      await ingest.stop();

      assert.equal(st.dropped, 0);
      assert.equal(st.queued, 0);
      const { rows } = await direct.query(
        `SELECT (SELECT count(*) FROM "${schema}".points)::int AS points,
                (SELECT count(DISTINCT (series_id, ts)) FROM "${schema}".points)::int AS distinct_points,
                (SELECT sum(n) FROM "${schema}".rollups_hourly)::int AS rolled_up`);
      assert.deepEqual(rows[0], { points: sent * 5, distinct_points: sent * 5, rolled_up: sent * 5 });
      assert.ok(errors.length > 0, 'the outage was reported to onError');
    } finally {
      await store.close();
      await bus.close();
      await proxy.close();
      await direct.end();
      await dropSchema(schema);
    }
  });
});
