/**
 * RFC 6455 §5.5.1 / §7.4.1: the reason of a close frame is UTF-8, and §8.1: an
 * endpoint that receives text that is not UTF-8 must fail the connection with
 * 1007 — instead of echoing the close back. The JSON doors (`/ws`, `/ws/device`)
 * run `ws` with `skipUTF8Validation`: they validate each text frame once
 * themselves, so the client hears NOT_UTF8 before the 1007 close, and no frame is
 * validated twice. That flag also skips the close reason; this puts that one
 * check back. (`/mqtt` leaves the flag off: binary frames only, so `ws` checks
 * close reasons there itself.)
 *
 * `ws` has no public hook for it: its receiver's `conclude` event (ws 8) fires
 * when a close frame is parsed, before the WebSocket answers it. Listening first
 * and closing with 1007 makes ws's own answer a no-op (the socket is already
 * closing). test/bad-input.test.ts pins the behaviour on every door.
 */
import { isUtf8 } from 'node:buffer';
import type { EventEmitter } from 'node:events';
import type { WebSocket } from 'ws';
import { CloseCodes } from '@fieldlink/protocol';

export function closeReasonMustBeUtf8(ws: WebSocket): void {
  const receiver = (ws as unknown as { _receiver?: EventEmitter | null })._receiver;
  receiver?.prependListener('conclude', (_code: number, reason: Buffer) => {
    if (reason.length > 0 && !isUtf8(reason)) ws.close(CloseCodes.INVALID_PAYLOAD.code, 'invalid UTF-8 in close reason');
  });
}
