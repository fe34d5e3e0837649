/**
 * One HTTP request with full control of the headers (fetch does not let a test
 * set `Host`) and of the local address (to act as different clients on loopback).
 */
import http from 'node:http';

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** The error name of a JSON error body, if any. */
  error?: string;
  message?: string;
}

export function rawHttp(port: number, path: string, opts: { method?: string; headers?: Record<string, string>; body?: string; localAddress?: string } = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const headers = { host: `127.0.0.1:${port}`, ...opts.headers };
    const req = http.request({ host: '127.0.0.1', port, path, method: opts.method ?? 'GET', headers, setHost: false, agent: false, ...(opts.localAddress ? { localAddress: opts.localAddress } : {}) }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        let error: string | undefined;
        let message: string | undefined;
        try {
          const j = JSON.parse(body) as { error?: { name?: string; message?: string } };
          error = j.error?.name;
          message = j.error?.message;
        } catch {
          // not JSON: a CSV or a page
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, ...(error ? { error } : {}), ...(message ? { message } : {}) });
      });
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}
