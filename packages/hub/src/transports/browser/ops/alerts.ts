/** Alert ops of the browser door: thin over services/alerts/access.ts, which the HTTP API shares. */
import type { AckRequest, AlertsRequest, DeleteRuleRequest, PutRuleRequest, RulesRequest } from '@fieldlink/protocol';
import type { BrowserContext } from '../context.js';
import type { BrowserSession } from '../session.js';

export async function alertOp(ctx: BrowserContext, s: BrowserSession, req: AlertsRequest | AckRequest | RulesRequest | PutRuleRequest | DeleteRuleRequest): Promise<void> {
  const a = ctx.alerts;
  if (!a) return s.fail(req.id, 'STORE_UNAVAILABLE', 'alerts need a store (this hub runs with --store none)');
  const who = s.identity!;
  let out;
  switch (req.op) {
    case 'alerts': {
      const { op: _op, id: _id, ...params } = req;
      out = await a.list(who, params);
      break;
    }
    case 'ack':
      out = await a.ack(who, req.alert);
      break;
    case 'rules':
      out = a.rules(who);
      break;
    case 'putRule':
      out = await a.putRule(who, req.rule);
      break;
    case 'deleteRule':
      out = await a.deleteRule(who, req.name);
      break;
  }
  if (out.ok) s.reply(req.id, out.result);
  else s.fail(req.id, out.code, out.message);
}
