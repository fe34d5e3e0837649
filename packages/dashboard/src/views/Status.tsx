/**
 * Always-visible status: the connection (from the client's state events) and the
 * notices (errors from the hub and failed requests), both as live regions so
 * screen readers hear them too.
 */
import { connection } from '../lib/connection.js';
import { dismiss, notices } from '../lib/notices.js';
import { useNow, useStore } from '../lib/store.js';

export function ConnectionBadge() {
  const c = useStore(connection);
  const now = useNow(250);
  let text: string;
  let tone: 'ok' | 'warn' | 'bad';
  if (c.state === 'open') [text, tone] = ['Connected', 'ok'];
  else if (c.state === 'offline' || c.state === 'closed') [text, tone] = ['Offline', 'bad'];
  else if (c.state === 'reconnecting' && c.retryAt !== undefined && c.retryAt > now) [text, tone] = [`Reconnecting in ${Math.ceil((c.retryAt - now) / 1000)} s`, 'warn'];
  else [text, tone] = [c.state === 'connecting' ? 'Connecting…' : 'Reconnecting…', 'warn'];
  const title = c.downSince ? `down since ${new Date(c.downSince).toLocaleTimeString()}${c.closeCode ? `, close code ${c.closeCode}` : ''}` : undefined;
  return (
    <div class={`conn conn-${tone}`} role="status" aria-live="polite" data-state={c.state} title={title}>
      <span class="dot" aria-hidden="true" />
      {text}
    </div>
  );
}

export function Notices() {
  const list = useStore(notices);
  return (
    <div class="notices" role="alert" aria-live="assertive">
      {list.map((n) => (
        <div class="notice" key={n.id}>
          <span class="notice-text">
            {n.text}
            {n.count > 1 ? ` (×${n.count})` : ''}
          </span>
          <button type="button" class="icon" onClick={() => dismiss(n.id)} aria-label="Dismiss">
            ×
          </button>
        </div>
      ))}
    </div>
  );
}
