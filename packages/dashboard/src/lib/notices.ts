/**
 * What went wrong, shown to the user: error frames pushed by the hub, failed
 * requests (call, pub, sub, history) and anything a view could not do. Nothing
 * the hub reports is swallowed: every catch in the views ends here or in an
 * inline message next to the control that failed.
 */
import { errorText } from './format.js';
import { Store } from './store.js';

export interface Notice { id: number; text: string; ts: number; count: number }

export const notices = new Store<Notice[]>([]);
let nextId = 1;
const MAX = 5;

/** Adds a notice; a repeat of the newest one only bumps its count (no flood during an outage). */
export function notify(context: string, e: unknown): void {
  const text = `${context}: ${errorText(e)}`;
  const cur = notices.get();
  const top = cur[cur.length - 1];
  if (top && top.text === text) {
    notices.set([...cur.slice(0, -1), { ...top, count: top.count + 1, ts: Date.now() }]);
    return;
  }
  notices.set([...cur, { id: nextId++, text, ts: Date.now(), count: 1 }].slice(-MAX));
}

export function dismiss(id: number): void {
  notices.set(notices.get().filter((n) => n.id !== id));
}
