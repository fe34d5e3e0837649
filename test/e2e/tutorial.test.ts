/**
 * docs/tutorial.md, run: every fenced block, in document order, against a real
 * hub on free ports, so the tutorial cannot rot. The info string after the
 * language says how a block is run (the table at the end of the tutorial):
 *   sh run [exit=N|any] [cwd=…]   bash -eo pipefail, must exit 0 (or N)
 *   sh background ready=…         started, ready when the text appears in its output
 *                                 (or the URL answers); stopped at the end
 *   js run / python run [cwd=…]   node (from the repository, so its packages resolve) / /usr/bin/python3
 *   text output                   the previous run's output has these lines, in order (… = anything)
 *   html file=… browser=… expect= written; opened in Chromium once the URL answers; `expect` must show
 *   sh apt                        every package named is installed and is one of the tests' peers
 *   <lang> static check=…         cannot run here; checked against the sources (sketch, app-js,
 *                                 arduino-readme, install)
 * Rewrites (the only ones): the documented ports 8080, 1883, 8090, 5000, 8000
 * become free ports; `npx fieldlink` runs this checkout's source (and `fieldlink
 * hub` gets the free ports and a temporary data dir); `python3` is Debian's
 * /usr/bin/python3; /tmp/fieldlink-tutorial is a temporary directory.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchChromium } from './browser.js';
import { PYTHON, requirePeers } from './peers.js';
import { PEERS, missingPeers } from '../../scripts/peers.mjs';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TUTORIAL = join(ROOT, 'docs/tutorial.md');
const MAIN = join(ROOT, 'packages/hub/src/cli/main.ts');

export interface Block { lang: string; mode: string; attrs: Record<string, string>; body: string; line: number }

/** Fenced blocks with their info strings: ```lang mode key=value key="a value" */
export function parseBlocks(md: string): Block[] {
  const out: Block[] = [];
  const lines = md.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\S*)\s*(.*)$/.exec(lines[i]!);
    if (!open) continue;
    const end = lines.findIndex((l, j) => j > i && l === '```');
    assert.ok(end > i, `line ${i + 1}: unclosed block`);
    const tokens = open[2]!.match(/\S+="[^"]*"|\S+/g) ?? [];
    const mode = tokens[0] && !tokens[0].includes('=') ? tokens.shift()! : '';
    const rest = tokens;
    const attrs: Record<string, string> = {};
    for (const a of rest) {
      const kv = /^([\w-]+)=(?:"([^"]*)"|(\S*))$/.exec(a);
      assert.ok(kv, `line ${i + 1}: bad attribute ${a}`);
      attrs[kv[1]!] = kv[2] ?? kv[3]!;
    }
    out.push({ lang: open[1]!, mode, attrs, body: lines.slice(i + 1, end).join('\n'), line: i + 1 });
    i = end;
  }
  return out;
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}

/** The expected lines, in order, each found after the previous one (… matches anything). */
export function outputProblems(expected: string, actual: string): string[] {
  const text = actual.replace(/\r\n/g, '\n');
  let from = 0;
  for (const line of expected.split('\n')) {
    const re = new RegExp(line.split('…').map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('[\\s\\S]*?'), 'g');
    re.lastIndex = from;
    const m = re.exec(text);
    if (!m) return [`expected "${line}" after offset ${from} in:\n${text.slice(0, 3000)}`];
    from = m.index + m[0].length;
  }
  return [];
}

interface Run { code: number | null; out: string }

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv, cwd: string, ms = 90_000): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString('latin1')));
    child.stderr.on('data', (d: Buffer) => (out += d.toString('latin1')));
    const t = setTimeout(() => { out += `\n[killed after ${ms} ms]`; child.kill('SIGKILL'); }, ms);
    child.on('exit', (code) => { clearTimeout(t); resolve({ code, out }); });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const answers = async (url: string) => fetch(url).then((r) => r.ok, () => false);

test('tutorial: every block of docs/tutorial.md runs against a real hub', { timeout: 600_000 }, async (t) => {
  requirePeers(['chromium', 'mosquitto-clients', 'python3-websockets', 'python3-flask']);
  const md = readFileSync(TUTORIAL, 'utf8');
  const blocks = parseBlocks(md);
  const known = new Set(['sh run', 'sh background', 'js run', 'python run', 'text output', 'html ', 'sh apt', 'sh static', 'cpp static', 'js static']);
  for (const b of blocks) assert.ok(known.has(`${b.lang} ${b.mode}`) || (b.lang === 'html' && b.attrs.file), `line ${b.line}: \`\`\`${b.lang} ${b.mode}: every block needs a way to run it (see the tutorial's last table)`);

  const port = { hub: await freePort(), mqtt: await freePort(), node: await freePort(), flask: await freePort(), web: await freePort() };
  const tmp = mkdtempSync(join(tmpdir(), 'fl-tutorial-'));
  const dataDir = join(tmp, 'data');
  const scratch = join(ROOT, 'node_modules/.cache/fieldlink-tutorial'); // js blocks resolve 'ws', 'mqtt' from the repository
  mkdirSync(scratch, { recursive: true });
  const fl = `${process.execPath} --conditions=source --import tsx ${MAIN}`;
  const rewrite = (s: string) => s
    .replace(/npx fieldlink hub/g, `${fl} hub --port ${port.hub} --mqtt-port ${port.mqtt} --data-dir ${dataDir}`)
    .replace(/npx fieldlink/g, fl)
    .replace(/localhost:8080/g, `localhost:${port.hub}`)
    .replace(/localhost:1883|-p 1883\b/g, (m) => m.replace('1883', String(port.mqtt)))
    .replace(/localhost:8090|--port 8090\b/g, (m) => m.replace('8090', String(port.node)))
    .replace(/localhost:5000|--port 5000\b/g, (m) => m.replace('5000', String(port.flask)))
    .replace(/localhost:8000|http\.server 8000\b/g, (m) => m.replace('8000', String(port.web)))
    .replace(/\/tmp\/fieldlink-tutorial/g, join(tmp, 'www'))
    .replace(/(^|[\s;&|(])python3 /gm, `$1${PYTHON} `);
  mkdirSync(join(tmp, 'www'), { recursive: true });
  const env = { ...process.env, FORCE_COLOR: '0', NO_COLOR: '1', PYTHONPATH: join(ROOT, 'examples/python'), PYTHONDONTWRITEBYTECODE: '1' };
  const background: { child: ChildProcess; line: number }[] = [];
  const pendingPages: Block[] = [];
  const browser = await launchChromium();
  let last: Run | undefined;
  const counts: Record<string, number> = {};

  async function checkPages(): Promise<void> {
    for (const b of [...pendingPages]) {
      const url = rewrite(b.attrs.browser!);
      if (!(await answers(url))) continue;
      pendingPages.splice(pendingPages.indexOf(b), 1);
      const page = await browser.context.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(url);
      await page.waitForFunction((want) => document.body.innerText.includes(want), b.attrs.expect!, { timeout: 20_000 }).catch((err: Error) => {
        throw new Error(`line ${b.line}: "${b.attrs.expect}" not on ${url}: ${err.message}`);
      });
      assert.deepEqual(errors, [], `line ${b.line}: errors on ${url}`);
      await page.close();
    }
  }

  try {
    for (const b of blocks) {
      const kind = `${b.lang} ${b.mode}`;
      counts[kind] = (counts[kind] ?? 0) + 1;
      const cwd = join(ROOT, b.attrs.cwd ?? '');
      const where = `docs/tutorial.md line ${b.line}`;
      if (kind === 'sh run') {
        last = await run('bash', ['-eo', 'pipefail', '-c', rewrite(b.body)], env, cwd);
        const want = b.attrs.exit ?? '0';
        if (want !== 'any') assert.equal(last.code, Number(want), `${where}: exit ${last.code}\n${last.out}`);
      } else if (kind === 'js run') {
        const file = join(scratch, `block-${b.line}.mjs`);
        writeFileSync(file, rewrite(b.body));
        last = await run(process.execPath, [file], env, cwd);
        assert.equal(last.code, 0, `${where}: exit ${last.code}\n${last.out}`);
      } else if (kind === 'python run') {
        const file = join(tmp, `block-${b.line}.py`);
        writeFileSync(file, rewrite(b.body));
        last = await run(PYTHON, ['-u', file], env, cwd);
        assert.equal(last.code, 0, `${where}: exit ${last.code}\n${last.out}`);
      } else if (kind === 'text output') {
        assert.ok(last, `${where}: an output block needs a run before it`);
        assert.deepEqual(outputProblems(b.body, last.out), [], where);
      } else if (kind === 'sh background') {
        const child = spawn('bash', ['-c', `exec ${rewrite(b.body).trim()}`], { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '';
        child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
        child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
        background.push({ child, line: b.line });
        const ready = rewrite(b.attrs.ready ?? '');
        assert.ok(ready, `${where}: background blocks need ready=…`);
        const end = Date.now() + 60_000;
        while (!(/^https?:\/\//.test(ready) ? await answers(ready) : out.includes(ready))) {
          assert.ok(child.exitCode === null, `${where}: exited ${child.exitCode} before "${ready}":\n${out}`);
          assert.ok(Date.now() < end, `${where}: "${ready}" not within 60 s:\n${out}`);
          await sleep(100);
        }
      } else if (b.lang === 'html') {
        const file = rewrite(b.attrs.file!);
        mkdirSync(dirname(file), { recursive: true });
        writeFileSync(file, rewrite(b.body));
        if (b.attrs.browser) pendingPages.push(b);
      } else if (kind === 'sh apt') {
        const pkgs = /apt(?:-get)? install\s+(?:-\S+\s+)*(.+)$/m.exec(b.body)?.[1]?.split(/\s+/) ?? [];
        assert.ok(pkgs.length, `${where}: no packages`);
        for (const p of pkgs) assert.ok(PEERS.some((x) => x.pkg === p), `${where}: ${p} is not one of the tests' peers (scripts/peers.mjs)`);
        assert.deepEqual(missingPeers(pkgs), [], where);
      } else {
        staticCheck(b, where);
      }
      await checkPages();
    }
    assert.deepEqual(pendingPages.map((b) => `line ${b.line}: ${b.attrs.browser} never answered`), []);
    t.diagnostic(`blocks: ${Object.entries(counts).map(([k, n]) => `${n} ${k}`).join(', ')}`);
  } finally {
    await browser.close();
    for (const { child } of background.reverse()) {
      if (child.exitCode !== null) continue;
      child.kill('SIGTERM');
      await Promise.race([new Promise((r) => child.once('exit', r)), sleep(10_000).then(() => child.kill('SIGKILL'))]);
    }
    rmSync(scratch, { recursive: true, force: true });
  }
});

function staticCheck(b: Block, where: string): void {
  const norm = (s: string) => s.split('\n').map((l) => l.trimEnd()).join('\n');
  const source = (rel: string) => norm(readFileSync(join(ROOT, rel), 'utf8'));
  switch (b.attrs.check) {
    case 'sketch':
      assert.ok(source('examples/arduino/fieldlink_veml7700/fieldlink_veml7700.ino').includes(norm(b.body)), `${where}: not in the sketch verbatim:\n${b.body}`);
      break;
    case 'app-js':
      assert.ok(source('packages/device/public/app.js').includes(norm(b.body)), `${where}: not in packages/device/public/app.js verbatim`);
      break;
    case 'arduino-readme': {
      const readme = source('examples/arduino/README.md');
      for (const l of b.body.split('\n')) assert.ok(readme.includes(l.trimEnd()), `${where}: "${l}" is not in examples/arduino/README.md (whose versions arduino-page.test.ts checks)`);
      break;
    }
    case 'install': {
      const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
      assert.match(pkg.scripts.prepare ?? '', /npm run build/, `${where}: npm install must build (a "prepare" script) so npx fieldlink runs`);
      const hub = JSON.parse(readFileSync(join(ROOT, 'packages/hub/package.json'), 'utf8')) as { bin: Record<string, string> };
      assert.equal(hub.bin.fieldlink, './bin/fieldlink.js');
      assert.match(b.body, /^npm install$/m);
      break;
    }
    default:
      assert.fail(`${where}: static block without a known check= (sketch, app-js, arduino-readme, install)`);
  }
}

test('tutorial: the runner is not a tautology', () => {
  assert.deepEqual(outputProblems('a …\nc', 'a b\nc'), []);
  assert.notDeepEqual(outputProblems('c\na', 'a\nc'), [], 'order matters');
  assert.notDeepEqual(outputProblems('{"ok":true}', '{"ok":false}'), []);
  const blocks = parseBlocks('x\n```sh run exit=124 cwd=a\necho\n```\n```text output\nhi\n```\n');
  assert.deepEqual(blocks.map((b) => [b.lang, b.mode, b.attrs]), [['sh', 'run', { exit: '124', cwd: 'a' }], ['text', 'output', {}]]);
  const md = readFileSync(TUTORIAL, 'utf8');
  assert.ok(parseBlocks(md).length >= 20, 'the tutorial has its blocks');
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const firstScreen = readme.split('\n').slice(0, 25).join('\n');
  assert.match(firstScreen, /\]\(docs\/tutorial\.md\)/, 'the README links the tutorial on its first screen');
});
