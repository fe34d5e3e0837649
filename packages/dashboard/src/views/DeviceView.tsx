/**
 * One device: header with live state, range picker (live 5 min, 1 h, 24 h, 7 d,
 * custom), pause/resume, one chart per metric with its CSV export, and the
 * command forms. The range lives in the URL hash, so a reload keeps it.
 */
import { useEffect, useMemo, useState } from 'preact/hooks';
import { DeviceSeries, type LoadState } from '../lib/device-series.js';
import { devices } from '../lib/devices.js';
import { formatValue, relativeTime } from '../lib/format.js';
import { metricsOf, unitOf } from '../lib/metrics.js';
import { csvHref, fromLocalInput, PRESETS, resolveWindow, toLocalInput, type RangeKey } from '../lib/ranges.js';
import { deviceHref, replaceHash } from '../lib/route.js';
import { Store, useNow, useStore } from '../lib/store.js';
import { Chart } from './Chart.js';
import { Commands } from './Commands.js';

const KEYS: RangeKey[] = ['live', '1h', '24h', '7d', 'custom'];
const NO_MODEL = new Store<LoadState>({ loading: true, points: 0 });

function CustomRange({ id, from, to }: { id: string; from?: number; to?: number }) {
  const [f, setF] = useState(toLocalInput(from ?? Date.now() - 3_600_000));
  const [t, setT] = useState(to !== undefined ? toLocalInput(to) : '');
  const apply = (e: Event) => {
    e.preventDefault();
    const a = fromLocalInput(f), b = fromLocalInput(t);
    replaceHash(deviceHref(id, { range: 'custom', from: a !== undefined ? String(a) : undefined, to: b !== undefined ? String(b) : undefined }));
  };
  return (
    <form class="custom" onSubmit={apply}>
      <label class="field">
        <span>From</span>
        <input type="datetime-local" value={f} required onInput={(e) => setF(e.currentTarget.value)} />
      </label>
      <label class="field">
        <span>To (empty: now, live)</span>
        <input type="datetime-local" value={t} onInput={(e) => setT(e.currentTarget.value)} />
      </label>
      <button type="submit">Apply</button>
    </form>
  );
}

export function DeviceView({ id, query }: { id: string; query: URLSearchParams }) {
  const map = useStore(devices, 250);
  const now = useNow(1000);
  const d = map.get(id);
  const q = query.get('range');
  const range: RangeKey = KEYS.includes(q as RangeKey) ? (q as RangeKey) : 'live';
  const cf = Number(query.get('from')) || undefined, ct = Number(query.get('to')) || undefined;
  const metrics = metricsOf(d);
  const metricsKey = metrics.join(',');
  const [paused, setPaused] = useState(false);

  const model = useMemo(() => {
    if (metrics.length === 0) return undefined;
    return new DeviceSeries(id, metrics, resolveWindow(range, { from: cf, to: ct }, Date.now()));
  }, [id, metricsKey, range, cf, ct]);
  useEffect(() => {
    model?.start();
    return () => model?.stop();
  }, [model]);
  const load = useStore(model?.state ?? NO_MODEL);

  return (
    <>
      <section class="panel" aria-labelledby="dev-h">
        <p class="crumb"><a href="#/devices">← All devices</a></p>
        <div class="panel-head">
          <h1 id="dev-h">{id}</h1>
          {d && <span class={`pill ${d.online ? 'pill-ok' : 'pill-off'}`} data-online={String(d.online)}>{d.online ? 'online' : 'offline'}</span>}
        </div>
        {!d ? (
          <p class="empty">No device "{id}" is known to this hub (yet).</p>
        ) : (
          <dl class="facts">
            <div><dt>Model</dt><dd>{d.meta?.model ?? '–'}</dd></div>
            <div><dt>Firmware</dt><dd>{d.meta?.firmware ?? '–'}</dd></div>
            <div><dt>Last seen</dt><dd>{relativeTime(d.lastSeen, now)}</dd></div>
            {metrics.map((m) => (
              <div key={m} data-metric={m}><dt>{m}</dt><dd class="reading-value">{formatValue(d.last[m]?.value, unitOf(d, m))}</dd></div>
            ))}
          </dl>
        )}
      </section>
      {model && (
        <section class="panel" aria-labelledby="charts-h">
          <div class="panel-head">
            <h2 id="charts-h">History</h2>
            <span class="muted" aria-live="polite">
              {load.loading ? 'loading…' : load.error ? `failed: ${load.error}` : model.window.bucketMs ? `buckets of ${model.window.bucketMs / 1000} s, min–max band` : 'raw points'}
              {model.live && !load.loading ? (paused ? ' · paused' : ' · live') : ''}
            </span>
          </div>
          <div class="toolbar">
            <div class="segmented" role="group" aria-label="Time range">
              {[...PRESETS, { key: 'custom' as const, label: 'Custom' }].map((p) => (
                <button key={p.key} type="button" class="seg" aria-pressed={range === p.key} onClick={() => replaceHash(deviceHref(id, { range: p.key }))}>
                  {p.label}
                </button>
              ))}
            </div>
            {model.live && (
              <button type="button" class="secondary" aria-pressed={paused} onClick={() => setPaused(!paused)}>
                {paused ? 'Resume' : 'Pause'}
              </button>
            )}
          </div>
          {range === 'custom' && <CustomRange id={id} from={cf} to={ct} />}
          {metrics.map((m) => (
            <div class="chart-box" key={`${m}-${metricsKey}-${range}`}>
              <div class="chart-head">
                <h3>
                  {m} {unitOf(d, m) && <span class="muted">({unitOf(d, m)})</span>}
                </h3>
                <a class="small" href={csvHref(id, m, model.window, now)} download>
                  Download CSV
                </a>
              </div>
              <Chart model={model} metric={m} unit={unitOf(d, m)} paused={paused} />
            </div>
          ))}
        </section>
      )}
      {d && <Commands device={id} meta={d.meta} />}
    </>
  );
}
