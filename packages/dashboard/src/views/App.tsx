/** The page frame: header with navigation and connection state, the routed view, notices. */
import { useRoute } from '../lib/route.js';
import { DeviceList } from './DeviceList.js';
import { DeviceView } from './DeviceView.js';
import { Explorer } from './Explorer.js';
import { ConnectionBadge, Notices } from './Status.js';

export function App() {
  const route = useRoute();
  const section = route.view === 'explorer' ? 'explorer' : 'devices';
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
          <a href="#/devices" aria-current={section === 'devices' ? 'page' : undefined}>Devices</a>
          <a href="#/explorer" aria-current={section === 'explorer' ? 'page' : undefined}>Topic explorer</a>
        </nav>
        <ConnectionBadge />
      </header>
      <main id="main" tabIndex={-1}>
        {route.view === 'devices' && <DeviceList />}
        {route.view === 'device' && <DeviceView key={route.id} id={route.id} query={route.query} />}
        {route.view === 'explorer' && <Explorer query={route.query} />}
      </main>
      <Notices />
    </>
  );
}
