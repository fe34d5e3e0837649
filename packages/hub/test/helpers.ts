/** Shared test helpers: a hub on port 0, raw WebSocket clients with frame waiting, MQTT.js clients. */
import assert from 'node:assert/strict';
import { WebSocket, type ClientOptions } from 'ws';
import mqtt, { type MqttClient, type IClientOptions } from 'mqtt';
import { hubOptions, type HubConfig } from '../src/config/options.js';
import { resolve } from '../src/config/schema.js';
import { startHub, type Hub } from '../src/hub.js';
import { createLogger, type Logger } from '../src/log.js';
import { parseHistoryParams } from '../src/services/history.js';
import type { HistoryQuery } from '../src/storage/types.js';

/**
 * Only the engine comes from the environment: `FIELDLINK_MQTT_ENGINE=core npm run
 * test:only -- broker` runs a file's hubs on the core MQTT engine (the value is
 * parsed and checked by config/, like every option).
 */
const engineEnv: Record<string, string> = process.env.FIELDLINK_MQTT_ENGINE ? { FIELDLINK_MQTT_ENGINE: process.env.FIELDLINK_MQTT_ENGINE } : {};

export function testConfig(over: Partial<HubConfig> = {}): HubConfig {
  const base = resolve(hubOptions, { argv: [], env: engineEnv, warn: () => undefined });
  return { ...base, port: 0, mqttPort: -1, store: 'none', logLevel: 'silent', ...over };
}

export async function startTestHub(over: Partial<HubConfig> = {}, log?: Logger): Promise<Hub> {
  const cfg = testConfig(over);
  return startHub(cfg, log ?? createLogger(cfg.logLevel));
}

export const wsUrl = (hub: Hub, path: string) => `${hub.url.replace('http', 'ws')}${path}`;

export async function until(cond: () => boolean, ms = 5000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`${what} not met within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

export type Frame = Record<string, unknown> & { id?: string; ok?: boolean; op?: string; result?: unknown; error?: { code: number; name: string; message: string } };

/** A raw `ws` client that records every frame, for protocol-level assertions. */
export class RawClient {
  readonly frames: Frame[] = [];
  closed: { code: number; reason: string } | undefined;
  private n = 0;
  private constructor(readonly ws: WebSocket) {
    ws.on('message', (d, isBinary) => {
      if (isBinary) return;
      this.frames.push(JSON.parse(d.toString()) as Frame);
    });
    ws.on('close', (code, reason) => (this.closed = { code, reason: reason.toString() }));
  }
  static async open(url: string, protocols?: string[], options?: ClientOptions): Promise<RawClient> {
    const ws = new WebSocket(url, protocols, options);
    await new Promise<void>((res, rej) => {
      ws.once('open', () => res());
      ws.once('error', rej);
    });
    return new RawClient(ws);
  }
  /** Record the frames of a socket opened elsewhere (e.g. with headers such as a cookie); call right after 'open'. */
  static wrap(ws: WebSocket): RawClient {
    return new RawClient(ws);
  }
  sendRaw(data: string | Buffer, binary = false): void {
    this.ws.send(data, { binary });
  }
  /** Send a request with a fresh id and wait for its reply. */
  async request(op: string, fields: Record<string, unknown> = {}, ms = 5000): Promise<Frame> {
    const id = `r${++this.n}`;
    this.ws.send(JSON.stringify({ op, id, ...fields }));
    return this.waitFor((f) => f.id === id, ms);
  }
  async waitFor(pred: (f: Frame) => boolean, ms = 5000): Promise<Frame> {
    let found: Frame | undefined;
    await until(() => (found = this.frames.find(pred)) !== undefined, ms, 'frame');
    return found!;
  }
  msgs(topic?: string): Frame[] {
    return this.frames.filter((f) => f.op === 'msg' && (topic === undefined || f.topic === topic));
  }
  close(): void {
    this.ws.close();
  }
}

/**
 * An MQTT.js client, once connected. A device's client id must be its device id
 * (docs/security.md, "Client ids"): with a user name and no client id, the user
 * name is the client id, as a device would send it. `onMessage` is attached
 * before CONNECT: a broker may send a persistent session's queued messages right
 * behind CONNACK (the core engine does, in the same write), before the caller's
 * next line runs.
 */
export async function mqttConnect(url: string, opts: IClientOptions = {}, onMessage?: (topic: string, payload: Buffer) => void): Promise<MqttClient> {
  const clientId = opts.clientId ?? (opts.username && opts.username !== 'token' ? opts.username : undefined);
  const c = mqtt.connect(url, { reconnectPeriod: 0, connectTimeout: 5000, ...opts, ...(clientId ? { clientId } : {}) });
  if (onMessage) c.on('message', onMessage);
  await new Promise<void>((res, rej) => {
    c.once('connect', () => res());
    c.once('error', rej);
  });
  return c;
}

/** `parseHistoryParams` at a fixed `now`, for input the test expects to be valid. */
export function validHistoryQuery(input: Record<string, unknown>, max: number, now: number): HistoryQuery {
  const r = parseHistoryParams(input, max, now);
  assert.ok(r.ok, JSON.stringify(r));
  return r.query;
}
