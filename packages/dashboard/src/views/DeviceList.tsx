/**
 * Devices: every device the hub knows, live. Online state, last seen (ticking),
 * last values with units, model; filter by text and state. The device id is a
 * real link (keyboard and middle-click work); the whole row is clickable too.
 */
import { useState } from 'preact/hooks';
import { devices, loaded, type Device } from '../lib/devices.js';
import { formatValue, naturalCompare, relativeTime } from '../lib/format.js';
import { memo } from '../lib/memo.js';
import { metricsOf, unitOf } from '../lib/metrics.js';
import { deviceHref } from '../lib/route.js';
import { useNow, useStore } from '../lib/store.js';

type StateFilter = 'all' | 'online' | 'offline';

function matches(d: Device, text: string, state: StateFilter): boolean {
  if (state === 'online' && !d.online) return false;
  if (state === 'offline' && d.online) return false;
  if (!text) return true;
  const t = text.toLowerCase();
  return d.id.toLowerCase().includes(t) || (d.meta?.model ?? '').toLowerCase().includes(t) || (d.meta?.firmware ?? '').toLowerCase().includes(t);
}

const Row = memo(function Row({ d, now }: { d: Device; now: number }) {
  const href = deviceHref(d.id);
  return (
    <tr class={d.online ? 'online' : 'offline'} data-device={d.id} onClick={(e) => { if (!(e.target as HTMLElement).closest('a')) location.hash = href; }}>
      <td class="state">
        <span class={`pill ${d.online ? 'pill-ok' : 'pill-off'}`}>{d.online ? 'online' : 'offline'}</span>
      </td>
      <th scope="row" class="id">
        <a href={href}>{d.id}</a>
      </th>
      <td class="model">{d.meta?.model ?? '–'}</td>
      <td class="values">
        {metricsOf(d).map((m) => (
          <span class="reading" key={m} data-metric={m}>
            <span class="reading-name">{m}</span> <span class="reading-value">{formatValue(d.last[m]?.value, unitOf(d, m))}</span>
          </span>
        ))}
      </td>
      <td class="seen" title={d.lastSeen ? new Date(d.lastSeen).toLocaleString() : undefined}>
        {relativeTime(d.lastSeen, now)}
      </td>
    </tr>
  );
});

export function DeviceList() {
  const map = useStore(devices, 250);
  const isLoaded = useStore(loaded);
  const now = useNow(1000);
  const [text, setText] = useState('');
  const [state, setState] = useState<StateFilter>('all');
  const all = [...map.values()].sort((a, b) => naturalCompare(a.id, b.id));
  const shown = all.filter((d) => matches(d, text.trim(), state));
  const online = all.filter((d) => d.online).length;
  return (
    <section class="panel" aria-labelledby="devices-h">
      <div class="panel-head">
        <h1 id="devices-h">Devices</h1>
        <p class="muted" aria-live="polite">
          {all.length} known, {online} online{shown.length !== all.length ? `, ${shown.length} shown` : ''}
        </p>
      </div>
      <div class="toolbar" role="search">
        <label class="field grow">
          <span>Search</span>
          <input type="search" value={text} placeholder="id, model or firmware" onInput={(e) => setText(e.currentTarget.value)} />
        </label>
        <label class="field">
          <span>State</span>
          <select value={state} onChange={(e) => setState(e.currentTarget.value as StateFilter)}>
            <option value="all">All</option>
            <option value="online">Online</option>
            <option value="offline">Offline</option>
          </select>
        </label>
      </div>
      {!isLoaded && all.length === 0 ? (
        <p class="empty">Loading devices…</p>
      ) : shown.length === 0 ? (
        <p class="empty">{all.length === 0 ? 'No device has reported yet. Start one with `fieldlink sim`.' : 'No device matches the filter.'}</p>
      ) : (
        <table class="devices">
          <thead>
            <tr>
              <th scope="col">State</th>
              <th scope="col">Device</th>
              <th scope="col">Model</th>
              <th scope="col">Last values</th>
              <th scope="col">Last seen</th>
            </tr>
          </thead>
          <tbody>
            {shown.map((d) => (
              <Row key={d.id} d={d} now={now} />
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
