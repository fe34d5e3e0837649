/**
 * A load-generator process, driven over IPC by bench/run.ts. It holds one
 * subscriber pool and can publish; each request gets exactly one reply
 * `{id, ok, result|error}`. It exits when its parent goes away, so a crashed
 * run leaves no generator behind.
 */
import { SubPool, type SubTarget } from './subscriber.js';
import type net from 'node:net';
import { openDevices, publishRate, publishWindowed } from './publisher.js';

export type WorkerRequest =
  | { cmd: 'sub'; target: SubTarget; n: number; concurrency?: number }
  | { cmd: 'storm'; target: SubTarget; concurrency?: number }
  | { cmd: 'stats' }
  | { cmd: 'reset' }
  | { cmd: 'closeAll' }
  | { cmd: 'pubMax'; port: number; topic: string; durationMs: number; window: number; subscribers: number }
  | { cmd: 'devices'; port: number; n: number }
  | { cmd: 'pubRate'; rate: number; durationMs: number; topic: string };

export interface WorkerStats { delivered: number; lastAt: number; hist: [number, number][]; clients: number }

const pool = new SubPool();
let devices: net.Socket[] = [];

async function handle(req: WorkerRequest): Promise<unknown> {
  switch (req.cmd) {
    case 'sub':
      return { ms: await pool.openMany(req.target, req.n, req.concurrency) };
    case 'storm': {
      // Every client drops at once and reconnects at once: time until all are subscribed again.
      const n = pool.size;
      pool.closeAll();
      return { ms: await pool.openMany(req.target, n, req.concurrency), n };
    }
    case 'stats':
      return { delivered: pool.delivered, lastAt: pool.lastAt, hist: pool.hist.toJSON(), clients: pool.size } satisfies WorkerStats;
    case 'reset':
      return pool.resetStats();
    case 'closeAll':
      for (const d of devices) d.destroy();
      devices = [];
      return pool.closeAll();
    case 'devices':
      devices = await openDevices(req.port, req.n);
      return { n: devices.length };
    case 'pubMax':
      return { published: await publishWindowed(req.port, req.topic, req.durationMs, req.window, pool, req.subscribers) };
    case 'pubRate':
      // `{i}` in the topic is the device number.
      return { published: await publishRate(devices, req.rate, req.durationMs, (i) => req.topic.replace('{i}', String(i).padStart(4, '0'))) };
  }
}

process.on('message', (m: { id: number; req: WorkerRequest }) => {
  handle(m.req).then(
    (result) => process.send!({ id: m.id, ok: true, result }),
    (err: unknown) => process.send!({ id: m.id, ok: false, error: String(err instanceof Error ? err.stack : err) }),
  );
});
process.on('disconnect', () => process.exit(0));
process.send!({ ready: true });
