/**
 * Alert operations as one identity may use them, shared by the HTTP API and
 * the browser ops so both doors answer alike (docs/alerts.md, "Who may do what"):
 *
 *   see an alert           `read` on devices/{device}/telemetry (as its history)
 *   list rules             `subscribe` on alerts/# (who may watch the alert topics)
 *   acknowledge            `publish` on alerts/{rule}/{device} (operator, admin)
 *   create/change/delete   `admin` on alerts/{rule} (admin)
 */
import type { CodeName } from '@fieldlink/protocol';
import type { Identity, Security } from '../../auth/index.js';
import { parseTime } from '../history.js';
import { alertTopic, isRuleError, ReadOnlyRule, type Alert, type AlertsService } from './index.js';
import { ruleJson, RULE_NAME } from './rules.js';

export type Outcome = { ok: true; result: unknown } | { ok: false; code: CodeName; message: string };
const fail = (code: CodeName, message: string): Outcome => ({ ok: false, code, message });
const ok = (result: unknown): Outcome => ({ ok: true, result });
const absent = (v: unknown) => v === undefined || v === null || v === '';
export const MAX_ALERTS = 1000;
const UUID = /^[0-9a-f-]{36}$/;

export interface AlertAccess {
  list(who: Identity, p: Record<string, unknown>): Promise<Outcome>;
  get(who: Identity, id: string): Promise<Outcome>;
  ack(who: Identity, id: string): Promise<Outcome>;
  rules(who: Identity): Outcome;
  putRule(who: Identity, rule: unknown, name?: string): Promise<Outcome>;
  deleteRule(who: Identity, name: string): Promise<Outcome>;
}

export function alertAccess(svc: AlertsService, sec: Security): AlertAccess {
  const sees = (who: Identity, a: Alert) => sec.acl.can(who, 'read', `devices/${a.device}/telemetry`);
  const byName = (who: Identity) => (who.user ?? who.id);
  const mayAdmin = (who: Identity, rule: string) => sec.acl.can(who, 'admin', `alerts/${rule}`);
  const lookup = async (who: Identity, id: string) => {
    if (!UUID.test(id)) return undefined;
    const a = await svc.get(id);
    return a && sees(who, a) ? a : undefined;
  };
  return {
    async list(who, p) {
      const state = p.state;
      if (!absent(state) && state !== 'firing' && state !== 'resolved' && state !== 'active') return fail('WRONG_TYPE', '`state` must be "firing", "resolved" or "active"');
      for (const k of ['rule', 'device'] as const) if (!absent(p[k]) && typeof p[k] !== 'string') return fail('WRONG_TYPE', `\`${k}\` must be a string`);
      const rule = absent(p.rule) ? undefined : (p.rule as string);
      const device = absent(p.device) ? undefined : (p.device as string);
      if (state === 'active') {
        const live = svc.firing().filter((a) => sees(who, a) && (!rule || a.rule === rule) && (!device || a.device === device));
        return ok({ alerts: live });
      }
      const now = Date.now();
      const to = absent(p.to) ? now : parseTime(p.to, now);
      const from = absent(p.from) ? 0 : parseTime(p.from, now);
      if (to === undefined || from === undefined || from > to) return fail('BAD_TIME_RANGE', '`from`/`to` must be times (ms, ISO 8601, `now`, `-1h`) with from ≤ to');
      const limit = absent(p.limit) ? 100 : Number(p.limit);
      if (!Number.isInteger(limit) || limit < 1) return fail('WRONG_TYPE', '`limit` must be a positive integer');
      if (limit > MAX_ALERTS) return fail('LIMIT_TOO_LARGE', `\`limit\` is at most ${MAX_ALERTS}`);
      const rows = await svc.history({ from, to, limit, ...(rule ? { rule } : {}), ...(device ? { device } : {}), ...(state ? { state: state as Alert['state'] } : {}) });
      return ok({ from, to, alerts: rows.filter((a) => sees(who, a)) });
    },
    async get(who, id) {
      const a = await lookup(who, id);
      return a ? ok({ alert: a }) : fail('UNKNOWN_ALERT', `no alert ${JSON.stringify(id.slice(0, 64))}`);
    },
    async ack(who, id) {
      const a = await lookup(who, id);
      if (!a) return fail('UNKNOWN_ALERT', `no alert ${JSON.stringify(id.slice(0, 64))}`);
      if (!sec.acl.can(who, 'publish', alertTopic(a.rule, a.device))) return fail('FORBIDDEN', `not allowed to acknowledge alerts of "${a.rule}" on "${a.device}"`);
      return ok({ alert: await svc.ack(id, byName(who)) });
    },
    rules(who) {
      if (!sec.acl.can(who, 'subscribe', 'alerts/#')) return fail('FORBIDDEN', 'not allowed to see alert rules');
      return ok({ rules: svc.rules().map(ruleJson) });
    },
    async putRule(who, rule, name) {
      if (typeof rule !== 'object' || rule === null || Array.isArray(rule)) return fail('INVALID_RULE', 'the rule must be a JSON object');
      const body = { ...(rule as Record<string, unknown>) };
      if (name !== undefined) {
        if (body.name !== undefined && body.name !== name) return fail('INVALID_RULE', `"name" ${JSON.stringify(body.name)} differs from the path's ${JSON.stringify(name)}`);
        body.name = name;
      }
      const n = typeof body.name === 'string' ? body.name : '';
      if (!RULE_NAME.test(n)) return fail('INVALID_RULE', '"name" must be 1–64 letters, digits, "_", "-", "." or ":"');
      if (!mayAdmin(who, n)) return fail('FORBIDDEN', `not allowed to change alert rules (needs admin on alerts/${n})`);
      try {
        return ok({ rule: ruleJson(await svc.putRule(body)) });
      } catch (e) {
        if (e instanceof ReadOnlyRule) return fail('RULE_READ_ONLY', e.message);
        if (isRuleError(e)) return fail('INVALID_RULE', e.message);
        throw e;
      }
    },
    async deleteRule(who, name) {
      if (!RULE_NAME.test(name)) return fail('INVALID_RULE', '"name" must be 1–64 letters, digits, "_", "-", "." or ":"');
      if (!mayAdmin(who, name)) return fail('FORBIDDEN', `not allowed to change alert rules (needs admin on alerts/${name})`);
      try {
        return (await svc.deleteRule(name)) ? ok({ deleted: name }) : fail('UNKNOWN_RULE', `no rule made over the API named "${name}"`);
      } catch (e) {
        if (e instanceof ReadOnlyRule) return fail('RULE_READ_ONLY', e.message);
        throw e;
      }
    },
  };
}
