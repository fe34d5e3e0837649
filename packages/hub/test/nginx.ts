/**
 * Real nginx in front of a hub, configured with the `location` block of
 * docs/deployment.md itself (read from the file, only the upstream port
 * changed), so the documented setup is what the test runs. The binary is
 * $FIELDLINK_NGINX, else /usr/sbin/nginx, else Debian's nginx that
 * scripts/peers.mjs unpacked into the cache (scripts/nginx-peer.mjs, no
 * service); a test that needs it calls requirePeers(['nginx']), never skips.
 * It runs with its own prefix (-p), error log (-e) and config (-c) in a temp
 * dir, so no compiled-in path of the package is used, and loads no modules.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

export { nginxBinary } from '../../../scripts/nginx-peer.mjs';

/** The `location / { … }` block of the nginx example in docs/deployment.md. */
export function documentedLocation(): string {
  const doc = readFileSync(join(here, '..', '..', '..', 'docs', 'deployment.md'), 'utf8');
  const block = /```nginx\n([\s\S]*?)```/.exec(doc)?.[1];
  const loc = block && /location \/ \{[\s\S]*?\n {2}\}/.exec(block)?.[0];
  if (!loc) throw new Error('docs/deployment.md has no nginx block with a `location / { … }`');
  return loc;
}

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as net.AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}

export interface Nginx {
  readonly port: number;
  readonly url: string;
  stop(): Promise<void>;
}

export async function startNginx(bin: string, hubPort: number): Promise<Nginx> {
  const dir = mkdtempSync(join(tmpdir(), 'fl-nginx-'));
  for (const d of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) mkdirSync(join(dir, d));
  const location = documentedLocation().replace('http://127.0.0.1:8080', `http://127.0.0.1:${hubPort}`);
  if (!location.includes(String(hubPort))) throw new Error('the documented location no longer proxies to http://127.0.0.1:8080');
  const port = await freePort();
  writeFileSync(join(dir, 'nginx.conf'), `daemon off;
master_process off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  server {
    listen 127.0.0.1:${port};
    server_name localhost;
${location}
  }
}
`);
  const child: ChildProcess = spawn(bin, ['-p', dir, '-e', join(dir, 'error.log'), '-c', join(dir, 'nginx.conf')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const end = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`nginx exited: ${stderr}${existsSync(join(dir, 'error.log')) ? readFileSync(join(dir, 'error.log'), 'utf8') : ''}`);
    const up = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => (s.destroy(), resolve(true)));
      s.once('error', () => resolve(false));
    });
    if (up) break;
    if (Date.now() > end) throw new Error('nginx did not start listening');
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}
