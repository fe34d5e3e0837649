/**
 * The store cut off (issue 13): the hub on PostgreSQL behind a TCP proxy that is
 * cut while MQTT.js devices publish QoS 1 as fast as acknowledged, then restored.
 * Refusals (v5 PUBACK 0x80/0x97; 3.1.1 no ack), never silent acks: every
 * acknowledged message is in PostgreSQL (read directly, not through the proxy).
 */
import pg from 'pg';
import { startCuttableProxy } from '../../packages/hub/test/proxy.js';
import { PG_URL, dropSchema, randomSchema, requirePostgres } from '../../packages/hub/test/storage/pg-harness.js';
import { POINTS_BY_TS, crashRounds, freePort, jsDevice, kill9, startHub, tally, type Device, type RoundsOptions, type Tally } from './crash-harness.js';

const until = async (what: string, cond: () => boolean, ms = 20_000): Promise<void> => {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
};

export async function storeCutRun(o: { cutMs: number; log?: (l: string) => void }): Promise<{ rows: Tally[]; refusedDuringCut: number }> {
  await requirePostgres();
  const schema = randomSchema();
  const direct = new pg.Client({ connectionString: PG_URL });
  await direct.connect();
  await direct.query(`CREATE SCHEMA "${schema}"`);
  const target = new URL(PG_URL);
  const proxy = await startCuttableProxy(Number(target.port || 5432), target.hostname);
  const viaProxy = new URL(PG_URL);
  viaProxy.hostname = '127.0.0.1';
  viaProxy.port = String(proxy.port);
  viaProxy.searchParams.set('options', `-c search_path=${schema}`);
  const [http, mq] = [await freePort(), await freePort()];
  const hub = await startHub(['--port', String(http), '--mqtt-port', String(mq), '--store', viaProxy.href, '--publish-rate', '0', '--mqtt-engine', 'core', '--data-dir', `/tmp/fl-crash-pg-${schema}`]);
  const url = `mqtt://127.0.0.1:${mq}`;
  const devices: Device[] = [jsDevice('cut-js5-q1', url, 5, 1), jsDevice('cut-js4-q1', url, 4, 1), jsDevice('cut-js5-q2', url, 5, 2)];
  const acked = () => devices.reduce((n, d) => n + d.acked.size, 0);
  const refused = () => devices.reduce((n, d) => n + d.refused, 0);
  try {
    await until('acks before the cut', () => devices.every((d) => d.acked.size >= 100));
    const before = refused();
    proxy.cut();
    o.log?.(`cut with ${acked()} acknowledged`);
    await new Promise((r) => setTimeout(r, o.cutMs));
    const refusedDuringCut = refused() - before;
    proxy.restore();
    const marks = devices.map((d) => d.acked.size);
    o.log?.(`restored after ${o.cutMs} ms: ${refusedDuringCut} refusals meanwhile`);
    try {
      await until('acks after the store is back', () => devices.every((d, i) => !d.id.includes('js5') || d.acked.size >= marks[i]! + 100));
    } catch (e) {
      throw new Error(`${(e as Error).message} (hub exit ${hub.child.exitCode ?? hub.child.signalCode ?? 'running'}): ${devices.map((d, i) => `${d.id} ${marks[i]}→${d.acked.size} refused ${d.refused} ${JSON.stringify([...d.codes])}`).join('; ')}\n${hub.out().replace(/^.*"level":30.*\n/gm, '').slice(0, 3000)}`, { cause: e });
    }
    await Promise.all(devices.map((d) => d.stop()));
    await kill9(hub);
    return { rows: await pgTally(direct, schema, devices), refusedDuringCut };
  } finally {
    await Promise.all(devices.map((d) => d.stop()));
    await kill9(hub);
    await proxy.close();
    await direct.end();
    await dropSchema(schema);
  }
}

/** The points of each device, read straight from PostgreSQL (schema-qualified). */
async function pgTally(direct: pg.Client, schema: string, devices: readonly Device[]): Promise<Tally[]> {
  const rows = new Map<string, { ts: string; c: string }[]>();
  for (const d of devices) rows.set(d.id, (await direct.query(POINTS_BY_TS.replace('FROM points', `FROM "${schema}".points`).replace('JOIN series', `JOIN "${schema}".series`), [d.id])).rows);
  return tally(devices, (id) => rows.get(id)!);
}

/** crashRounds with the hub on PostgreSQL (its own schema): kill -9 of the hub, the database stays up. */
export async function pgCrashRounds(o: Omit<RoundsOptions, 'audit'>): Promise<{ rows: Tally[]; rounds: number }> {
  await requirePostgres();
  const schema = randomSchema();
  const direct = new pg.Client({ connectionString: PG_URL });
  await direct.connect();
  try {
    await direct.query(`CREATE SCHEMA "${schema}"`);
    const url = new URL(PG_URL);
    url.searchParams.set('options', `-c search_path=${schema}`);
    const r = await crashRounds({ ...o, hubArgs: [...(o.hubArgs ?? []), '--store', url.href], audit: async (devices) => ({ rows: await pgTally(direct, schema, devices), integrity: 'n/a' }) });
    return { rows: r.rows, rounds: r.rounds };
  } finally {
    await direct.end();
    await dropSchema(schema);
  }
}
