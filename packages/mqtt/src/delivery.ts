/**
 * Routing and delivery: the hot path. One trie walk per PUBLISH; matches are
 * aggregated per session on the session object itself (epoch-stamped scratch
 * fields, no per-message map), so overlapping subscriptions give one copy at the
 * highest QoS [MQTT-3.3.5-1] carrying every matching Subscription Identifier
 * [MQTT-3.3.4-3/4]. Client copies are written first, then in-process subscribers
 * are called (they may publish again: the scratch is pooled, so that is safe).
 * QoS 0 to a clean, online, writable session costs no allocation beyond its bytes.
 */
import type { Msg } from './message.js';
import type { ClientSub, LocalSub, MatchSink, SharedGroup, Sub, Router } from './router.js';
import type { Session, Outbound } from './session.js';
import type { EngineLimits, Hooks, QoS } from './types.js';

class Scratch implements MatchSink {
  readonly hits: Session[] = [];
  readonly sharedHits: ClientSub[] = [];
  readonly locals: LocalSub[] = [];
  epoch = 0;
  publisher: Session | null = null;

  hit(sub: Sub): void {
    if (sub.kind === 'local') { this.locals.push(sub); return; }
    const s = sub.session;
    if (sub.nl && s === this.publisher) return; // No Local [MQTT-3.8.3-3]
    if (s.epoch !== this.epoch) {
      s.epoch = this.epoch;
      s.rQos = sub.qos;
      s.rRap = sub.rap;
      s.rIds = sub.id !== 0 ? [sub.id] : null;
      this.hits.push(s);
      return;
    }
    if (sub.qos > s.rQos) s.rQos = sub.qos;
    if (sub.rap) s.rRap = true;
    if (sub.id !== 0) (s.rIds ??= []).push(sub.id);
  }

  shared(group: SharedGroup): void {
    const m = group.pick();
    if (m === undefined) return;
    if (m.kind === 'local') this.locals.push(m);
    else this.sharedHits.push(m);
  }
}

export class Delivery {
  private epoch = 0;
  private readonly pool: Scratch[] = [];

  constructor(
    private readonly router: Router,
    private readonly limits: EngineLimits,
    private readonly hooks: Hooks,
    readonly counters: Record<string, number>,
    private readonly now: () => number,
  ) {}

  /** Routes to every match; returns how many subscriptions (sessions, shared groups, local) it reached. */
  route(m: Msg, publisher: Session | null): number {
    const sc = this.pool.pop() ?? new Scratch();
    sc.epoch = ++this.epoch;
    sc.publisher = publisher;
    this.router.match(m.topic, sc);
    const { hits, sharedHits: shared, locals } = sc;
    const reached = hits.length + shared.length + locals.length;
    for (let i = 0; i < hits.length; i++) {
      const s = hits[i]!;
      const qos = (m.qos < s.rQos ? m.qos : s.rQos) as QoS;
      this.deliver(s, m, qos, s.rRap && m.retain, s.rIds); // [MQTT-3.3.1-12/13]
    }
    for (let i = 0; i < shared.length; i++) {
      const sub = shared[i]!;
      this.deliver(sub.session, m, (m.qos < sub.qos ? m.qos : sub.qos) as QoS, false, sub.id !== 0 ? [sub.id] : null);
    }
    hits.length = 0;
    shared.length = 0;
    sc.publisher = null;
    if (locals.length > 0) {
      const list = locals.slice();
      locals.length = 0;
      this.pool.push(sc);
      for (const l of list) {
        try { l.handler(m); } catch { this.counters.local_handler_errors!++; }
      }
    } else this.pool.push(sc);
    return reached;
  }

  /** One copy to one session, now or queued (policy in session.ts). */
  deliver(s: Session, m: Msg, qos: QoS, retain: boolean, ids: number[] | null): void {
    if (m.expiresAt !== 0 && m.expiresAt <= this.now()) { this.counters.expired!++; return; }
    const c = s.conn;
    // a screened session (Hooks.screensSubscription): live and retained copies are re-authorised; queued ones are in pump()
    if (s.screened && c?.ctx && !this.hooks.authorizeDelivery(c.ctx, m)) { this.counters.refused_delivery!++; return; }
    if (c === null) {
      if (!s.persistent) return;
      if (qos === 0) { this.counters.dropped_qos0_offline!++; return; }
      s.enqueue(s.outbound(m, qos, retain, ids), this.limits.maxQueuedPerSession, this.counters);
      return;
    }
    if (s.queue.length > 0 || !c.writable || (qos > 0 && s.inflightOut.size >= c.clientReceiveMax)) {
      s.enqueue(s.outbound(m, qos, retain, ids), this.limits.maxQueuedPerSession, this.counters);
      return;
    }
    this.send(s, s.outbound(m, qos, retain, ids));
  }

  private send(s: Session, o: Outbound): void {
    const c = s.conn!;
    if (o.qos > 0) {
      const pid = s.allocPid();
      if (pid === 0) { this.counters.queue_full!++; s.dropped(o); return; }
      o.pid = pid;
      o.state = 'publish';
      if (!c.writePublish(o, this.now(), false)) { s.dropped(o); return; } // too large for the client: as if delivered [MQTT-3.1.2-25]
      s.sent(o);
    } else c.writePublish(o, this.now(), false);
    this.counters.delivered!++;
  }

  /** Sends queued messages while the window and the stream allow. */
  pump(s: Session): void {
    const c = s.conn;
    if (c === null) return;
    const now = this.now();
    while (s.queue.length > 0 && c.writable) {
      const head = s.queue[0]!;
      if (head.qos > 0 && s.inflightOut.size >= c.clientReceiveMax) return;
      s.dequeue();
      if (head.msg.expiresAt !== 0 && head.msg.expiresAt <= now) { this.counters.expired!++; s.dropped(head); continue; }
      if (c.ctx && !this.hooks.authorizeDelivery(c.ctx, head.msg)) { this.counters.refused_delivery!++; s.dropped(head); continue; }
      this.send(s, head);
    }
  }

  /** [MQTT-4.4.0-1] resend unacknowledged PUBLISH (DUP) and PUBREL, in their original order, with their packet ids. */
  resend(s: Session): void {
    const c = s.conn!;
    const now = this.now();
    for (const o of s.inflightOut.values()) {
      if (o.state === 'pubrel') c.send({ cmd: 'pubrel', messageId: o.pid });
      else if (!c.writePublish(o, now, true)) s.acked(o.pid);
    }
  }
}
