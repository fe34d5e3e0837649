/**
 * Alerts for the banner and the Alerts view (docs/alerts.md). The firing set
 * comes from the retained topics `alerts/{rule}/{device}` (subscribed with the
 * other live data, so a reconnect restores it): a firing body adds or updates
 * an entry, a `resolved` body or an empty (cleared) message removes it.
 * History, acknowledgements and rules use the browser ops of the same name.
 */
import type { MsgPush } from '@fieldlink/protocol';
import { client } from './connection.js';
import { notify } from './notices.js';
import { Store } from './store.js';

export interface Alert {
  id: string;
  rule: string;
  device: string;
  kind: string;
  state: 'firing' | 'resolved';
  value: number | null;
  message: string;
  firedAt: number;
  resolvedAt: number | null;
  ackedAt: number | null;
  ackedBy: string | null;
}

export type Rule = Record<string, unknown> & { name: string; kind: string; origin: 'file' | 'api' };

/** Firing alerts by topic. */
export const firing = new Store<Map<string, Alert>>(new Map());

function onMessage(m: MsgPush): void {
  const map = firing.get();
  const a = m.payload as Alert | null | string;
  if (a && typeof a === 'object' && a.state === 'firing') map.set(m.topic, a);
  else map.delete(m.topic);
  firing.changed();
}

let started = false;
export function startAlerts(): void {
  client.onState((e) => {
    if (e.state !== 'open' || started) return;
    started = true;
    client.subscribe('alerts/#', onMessage).catch((err: unknown) => {
      started = false;
      // Viewers without subscribe on alerts/# simply see no banner.
      if ((err as { name?: string }).name !== 'FORBIDDEN') notify('Loading alerts failed', err);
    });
  });
}

export const history = (params: Record<string, unknown> = {}) => client.request<{ alerts: Alert[] }>('alerts', { limit: 50, ...params });
export const ack = (id: string) => client.request<{ alert: Alert }>('ack', { alert: id });
export const rules = () => client.request<{ rules: Rule[] }>('rules', {});
export const putRule = (rule: Record<string, unknown>) => client.request<{ rule: Rule }>('putRule', { rule });
export const deleteRule = (name: string) => client.request<{ deleted: string }>('deleteRule', { name });
