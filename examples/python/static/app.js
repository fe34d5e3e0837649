// The Flask example's page: the device list and the last values from /api/devices,
// live readings as Server-Sent Events from /events (EventSource reconnects on its
// own), a command with POST /api/call, and the last hour of the selected device
// from /api/history drawn on a canvas (no chart library: the page works offline).
/* global document, window, EventSource */
'use strict';

const $ = (id) => document.getElementById(id);
const rows = new Map(); // device id -> <tr>
let piId = null;
let selected = null;
let points = []; // [{ts, value}] of the selected device, last hour
const HOUR = 3600 * 1000;

function format(lux) {
  if (typeof lux !== 'number') return '–';
  if (lux >= 1000) return Math.round(lux).toLocaleString('en-US');
  return lux >= 10 ? lux.toFixed(1) : lux.toFixed(2);
}

function row(id) {
  let tr = rows.get(id);
  if (tr) return tr;
  tr = document.createElement('tr');
  tr.dataset.device = id;
  if (id === piId) tr.className = 'pi';
  for (const cls of ['id', 'lux', 'time', 'status', 'action']) {
    const td = document.createElement('td');
    td.className = cls;
    tr.append(td);
  }
  tr.querySelector('.id').textContent = id;
  const button = document.createElement('button');
  button.textContent = 'identify';
  button.dataset.call = 'identify';
  button.addEventListener('click', (ev) => { ev.stopPropagation(); call(id, 'identify'); });
  tr.querySelector('.action').append(button);
  tr.addEventListener('click', () => select(id));
  const all = [...rows.keys(), id].sort();
  rows.set(id, tr);
  const next = rows.get(all[all.indexOf(id) + 1]);
  $('devices').insertBefore(tr, next ?? null);
  if (!selected) select(id);
  return tr;
}

function showReading(id, lux, ts) {
  const tr = row(id);
  tr.querySelector('.lux').textContent = format(lux);
  tr.querySelector('.time').textContent = new Date(ts).toLocaleTimeString();
  if (id === selected && typeof lux === 'number') {
    points.push({ ts, value: lux });
    const from = Date.now() - HOUR;
    while (points.length && points[0].ts < from) points.shift();
    draw();
  }
}

function showStatus(id, online) {
  row(id).querySelector('.status').textContent = online ? 'online' : 'offline';
}

async function select(id) {
  selected = id;
  for (const [d, tr] of rows) tr.classList.toggle('selected', d === id);
  $('chart-device').textContent = id;
  points = [];
  draw();
  const res = await fetch(`/api/history?device=${encodeURIComponent(id)}&metric=lux&from=-1h`);
  const body = await res.json();
  if (selected !== id || !res.ok) return;
  // raw points when there are few, else buckets (the hub chooses): draw the bucket averages
  const got = body.points ?? (body.buckets ?? []).map((b) => ({ ts: b.ts, value: b.avg }));
  const newest = got.length ? got[got.length - 1].ts : 0;
  points = [...got, ...points.filter((p) => p.ts > newest)];
  draw();
}

function draw() {
  const canvas = $('chart');
  const ctx = canvas.getContext('2d');
  const dpr = window.devicePixelRatio || 1;
  const w = canvas.clientWidth * dpr;
  const h = canvas.clientHeight * dpr;
  if (canvas.width !== w || canvas.height !== h) { canvas.width = w; canvas.height = h; }
  ctx.clearRect(0, 0, w, h);
  canvas.dataset.points = String(points.length);
  if (points.length < 2) return;
  const vs = points.map((p) => p.value);
  let lo = Math.min(...vs);
  let hi = Math.max(...vs);
  if (hi - lo < 1) { hi += 0.5; lo = Math.max(0, lo - 0.5); }
  const now = Date.now();
  const x = (ts) => 50 * dpr + ((ts - (now - HOUR)) / HOUR) * (w - 60 * dpr);
  const y = (v) => h - 14 * dpr - ((v - lo) / (hi - lo)) * (h - 28 * dpr);
  ctx.font = `${11 * dpr}px system-ui`;
  ctx.fillStyle = '#888';
  ctx.strokeStyle = '#8884';
  for (const v of [lo, (lo + hi) / 2, hi]) {
    ctx.beginPath(); ctx.moveTo(50 * dpr, y(v)); ctx.lineTo(w, y(v)); ctx.stroke();
    ctx.fillText(`${format(v)} lx`, 2, y(v) + 4 * dpr);
  }
  ctx.fillText('−1 h', 50 * dpr, h - 2 * dpr);
  ctx.fillText('now', w - 26 * dpr, h - 2 * dpr);
  ctx.strokeStyle = '#e8a300';
  ctx.lineWidth = 2 * dpr;
  ctx.beginPath();
  points.forEach((p, i) => (i ? ctx.lineTo(x(p.ts), y(p.value)) : ctx.moveTo(x(p.ts), y(p.value))));
  ctx.stroke();
}

async function call(device, method) {
  $('call-result').textContent = `${method} → ${device}…`;
  const res = await fetch('/api/call', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ device, method }) });
  const body = await res.json();
  $('call-result').textContent = body.ok
    ? `${method} → ${device}: ${JSON.stringify(body.result)}`
    : `${method} → ${device} failed: ${body.error.name} ${body.error.message}`;
}

function hubState(state) {
  $('hub-state').textContent = state === 'open' ? 'live' : state;
  $('hub-state').className = `badge ${state === 'open' ? 'up' : 'down'}`;
}

async function start() {
  const res = await fetch('/api/devices');
  const body = await res.json();
  piId = body.pi;
  hubState(body.hub.state);
  for (const d of body.devices ?? []) {
    row(d.id);
    showStatus(d.id, d.online);
    if (d.last?.lux) showReading(d.id, d.last.lux.value, d.last.lux.ts);
  }
  const events = new EventSource('/events');
  events.addEventListener('telemetry', (ev) => {
    const m = JSON.parse(ev.data);
    showReading(m.device, m.payload.lux, m.payload.ts ?? m.ts);
  });
  events.addEventListener('status', (ev) => { const m = JSON.parse(ev.data); showStatus(m.device, m.online); });
  events.addEventListener('hub', (ev) => hubState(JSON.parse(ev.data).state));
  events.onerror = () => hubState('reconnecting…');
}

window.addEventListener('resize', draw);
start();
