/**
 * Central's commands for its sites' devices: a `call` at central to
 * `{site}:{device}` goes down the link with an absolute deadline (central's
 * clock; the site corrects it by the skew it measured) when the site is
 * connected; `gate` answers SITE_OFFLINE at once when it is not, or queues the
 * command in the store when the caller asked for `queue: {ttl}`. A queued
 * command is sent at every connect until the site answers for it; the site runs
 * an id at most once and never past its deadline.
 */
import { randomBytes } from 'node:crypto';
import { parseDeviceTopic } from '@fieldlink/protocol';
import type { Bus } from '../bus/types.js';
import type { Logger } from '../log.js';
import type { LinkStore } from '../storage/link.js';
import type { CallOutcome } from '../services/commands.js';
import type { Session } from './central.js';
import type { CentralSiteStats } from './stats.js';

/** Most commands queued for one offline site (`call` with `queue`); more are refused with OVERLOADED. */
const MAX_QUEUED = 1000;

export class CentralCommands {
  /** Calls sent down and not answered for yet (to answer a site's refusal), until their deadline. */
  private readonly calls = new Map<string, { device: string; method: string; until: number }>();
  /** Ids of queued commands sent and not yet answered for by the site. */
  private readonly queuedSent = new Set<string>();

  constructor(
    private readonly link: LinkStore,
    private readonly bus: Bus,
    private readonly log: Logger,
    private readonly deadlineMs: number,
    private readonly session: (site: string) => Session | undefined,
    private readonly stats: (site: string) => CentralSiteStats,
    private readonly isSiteDevice: (device: string) => boolean,
  ) {}

  /**
   * For a device of a site whose link is down: SITE_OFFLINE, or with `queueTtlMs`
   * the command is kept in the store (at most MAX_QUEUED per site) and sent when
   * the site connects, unless its deadline passed first; the answer is then
   * `{queued, id, deadline}` and the device's reply appears on the bus as usual.
   * Undefined lets the call proceed (the site is connected, or not a site's device).
   */
  async gate(device: string, method: string, params: Record<string, unknown>, queueTtlMs: number | undefined): Promise<CallOutcome | undefined> {
    if (!this.isSiteDevice(device)) return undefined;
    const i = device.indexOf(':');
    const site = device.slice(0, i);
    if (this.session(site)?.ready) return undefined;
    if (queueTtlMs === undefined) return { ok: false, code: 'SITE_OFFLINE', message: `site "${site}" is not connected` };
    const now = Date.now();
    const id = `q${randomBytes(9).toString('base64url')}`;
    const deadline = now + queueTtlMs;
    if (!(await this.link.queueCommand({ id, site, device: device.slice(i + 1), method, params, deadline, createdAt: now }, MAX_QUEUED))) {
      return { ok: false, code: 'OVERLOADED', message: `site "${site}" already has ${MAX_QUEUED} commands queued` };
    }
    this.stats(site).queued++;
    const s = this.session(site);
    if (s?.ready) await this.flush(s); // the site connected meanwhile
    return { ok: true, result: { queued: true, id, deadline } };
  }

  /** Send the site's queued commands; each stays queued until the site answers for it (the site runs an id at most once). */
  async flush(s: Session): Promise<void> {
    for (const c of await this.link.queuedCommands(s.site, Date.now())) {
      if (!s.current) return;
      const device = `${s.site}:${c.device}`;
      this.calls.set(c.id, { device, method: c.method, until: c.deadline });
      this.queuedSent.add(c.id);
      this.stats(s.site).callsSent++;
      s.ws.send(JSON.stringify({ op: 'call', id: c.id, device: c.device, method: c.method, params: c.params, deadline: c.deadline }));
    }
  }

  /** A command request on central's bus for a site's device goes down the link. */
  onCommand(topic: string, payload: Buffer): void {
    const t = parseDeviceTopic(topic);
    if (t?.kind !== 'cmd' || !this.isSiteDevice(t.device)) return;
    const i = t.device.indexOf(':');
    const s = this.session(t.device.slice(0, i));
    if (!s?.ready) return;
    let req: { id?: unknown; params?: unknown };
    try {
      req = JSON.parse(payload.toString('utf8')) as typeof req;
    } catch {
      return;
    }
    if (typeof req.id !== 'string') return;
    const deadline = Date.now() + this.deadlineMs;
    this.calls.set(req.id, { device: t.device, method: t.method!, until: deadline });
    this.stats(s.site).callsSent++;
    const params = typeof req.params === 'object' && req.params !== null && !Array.isArray(req.params) ? req.params : undefined;
    s.ws.send(JSON.stringify({ op: 'call', id: req.id, device: t.device.slice(i + 1), method: t.method, ...(params ? { params } : {}), deadline }));
  }

  /**
   * The site took a command (ok: published to the device) or refused it
   * (deadline passed, already executed): a queued one is done either way; a
   * refusal is answered to the caller as the device would.
   */
  onResult(id: string, ok: boolean, message: string): void {
    if (this.queuedSent.delete(id)) void this.link.dropCommand(id).catch((err: unknown) => this.log.warn({ err, id }, 'link: could not drop a delivered queued command'));
    const c = this.calls.get(id);
    if (!c || ok) return;
    this.calls.delete(id);
    void this.bus.publish(`devices/${c.device}/cmd/${c.method}/res`, JSON.stringify({ id, ok: false, error: { message: `site: ${message}` } }), { qos: 0 }).catch(() => undefined);
  }

  expire(now: number): void {
    for (const [id, c] of this.calls) {
      if (c.until < now) { this.calls.delete(id); this.queuedSent.delete(id); }
    }
  }
}
