/**
 * The page frame: header with navigation, connection state and who is logged in,
 * then the login form or the routed view, and the notices.
 */
import { useRoute } from '../lib/route.js';
import { auth } from '../lib/session.js';
import { useStore } from '../lib/store.js';
import { DeviceList } from './DeviceList.js';
import { DeviceView } from './DeviceView.js';
import { Explorer } from './Explorer.js';
import { Login } from './Login.js';
import { AlertBanner, Alerts } from './Alerts.js';
import { ConnectionBadge, Notices, UserBadge } from './Status.js';

export function App() {
  const route = useRoute();
  const a = useStore(auth);
  const section = route.view === 'explorer' ? 'explorer' : route.view === 'alerts' ? 'alerts' : 'devices';
  return (
    <>
      <a class="skip" href="#main" onClick={(e) => { e.preventDefault(); document.getElementById('main')?.focus(); }}>
        Skip to content
      </a>
      <header class="top">
        <a class="brand" href="#/devices">
          <span class="logo" aria-hidden="true" />
          Fieldlink
        </a>
        <nav aria-label="Main">
          {a.phase === 'in' && (
            <>
              <a href="#/devices" aria-current={section === 'devices' ? 'page' : undefined}>Devices</a>
              <a href="#/explorer" aria-current={section === 'explorer' ? 'page' : undefined}>Topic explorer</a>
              <a href="#/alerts" aria-current={section === 'alerts' ? 'page' : undefined}>Alerts</a>
            </>
          )}
        </nav>
        {a.phase === 'in' && <ConnectionBadge />}
        {a.phase === 'in' && a.identity && <UserBadge identity={a.identity} />}
      </header>
      <main id="main" tabIndex={-1} class={a.phase === 'login' ? 'narrow' : undefined}>
        {a.phase === 'checking' && <p class="empty" aria-live="polite">Checking the session…</p>}
        {a.phase === 'login' && <Login key={a.error ?? ''} error={a.error} />}
        {a.phase === 'in' && (
          <>
            <AlertBanner />
            {route.view === 'devices' && <DeviceList />}
            {route.view === 'device' && <DeviceView key={route.id} id={route.id} query={route.query} />}
            {route.view === 'explorer' && <Explorer query={route.query} />}
            {route.view === 'alerts' && <Alerts />}
          </>
        )}
      </main>
      <Notices />
    </>
  );
}
