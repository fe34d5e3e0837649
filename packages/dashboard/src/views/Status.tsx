/**
 * Always-visible status: the connection (from the client's state events), who is
 * logged in (with logout), and the notices (errors from the hub and failed
 * requests); connection and notices are live regions so screen readers hear them.
 */
import { useState } from 'preact/hooks';
import { connection } from '../lib/connection.js';
import { dismiss, notices, notify } from '../lib/notices.js';
import { logout, type Identity } from '../lib/session.js';
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

/** Who the hub says this page is. Anonymous access (loopback default) has nothing to log out of. */
export function UserBadge({ identity }: { identity: Identity }) {
  const [busy, setBusy] = useState(false);
  const out = async () => {
    setBusy(true);
    const err = await logout();
    if (err === undefined) return; // the page reloads
    setBusy(false);
    notify('Logging out failed', err);
  };
  return (
    <div class="who" data-kind={identity.kind} data-role={identity.role}>
      <span>
        <span class="sr-only">Logged in as </span>
        <strong class="who-id">{identity.kind === 'anonymous' ? 'anonymous' : identity.id}</strong> <span class="role">{identity.role}</span>
      </span>
      {identity.kind !== 'anonymous' && (
        <button type="button" class="secondary small" disabled={busy} onClick={() => void out()}>
          Log out
        </button>
      )}
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
