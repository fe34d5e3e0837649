/**
 * A minimal WebSocket client over a raw TCP socket (RFC 6455): the handshake,
 * unmasked server frames parsed in place (no copy, no event per frame beyond one
 * callback), masked client frames, ping → pong. It exists so that 1,000
 * subscribers in one generator process cost little next to the server under
 * test; it checks only what the benchmark relies on (101 status, frame layout).
 */
import net from 'node:net';
import { randomBytes } from 'node:crypto';

export interface WsHandlers {
  open(ws: RawWs): void;
  /** Payload is b[start..end); valid only during the call. op 0 = continuation, 1 = text, 2 = binary. */
  frame(b: Buffer, start: number, end: number, op: number): void;
  /** Called once per chunk, before its frames: lets the caller read the clock once per chunk. */
  chunk?(): void;
  close(): void;
}

const CRLF2 = Buffer.from('\r\n\r\n');

export class RawWs {
  readonly sock: net.Socket;
  private rest: Buffer | undefined;
  private upgraded = false;
  private closed = false;

  constructor(port: number, path: string, protocol: string | undefined, private readonly h: WsHandlers) {
    this.sock = net.connect(port, '127.0.0.1');
    this.sock.setNoDelay(true);
    this.sock.on('connect', () => {
      const key = randomBytes(16).toString('base64');
      const proto = protocol ? `Sec-WebSocket-Protocol: ${protocol}\r\n` : '';
      this.sock.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n${proto}\r\n`);
    });
    this.sock.on('data', (d: Buffer) => this.onData(d));
    this.sock.on('error', () => this.sock.destroy());
    this.sock.on('close', () => {
      if (this.closed) return;
      this.closed = true;
      this.h.close();
    });
  }

  /** One masked frame (all-zero mask: valid, and the payload needs no XOR). */
  send(payload: Buffer, op = 2): void {
    const n = payload.length;
    const head = n < 126 ? Buffer.from([0x80 | op, 0x80 | n, 0, 0, 0, 0]) : Buffer.from([0x80 | op, 0x80 | 126, n >> 8, n & 0xff, 0, 0, 0, 0]);
    this.sock.write(Buffer.concat([head, payload]));
  }

  destroy(): void {
    this.closed = true;
    this.sock.destroy();
  }

  private onData(d: Buffer): void {
    let b = d;
    if (this.rest) {
      b = Buffer.concat([this.rest, d]);
      this.rest = undefined;
    }
    let i = 0;
    if (!this.upgraded) {
      const e = b.indexOf(CRLF2);
      if (e < 0) { this.rest = b; return; }
      if (!b.subarray(0, 12).toString('latin1').startsWith('HTTP/1.1 101')) {
        console.error(`websocket upgrade refused: ${b.subarray(0, e).toString('latin1').split('\r\n')[0]}`);
        this.destroy();
        this.h.close();
        return;
      }
      this.upgraded = true;
      i = e + 4;
      this.h.open(this);
    }
    this.h.chunk?.();
    const n = b.length;
    while (n - i >= 2) {
      const op = b[i]! & 0x0f;
      let len = b[i + 1]! & 0x7f;
      let hl = 2;
      if (len === 126) {
        if (n - i < 4) break;
        len = (b[i + 2]! << 8) | b[i + 3]!;
        hl = 4;
      } else if (len === 127) {
        if (n - i < 10) break;
        len = b.readUInt32BE(i + 6); // frames over 4 GiB do not occur here
        hl = 10;
      }
      if (n - i < hl + len) break;
      const s = i + hl;
      if (op <= 2) this.h.frame(b, s, s + len, op);
      else if (op === 9) this.send(Buffer.from(b.subarray(s, s + len)), 10);
      else if (op === 8) this.sock.destroy(); // server close: the close handler reports it
      i = s + len;
    }
    if (i < n) this.rest = Buffer.from(b.subarray(i));
  }
}
