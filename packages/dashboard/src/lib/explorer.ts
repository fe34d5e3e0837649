/**
 * Topic explorer state, kept outside the view so it survives navigation: the
 * filters subscribed here and a bounded list of the messages they brought.
 * The list keeps the newest MAX_MESSAGES; while paused, arrivals are counted
 * and kept (same bound) but the view shows the frozen list. Notifications are
 * throttled to 4 per second: nobody reads faster, and a `#` filter on a busy
 * hub must not re-render hundreds of rows every frame.
 */
import type { MsgPush } from '@fieldlink/protocol';
import { client } from './connection.js';
import { Store } from './store.js';

export const MAX_MESSAGES = 500;
export interface Entry { n: number; topic: string; payload: unknown; enc?: string; ts: number; retained: boolean }

export interface ExplorerState {
  filters: string[];
  messages: Entry[];
  paused: boolean;
  /** Messages received since the view froze (paused). */
  missed: number;
  total: number;
}

export const explorer = new Store<ExplorerState>({ filters: [], messages: [], paused: false, missed: 0, total: 0 });
const unsubs = new Map<string, () => Promise<void>>();
let live: Entry[] = [];
let n = 0;
let timer: ReturnType<typeof setTimeout> | undefined;

function flush(): void {
  timer = undefined;
  const s = explorer.get();
  explorer.set(s.paused ? { ...s, missed: s.missed, total: n } : { ...s, messages: live.slice(), total: n });
}

function onMsg(m: MsgPush): void {
  n++;
  live.push({ n, topic: m.topic, payload: m.payload, ...(m.enc ? { enc: m.enc } : {}), ts: m.ts, retained: m.retained });
  if (live.length > MAX_MESSAGES * 1.2) live = live.slice(-MAX_MESSAGES);
  const s = explorer.get();
  if (s.paused) s.missed++;
  timer ??= setTimeout(flush, 250);
}

/** Subscribes; throws the hub's error (e.g. 1007 INVALID_FILTER) for the form to show. */
export async function addFilter(filter: string, retained: boolean): Promise<void> {
  if (unsubs.has(filter)) return;
  const off = await client.subscribe(filter, onMsg, { retained });
  unsubs.set(filter, off);
  explorer.set({ ...explorer.get(), filters: [...unsubs.keys()] });
}

export async function removeFilter(filter: string): Promise<void> {
  const off = unsubs.get(filter);
  unsubs.delete(filter);
  explorer.set({ ...explorer.get(), filters: [...unsubs.keys()] });
  await off?.();
}

export function setPaused(paused: boolean): void {
  const s = explorer.get();
  explorer.set(paused ? { ...s, paused, missed: 0 } : { ...s, paused, missed: 0, messages: live.slice(-MAX_MESSAGES) });
}

export function clearMessages(): void {
  live = [];
  explorer.set({ ...explorer.get(), messages: [], missed: 0 });
}

/** What the publish form sends: JSON when the text parses as JSON (unless forced to text). */
export function payloadFor(text: string, as: 'auto' | 'json' | 'text'): { payload: unknown; encoding: 'json' | 'text' } {
  if (as === 'text') return { payload: text, encoding: 'text' };
  try {
    return { payload: JSON.parse(text) as unknown, encoding: 'json' };
  } catch (e) {
    if (as === 'json') throw new Error(`payload is not JSON: ${(e as Error).message}`, { cause: e });
    return { payload: text, encoding: 'text' };
  }
}
