/**
 * A TCP proxy between a link's site and central that a test can break the way
 * networks break: `reset()` (RST every connection; new ones still pass),
 * `cut()` / `restore()` (RST and refuse until restored), `blackhole()` (bytes
 * stop both ways, sockets stay open, new connections are accepted and hang),
 * `cutMidFrame(n)` (the next site→central chunk is forwarded only in its first
 * n bytes, then both sides are reset: a frame cut in the middle).
 */
import { createServer, connect, type Socket } from 'node:net';

export interface ChaosProxy {
  readonly port: number;
  reset(): void;
  cut(): void;
  blackhole(): void;
  cutMidFrame(bytes: number): void;
  restore(): void;
  /** Connections accepted so far. */
  readonly accepted: number;
  close(): Promise<void>;
}

/** `targetPort` is read per connection; undefined (target not up yet) resets the connection. */
export async function startChaosProxy(targetPort: () => number | undefined): Promise<ChaosProxy> {
  const open = new Set<Socket>();
  let mode: 'pass' | 'refuse' | 'blackhole' = 'pass';
  let midFrame = 0;
  let accepted = 0;
  const resetAll = () => { for (const s of [...open]) s.resetAndDestroy(); };
  const server = createServer((down) => {
    accepted++;
    const target = targetPort();
    if (mode === 'refuse' || target === undefined) return void down.resetAndDestroy();
    open.add(down);
    down.on('error', () => undefined);
    down.on('close', () => open.delete(down));
    if (mode === 'blackhole') return; // accepted, never answered
    const up = connect(target, '127.0.0.1');
    open.add(up);
    up.on('error', () => undefined);
    // In a blackhole the site never learns that central gave up: nothing at all reaches it.
    up.on('close', () => { open.delete(up); if (mode !== 'blackhole' && !down.destroyed) down.destroy(); });
    down.on('close', () => { if (!up.destroyed) up.destroy(); });
    down.on('data', (chunk: Buffer) => {
      if (mode === 'blackhole') return;
      if (midFrame > 0 && chunk.length > midFrame) {
        up.write(chunk.subarray(0, midFrame), () => { up.resetAndDestroy(); down.resetAndDestroy(); });
        midFrame = 0;
        return;
      }
      up.write(chunk);
    });
    up.on('data', (chunk: Buffer) => { if (mode !== 'blackhole') down.write(chunk); });
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    port,
    get accepted() { return accepted; },
    reset: resetAll,
    cut() { mode = 'refuse'; resetAll(); },
    blackhole() { mode = 'blackhole'; },
    cutMidFrame(bytes) { midFrame = bytes; },
    restore() { mode = 'pass'; },
    async close() {
      mode = 'refuse';
      resetAll();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
