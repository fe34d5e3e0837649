/**
 * Main-thread handle on one SQLite worker thread: request/reply by id over a
 * MessagePort, errors rebuilt with their name (RangeError stays RangeError) and
 * SQLite code. If the worker dies (native crash, out of memory), every pending
 * call rejects and the next call starts a fresh worker, so a caller that retries
 * (ingest does) recovers. The worker is unref'd while idle: an open store does
 * not keep the process alive, a pending write does.
 */
import { MessageChannel, Worker } from 'node:worker_threads';
import type { MessagePort } from 'node:worker_threads';
import type { Op, Ops, Reply, WorkerInit } from './sqlite-protocol.js';

type Pending = { resolve: (v: unknown) => void; reject: (e: Error) => void };

function spawn(init: WorkerInit, port: MessagePort): Worker {
  const here = import.meta.url;
  const opts = { workerData: { ...init, port }, transferList: [port] };
  if (here.endsWith('.ts')) {
    // Running from source under tsx (tests, `--conditions=source`): Node 20 does not
    // pass the loader hooks of `--import tsx` to workers, so register them in the worker.
    const tsx = import.meta.resolve('tsx/esm/api');
    const file = new URL('./sqlite-worker.ts', here).href;
    return new Worker(`import(${JSON.stringify(tsx)}).then((api) => { api.register(); return import(${JSON.stringify(file)}); })`, { ...opts, eval: true });
  }
  return new Worker(new URL('./sqlite-worker.js', here), opts);
}

function toError(e: Extract<Reply, { ok: false }>['error']): Error {
  const err = e.name === 'RangeError' ? new RangeError(e.message) : new Error(e.message);
  if (e.name !== 'RangeError' && e.name !== 'Error') err.name = e.name;
  if (e.code !== undefined) (err as Error & { code?: string }).code = e.code;
  return err;
}

export class WorkerClient {
  private worker: Worker | undefined;
  private port: MessagePort | undefined;
  private ready: Promise<void> | undefined;
  private readonly pending = new Map<number, Pending>();
  private seq = 0;
  private closed = false;
  /** Workers started so far (1 after `start`; more after crashes). */
  starts = 0;

  constructor(private readonly init: WorkerInit, private readonly onLost: () => void = () => undefined) {}

  /** Start the worker (opening, and for the writer migrating, the database). Rejects with its error. */
  start(): Promise<void> {
    if (this.closed) return Promise.reject(new Error('SQLite store is closed'));
    return this.boot();
  }

  private boot(): Promise<void> {
    this.ready ??= new Promise<void>((resolve, reject) => {
      const { port1, port2 } = new MessageChannel();
      const worker = spawn(this.init, port2);
      this.worker = worker;
      this.port = port1;
      this.starts++;
      this.pending.set(0, { resolve: () => resolve(), reject });
      port1.on('message', (r: Reply) => this.settle(r));
      worker.on('error', (err) => this.lost(worker, err));
      worker.on('exit', (code) => this.lost(worker, new Error(`SQLite ${this.init.role} worker exited (code ${code})`)));
    });
    return this.ready;
  }

  private settle(r: Reply): void {
    const p = this.pending.get(r.id);
    if (!p) return;
    this.pending.delete(r.id);
    if (this.pending.size === 0) { this.worker?.unref(); this.port?.unref(); }
    if (r.ok) p.resolve(r.result);
    else p.reject(toError(r.error));
  }

  private lost(worker: Worker, err: Error): void {
    if (worker !== this.worker) return;
    this.worker = undefined;
    this.port?.close();
    this.port = undefined;
    this.ready = undefined;
    const pending = [...this.pending.values()];
    this.pending.clear();
    for (const p of pending) p.reject(err);
    if (!this.closed) this.onLost();
  }

  /**
   * Send one request. `make` builds the argument right before it is posted, after
   * the worker is ready (the batch encoder must target the worker that receives it).
   */
  async call<K extends Op>(op: K, make: () => { arg: Ops[K][0]; transfer?: ArrayBuffer[] }): Promise<Ops[K][1]> {
    if (this.closed) throw new Error('SQLite store is closed');
    return this.send(op, make);
  }

  private async send<K extends Op>(op: K, make: () => { arg: Ops[K][0]; transfer?: ArrayBuffer[] }): Promise<Ops[K][1]> {
    await this.boot();
    const port = this.port!;
    const id = ++this.seq;
    const { arg, transfer } = make();
    const done = new Promise<unknown>((resolve, reject) => this.pending.set(id, { resolve, reject }));
    this.worker!.ref();
    port.ref();
    port.postMessage({ id, op, arg }, transfer ?? []);
    return done as Promise<Ops[K][1]>;
  }

  /** Ask the worker to close its database after every request sent before, then end it. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const worker = this.worker;
    if (!worker || !this.ready) return;
    try {
      await this.ready;
      const closing = new Promise((r) => worker.once('exit', r));
      await this.send('close', () => ({ arg: null })).catch(() => undefined);
      worker.ref(); // idle again after that reply: keep the process up until the worker has exited
      await closing;
    } catch {
      await worker.terminate();
    }
  }
}
