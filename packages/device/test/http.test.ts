import { test } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { startLivePage } from '../src/node/http.js';

test('serves the page and its script separately, with a CSP that forbids inline script', async () => {
  const page = await startLivePage({ port: 0, host: '127.0.0.1', hello: () => ({ id: 'n1', history: [] }), latest: () => ({ lux: 5 }) });
  try {
    const base = `http://127.0.0.1:${page.port}`;
    const html = await fetch(`${base}/`);
    assert.equal(html.status, 200);
    assert.match(html.headers.get('content-security-policy')!, /default-src 'self'/);
    const text = await html.text();
    assert.match(text, /<script src="\/app\.js" defer><\/script>/);
    assert.doesNotMatch(text.replace(/<script src="[^"]+" defer><\/script>/g, ''), /<script/i, 'no inline script');
    const js = await fetch(`${base}/app.js`);
    assert.match(js.headers.get('content-type')!, /javascript/);
    assert.match(await js.text(), /\/ws\/live/);
    assert.deepEqual(await (await fetch(`${base}/api/latest`)).json(), { lux: 5 });
    assert.equal((await fetch(`${base}/nope`)).status, 404);
    assert.equal((await fetch(`${base}/`, { method: 'POST' })).status, 405);
  } finally {
    await page.close();
  }
});

test('live WebSocket: hello on connect, readings broadcast to every browser', async () => {
  const page = await startLivePage({ port: 0, host: '127.0.0.1', hello: () => ({ id: 'n1', history: [{ ts: 1, lux: 2 }] }), latest: () => undefined });
  const open = async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${page.port}/ws/live`);
    const frames: Record<string, unknown>[] = [];
    ws.on('message', (d) => frames.push(JSON.parse(d.toString()) as Record<string, unknown>));
    await new Promise((r) => ws.once('open', r));
    return { ws, frames };
  };
  try {
    const a = await open();
    const b = await open();
    const until = (p: () => boolean) => new Promise<void>((r) => { const t = () => (p() ? r() : setTimeout(t, 5)); t(); });
    await until(() => a.frames.length === 1 && b.frames.length === 1);
    assert.deepEqual(a.frames[0], { op: 'hello', id: 'n1', history: [{ ts: 1, lux: 2 }] });
    page.broadcast({ op: 'reading', lux: 7 });
    await until(() => a.frames.length === 2 && b.frames.length === 2);
    assert.deepEqual(b.frames[1], { op: 'reading', lux: 7 });
    assert.equal(page.clients, 2);
    a.ws.close();
    b.ws.close();
  } finally {
    await page.close();
  }
});
