/**
 * A server-side WebSocket as the byte stream the MQTT engine takes (/mqtt):
 * binary messages in, each write one binary frame out. The semantics of ws'
 * `createWebSocketStream` (end → close handshake, destroy → terminate, a close
 * from the peer → end of the readable side, ws paused while the engine does not
 * read), written as a class so an idle connection carries no closures of its
 * own: its listeners are shared functions that find the stream on the socket.
 * createWebSocketStream cost ~1.4 KB per connection (heap), this ~0.7 KB.
 *
 * Only for sockets from `handleUpgrade` (already OPEN): no CONNECTING state.
 */
import { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';

const STREAM = Symbol('fieldlink.wsStream');
type Owned = WebSocket & { [STREAM]: WsByteStream };
/** ws' private socket, which `_final` waits on as createWebSocketStream does. */
type WithSocket = WebSocket & { _socket: Duplex | null };

const owner = (ws: WebSocket) => (ws as Owned)[STREAM];

function onMessage(this: WebSocket, data: Buffer): void {
  if (!owner(this).push(data)) this.pause(); // default binaryType 'nodebuffer': always a Buffer
}

function onError(this: WebSocket, err: Error): void {
  const s = owner(this);
  if (s.destroyed) return;
  s.terminateOnDestroy = false;
  s.destroy(err);
}

function onClose(this: WebSocket): void {
  const s = owner(this);
  if (!s.destroyed) s.push(null);
}

function onEnd(this: WsByteStream): void {
  if (!this.destroyed && this.writableFinished) this.destroy();
}

function onStreamError(this: WsByteStream, err: Error): void {
  this.removeListener('error', onStreamError);
  this.destroy();
  if (this.listenerCount('error') === 0) this.emit('error', err);
}

function emitClose(s: WsByteStream): void {
  s.emit('close');
}

export class WsByteStream extends Duplex {
  /** false once ws reported an error: it is closing itself */
  terminateOnDestroy = true;

  constructor(readonly ws: WebSocket) {
    super({ autoDestroy: false, emitClose: false });
    (ws as Owned)[STREAM] = this;
    ws.on('message', onMessage);
    ws.once('error', onError);
    ws.once('close', onClose);
    this.on('end', onEnd);
    this.on('error', onStreamError);
  }

  override _read(): void {
    if (this.ws.isPaused) this.ws.resume();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.ws.send(chunk, cb);
  }

  override _final(cb: (err?: Error | null) => void): void {
    const socket = (this.ws as WithSocket)._socket;
    if (socket === null) return;
    if (socket.writableFinished) {
      cb();
      if (this.readableEnded) this.destroy();
    } else {
      socket.once('finish', () => cb());
      this.ws.close();
    }
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    const ws = this.ws;
    if (ws.readyState === ws.CLOSED) {
      cb(err);
      process.nextTick(emitClose, this);
      return;
    }
    let called = false;
    ws.once('error', (e: Error) => {
      called = true;
      cb(e);
    });
    ws.once('close', () => {
      if (!called) cb(err);
      process.nextTick(emitClose, this);
    });
    if (this.terminateOnDestroy) ws.terminate();
  }
}
