/**
 * A TCP proxy that a test can cut and restore: every open connection is reset and
 * new ones are refused until `restore()`, while both ends keep running. Used to
 * drop a browser's connection to the hub (test/e2e) and the store's connections
 * to PostgreSQL (storage/pg-outage.test.ts).
 */
import { createServer, connect, type Socket } from 'node:net';

export interface CuttableProxy {
  /** `http://127.0.0.1:<port>` (a page loaded from here has its WebSocket go through the proxy too). */
  readonly url: string;
  readonly port: number;
  /** Resets every open connection and refuses new ones until `restore()`. */
  cut(): void;
  restore(): void;
  close(): Promise<void>;
}

export async function startCuttableProxy(targetPort: number, targetHost = '127.0.0.1'): Promise<CuttableProxy> {
  const open = new Set<Socket>();
  let up = true;
  const server = createServer((down) => {
    if (!up) return void down.resetAndDestroy();
    const upstream = connect(targetPort, targetHost);
    const pair = [down, upstream];
    for (const s of pair) {
      open.add(s);
      s.on('error', () => undefined);
      s.on('close', () => {
        open.delete(s);
        for (const o of pair) if (o !== s && !o.destroyed) o.destroy();
      });
    }
    down.pipe(upstream);
    upstream.pipe(down);
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  const proxy: CuttableProxy = {
    url: `http://127.0.0.1:${port}`,
    port,
    cut() {
      up = false;
      for (const s of [...open]) s.resetAndDestroy();
    },
    restore() {
      up = true;
    },
    async close() {
      proxy.cut();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return proxy;
}
