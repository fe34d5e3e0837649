/**
 * A minimal JSON device door (`/ws/device`) following the documented frames,
 * for testing devices without the hub: auth first, replies exactly once to frames
 * with an id, pushes commands and collects responses. Can be stopped and
 * restarted on the same port to simulate a hub outage.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';

export interface DoorTelemetry { device: string; data: Record<string, number>; ts?: number; frameId?: string }

export class TestDoor {
  readonly telemetry: DoorTelemetry[] = [];
  readonly metas = new Map<string, unknown>();
  readonly sockets = new Map<string, WebSocket>();
  /** When set, telemetry frames with an id are not acknowledged (the hub "loses" them). */
  dropAcks = false;
  port = 0;
  #http: Server | undefined;
  #wss: WebSocketServer | undefined;
  #calls = new Map<string, (res: Record<string, unknown>) => void>();
  #seq = 0;

  get url(): string {
    return `ws://127.0.0.1:${this.port}/ws/device`;
  }

  async start(port = this.port): Promise<this> {
    const http = createServer();
    const wss = new WebSocketServer({ server: http, path: '/ws/device' });
    wss.on('connection', (ws) => this.#serve(ws));
    await new Promise<void>((resolve, reject) => { http.once('error', reject); http.listen(port, '127.0.0.1', () => resolve()); });
    this.port = (http.address() as AddressInfo).port;
    this.#http = http;
    this.#wss = wss;
    return this;
  }

  #serve(ws: WebSocket): void {
    let device: string | undefined;
    ws.on('message', (raw) => {
      const f = JSON.parse(raw.toString()) as Record<string, unknown> & { id?: string };
      const reply = (body: Record<string, unknown>) => { if (f.id !== undefined) ws.send(JSON.stringify({ id: f.id, ...body })); };
      if (!device) {
        if (f.op !== 'auth' || typeof f.device !== 'string') { reply({ ok: false, error: { code: 3000, message: 'authentication required' } }); ws.close(); return; }
        device = f.device;
        this.sockets.set(device, ws);
        reply({ ok: true, result: { device } });
        return;
      }
      switch (f.op) {
        case 'meta': this.metas.set(device, f.meta); reply({ ok: true, result: {} }); return;
        case 'telemetry':
          this.telemetry.push({ device, data: f.data as Record<string, number>, ts: f.ts as number | undefined, frameId: f.id });
          if (!this.dropAcks) reply({ ok: true, result: {} });
          return;
        case 'res': this.#calls.get(f.id!)?.(f); this.#calls.delete(f.id!); return;
        default: reply({ ok: false, error: { code: 1002, message: 'unknown op' } });
      }
    });
    ws.on('close', () => { if (device && this.sockets.get(device) === ws) this.sockets.delete(device); });
  }

  call(device: string, method: string, params: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
    const ws = this.sockets.get(device);
    if (!ws) return Promise.reject(new Error(`${device} is not connected`));
    const id = `c${++this.#seq}`;
    return new Promise((resolve) => {
      this.#calls.set(id, resolve);
      ws.send(JSON.stringify({ op: 'cmd', id, method, params }));
    });
  }

  waitFor(pred: () => boolean, timeoutMs = 5000): Promise<void> {
    const t0 = Date.now();
    return new Promise((resolve, reject) => {
      const tick = () => (pred() ? resolve() : Date.now() - t0 > timeoutMs ? reject(new Error('door: timed out')) : setTimeout(tick, 20));
      tick();
    });
  }

  /** Closes every connection abruptly and stops listening (a hub crash). */
  async stop(): Promise<void> {
    for (const ws of this.#wss?.clients ?? []) ws.terminate();
    this.#wss?.close();
    this.#http?.closeAllConnections();
    await new Promise((r) => this.#http ? this.#http.close(r) : r(undefined));
    this.sockets.clear();
  }
}
