/**
 * WebSocket at the byte level, for what a well-behaved client library will not
 * send: an upgrade with any Host / Origin / forwarding headers, and hand-built
 * (masked, as RFC 6455 §5.3 requires of clients) frames such as a close frame
 * whose reason is not UTF-8.
 */
import net from 'node:net';
import { randomBytes } from 'node:crypto';

export interface RawUpgrade {
  /** Status line code of the answer (101 when upgraded). */
  status: number;
  headers: Record<string, string>;
  /** The body of a refusal (JSON), if any. */
  body: string;
  socket: net.Socket;
  /** Bytes received after the 101 answer (frames from the server). */
  readonly rest: Buffer;
}

export function rawUpgrade(port: number, path: string, headers: Record<string, string> = {}, localAddress?: string): Promise<RawUpgrade> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1', ...(localAddress ? { localAddress } : {}) });
    const hs: Record<string, string> = {
      host: `127.0.0.1:${port}`,
      upgrade: 'websocket',
      connection: 'Upgrade',
      'sec-websocket-key': randomBytes(16).toString('base64'),
      'sec-websocket-version': '13',
      ...headers,
    };
    const lines = Object.entries(hs).filter(([, v]) => v !== '').map(([k, v]) => `${k}: ${v}`);
    socket.once('connect', () => socket.write(`GET ${path} HTTP/1.1\r\n${lines.join('\r\n')}\r\n\r\n`));
    let buf = Buffer.alloc(0);
    const out: RawUpgrade = { status: 0, headers: {}, body: '', socket, rest: Buffer.alloc(0) };
    const onData = (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      const end = buf.indexOf('\r\n\r\n');
      if (out.status === 0 && end >= 0) {
        const [statusLine, ...hl] = buf.subarray(0, end).toString('latin1').split('\r\n');
        out.status = Number(statusLine!.split(' ')[1]);
        for (const l of hl) out.headers[l.slice(0, l.indexOf(':')).toLowerCase()] = l.slice(l.indexOf(':') + 1).trim();
        buf = buf.subarray(end + 4);
        if (out.status === 101) {
          socket.off('data', onData);
          socket.on('data', (more: Buffer) => ((out as { rest: Buffer }).rest = Buffer.concat([out.rest, more])));
          (out as { rest: Buffer }).rest = buf;
          return resolve(out);
        }
      }
      // A refusal is complete at its Content-Length (a proxy in between may keep the connection open).
      const length = Number(out.headers['content-length']);
      if (out.status !== 0 && out.status !== 101 && Number.isFinite(length) && buf.length >= length) {
        socket.off('data', onData);
        socket.destroy();
        resolve({ ...out, body: buf.subarray(0, length).toString('utf8') });
      }
    };
    socket.on('data', onData);
    socket.once('error', reject);
    socket.once('close', () => {
      if (out.status === 0) return reject(new Error('closed before an answer'));
      if (out.status !== 101) resolve({ ...out, body: buf.toString('utf8') }); // no-op if already resolved
    });
  });
}

/** One client frame (masked), FIN set. */
export function maskedFrame(opcode: number, payload: Buffer): Buffer {
  if (payload.length > 125) throw new Error('small frames only');
  const mask = randomBytes(4);
  const masked = Buffer.from(payload.map((b, i) => b ^ mask[i % 4]!));
  return Buffer.concat([Buffer.from([0x80 | opcode, 0x80 | payload.length]), mask, masked]);
}

export function closeFrame(code: number, reason: Buffer): Buffer {
  const p = Buffer.alloc(2 + reason.length);
  p.writeUInt16BE(code, 0);
  reason.copy(p, 2);
  return maskedFrame(0x8, p);
}

/** The first close frame the server sent after the upgrade: its code and reason (server frames are unmasked). */
export function serverClose(u: RawUpgrade): { code: number; reason: Buffer } | undefined {
  let b = u.rest;
  while (b.length >= 2) {
    const opcode = b[0]! & 0x0f;
    let len = b[1]! & 0x7f;
    let off = 2;
    if (len === 126) {
      len = b.readUInt16BE(2);
      off = 4;
    } else if (len === 127) {
      len = Number(b.readBigUInt64BE(2));
      off = 10;
    }
    if (b.length < off + len) return undefined;
    if (opcode === 0x8) return { code: len >= 2 ? b.readUInt16BE(off) : 1005, reason: b.subarray(off + 2, off + len) };
    b = b.subarray(off + len);
  }
  return undefined;
}
