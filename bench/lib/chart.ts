/**
 * Charts for docs/performance.md, as plain SVG (no dependency): horizontal bars
 * with the value printed beside each bar, one colour per target, so the page
 * reads the same in a terminal diff as in a browser.
 *
 *  perf-throughput.svg  per flow scenario: delivered msg/s and server CPU µs/msg
 *  perf-latency.svg     light load: p50 / p99 / p99.9 per target
 */
import type { Row } from './phase.js';

const COLOURS: Record<string, string> = {
  mosquitto: '#4e79a7', aedes: '#f28e2b', 'ws-bcast': '#9c9c9c', 'ws-bcast-cork': '#c7c7c7', fieldlink: '#59a14f', 'fieldlink-mqtt': '#8cd17d', 'fieldlink-sqlite': '#2f6b2a',
  floor: '#b07aa1', 'fieldlink-engine': '#edc948',
};
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
const fmt = (v: number) => (v >= 100 ? Math.round(v).toLocaleString('en-US') : v.toFixed(v >= 10 ? 1 : 2));

interface Bar { group: string; label: string; colour: string; value: number }

/** One panel of grouped horizontal bars at (x, y); returns its SVG and height. */
function panel(title: string, bars: Bar[], x: number, y: number, width: number, labelW: number): { svg: string; h: number } {
  const max = Math.max(...bars.map((b) => (Number.isFinite(b.value) ? b.value : 0)), 1e-9);
  const out = [`<text x="${x}" y="${y + 14}" font-weight="bold">${esc(title)}</text>`];
  let cy = y + 26;
  let group = '';
  for (const b of bars) {
    if (b.group !== group) {
      group = b.group;
      out.push(`<text x="${x}" y="${cy + 12}" font-style="italic" fill="#555">${esc(group)}</text>`);
      cy += 18;
    }
    const w = Number.isFinite(b.value) ? Math.max(1, ((width - labelW - 70) * b.value) / max) : 0;
    out.push(`<text x="${x + labelW - 6}" y="${cy + 11}" text-anchor="end">${esc(b.label)}</text>`,
      `<rect x="${x + labelW}" y="${cy}" width="${w.toFixed(1)}" height="14" fill="${b.colour}"/>`,
      `<text x="${x + labelW + w + 4}" y="${cy + 11}">${Number.isFinite(b.value) ? fmt(b.value) : '–'}</text>`);
    cy += 18;
  }
  return { svg: out.join('\n'), h: cy - y };
}

function doc(width: number, height: number, body: string, caption: string): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">\n` +
    `<rect width="100%" height="100%" fill="#fff"/>\n${body}\n<text x="10" y="${height - 8}" fill="#777" font-size="10">${esc(caption)}</text>\n</svg>\n`;
}

const FLOWS = ['fanout-10', 'fanout-100', 'fanout-1000', 'fanin', 'fanin-telemetry', 'fullpath'];

export function charts(rows: Row[]): Record<string, string> {
  const flow = rows.filter((r) => FLOWS.includes(r.scenario)).sort((a, b) => FLOWS.indexOf(a.scenario) - FLOWS.indexOf(b.scenario));
  const bar = (r: Row, value: number): Bar => ({ group: `${r.scenario} (${r.subscribers} subscriber${r.subscribers === 1 ? '' : 's'})`, label: r.target, colour: COLOURS[r.target] ?? '#333', value });
  const a = panel('delivered messages/s (higher is better)', flow.map((r) => bar(r, r.msgPerSec)), 10, 10, 480, 110);
  const b = panel('server CPU µs per delivered message (lower is better)', flow.map((r) => bar(r, r.cpuUsPerMsg)), 500, 10, 480, 110);
  const h1 = Math.max(a.h, b.h) + 40;
  const throughput = doc(990, h1, `${a.svg}\n${b.svg}`, 'bench/run.ts: each server in its own process on loopback; publishers MQTT/TCP, subscribers WebSocket.');

  const lat = rows.filter((r) => r.scenario === 'latency');
  const lbars = lat.flatMap((r) => (['p50', 'p99', 'p999'] as const).map((k) => ({
    group: r.target, label: k === 'p999' ? 'p99.9' : k, colour: COLOURS[r.target] ?? '#333', value: r[k],
  })));
  const c = panel('latency at 100 msg/s → 100 subscribers, ms (lower is better)', lbars, 10, 10, 600, 60);
  const latency = doc(620, c.h + 40, c.svg, 'Publish (MQTT/TCP) to WebSocket receive, monotonic clock shared by the processes.');
  return { 'perf-throughput.svg': throughput, 'perf-latency.svg': latency };
}
