/**
 * Example 1, the ESP32 that hosts its own live page, checked without an ESP32
 * toolchain (none here: the sketch is read as data, see sketch.ts):
 * - page.h is what scripts/arduino-page.mjs generates from packages/device/public/,
 *   and holds those files byte for byte, so the board serves the page the node
 *   serves (node-page.test.ts runs that page in Chromium);
 * - the sketch serves every route the node serves, with the node's content types
 *   and security headers, and its WebSocket is at the path the page opens;
 * - the live frames it builds (hello, reading, identify, the hub status) are the
 *   node's frames: their examples pass the same schema (liveFrameProblems) and the
 *   code between the markers writes exactly the example's fields;
 * - every library it includes is listed in examples/arduino/README.md with a
 *   version; every call it makes into a library or the core is in the API table
 *   below (taken from those versions' headers); braces and parentheses balance.
 * - the page, in Chromium, shows what the sketch's own example frames say (served
 *   by the node's live-page server, which sends exactly those frames).
 * A test edits the sketch in small ways and expects each edit to be caught.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { GAIN_VALUE, liveFrameProblems, startLivePage } from '@fieldlink/device';
import { launchChromium } from './browser.js';
import { requirePeers } from './peers.js';
import { SKETCH_DIR, SKETCH_PATH, checkLiterals, extractMarkers, isObj, isPrefix, leafPaths, samePaths, show, uses, writes, type Json } from './sketch.js';

const ROOT = new URL('../../', import.meta.url);
const read = (rel: string | URL) => readFileSync(typeof rel === 'string' ? new URL(rel, ROOT) : rel, 'utf8');
const PUBLIC = 'packages/device/public/';
/** Headers that come with the board's core (arduino-esp32) or the C library: no Library Manager entry. */
const CORE_HEADERS = new Set(['Arduino.h', 'WiFi.h', 'Wire.h', 'sys/time.h', 'time.h']);

/** The node's routes and headers, read from its source (packages/device/src/node/http.ts). */
function nodeRoutes(): { files: Record<string, { file: string; type: string }>; csp: string; wsPath: string } {
  const src = read('packages/device/src/node/http.ts');
  const files: Record<string, { file: string; type: string }> = {};
  for (const m of src.matchAll(/'(\/[^']*)': \{ file: '([^']+)', type: '([^']+)' \}/g)) files[m[1]!] = { file: m[2]!, type: m[3]! };
  const csp = /'content-security-policy': "([^"]+)"/.exec(src)![1]!;
  const wsPath = /WebSocketServer\(\{[^}]*path: '([^']+)'/.exec(src)![1]!;
  return { files, csp, wsPath };
}

/** C/C++ source without comments, string and char literals (raw strings included), for structural checks. */
function stripLiterals(src: string): string {
  let out = '';
  for (let i = 0; i < src.length;) {
    const rest = src.slice(i);
    const raw = /^R"(\w*)\(/.exec(rest);
    if (raw) { const end = rest.indexOf(`)${raw[1]}"`); i += end < 0 ? rest.length : end + raw[1]!.length + 2; out += '""'; continue; }
    if (rest.startsWith('//')) { const nl = rest.indexOf('\n'); i += nl < 0 ? rest.length : nl; continue; }
    if (rest.startsWith('/*')) { const end = rest.indexOf('*/'); i += end < 0 ? rest.length : end + 2; continue; }
    const q = src[i]!;
    if (q === '"' || q === "'") {
      let j = i + 1;
      while (j < src.length && src[j] !== q && src[j] !== '\n') j += src[j] === '\\' ? 2 : 1;
      out += q + q;
      i = j + 1;
      continue;
    }
    out += q;
    i++;
  }
  return out;
}

function balanceProblems(src: string): string[] {
  const pairs: Record<string, string> = { ')': '(', ']': '[', '}': '{' };
  const stack: string[] = [];
  for (const ch of stripLiterals(src)) {
    if ('([{'.includes(ch)) stack.push(ch);
    else if (ch in pairs && stack.pop() !== pairs[ch]) return [`unbalanced "${ch}"`];
  }
  return stack.length ? [`unclosed ${stack.join('')}`] : [];
}

/**
 * The library API the sketch may call, by type, at the versions in the README:
 * taken from each library's public header (Adafruit_VEML7700.h 2.1, PubSubClient.h
 * 2.8, ESPAsyncWebServer.h / AsyncWebSocket.h 3.7, ArduinoJson 7) and the ESP32
 * core. A call the table does not know (a typo, a method of another version) is
 * a problem until it is checked against that header and added here.
 */
const API: Record<string, { from: string; members: string[] }> = {
  Adafruit_VEML7700: { from: 'Adafruit_VEML7700.h', members: ['begin', 'enable', 'enabled', 'interruptEnable', 'interruptEnabled', 'setPersistence', 'getPersistence', 'setIntegrationTime', 'getIntegrationTime', 'getIntegrationTimeValue', 'setGain', 'getGain', 'getGainValue', 'powerSaveEnable', 'powerSaveEnabled', 'setPowerSaveMode', 'getPowerSaveMode', 'setLowThreshold', 'getLowThreshold', 'setHighThreshold', 'getHighThreshold', 'interruptStatus', 'readALS', 'readWhite', 'readLux'] },
  PubSubClient: { from: 'PubSubClient.h', members: ['setServer', 'setCallback', 'setClient', 'setStream', 'setKeepAlive', 'setSocketTimeout', 'setBufferSize', 'getBufferSize', 'connect', 'disconnect', 'publish', 'publish_P', 'beginPublish', 'endPublish', 'write', 'subscribe', 'unsubscribe', 'loop', 'connected', 'state'] },
  AsyncWebServer: { from: 'ESPAsyncWebServer.h', members: ['begin', 'end', 'on', 'addHandler', 'removeHandler', 'onNotFound', 'onFileUpload', 'onRequestBody', 'serveStatic', 'reset'] },
  AsyncWebSocket: { from: 'ESPAsyncWebServer.h', members: ['onEvent', 'text', 'textAll', 'binary', 'binaryAll', 'printfAll', 'count', 'cleanupClients', 'close', 'closeAll', 'ping', 'pingAll', 'url', 'hasClient', 'client', 'getClients', 'availableForWriteAll'] },
  AsyncWebServerRequest: { from: 'ESPAsyncWebServer.h', members: ['send', 'beginResponse', 'url', 'method', 'header', 'hasHeader', 'arg', 'hasArg', 'redirect', 'client', 'host'] },
  AsyncWebServerResponse: { from: 'ESPAsyncWebServer.h', members: ['addHeader', 'setCode', 'setContentType', 'setContentLength'] },
  AsyncWebSocketClient: { from: 'ESPAsyncWebServer.h', members: ['id', 'text', 'binary', 'close', 'ping', 'remoteIP', 'remotePort', 'status', 'canSend', 'queueLen'] },
  JsonDocument: { from: 'ArduinoJson.h', members: ['to', 'as', 'is', 'set', 'add', 'clear', 'size', 'containsKey', 'remove', 'overflowed'] },
  JsonArray: { from: 'ArduinoJson.h', members: ['add', 'size', 'clear', 'remove'] },
  JsonObject: { from: 'ArduinoJson.h', members: ['size', 'clear', 'remove'] },
  // the ESP32 core's objects (no Library Manager entry)
  WiFi: { from: 'WiFi.h', members: ['mode', 'begin', 'status', 'localIP', 'disconnect', 'macAddress'] },
  Wire: { from: 'Wire.h', members: ['begin', 'setClock'] },
  Serial: { from: 'Arduino.h', members: ['begin', 'printf', 'println', 'print'] },
  ESP: { from: 'Arduino.h', members: ['getEfuseMac', 'getFreeHeap', 'restart'] },
};
/** Free functions: from the libraries, the ESP32 core (Arduino, FreeRTOS, newlib). */
const FUNCTIONS: Record<string, string> = Object.fromEntries([
  ...['serializeJson', 'deserializeJson'].map((f) => [f, 'ArduinoJson.h']),
  ...['xQueueCreate', 'xQueueSend', 'xQueueReceive'].map((f) => [f, 'FreeRTOS (ESP32 core)']),
  ...['millis', 'delay', 'pinMode', 'digitalWrite', 'configTime'].map((f) => [f, 'Arduino.h']),
  ...['gettimeofday', 'snprintf', 'strlcpy', 'strcmp', 'strrchr', 'strlen'].map((f) => [f, 'C library']),
]);
const C_WORDS = new Set(['if', 'while', 'for', 'switch', 'return', 'sizeof', 'case', 'static_cast', 'String', 'defined']);

/** Every call into a library is one the table knows; every object a call is made on has a known type. */
function apiProblems(src: string): string[] {
  const code = stripLiterals(src).replace(/^#.*$/gm, '');
  const problems: string[] = [];
  const typesOf = new Map<string, Set<string>>();
  for (const name of ['WiFi', 'Wire', 'Serial', 'ESP']) typesOf.set(name, new Set([name]));
  for (const t of Object.keys(API)) for (const m of code.matchAll(new RegExp(`\\b${t}\\s*[*&]?\\s+(?:&\\s*)?(\\w+)\\b`, 'g'))) (typesOf.get(m[1]!) ?? typesOf.set(m[1]!, new Set()).get(m[1]!)!).add(t);
  for (const m of code.matchAll(/\b(\w+)\s*(?:\.|->)\s*(\w+)\s*(?:<[^<>()]*>)?\s*\(/g)) {
    const [, obj, member] = m;
    const types = typesOf.get(obj!);
    if (!types) { problems.push(`${obj}.${member}(): ${obj} is not declared with a known library type`); continue; }
    if (![...types].some((t) => API[t]!.members.includes(member!))) problems.push(`${obj}.${member}(): not in the API of ${[...types].join(' or ')} (${[...types].map((t) => API[t]!.from).join(', ')})`);
  }
  // free calls: defined in the sketch, or from the table
  const defined = new Set([...code.matchAll(/^[\w][\w\s*&<>:]*?\b(\w+)\s*\([^;{]*\)\s*\{/gm)].map((m) => m[1]!));
  const declaredVars = new Set([...code.matchAll(/\b(?:[A-Z]\w*|uint\d+_t|int|char|bool|float|size_t|unsigned long|uint64_t)\s*[*&]?\s+(\w+)\s*\(/g)].map((m) => m[1]!)); // PubSubClient mqtt(net): a constructor
  for (const m of code.matchAll(/(?<![\w.>])([A-Za-z_]\w*)\s*\(/g)) {
    const f = m[1]!;
    if (C_WORDS.has(f) || defined.has(f) || declaredVars.has(f) || FUNCTIONS[f] || /^(u?int\d+_t|unsigned|long|const|char|float|size_t)$/.test(f)) continue;
    problems.push(`${f}(): neither defined in the sketch nor a known library or core function`);
  }
  return problems;
}

/** Raw string literals of page.h by symbol. */
function headerStrings(header: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of header.matchAll(/static const char (\w+)\[\] PROGMEM = R"(\w*)\(([\s\S]*?)\)\2";/g)) out[m[1]!] = m[3]!;
  return out;
}

/** README table rows `| library | author | version | <header.h> | for |`, by header. */
function readmeLibraries(readme: string): Record<string, { library: string; version: string }> {
  const out: Record<string, { library: string; version: string }> = {};
  for (const m of readme.matchAll(/^\|\s*([^|]+?)\s*\|\s*[^|]*\|\s*([^|]*?)\s*\|\s*`<([^>]+)>`\s*\|/gm)) out[m[3]!] = { library: m[1]!, version: m[2]! };
  return out;
}

/** Everything wrong with the sketch's web server and live frames; empty when it serves the node's page. */
function checkLivePage(src: string, header: string, readme: string): string[] {
  const problems: string[] = [];
  const node = nodeRoutes();
  const strings = headerStrings(header);

  if (!/^#include "page\.h"$/m.test(src)) problems.push('the sketch must #include "page.h"');
  // routes: web.on("<path>", HTTP_GET, … sendPage(r, "<type>", SYMBOL) …)
  const routes: Record<string, { type: string; symbol: string }> = {};
  for (const m of src.matchAll(/web\.on\("([^"]+)",\s*HTTP_GET,[^\n]*?sendPage\(\s*\w+\s*,\s*"([^"]+)"\s*,\s*(\w+)\s*\)/g)) routes[m[1]!] = { type: m[2]!, symbol: m[3]! };
  for (const [path, f] of Object.entries(node.files)) {
    const r = routes[path];
    if (!r) { problems.push(`the node serves ${path}, the sketch does not`); continue; }
    if (r.type !== f.type) problems.push(`${path}: content type "${r.type}", the node sends "${f.type}"`);
    const served = strings[r.symbol];
    if (served === undefined) problems.push(`${path}: ${r.symbol} is not in page.h`);
    else if (served !== read(`${PUBLIC}${f.file}`)) problems.push(`${path}: ${r.symbol} is not ${PUBLIC}${f.file}`);
  }
  for (const path of Object.keys(routes)) if (!node.files[path]) problems.push(`the sketch serves ${path}, which the node does not`);
  // the WebSocket the page opens, and the node's security headers
  const ws = /AsyncWebSocket\s+(\w+)\("([^"]+)"\)/.exec(src);
  const appWs = /\/\/\$\{location\.host\}(\/[^`]+)`/.exec(read(`${PUBLIC}app.js`))?.[1];
  if (!ws) problems.push('no AsyncWebSocket declared');
  else {
    if (ws[2] !== node.wsPath || ws[2] !== appWs) problems.push(`AsyncWebSocket at "${ws[2]}": the page opens ${appWs}, the node serves ${node.wsPath}`);
    if (!new RegExp(`web\\.addHandler\\(&${ws[1]}\\)`).test(src)) problems.push(`${ws[1]} is not added to the web server`);
  }
  if (/const char CSP\[\] = "([^"]+)"/.exec(src)?.[1] !== node.csp) problems.push('CSP differs from the node\'s content-security-policy');
  for (const h of ['"Content-Security-Policy", CSP', '"X-Content-Type-Options", "nosniff"', '"Cache-Control", "no-cache"']) if (!src.includes(`addHeader(${h})`)) problems.push(`sendPage must add the header ${h}`);

  // live frames
  const marks = extractMarkers(src, problems).filter((m) => m.type === 'frame' && m.name.startsWith('live:'));
  const frame = (name: string) => {
    const found = marks.filter((m) => m.name === `live:${name}`);
    if (found.length !== 1) problems.push(`expected one "fieldlink:frame live:${name}" marker, found ${found.length}`);
    return found[0];
  };
  const hub = frame('hub');
  if (hub) {
    const w = writes(hub.body, 'hub');
    samePaths('live:hub', w.map((x) => x.path), hub.example, problems);
    checkLiterals('live:hub', w, hub.example, problems);
  }
  const gains = [...src.matchAll(/case VEML7700_GAIN_\w+: return "([^"]+)";|default: return "([^"]+)";/g)].map((m) => m[1] ?? m[2]!).sort();
  if (JSON.stringify(gains) !== JSON.stringify(Object.keys(GAIN_VALUE).sort())) problems.push(`gainName() gives ${gains.join(',')}, the schema's gains are ${Object.keys(GAIN_VALUE).join(',')}`);
  for (const name of ['hello', 'reading', 'identify']) {
    const f = frame(name);
    if (!f) continue;
    const what = `live:${name}`;
    // The hub object is filled by addHubStatus (checked above): the code path stops at ["hub"].
    samePaths(what, uses(f.body, 'live'), f.example, problems);
    checkLiterals(what, writes(f.body, 'live'), f.example, problems);
    if (isObj(f.example) && f.example.op !== name) problems.push(`${what}: op is ${JSON.stringify(f.example.op)}`);
    if (/addHubStatus\(\s*live\["hub"\]/.test(f.body) && hub && isObj(f.example) && JSON.stringify(f.example.hub) !== JSON.stringify(hub.example)) problems.push(`${what}: the example's hub is not live:hub's example`);
    // arrays of objects: JsonArray a = live["k"].to<JsonArray>(); JsonObject o = a.add<JsonObject>(); o["x"] = …
    for (const arr of f.body.matchAll(/JsonArray (\w+) = live\["(\w+)"\]\.to<JsonArray>\(\)/g)) {
      const item = new RegExp(`JsonObject (\\w+) = ${arr[1]}\\.add<JsonObject>\\(\\)`).exec(f.body);
      const ex = isObj(f.example) ? f.example[arr[2]!] : undefined;
      if (!item || !Array.isArray(ex) || !ex.length) { problems.push(`${what}: ${arr[2]} must be an array of objects with an example item`); continue; }
      samePaths(`${what}.${arr[2]}[]`, writes(f.body, item[1]!).map((x) => x.path), ex[0]!, problems);
    }
    for (const p of liveFrameProblems(f.example)) problems.push(`${what}: ${p}`);
    // without a hub the url is left out: that frame must pass too
    if (isObj(f.example) && isObj(f.example.hub)) {
      const { url: _url, ...noHub } = f.example.hub;
      for (const p of liveFrameProblems({ ...f.example, hub: noHub })) problems.push(`${what} without a hub: ${p}`);
    }
    // the buffer it is serialised into holds the largest such frame (a 96-byte hub url, long numbers)
    const buf = /char buf\[(\d+)\];\s*size_t n = serializeJson\(live, buf, sizeof buf\);/.exec(src.slice(src.indexOf(f.body)));
    if (buf && src.slice(src.indexOf(f.body)).indexOf(buf[0]) < f.body.length + 200) {
      // every number as long as a uint64 or a float in exponent form gets (20 characters), the hub url at its 95-byte maximum
      const big = JSON.stringify(f.example).replace(/-?\d+(\.\d+)?(e[+-]?\d+)?/g, '1'.repeat(20)).replace(/"mqtt:\/\/[^"]*"/, `"${'x'.repeat(95)}"`);
      if (big.length + 1 > Number(buf[1])) problems.push(`${what}: char buf[${buf[1]}] is too small for ${big.length + 1} bytes`);
    }
  }
  for (const m of marks) if (!['hub', 'hello', 'reading', 'identify'].includes(m.name.slice(5))) problems.push(`unknown live frame ${m.name}`);

  // libraries: every #include <…> outside the core is a README row with a version
  const libs = readmeLibraries(readme);
  for (const m of src.matchAll(/^#include <([^>]+)>/gm)) {
    if (CORE_HEADERS.has(m[1]!)) continue;
    const row = libs[m[1]!];
    if (!row) problems.push(`#include <${m[1]}>: no library in examples/arduino/README.md names this header`);
    else if (!/\d/.test(row.version)) problems.push(`${row.library}: no version in the README`);
    else if (!new RegExp(`"?${row.library.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}@${row.version.replace(/\./g, '\\.')}"?`).test(readme)) problems.push(`${row.library}@${row.version} is not in the README's arduino-cli lib install line`);
  }
  problems.push(...apiProblems(src));
  problems.push(...balanceProblems(src).map((p) => `sketch: ${p}`));
  problems.push(...balanceProblems(header).map((p) => `page.h: ${p}`));
  return problems;
}

const README = () => read('examples/arduino/README.md');
const HEADER = () => readFileSync(new URL('page.h', SKETCH_DIR), 'utf8');

test('arduino page: page.h is what scripts/arduino-page.mjs generates from the node\'s page', () => {
  const r = spawnSync(process.execPath, [fileURLToPath(new URL('scripts/arduino-page.mjs', ROOT)), '--check'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const strings = headerStrings(HEADER());
  assert.deepEqual(Object.keys(strings).sort(), ['PAGE_APP_JS', 'PAGE_INDEX_HTML', 'PAGE_STYLE_CSS']);
  assert.equal(strings.PAGE_APP_JS, read(`${PUBLIC}app.js`));
});

test('arduino page: the sketch serves the node\'s page and live frames, with listed libraries', () => {
  assert.deepEqual(checkLivePage(readFileSync(SKETCH_PATH, 'utf8'), HEADER(), README()), []);
});

test('arduino page: drifted sketches, headers and READMEs fail', () => {
  const src = readFileSync(SKETCH_PATH, 'utf8');
  const header = HEADER();
  const readme = README();
  const drifts: [string, 'src' | 'header' | 'readme', string | RegExp, string][] = [
    ['reading field', 'src', 'live["lux"] = lux;', 'live["lx"] = lux;'],
    ['extra reading field', 'src', 'live["als"] = als;', 'live["als"] = als;\n  live["temp"] = 20;'],
    ['reading op', 'src', 'live["op"] = "reading";', 'live["op"] = "telemetry";'],
    ['hello field', 'src', 'live["intervalMs"] = intervalMs;', 'live["interval"] = intervalMs;'],
    ['history item field', 'src', 'point["lux"] = p.lux;', 'point["value"] = p.lux;'],
    ['hub field', 'src', 'hub["connected"] = mqtt.connected();', 'hub["up"] = mqtt.connected();'],
    ['identify field', 'src', 'live["until"] = until;', 'live["untilMs"] = until;'],
    ['gain name', 'src', 'case VEML7700_GAIN_1_8: return "1/8";', 'case VEML7700_GAIN_1_8: return "0.125";'],
    ['websocket path', 'src', 'AsyncWebSocket liveSocket("/ws/live");', 'AsyncWebSocket liveSocket("/ws");'],
    ['route missing', 'src', /\n\s*web\.on\("\/app\.js"[^\n]*/, ''],
    ['content type', 'src', '"text/css; charset=utf-8", PAGE_STYLE_CSS', '"text/plain", PAGE_STYLE_CSS'],
    ['wrong file on a route', 'src', '"text/css; charset=utf-8", PAGE_STYLE_CSS', '"text/css; charset=utf-8", PAGE_APP_JS'],
    ['CSP', 'src', "connect-src 'self'; img-src", "connect-src *; img-src"],
    ['header not included', 'src', '#include "page.h"', '#include "mypage.h"'],
    ['unknown library method', 'src', 'veml.readWhite()', 'veml.readWhiteLight()'],
    ['unknown websocket method', 'src', 'liveSocket.textAll(buf, n);', 'liveSocket.sendAll(buf, n);'],
    ['unknown free function', 'src', 'xQueueReceive(helloQueue', 'xQueueRecieve(helloQueue'],
    ['call on an undeclared object', 'src', 'liveSocket.cleanupClients(MAX_BROWSERS);', 'ws.cleanupClients(MAX_BROWSERS);'],
    ['unbalanced brace', 'src', 'void startWebServer() {', 'void startWebServer() {{'],
    ['unlisted library', 'src', '#include <AsyncTCP.h>', '#include <AsyncTCP.h>\n#include <ESPmDNS2.h>'],
    ['page edited in the header', 'header', 'Fieldlink node', 'Fieldlink board'],
    ['library version missing', 'readme', /(\|\s*Async TCP\s*\|[^|]*\|)[^|]*(\|\s*`<AsyncTCP\.h>`)/, '$1 $2'],
    ['library not in the install line', 'readme', /"Async TCP@[^"]*"/, '"Async TCP"'],
  ];
  for (const [what, where, from, to] of drifts) {
    const parts = { src, header, readme };
    const drifted = { ...parts, [where]: parts[where].replace(from, to) };
    assert.notEqual(drifted[where], parts[where], `${what}: the drift text no longer occurs; update this test`);
    assert.notDeepEqual(checkLivePage(drifted.src, drifted.header, drifted.readme), [], `${what}: passed the checks`);
  }
});

// Keep the helper honest: leafPaths/isPrefix/show are what samePaths reports with.
test('arduino page: the frame helpers see nested and array fields', () => {
  const ex: Json = { op: 'hello', hub: { connected: true }, history: [{ ts: 1, lux: 2 }] };
  assert.deepEqual(leafPaths(ex).map(show), ['["op"]', '["hub"]["connected"]', '["history"]']);
  assert.ok(isPrefix(['hub'], ['hub', 'connected']));
});

test('arduino page: the page in Chromium shows the sketch\'s own frames', { timeout: 60_000 }, async () => {
  requirePeers(['chromium']);
  const examples: Record<string, Record<string, unknown>> = {};
  for (const m of extractMarkers(readFileSync(SKETCH_PATH, 'utf8'), [])) if (m.type === 'frame' && m.name.startsWith('live:') && isObj(m.example)) examples[m.name.slice(5)] = m.example;
  const { op: _op, ...hello } = examples.hello!;
  const page = await startLivePage({ port: 0, host: '127.0.0.1', hello: () => hello, latest: () => undefined });
  const browser = await launchChromium({ viewport: { width: 900, height: 560 } });
  try {
    const tab = await browser.context.newPage();
    const errors: string[] = [];
    tab.on('pageerror', (e) => errors.push(e.message));
    tab.setDefaultTimeout(10_000);
    await tab.goto(`http://127.0.0.1:${page.port}/`);
    await tab.waitForFunction(() => document.querySelector('#link')?.textContent === 'live');
    await tab.waitForFunction((id) => (document.querySelector('#device')?.textContent ?? '').startsWith(String(id)), hello.id);
    page.broadcast(examples.reading!);
    await tab.waitForFunction(() => document.querySelector('#lux')?.textContent === '412.5');
    assert.match((await tab.locator('#detail').textContent())!, /^ALS 424 · white 530 counts · gain ×1\/8 · 100 ms · /);
    assert.equal(await tab.locator('#hub').textContent(), 'hub mqtt://192.168.1.10:1883: connected · 0 buffered');
    // a board without NTP: `until` counts from boot, far in the browser's past; durationMs still flashes it
    page.broadcast({ ...examples.identify!, until: 12_345 });
    await tab.waitForFunction(() => document.body.classList.contains('identify'));
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(await tab.evaluate(() => document.body.classList.contains('identify')), true, 'still flashing: durationMs, not until, decides');
    // without a hub configured the board leaves out the url: the page says so
    const { url: _url, ...noHub } = examples.reading!.hub as Record<string, unknown>;
    page.broadcast({ ...examples.reading!, hub: noHub });
    await tab.waitForFunction(() => document.querySelector('#hub')?.textContent === 'no hub configured');
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
    await page.close();
  }
});
