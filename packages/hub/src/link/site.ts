/**
 * The site end of a link: dials central's `/link`, sends the outbox lane by
 * lane (state before telemetry, so a telemetry backlog never delays a command
 * reply), drops what central acknowledges, executes commands sent down.
 *
 * Contracts:
 * - Credentials travel in the upgrade's `Authorization: Bearer` header, never in
 *   the URL. TLS is verified unless `insecure` (warned at every connect).
 * - After `hello` each lane resumes after central's mark when it is of the
 *   lane's epoch (the rows at or below it are dropped here), else after what
 *   was acknowledged locally.
 * - Liveness: dead after `deadMs` without any frame, or `ackDeadMs` without ack
 *   progress while batches are in flight; then the socket is destroyed and the
 *   link redials after a full-jitter backoff (random in [0, min(max, base·2^n)]).
 * - A command is published locally at most once (its id is remembered in the
 *   store before it is published) and never after its deadline, corrected by
 *   the clock skew measured at `hello`.
 */
import WebSocket from 'ws';
import { HttpsProxyAgent } from 'https-proxy-agent';
import { LINK_LANES, LINK_SUBPROTOCOL, errorBody, parseLinkFrame, type CallFrame, type HelloFrame, type LinkLane } from '@fieldlink/protocol';
import type { Bus, Subscription } from '../bus/types.js';
import type { Logger } from '../log.js';
import type { LinkStore } from '../storage/link.js';
import type { Store } from '../storage/types.js';
import { stateEntry } from './records.js';
import { SiteStats } from './stats.js';

export interface LinkSiteOptions {
  url: string;
  token: string;
  insecure: boolean;
  /** HTTP(S) proxy URL for this destination (config/ applies HTTPS_PROXY/NO_PROXY), or empty. */
  proxy: string;
  pingMs: number;
  deadMs: number;
  ackDeadMs: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
  batchRecords: number;
  batchBytes: number;
  maxInFlight: number;
  outboxMaxBytes: number;
  outboxMaxAgeMs: number;
  boundEveryMs: number;
  /** Devices whose messages are forwarded (loop prevention, linked-store.ts). */
  forward: (device: string) => boolean;
}

interface Lane { epoch: string; sentUpTo: number; acked: number; inflight: number[]; lastProgress: number }

export class LinkSite {
  readonly stats = new SiteStats();
  private ws: WebSocket | undefined;
  private hello: HelloFrame | undefined;
  private skewMs = 0;
  private lanes = new Map<LinkLane, Lane>();
  private attempt = 0;
  private stopped = false;
  private pumping = false;
  private again = false;
  private lastFrame = 0;
  private timers: NodeJS.Timeout[] = [];
  private redial: NodeJS.Timeout | undefined;
  private subs: Subscription[] = [];
  /** Why the current connection ends (first cause wins): the disconnect reason counted. */
  private reason: string | undefined;

  constructor(private readonly o: LinkSiteOptions, private readonly store: Store, private readonly link: LinkStore, private readonly bus: Bus, private readonly log: Logger) {}

  async start(): Promise<void> {
    const onState = (m: Parameters<Parameters<Bus['subscribe']>[1]>[0]) => {
      const e = stateEntry(m);
      const device = m.topic.split('/')[1]!;
      if (e && this.o.forward(device)) this.store.append([], { outbox: [e] }).then(() => this.wake(), (err: unknown) => this.log.warn({ err }, 'link: state record not written'));
    };
    for (const f of ['devices/+/status', 'devices/+/meta', 'devices/+/cmd/+/res']) this.subs.push(await this.bus.subscribe(f, onState, { retained: true }));
    this.timers.push(setInterval(() => this.tick(), Math.min(this.o.pingMs, 1000)));
    this.timers.push(setInterval(() => void this.bound(), this.o.boundEveryMs));
    this.dial();
  }

  get connected(): boolean {
    return this.hello !== undefined;
  }

  /** New outbox rows may exist. */
  wake(): void {
    if (this.hello) void this.pump();
  }

  private dial(): void {
    if (this.stopped) return;
    if (this.o.insecure) this.log.warn({ url: this.o.url }, 'link: TLS certificate verification is OFF (--link-insecure): anyone on the path can read and alter this link');
    this.reason = undefined;
    const ws = new WebSocket(this.o.url, LINK_SUBPROTOCOL, {
      headers: { authorization: `Bearer ${this.o.token}` },
      rejectUnauthorized: !this.o.insecure,
      handshakeTimeout: this.o.deadMs,
      maxPayload: 16 * 1024 * 1024,
      ...(this.o.proxy ? { agent: new HttpsProxyAgent(this.o.proxy) } : {}),
    });
    this.ws = ws;
    this.stats.connects++;
    ws.on('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (c: Buffer) => { if (body.length < 2000) body += c.toString(); });
      res.on('end', () => {
        this.stats.lastError = `HTTP ${res.statusCode}: ${body.slice(0, 300)}`;
        this.reason ??= `refused: HTTP ${res.statusCode}`;
        this.log.error({ status: res.statusCode, body: body.slice(0, 300) }, 'link: central refused the connection');
        ws.terminate();
      });
    });
    ws.on('open', () => { this.lastFrame = Date.now(); });
    ws.on('message', (data: Buffer, binary: boolean) => {
      this.lastFrame = Date.now();
      if (!binary) this.onFrame(data.toString('utf8'));
    });
    ws.on('error', (err) => { this.stats.lastError = err.message; this.reason ??= err.message; });
    ws.on('close', (code, reason) => {
      if (this.ws !== ws) return;
      const wasUp = this.hello !== undefined;
      this.ws = undefined;
      this.hello = undefined;
      if (wasUp) this.log.warn({ code, reason: reason.toString() }, 'link: disconnected');
      this.stats.disconnect(this.reason ?? `close ${code}`);
      if (this.stopped) return;
      const delay = Math.random() * Math.min(this.o.backoffMaxMs, this.o.backoffBaseMs * 2 ** this.attempt++);
      this.redial = setTimeout(() => this.dial(), delay);
    });
  }

  private kill(reason: string): void {
    this.stats.lastError = reason;
    this.reason ??= reason;
    this.log.warn({ reason }, 'link: dead, reconnecting');
    this.ws?.terminate();
  }

  private send(obj: unknown): void {
    this.ws?.send(typeof obj === 'string' ? obj : JSON.stringify(obj));
  }

  /** Frame handlers run detached: a store error ends the connection (it redials), never the process. */
  private guard(p: Promise<void>): void {
    p.catch((err: unknown) => this.kill(`link handler failed: ${(err as Error).message}`));
  }

  private onFrame(text: string): void {
    const p = parseLinkFrame(text);
    if (!p.ok) return this.kill(`bad frame from central: ${p.message}`);
    const f = p.value;
    switch (f.op) {
      case 'hello': return this.guard(this.onHello(f));
      case 'ack': return this.guard(this.onAck(f.lane, f.epoch, f.seq, f.duplicates ?? 0));
      case 'resend': {
        const l = this.lanes.get(f.lane);
        if (!l || l.epoch !== f.epoch) return;
        this.stats.resent++;
        l.inflight = [];
        l.sentUpTo = Math.max(f.seq, l.acked);
        return void this.pump();
      }
      case 'call': return this.guard(this.onCall(f));
      case 'ping': return this.send({ op: 'pong', t: f.t });
      case 'pong': this.stats.rttMs = Date.now() - f.t; return;
      case 'error': this.stats.lastError = `${f.error.name ?? f.error.code}: ${f.error.message}`; this.log.warn({ error: f.error }, 'link: central reported an error'); return;
      default: return;
    }
  }

  private async onHello(h: HelloFrame): Promise<void> {
    this.skewMs = h.now - Date.now();
    for (const s of await this.link.lanes()) {
      const m = h.marks[s.lane];
      let from = s.acked;
      if (m && m.epoch === s.epoch && m.seq > s.acked) {
        await this.link.ack(s.lane, s.epoch, m.seq);
        from = m.seq;
      } else if (m && m.epoch === s.epoch) from = m.seq;
      this.lanes.set(s.lane, { epoch: s.epoch, sentUpTo: from, acked: Math.max(from, s.acked), inflight: [], lastProgress: Date.now() });
    }
    this.hello = h;
    this.attempt = 0;
    this.stats.connected(h.site, this.skewMs);
    this.log.info({ site: h.site, central: h.hub, skewMs: this.skewMs, marks: h.marks }, 'link: connected');
    void this.pump();
  }

  private async onAck(lane: LinkLane, epoch: string, seq: number, duplicates: number): Promise<void> {
    const l = this.lanes.get(lane);
    if (!l || l.epoch !== epoch || seq <= l.acked) return;
    this.stats.acked[lane] += seq - l.acked;
    this.stats.duplicates += duplicates;
    l.acked = seq;
    l.inflight = l.inflight.filter((s) => s > seq);
    l.lastProgress = Date.now();
    await this.link.ack(lane, epoch, seq);
    void this.pump();
  }

  /** Send while lanes have rows and windows have room; state first. One pump at a time. */
  private async pump(): Promise<void> {
    if (this.pumping) { this.again = true; return; }
    this.pumping = true;
    try {
      do {
        this.again = false;
        if (!this.hello) return;
        if (this.lanes.size < LINK_LANES.length) {
          for (const s of await this.link.lanes()) if (!this.lanes.has(s.lane)) this.lanes.set(s.lane, { epoch: s.epoch, sentUpTo: s.acked, acked: s.acked, inflight: [], lastProgress: Date.now() });
        }
        for (const lane of LINK_LANES) {
          const l = this.lanes.get(lane);
          while (l && this.hello && l.inflight.length < this.o.maxInFlight) {
            const rows = await this.link.outbox(lane, l.sentUpTo, this.o.batchRecords, this.o.batchBytes);
            if (rows.length === 0 || !this.hello) break;
            const recs = rows.map((r) => `{"seq":${r.seq},"from":${r.from},"body":${r.body}}`).join(',');
            this.send(`{"op":"batch","lane":"${lane}","epoch":"${l.epoch}","floor":${l.acked},"records":[${recs}]}`);
            if (l.inflight.length === 0) l.lastProgress = Date.now();
            l.sentUpTo = rows.at(-1)!.seq;
            l.inflight.push(l.sentUpTo);
            this.stats.sent[lane] += rows.length;
          }
        }
      } while (this.again);
    } catch (err) {
      this.log.warn({ err }, 'link: reading the outbox failed');
    } finally {
      this.pumping = false;
    }
  }

  private async onCall(f: CallFrame): Promise<void> {
    const fail = (code: 'CALL_TIMEOUT' | 'DUPLICATE_ID', message: string) => this.send({ op: 'result', id: f.id, ok: false, error: errorBody(code, message) });
    if (Date.now() > f.deadline - this.skewMs) return fail('CALL_TIMEOUT', 'the command reached the site after its deadline');
    if (!(await this.link.markExecuted(f.id, Date.now()))) return fail('DUPLICATE_ID', 'this command id was already executed here');
    this.stats.commands++;
    await this.bus.publish(`devices/${f.device}/cmd/${f.method}`, JSON.stringify({ id: f.id, params: f.params ?? {} }), { qos: 1 });
    this.send({ op: 'result', id: f.id, ok: true });
  }

  private tick(): void {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) return;
    const now = Date.now();
    if (now - this.lastFrame > this.o.deadMs) return this.kill(`no frame from central for ${this.o.deadMs} ms`);
    for (const [lane, l] of this.lanes) {
      if (l.inflight.length && now - l.lastProgress > this.o.ackDeadMs) return this.kill(`no acknowledgement progress on ${lane} for ${this.o.ackDeadMs} ms`);
    }
    if (now - this.stats.lastPing >= this.o.pingMs) {
      this.stats.lastPing = now;
      this.send({ op: 'ping', t: now });
    }
  }

  /** The outbox bound: telemetry only, oldest first, as gap records (storage/link.ts evict). */
  private async bound(): Promise<void> {
    try {
      const now = Date.now();
      const e = await this.link.evict('telemetry', this.o.outboxMaxBytes, now - this.o.outboxMaxAgeMs);
      if (e) {
        this.stats.dropped[e.reason] += e.count;
        this.log.warn(e, 'link: outbox bound reached, oldest telemetry dropped (a gap record tells central)');
        const l = this.lanes.get('telemetry');
        if (l && l.sentUpTo < e.to && l.sentUpTo >= e.from - 1) l.sentUpTo = Math.max(e.from - 1, l.acked);
      }
      for (const lane of LINK_LANES) {
        const f = await this.link.fill(lane);
        this.stats.fill[lane] = f;
      }
      await this.link.pruneExecuted(now - 7 * 86_400_000);
    } catch (err) {
      this.log.warn({ err }, 'link: bounding the outbox failed');
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearInterval(t);
    clearTimeout(this.redial);
    await Promise.allSettled(this.subs.map((s) => s.unsubscribe()));
    this.ws?.close(1001, 'site shutting down');
    this.ws?.terminate();
    while (this.pumping) await new Promise((r) => setTimeout(r, 5));
  }
}
