/**
 * The alerts service: the engine fed from the bus, its events stored, published
 * and sent (docs/alerts.md). Services know nothing about doors: the HTTP API
 * (http/alerts-api.ts) and the browser ops call this interface.
 *
 * Per event, in order: the alert row is written (a serial queue of at most
 * MAX_PENDING_WRITES, further writes dropped and counted), the retained topic
 * `alerts/{rule}/{device}` is set (firing, with ack fields once acknowledged)
 * or, on resolve, a non-retained `resolved` body is published and the retained
 * message cleared, and every webhook gets the event on its own bounded queue.
 * Nothing here waits for a receiver: evaluation runs synchronously in the bus
 * handler and costs a map lookup per telemetry field.
 */
import { randomUUID } from 'node:crypto';
import { parseDeviceTopic } from '@fieldlink/protocol';
import type { Bus, BusMessage, Subscription } from '../../bus/types.js';
import { NOT_JSON, jsonOf } from '../../bus/json.js';
import type { AlertQuery, AlertStore } from '../../storage/alerts.js';
import type { Logger } from '../../log.js';
import { AlertEngine, type Alert, type AlertEvent } from './engine.js';
import { readAlertsFile, type AlertsFile } from './config.js';
import { MAX_RULES, parseRule, ruleJson, RuleError, type AlertRule } from './rules.js';
import { Webhook } from './webhook.js';

export type { Alert } from './engine.js';
export { RuleError } from './rules.js';

export const MAX_PENDING_WRITES = 10_000;
export const alertTopic = (rule: string, device: string) => `alerts/${rule}/${device}`;

export class ReadOnlyRule extends Error {}

export interface AlertsOptions {
  bus: Bus;
  store: AlertStore;
  /** Devices the registry knows at start: their silence counts from start-up. */
  known: readonly string[];
  file: string;
  log: Logger;
  tickMs?: number;
  now?: () => number;
}

export interface AlertsService {
  rules(): AlertRule[];
  firing(): Alert[];
  history(q: AlertQuery): Promise<Alert[]>;
  get(id: string): Promise<Alert | undefined>;
  /** Undefined: no such alert. */
  ack(id: string, by: string): Promise<Alert | undefined>;
  /** Create or replace an API rule; throws RuleError (invalid) or ReadOnlyRule (defined in the file). */
  putRule(raw: unknown): Promise<AlertRule>;
  deleteRule(name: string): Promise<boolean>;
  /** Re-read the alerts file (SIGHUP); throws, keeping the running rules, when it does not validate. */
  reload(): void;
  stats(): Record<string, unknown>;
  stop(): Promise<void>;
}

export async function startAlerts(o: AlertsOptions): Promise<AlertsService> {
  const now = o.now ?? Date.now;
  let file: AlertsFile = o.file ? readAlertsFile(o.file) : { rules: [], webhooks: [] };
  const apiRules = new Map<string, AlertRule>();
  for (const r of await o.store.rules()) {
    try {
      apiRules.set(r.name, parseRule(JSON.parse(r.body), 'api', `stored rule "${r.name}"`));
    } catch (err) {
      o.log.warn({ err, rule: r.name }, 'stored alert rule no longer validates; skipped');
    }
  }
  let hooks = file.webhooks.map((c) => new Webhook(c, (m) => o.log.warn(m)));
  const counts = { writes: 0, writesDropped: 0, writeErrors: 0, published: 0 };
  let pending = 0;
  let writes = Promise.resolve();
  const save = (a: Alert) => {
    if (pending >= MAX_PENDING_WRITES) return void counts.writesDropped++;
    pending++;
    const row = { ...a };
    writes = writes.then(() => o.store.saveAlert(row)).then(
      () => { counts.writes++; },
      (err: unknown) => { counts.writeErrors++; o.log.warn({ err, alert: row.id }, 'alert write failed'); },
    ).finally(() => { pending--; });
  };
  const publish = (topic: string, body: string, retain: boolean) => {
    counts.published++;
    o.bus.publish(topic, body, { qos: 1, retain }).catch((err: unknown) => o.log.warn({ err, topic }, 'alert publish failed'));
  };
  const ruleOf = (name: string) => file.rules.find((r) => r.name === name) ?? apiRules.get(name);
  const notify = (type: string, a: Alert) => {
    const r = ruleOf(a.rule);
    const body = { hub: 'fieldlink', sentAt: now(), alert: { ...a }, rule: r ? ruleJson(r) : null };
    for (const h of hooks) h.send(`alert.${type}`, body);
  };
  const onEvent = (e: AlertEvent) => {
    const a = e.alert;
    if (e.type !== 'renotify') save(a);
    const topic = alertTopic(a.rule, a.device);
    if (e.type === 'resolved') {
      publish(topic, JSON.stringify(a), false);
      publish(topic, '', true);
    } else if (e.type === 'firing') publish(topic, JSON.stringify(a), true);
    notify(e.type, a);
  };
  const engine = new AlertEngine({ onEvent, newId: randomUUID, now, ...(o.tickMs ? { tickMs: o.tickMs } : {}) });
  const apply = () => engine.setRules([...file.rules, ...[...apiRules.values()].filter((r) => !file.rules.some((f) => f.name === r.name))]);
  apply();
  // Alerts firing when the hub stopped: resumed without a new notification, their retained
  // topics set again (an in-memory broker lost them); those whose rule is gone are resolved.
  const stillFiring = await o.store.firing();
  engine.restore(stillFiring);
  const resumed = new Set(engine.open().map((a) => a.id));
  for (const a of stillFiring) {
    if (resumed.has(a.id)) {
      publish(alertTopic(a.rule, a.device), JSON.stringify(a), true);
      continue;
    }
    save({ ...a, state: 'resolved', resolvedAt: Math.max(now(), a.firedAt) });
    publish(alertTopic(a.rule, a.device), '', true);
  }
  for (const d of o.known) engine.known(d);

  const onMessage = (m: BusMessage) => {
    const t = parseDeviceTopic(m.topic);
    if (!t) return;
    if (m.payload.length === 0) {
      if (t.kind === 'meta' || t.kind === 'status') engine.removed(t.device); // a device removal clears its retained topics
      return;
    }
    const body = jsonOf(m);
    if (body === NOT_JSON || typeof body !== 'object' || body === null || Array.isArray(body)) return;
    if (t.kind === 'telemetry') engine.telemetry(t.device, body as Record<string, unknown>, m.ts);
    else if (t.kind === 'status') engine.status(t.device, (body as { online?: unknown }).online === true, m.ts);
  };
  const subs: Subscription[] = [];
  for (const f of ['devices/+/telemetry', 'devices/+/status', 'devices/+/meta']) subs.push(await o.bus.subscribe(f, onMessage));
  const timer = setInterval(() => engine.tick(), o.tickMs ?? 1000);
  timer.unref();

  return {
    rules: () => [...engine.rules],
    firing: () => engine.open().map((a) => ({ ...a })),
    history: (q) => o.store.alerts(q),
    get: async (id) => engine.open().find((a) => a.id === id) ?? (await o.store.getAlert(id)),
    async ack(id, by) {
      const live = engine.open().find((a) => a.id === id);
      const a = live ?? (await o.store.getAlert(id));
      if (!a) return undefined;
      a.ackedAt = now();
      a.ackedBy = by;
      save(a);
      if (live) publish(alertTopic(a.rule, a.device), JSON.stringify(a), true);
      notify('acknowledged', a);
      return { ...a };
    },
    async putRule(raw) {
      const r = parseRule(raw, 'api');
      if (file.rules.some((f) => f.name === r.name)) throw new ReadOnlyRule(`rule "${r.name}" is defined in the alerts file: edit the file and send SIGHUP`);
      if (!apiRules.has(r.name) && apiRules.size + file.rules.length >= MAX_RULES) throw new RuleError(`at most ${MAX_RULES} rules in all`);
      await o.store.putRule({ name: r.name, body: JSON.stringify(ruleJson(r)), updatedAt: now() });
      apiRules.set(r.name, r);
      apply();
      return r;
    },
    async deleteRule(name) {
      if (file.rules.some((f) => f.name === name)) throw new ReadOnlyRule(`rule "${name}" is defined in the alerts file: edit the file and send SIGHUP`);
      const had = apiRules.delete(name);
      await o.store.removeRule(name);
      if (had) apply();
      return had;
    },
    reload() {
      if (!o.file) return;
      const next = readAlertsFile(o.file); // throws RuleError: the running rules stay
      // An unchanged webhook keeps its queue; removed or changed ones stop.
      const old = new Map(hooks.map((h) => [JSON.stringify(h.cfg), h]));
      file = next;
      hooks = file.webhooks.map((c) => {
        const same = old.get(JSON.stringify(c));
        old.delete(JSON.stringify(c));
        return same ?? new Webhook(c, (m) => o.log.warn(m));
      });
      for (const h of old.values()) h.stop();
      apply();
      o.log.info({ rules: engine.rules.length, webhooks: hooks.length }, 'alerts file reloaded');
    },
    stats: () => ({ ...engine.stats(), ...counts, pendingWrites: pending, webhooks: hooks.map((h) => h.stats()) }),
    async stop() {
      clearInterval(timer);
      for (const s of subs) await s.unsubscribe();
      for (const h of hooks) h.stop();
      await writes;
    },
  };
}

export function isRuleError(e: unknown): e is RuleError | ReadOnlyRule {
  return e instanceof RuleError || e instanceof ReadOnlyRule;
}
