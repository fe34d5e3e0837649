/**
 * One uPlot chart of one metric. The chart draws straight from the Series'
 * columnar arrays; it redraws when the DeviceSeries says data changed (at most
 * once per frame) unless paused. The x range is the window: sliding windows
 * follow now, so a live chart scrolls even between readings.
 * Canvas colours come from the page's CSS variables, re-read when the colour
 * scheme changes (a canvas does not follow CSS by itself).
 */
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { DeviceSeries } from '../lib/device-series.js';
import { dateTime, formatValue } from '../lib/format.js';

interface Props { model: DeviceSeries; metric: string; unit?: string; paused: boolean }

const pad = (n: number) => String(n).padStart(2, '0');
/** One-line tick labels: seconds when ticks are under a minute apart, the date when a day or more. */
function timeTick(ts: number, incr: number): string {
  const d = new Date(ts);
  const hm = `${pad(d.getHours())}:${pad(d.getMinutes())}`;
  if (incr < 60_000) return `${hm}:${pad(d.getSeconds())}`;
  if (incr < 86_400_000) return hm;
  return `${d.getMonth() + 1}/${d.getDate()}`;
}

const css = (name: string) => getComputedStyle(document.documentElement).getPropertyValue(name).trim();
const HEIGHT = 220;

function options(metric: string, unit: string | undefined, bucketed: boolean, width: number, xRange: () => [number, number]): uPlot.Options {
  const fg = css('--muted'), grid = css('--grid'), line = css('--accent'), band = css('--band');
  const axis = { stroke: fg, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 } };
  const fmt = (_u: uPlot, v: number | null) => (v === null ? '–' : formatValue(v, unit));
  const series: uPlot.Series[] = [
    { label: 'time', value: (_u, v) => (v === null ? '–' : dateTime(v)) },
    { label: bucketed ? `${metric} avg` : metric, stroke: line, width: 1.5, value: fmt, points: { show: false } },
  ];
  if (bucketed) {
    series.push({ label: 'min', stroke: band, width: 0, value: fmt, points: { show: false } }, { label: 'max', stroke: band, width: 0, value: fmt, points: { show: false } });
  }
  return {
    width,
    height: HEIGHT,
    ms: 1,
    series,
    bands: bucketed ? [{ series: [3, 2], fill: band }] : [],
    scales: { x: { time: true, range: () => xRange() } },
    axes: [{ ...axis, space: 90, values: (_u, splits, _i, _space, incr) => splits.map((v) => timeTick(v, incr)) }, { ...axis, size: 60, values: (_u, vals) => vals.map((v) => formatValue(v)) }],
    cursor: { drag: { x: false, y: false }, points: { size: 6 } },
    legend: { live: true },
  };
}

export function Chart({ model, metric, unit, paused }: Props) {
  const box = useRef<HTMLDivElement>(null);
  const pausedRef = useRef(paused);
  pausedRef.current = paused;

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const w = model.window;
    const xRange = (): [number, number] => {
      const now = Date.now();
      return w.slidingMs !== null ? [now - w.slidingMs, now] : [w.from, w.to ?? now];
    };
    let u: uPlot | undefined;
    let drawn = -1;
    const data = (): uPlot.AlignedData => {
      const s = model.series.get(metric);
      if (!s) return [[], []];
      return w.bucketMs !== null ? [s.x, s.y, s.lo, s.hi] : [s.x, s.y];
    };
    const build = () => {
      u?.destroy();
      u = new uPlot(options(metric, unit, w.bucketMs !== null, el.clientWidth || 600, xRange), data(), el);
    };
    const redraw = () => {
      const s = model.series.get(metric);
      if (!u || pausedRef.current) return;
      if (s && s.version === drawn && w.slidingMs === null) return;
      drawn = s?.version ?? -1;
      u.setData(data());
      // For tests and curious users: how much the chart holds, and from when.
      el.dataset.points = String(s?.length ?? 0);
      el.dataset.first = String(s?.x[0] ?? '');
    };
    build();
    const offFrame = model.onFrame(redraw);
    // A sliding window scrolls with time even when no reading arrives (device offline).
    const tick = w.to === null ? setInterval(() => redraw(), 1000) : undefined;
    const ro = new ResizeObserver(() => u?.setSize({ width: el.clientWidth, height: HEIGHT }));
    ro.observe(el);
    const mq = matchMedia('(prefers-color-scheme: dark)');
    mq.addEventListener('change', build);
    return () => {
      offFrame();
      clearInterval(tick);
      ro.disconnect();
      mq.removeEventListener('change', build);
      u?.destroy();
    };
  }, [model, metric, unit]);

  return <div class="chart" ref={box} data-metric={metric} role="figure" aria-label={`${metric} over time`} />;
}
