/**
 * Real brokers for tests, on port 0 / free ports only (this machine runs
 * services on the standard ones): an embedded Aedes over TCP and over WebSocket
 * (`/mqtt`), and Debian's mosquitto binary with a generated config.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer as createHttpServer } from 'node:http';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Aedes } from 'aedes';
import { WebSocketServer, createWebSocketStream } from 'ws';

export interface TestBroker { url: string; wsUrl: string; port: number; broker: Aedes; close(): Promise<void> }

export async function startAedes(port = 0): Promise<TestBroker> {
  const broker = await Aedes.createBroker();
  const server = createServer(broker.handle);
  await listen(server, port);
  const http = createHttpServer();
  const wss = new WebSocketServer({ server: http, path: '/mqtt' });
  wss.on('connection', (ws, req) => broker.handle(createWebSocketStream(ws) as never, req as never));
  await listen(http, 0);
  const tcpPort = (server.address() as AddressInfo).port;
  const httpPort = (http.address() as AddressInfo).port;
  return {
    url: `mqtt://127.0.0.1:${tcpPort}`,
    wsUrl: `ws://127.0.0.1:${httpPort}/mqtt`,
    port: tcpPort,
    broker,
    async close() {
      for (const c of wss.clients) c.terminate();
      await new Promise<void>((r) => broker.close(() => r()));
      await Promise.all([new Promise((r) => server.close(r)), new Promise((r) => { http.closeAllConnections(); http.close(r); })]);
    },
  };
}

function listen(server: Server | ReturnType<typeof createHttpServer>, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
}

export async function freePort(): Promise<number> {
  const s = createServer();
  await listen(s, 0);
  const { port } = s.address() as AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}

export interface Mosquitto { url: string; port: number; proc: ChildProcess; close(): Promise<void> }

export const MOSQUITTO = '/usr/sbin/mosquitto';

/**
 * Starts mosquitto on a free loopback port (or `port`, to restart one); resolves
 * once every listener of its config (that port and any `listener N` in
 * `extraConfig`) accepts TCP connections.
 */
export async function startMosquitto(extraConfig = '', port?: number): Promise<Mosquitto> {
  port ??= await freePort();
  const dir = await mkdtemp(join(tmpdir(), 'fl-mosq-'));
  const conf = join(dir, 'mosquitto.conf');
  await writeFile(conf, `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence false\nmax_connections -1\nlog_dest stderr\nlog_type error\n${extraConfig}`);
  const proc = spawn(MOSQUITTO, ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  proc.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
  const ports = [port, ...[...extraConfig.matchAll(/^listener (\d+)/gm)].map((m) => Number(m[1]))];
  const deadline = Date.now() + 5000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`mosquitto exited (${proc.exitCode}): ${stderr}`);
    if ((await Promise.all(ports.map(canConnect))).every(Boolean)) break;
    if (Date.now() > deadline) { proc.kill(); throw new Error(`mosquitto did not listen on ${ports.join(', ')}: ${stderr}`); }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url: `mqtt://127.0.0.1:${port}`, port, proc,
    async close() {
      if (proc.exitCode === null) {
        const exited = new Promise((r) => proc.once('exit', r));
        proc.kill('SIGTERM');
        await exited;
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function canConnect(port: number): Promise<boolean> {
  const { connect } = await import('node:net');
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
  });
}
