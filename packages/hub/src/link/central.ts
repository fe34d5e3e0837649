/**
 * The central end: `/link` on the hub's one HTTP(S) server. Authenticates a
 * site by its token (the identity comes from the credential, never from a
 * frame), keeps one session per site, applies batches exactly once and sends
 * device commands down.
 *
 * Contracts:
 * - A batch is applied (points + events + the lane's fenced mark, one store
 *   transaction: storage/link-sql.ts) before it is acknowledged. Batches of a
 *   session apply one at a time, in arrival order.
 * - A revoked site token closes its open session within the token refresh (5 s).
 * - One session per site: a new connection replaces the old one (closed with
 *   4009); the new one reads the marks only after the old one's last apply has
 *   settled, and a stale session applies nothing more (the mark fence would
 *   refuse it anyway).
 * - Commands down: link/central-commands.ts.
 */
import type http from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { CloseCodes, LINK_SUBPROTOCOL, errorBody, linkError, parseLinkFrame, type BatchFrame, type CodeName, type LaneMark, type LinkLane } from '@fieldlink/protocol';
import type { Bus, Subscription } from '../bus/types.js';
import type { Logger } from '../log.js';
import type { LinkStore } from '../storage/link.js';
import type { Store } from '../storage/types.js';
import { isMarkFence } from '../storage/link-sql.js';
import { parseToken, verifySecret } from '../auth/secrets.js';
import { applyBatch } from './records.js';
import { CentralSiteStats } from './stats.js';
import { CentralCommands } from './central-commands.js';

export interface LinkCentralOptions {
  hubName: string;
  pingMs: number;
  deadMs: number;
  /** Deadline given to a command sent down (ms from now, central's clock). */
  callDeadlineMs: number;
  maxFrameBytes: number;
}

export interface Session { site: string; tokenId: string; ws: WebSocket; current: boolean; ready: boolean; chain: Promise<void>; pending: number; marks: Partial<Record<LinkLane, LaneMark>>; lastFrame: number }

/** Most batches queued for apply per session; a site past it is closed (it sends a bounded window, so only a broken one is). */
const MAX_PENDING = 64;

function refuse(socket: Duplex, status: string, code: CodeName, message: string): void {
  const text = JSON.stringify({ error: errorBody(code, message) });
  socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(text)}\r\n\r\n${text}`);
}

export class LinkCentral {
  private readonly wss: WebSocketServer;
  private readonly sessions = new Map<string, Session>();
  readonly stats = new Map<string, CentralSiteStats>();
  private known = new Set<string>();
  authFailures = 0;
  private sub: Subscription | undefined;
  /** Commands down: gate (SITE_OFFLINE / queued), forwarding, the queue (link/central-commands.ts). */
  readonly commands: CentralCommands;
  private timers: NodeJS.Timeout[] = [];

  constructor(private readonly o: LinkCentralOptions, private readonly store: Store, private readonly link: LinkStore, private readonly bus: Bus, private readonly log: Logger) {
    this.commands = new CentralCommands(link, bus, log, o.callDeadlineMs, (site) => this.sessions.get(site), (site) => this.statsOf(site), (d) => this.isSiteDevice(d));
    this.wss = new WebSocketServer({ noServer: true, maxPayload: o.maxFrameBytes, handleProtocols: (p) => (p.has(LINK_SUBPROTOCOL) ? LINK_SUBPROTOCOL : false) });
  }

  async start(): Promise<void> {
    await this.refreshSites();
    this.sub = await this.bus.subscribe('devices/+/cmd/+', (m) => this.commands.onCommand(m.topic, m.payload), { retained: false });
    this.timers.push(setInterval(() => void this.refreshSites().catch(() => undefined), 5000));
    this.timers.push(setInterval(() => this.tick(), Math.min(this.o.pingMs, 1000)));
  }

  /** Re-read the site tokens: new sites become known; a session whose token was revoked is closed (4003). */
  private async refreshSites(): Promise<void> {
    const tokens = await this.link.siteTokens();
    this.known = new Set(tokens.map((t) => t.site));
    const active = new Set(tokens.filter((t) => t.revokedAt === null).map((t) => t.id));
    for (const s of this.sessions.values()) {
      if (active.has(s.tokenId)) continue;
      this.log.warn({ site: s.site }, 'link: the site token of an open session was revoked; closing it');
      s.current = false;
      s.ws.close(CloseCodes.REVOKED.code, 'site token revoked');
    }
  }

  /** True for `{site}:…` ids of a site this hub is central for (the site's namespace here). */
  isSiteDevice(device: string): boolean {
    const i = device.indexOf(':');
    return i > 0 && this.known.has(device.slice(0, i));
  }

  private statsOf(site: string): CentralSiteStats {
    return this.stats.get(site) ?? this.stats.set(site, new CentralSiteStats()).get(site)!;
  }

  handleUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): void {
    const protocols = String(req.headers['sec-websocket-protocol'] ?? '').split(',').map((s) => s.trim());
    if (!protocols.includes(LINK_SUBPROTOCOL)) return refuse(socket, '400 Bad Request', 'WRONG_TYPE', `/link needs the WebSocket subprotocol ${LINK_SUBPROTOCOL}`);
    const m = /^Bearer\s+(\S+)$/i.exec(String(req.headers.authorization ?? ''));
    if (!m) { this.authFailures++; return refuse(socket, '401 Unauthorized', 'UNAUTHENTICATED', 'a site authenticates with Authorization: Bearer <site token>'); }
    void this.authenticate(m[1]!).then((who) => {
      if (!who) {
        this.authFailures++;
        this.log.warn({ peer: req.socket.remoteAddress }, 'link: a site token was refused');
        return refuse(socket, '401 Unauthorized', 'BAD_CREDENTIALS', 'site token unknown, wrong or revoked');
      }
      this.wss.handleUpgrade(req, socket, head, (ws) => void this.open(who.site, who.tokenId, ws).catch((err: unknown) => {
        this.log.error({ err, site: who.site }, 'link: opening the session failed');
        ws.terminate();
      }));
    }, (err: unknown) => {
      this.log.error({ err }, 'link: token lookup failed');
      refuse(socket, '503 Service Unavailable', 'STORE_UNAVAILABLE', 'cannot check the site token now');
    });
  }

  private async authenticate(token: string): Promise<{ site: string; tokenId: string } | undefined> {
    const t = parseToken(token);
    if (!t) return undefined;
    const rec = await this.link.siteToken(t.id);
    if (!rec || rec.revokedAt !== null || !(await verifySecret(t.secret, rec.hash))) return undefined;
    this.known.add(rec.site);
    return { site: rec.site, tokenId: rec.id };
  }

  private async open(site: string, tokenId: string, ws: WebSocket): Promise<void> {
    const st = this.statsOf(site);
    const s: Session = { site, tokenId, ws, current: true, ready: false, chain: Promise.resolve(), pending: 0, marks: {}, lastFrame: Date.now() };
    const old = this.sessions.get(site);
    this.sessions.set(site, s);
    ws.on('message', (data: Buffer, binary: boolean) => {
      s.lastFrame = Date.now();
      st.lastSeen = s.lastFrame;
      if (!binary) this.onFrame(s, data.toString('utf8'));
    });
    ws.on('close', (code) => {
      if (this.sessions.get(site) === s) {
        this.sessions.delete(site);
        st.connected = false;
        st.connectedSince = null;
        this.log.warn({ site, code }, 'link: site disconnected');
      }
      s.current = false;
    });
    ws.on('error', () => undefined);
    if (old) {
      old.current = false;
      st.replaced++;
      old.ws.close(CloseCodes.REPLACED.code, 'replaced by a new connection of this site');
      await old.chain;
    }
    s.marks = await this.link.marks(site);
    if (!s.current) return;
    st.connects++;
    st.connected = true;
    st.connectedSince = Date.now();
    st.marks = { ...s.marks };
    s.ready = true;
    ws.send(JSON.stringify({ op: 'hello', site, hub: this.o.hubName, now: Date.now(), marks: s.marks, pingMs: this.o.pingMs }));
    this.log.info({ site, marks: s.marks }, 'link: site connected');
    await this.commands.flush(s);
  }

  private onFrame(s: Session, text: string): void {
    if (!s.current) return;
    const p = parseLinkFrame(text);
    if (!p.ok) {
      this.statsOf(s.site).lastError = p.message;
      s.ws.send(JSON.stringify(linkError(p.code, p.message)));
      return;
    }
    const f = p.value;
    if (f.op === 'ping') return void s.ws.send(JSON.stringify({ op: 'pong', t: f.t }));
    if (f.op === 'result') return this.commands.onResult(f.id, f.ok, f.error?.message ?? '');
    if (f.op !== 'batch' || !s.ready) return;
    if (++s.pending > MAX_PENDING) return void s.ws.close(CloseCodes.TRY_AGAIN_LATER.code, 'too many batches queued');
    s.chain = s.chain.then(() => this.apply(s, f)).catch((err: unknown) => {
      this.statsOf(s.site).lastError = (err as Error).message;
      this.log.error({ err, site: s.site }, 'link: applying a batch failed; closing the session (the site resends)');
      s.current = false;
      s.ws.terminate();
    }).finally(() => { s.pending--; });
  }

  private async apply(s: Session, f: BatchFrame): Promise<void> {
    if (!s.current) return;
    const st = this.statsOf(s.site);
    const a = applyBatch(s.site, f.lane, f.epoch, f.records, s.marks[f.lane], Date.now(), f.floor);
    if (a.write.mark) {
      try {
        await this.store.append(a.points, a.write);
      } catch (err) {
        if (!isMarkFence(err)) throw err;
        s.marks = await this.link.marks(s.site);
        const m = s.marks[f.lane];
        return void s.ws.send(JSON.stringify({ op: 'resend', lane: f.lane, epoch: f.epoch, seq: m?.epoch === f.epoch ? m.seq : 0, error: errorBody('LINK_SEQ_GAP', (err as Error).message) }));
      }
    }
    if (a.epochChange?.old) {
      st.epochChanges++;
      this.log.warn({ site: s.site, lane: f.lane, oldEpoch: a.epochChange.old.epoch, oldSeq: a.epochChange.old.seq, epoch: f.epoch }, 'link: site started a new epoch (its outbox was lost or reset)');
    }
    s.marks[f.lane] = a.mark;
    st.marks[f.lane] = a.mark;
    st.applied[f.lane] += f.records.length - a.duplicates - a.refused;
    st.duplicates += a.duplicates;
    st.refused += a.refused;
    st.gaps += a.gaps;
    if (!s.current) return;
    s.ws.send(JSON.stringify({ op: 'ack', lane: f.lane, epoch: a.mark.epoch, seq: a.mark.seq, duplicates: a.duplicates }));
    if (a.refused) {
      this.log.warn({ site: s.site, refused: a.refused }, 'link: records outside the site namespace refused');
      s.ws.send(JSON.stringify(linkError('LINK_NAMESPACE', `${a.refused} record(s) outside the namespace of site "${s.site}" were refused`)));
    }
    if (a.jump) {
      st.jumps++;
      s.ws.send(JSON.stringify({ op: 'resend', lane: f.lane, epoch: a.mark.epoch, seq: a.mark.seq, error: errorBody('LINK_SEQ_GAP', `expected from ${a.jump.expected}, got ${a.jump.got}`) }));
    }
    await Promise.all(a.live.map((m) => this.bus.publish(m.topic, m.payload, { qos: 0, retain: m.retain }).catch(() => undefined)));
  }

  private tick(): void {
    const now = Date.now();
    this.commands.expire(now);
    for (const s of this.sessions.values()) {
      if (now - s.lastFrame > this.o.deadMs) {
        this.log.warn({ site: s.site }, 'link: no frame from the site within the liveness timeout; closing');
        s.current = false;
        s.ws.terminate();
      } else if (s.ready) s.ws.send(JSON.stringify({ op: 'ping', t: now }));
    }
  }

  snapshot() {
    const sites = new Set([...this.known, ...this.stats.keys()]);
    return [...sites].sort().map((site) => ({ role: 'central' as const, site, ...this.statsOf(site).snapshot() }));
  }

  async stop(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    await this.sub?.unsubscribe().catch(() => undefined);
    for (const s of this.sessions.values()) {
      s.current = false;
      s.ws.close(CloseCodes.GOING_AWAY.code, 'hub shutting down');
    }
    await Promise.allSettled([...this.sessions.values()].map((s) => s.chain));
    this.wss.close();
  }
}

