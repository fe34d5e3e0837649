// Live page of a Fieldlink sensor node: connects to /ws/live on the same origin,
// shows the latest lux big and the last few minutes on a canvas (log scale, as
// light spans 0.01 to 100,000 lx). Reconnects with backoff if the node restarts.
/* global document, window, location */
'use strict';

const MAX_POINTS = 300;
const points = [];
const $ = (id) => document.getElementById(id);
let retryMs = 500;

function format(lux) {
  if (lux >= 1000) return Math.round(lux).toLocaleString('en-US');
  if (lux >= 10) return lux.toFixed(1);
  return lux.toFixed(2);
}

function draw() {
  const canvas = $('chart');
  const ctx = canvas.getContext('2d');
  const dpr = window.devicePixelRatio || 1;
  const w = canvas.clientWidth * dpr;
  const h = canvas.clientHeight * dpr;
  if (canvas.width !== w || canvas.height !== h) { canvas.width = w; canvas.height = h; }
  ctx.clearRect(0, 0, w, h);
  if (points.length < 2) return;
  const ys = points.map((p) => Math.log10(Math.max(p.lux, 0.01)));
  let lo = Math.floor(Math.min(...ys));
  let hi = Math.ceil(Math.max(...ys));
  if (hi - lo < 1) { hi += 0.5; lo -= 0.5; }
  const t0 = points[0].ts;
  const span = Math.max(points[points.length - 1].ts - t0, 1);
  const x = (p) => ((p.ts - t0) / span) * (w - 60 * dpr) + 50 * dpr;
  const y = (v) => h - 10 * dpr - ((v - lo) / (hi - lo)) * (h - 20 * dpr);
  ctx.font = `${11 * dpr}px system-ui`;
  ctx.fillStyle = '#888';
  ctx.strokeStyle = '#8884';
  for (let d = Math.ceil(lo); d <= hi; d++) {
    ctx.beginPath(); ctx.moveTo(50 * dpr, y(d)); ctx.lineTo(w, y(d)); ctx.stroke();
    ctx.fillText(`${format(10 ** d)} lx`, 2, y(d) + 4 * dpr);
  }
  ctx.strokeStyle = '#e8a300';
  ctx.lineWidth = 2 * dpr;
  ctx.beginPath();
  points.forEach((p, i) => (i ? ctx.lineTo(x(p), y(ys[i])) : ctx.moveTo(x(p), y(ys[i]))));
  ctx.stroke();
}

function push(p) {
  points.push({ ts: p.ts, lux: p.lux });
  if (points.length > MAX_POINTS) points.splice(0, points.length - MAX_POINTS);
}

function show(r) {
  $('lux').textContent = format(r.lux);
  $('detail').textContent = `ALS ${r.als} · white ${r.white} counts · gain ×${r.gain} · ${r.integrationMs} ms · ${new Date(r.ts).toLocaleTimeString()}`;
  if (r.hub) {
    $('hub').textContent = r.hub.url
      ? `hub ${r.hub.url}: ${r.hub.connected ? 'connected' : 'unreachable'} · ${r.hub.buffered} buffered`
      : 'no hub configured';
  }
}

function connect() {
  const ws = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws/live`);
  ws.onopen = () => { retryMs = 500; $('link').textContent = 'live'; $('link').className = 'badge up'; };
  ws.onclose = () => {
    $('link').textContent = 'reconnecting…';
    $('link').className = 'badge down';
    window.setTimeout(connect, retryMs);
    retryMs = Math.min(retryMs * 2, 10000);
  };
  ws.onmessage = (ev) => {
    const m = JSON.parse(ev.data);
    if (m.op === 'hello') {
      $('device').textContent = `${m.id} · ${m.model}`;
      document.title = `${m.id} · Fieldlink`;
      points.length = 0;
      for (const p of m.history) push(p);
      if (m.latest) show(m.latest);
      draw();
    } else if (m.op === 'reading') {
      push(m);
      show(m);
      draw();
    } else if (m.op === 'identify') {
      document.body.classList.add('identify');
      // durationMs needs no common clock (a board without NTP counts from boot)
      window.setTimeout(() => document.body.classList.remove('identify'), m.durationMs ?? Math.max(0, m.until - Date.now()));
    }
  };
}

window.addEventListener('resize', draw);
connect();
