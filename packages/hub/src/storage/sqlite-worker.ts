/**
 * Worker thread owning one SQLite connection (SqliteEngine). The writer takes
 * every write; a reader answers queries on its own connection (WAL: readers
 * never wait for the writer, nor it for them).
 *
 * Requests are answered in arrival order. Group commit: when the writer finds
 * several `append` requests waiting (they queue while a transaction runs), it
 * commits them together, up to `groupMaxPoints`, and acknowledges each only
 * after that commit. If a group fails, its batches are retried one by one, so
 * an error reaches only the batch that causes it and each stays atomic.
 */
import { receiveMessageOnPort, workerData } from 'node:worker_threads';
import type { MessagePort } from 'node:worker_threads';
import { SqliteEngine } from './sqlite-engine.js';
import { SqliteState } from './mqtt-state-sqlite.js';
import type { ColumnBatch, Ops, Reply, Request, WorkerInit } from './sqlite-protocol.js';

const init = workerData as WorkerInit & { port: MessagePort };
const port = init.port;
const groupMax = init.groupMaxPoints ?? 100_000;

const errorOf = (err: unknown): Extract<Reply, { ok: false }>['error'] => {
  const e = err as { name?: unknown; message?: unknown; code?: unknown };
  return {
    name: typeof e?.name === 'string' ? e.name : 'Error',
    message: typeof e?.message === 'string' ? e.message : String(err),
    ...(typeof e?.code === 'string' ? { code: e.code } : {}),
  };
};

let engine: SqliteEngine | undefined;
try {
  engine = new SqliteEngine({ path: init.path, role: init.role, ...(init.busyTimeoutMs !== undefined ? { busyTimeoutMs: init.busyTimeoutMs } : {}), ...(init.synchronous ? { synchronous: init.synchronous } : {}) });
  port.postMessage({ id: 0, ok: true, result: null } satisfies Reply);
} catch (err) {
  port.postMessage({ id: 0, ok: false, error: errorOf(err) } satisfies Reply);
  port.close();
}

type Handler = { [K in keyof Ops]: (arg: Ops[K][0]) => Ops[K][1] };

function handlers(e: SqliteEngine): Handler {
  let state: SqliteState | undefined; // prepared on first use (the writer has migrated by then)
  const st = () => (state ??= new SqliteState(e.db));
  return {
    append: (b) => e.append([b]),
    raw: (q) => e.raw(q),
    buckets: (q) => e.buckets(q),
    count: (q) => e.count(q),
    metrics: (d) => e.metrics(d),
    upsertDevice: (r) => e.upsertDevice(r),
    devices: () => e.devices(),
    device: (id) => e.device(id),
    prune: (a) => e.prune(a.before, a.maxRows),
    pruneRollups: (a) => e.pruneRollups(a.before, a.maxRows),
    mqttApply: (ops) => st().apply(ops),
    mqttLoad: () => st().rows(),
    close: () => e.close(),
  };
}

const queue: Request[] = [];
let scheduled = false;

function pull(): void {
  for (let m = receiveMessageOnPort(port); m; m = receiveMessageOnPort(port)) queue.push(m.message as Request);
}

function reply(id: number, fn: () => unknown): void {
  let r: Reply;
  try {
    r = { id, ok: true, result: fn() };
  } catch (err) {
    r = { id, ok: false, error: errorOf(err) };
  }
  // Raw columns go back transferred, not copied.
  const res = r.ok ? (r.result as { ts?: unknown; values?: unknown } | undefined) : undefined;
  const transfer = res?.ts instanceof Float64Array && res.values instanceof Float64Array ? [res.ts.buffer, res.values.buffer] : [];
  port.postMessage(r, transfer as ArrayBuffer[]);
}

function commitGroup(e: SqliteEngine, group: Request<'append'>[]): void {
  if (group.length > 1) {
    try {
      e.append(group.map((g) => g.arg as ColumnBatch));
      for (const g of group) port.postMessage({ id: g.id, ok: true, result: undefined } satisfies Reply);
      return;
    } catch {
      // fall through: one by one, so only the failing batch fails
    }
  }
  for (const g of group) reply(g.id, () => e.append([g.arg]));
}

function run(e: SqliteEngine, h: Handler): void {
  scheduled = false;
  pull();
  while (queue.length > 0) {
    const first = queue[0]!;
    if (first.op === 'append') {
      const group: Request<'append'>[] = [];
      let n = 0;
      while (queue.length > 0 && queue[0]!.op === 'append') {
        const next = queue[0] as Request<'append'>;
        if (group.length > 0 && n + next.arg.ts.length > groupMax) break;
        group.push(next);
        n += next.arg.ts.length;
        queue.shift();
      }
      commitGroup(e, group);
    } else {
      queue.shift();
      reply(first.id, () => (h[first.op] as (a: unknown) => unknown)(first.arg));
      if (first.op === 'close') {
        port.close();
        return;
      }
    }
    pull(); // batches that arrived during that transaction join the next group
  }
}

if (engine) {
  const e = engine, h = handlers(engine);
  port.on('message', (m: Request) => {
    queue.push(m);
    if (!scheduled) {
      scheduled = true;
      setImmediate(() => run(e, h));
    }
  });
}
