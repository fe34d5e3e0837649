/**
 * Alerts: the banner shown on every view while alerts fire, and the Alerts view
 * (#/alerts): firing alerts with Acknowledge, recent history, and the rules with
 * an editor for rules made over the API (rules from the alerts file are shown
 * read-only: the hub answers RULE_READ_ONLY for them).
 */
import { useEffect, useState } from 'preact/hooks';
import { ack, deleteRule, firing, history, putRule, rules, type Alert, type Rule } from '../lib/alerts.js';
import { dateTime, errorText, relativeTime } from '../lib/format.js';
import { useNow, useStore } from '../lib/store.js';

export function AlertBanner() {
  const map = useStore(firing);
  if (map.size === 0) return null;
  const list = [...map.values()];
  const open = list.filter((a) => !a.ackedAt).length;
  return (
    <div class="alert-banner" role="alert" data-testid="alert-banner">
      <strong>{list.length} alert{list.length === 1 ? '' : 's'} firing</strong>
      {open < list.length && <span> ({list.length - open} acknowledged)</span>}: {list.slice(0, 3).map((a) => `${a.rule} on ${a.device}`).join(', ')}
      {list.length > 3 && ' …'} <a href="#/alerts">Show alerts</a>
    </div>
  );
}

const EXAMPLE = '{\n  "name": "greenhouse-dark",\n  "kind": "threshold",\n  "devices": ["greenhouse-*"],\n  "metric": "lux",\n  "below": 50,\n  "hysteresis": 20,\n  "for": "5m"\n}';

export function Alerts() {
  const map = useStore(firing);
  const now = useNow(1000);
  const [past, setPast] = useState<Alert[]>([]);
  const [ruleList, setRules] = useState<Rule[]>([]);
  const [draft, setDraft] = useState(EXAMPLE);
  const [msg, setMsg] = useState('');
  const reload = () => {
    history().then((r) => setPast(r.alerts), (e: unknown) => setMsg(errorText(e)));
    rules().then((r) => setRules(r.rules), (e: unknown) => setMsg(errorText(e)));
  };
  useEffect(reload, [map.size]);
  const act = (p: Promise<unknown>, done: string) => p.then(() => { setMsg(done); reload(); }, (e: unknown) => setMsg(errorText(e)));
  const save = () => {
    let rule: Record<string, unknown>;
    try {
      rule = JSON.parse(draft) as Record<string, unknown>;
    } catch {
      return setMsg('The rule is not valid JSON');
    }
    act(putRule(rule), `Saved rule ${String(rule.name)}`);
  };
  const live = [...map.values()].sort((a, b) => b.firedAt - a.firedAt);
  return (
    <section class="alerts" aria-labelledby="alerts-h">
      <h1 id="alerts-h">Alerts</h1>
      {msg && <p class="notice-inline" aria-live="polite">{msg}</p>}
      <h2>Firing</h2>
      {live.length === 0 ? <p class="empty">Nothing is firing.</p> : (
        <table class="alert-table" data-testid="firing">
          <thead><tr><th scope="col">Rule</th><th scope="col">Device</th><th scope="col">What</th><th scope="col">Since</th><th scope="col">Acknowledged</th></tr></thead>
          <tbody>
            {live.map((a) => (
              <tr key={a.id} data-alert={a.id}>
                <td>{a.rule}</td><td><a href={`#/devices/${encodeURIComponent(a.device)}`}>{a.device}</a></td><td>{a.message}</td>
                <td title={dateTime(a.firedAt)}>{relativeTime(a.firedAt, now)}</td>
                <td>{a.ackedAt ? `by ${a.ackedBy ?? '?'}` : <button type="button" onClick={() => act(ack(a.id), `Acknowledged ${a.rule} on ${a.device}`)}>Acknowledge</button>}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <h2>History</h2>
      {past.length === 0 ? <p class="empty">No alerts yet.</p> : (
        <table class="alert-table" data-testid="history">
          <thead><tr><th scope="col">Rule</th><th scope="col">Device</th><th scope="col">State</th><th scope="col">Fired</th><th scope="col">Resolved</th></tr></thead>
          <tbody>
            {past.map((a) => (
              <tr key={a.id}><td>{a.rule}</td><td>{a.device}</td><td>{a.state}{a.ackedBy ? ` (ack ${a.ackedBy})` : ''}</td><td>{dateTime(a.firedAt)}</td><td>{a.resolvedAt ? dateTime(a.resolvedAt) : '–'}</td></tr>
            ))}
          </tbody>
        </table>
      )}
      <h2>Rules</h2>
      <ul class="rule-list" data-testid="rules">
        {ruleList.map((r) => (
          <li key={r.name}>
            <code>{r.name}</code> {r.kind} <span class="muted">({r.origin === 'file' ? 'alerts file' : 'API'})</span>{' '}
            {r.origin === 'api' && (
              <>
                <button type="button" onClick={() => setDraft(JSON.stringify({ ...r, origin: undefined }, null, 2))}>Edit</button>{' '}
                <button type="button" onClick={() => act(deleteRule(r.name), `Deleted rule ${r.name}`)}>Delete</button>
              </>
            )}
          </li>
        ))}
      </ul>
      <label for="rule-draft">Rule (JSON, docs/alerts.md)</label>
      <textarea id="rule-draft" rows={10} cols={60} value={draft} onInput={(e) => setDraft((e.target as HTMLTextAreaElement).value)} />
      <p><button type="button" onClick={save}>Save rule</button></p>
    </section>
  );
}
