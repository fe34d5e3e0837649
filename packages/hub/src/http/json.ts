import type { ServerResponse } from 'node:http';
import { Codes, type CodeName } from '@fieldlink/protocol';

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
  res.end(text);
}

/** HTTP errors use the same table as the WebSocket doors: `{error:{code,name,message}}` with the code's status. */
export function sendError(res: ServerResponse, name: CodeName, message?: string): void {
  const c = Codes[name];
  sendJson(res, c.http, { error: { code: c.code, name, message: message ?? c.message } });
}
