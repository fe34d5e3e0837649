/**
 * Webhook delivery (docs/alerts.md, "Webhooks"): HTTP POST of a JSON body,
 * signed `X-Fieldlink-Signature: t=<ms>,sha256=<hex>` where hex is
 * HMAC-SHA256(secret, `${t}.${body}`), so a receiver can check both the body
 * and its freshness.
 *
 * Policy, per webhook: one delivery in flight (receivers see events in order);
 * each attempt times out after `timeoutMs`; network errors, timeouts, 429 and
 * 5xx are retried up to `attempts` times with exponential backoff (1 s, 2 s,
 * 4 s … capped at `maxBackoffMs`, with jitter), other answers are final; the
 * queue holds at most `maxQueue` events and drops the *oldest* when full
 * (counted in `dropped`). Enqueueing never waits, so a slow, broken or hanging
 * receiver cannot slow ingest or rule evaluation.
 */
import { createHmac, randomUUID } from 'node:crypto';

export interface WebhookConfig {
  url: string;
  secret: string;
  timeoutMs: number;
  attempts: number;
  maxQueue: number;
  backoffMs: number;
  maxBackoffMs: number;
}

export interface WebhookStats { url: string; queued: number; delivered: number; retries: number; failed: number; dropped: number }

interface Job { delivery: string; event: string; body: Record<string, unknown> }

export function sign(secret: string, t: number, body: string): string {
  return `t=${t},sha256=${createHmac('sha256', secret).update(`${t}.${body}`).digest('hex')}`;
}

export class Webhook {
  private readonly queue: Job[] = [];
  private running = false;
  private stopped = false;
  private wake: (() => void) | undefined;
  private readonly abort = new AbortController();
  readonly counts = { delivered: 0, retries: 0, failed: 0, dropped: 0 };

  constructor(readonly cfg: WebhookConfig, private readonly onFail: (msg: string) => void = () => undefined) {}

  stats(): WebhookStats {
    return { url: this.cfg.url.replace(/\/\/[^@/]*@/, '//***@'), queued: this.queue.length, ...this.counts };
  }

  send(event: string, body: Record<string, unknown>): void {
    if (this.stopped) return;
    this.queue.push({ delivery: randomUUID(), event, body });
    while (this.queue.length > this.cfg.maxQueue) {
      this.queue.shift();
      this.counts.dropped++;
    }
    if (!this.running) void this.run();
  }

  private async run(): Promise<void> {
    this.running = true;
    try {
      for (let job = this.queue.shift(); job && !this.stopped; job = this.queue.shift()) await this.deliver(job);
    } finally {
      this.running = false;
    }
  }

  private async deliver(job: Job): Promise<void> {
    const text = JSON.stringify({ type: job.event, delivery: job.delivery, ...job.body });
    for (let attempt = 1; !this.stopped; attempt++) {
      const outcome = await this.attempt(job, text);
      if (outcome === 'ok') return void this.counts.delivered++;
      if (outcome === 'final' || attempt >= this.cfg.attempts) {
        this.counts.failed++;
        return this.onFail(`webhook ${this.stats().url}: giving up on ${job.event} ${job.delivery} after ${attempt} attempt(s)`);
      }
      this.counts.retries++;
      const backoff = Math.min(this.cfg.maxBackoffMs, this.cfg.backoffMs * 2 ** (attempt - 1));
      await this.sleep(backoff / 2 + Math.random() * (backoff / 2));
    }
  }

  private async attempt(job: Job, text: string): Promise<'ok' | 'retry' | 'final'> {
    const t = Date.now();
    try {
      const res = await fetch(this.cfg.url, {
        method: 'POST',
        body: text,
        headers: {
          'content-type': 'application/json',
          'user-agent': 'fieldlink-hub',
          'x-fieldlink-event': job.event,
          'x-fieldlink-delivery': job.delivery,
          'x-fieldlink-signature': sign(this.cfg.secret, t, text),
        },
        signal: AbortSignal.any([AbortSignal.timeout(this.cfg.timeoutMs), this.abort.signal]),
        redirect: 'manual',
      });
      await res.body?.cancel().catch(() => undefined);
      if (res.status >= 200 && res.status < 300) return 'ok';
      return res.status === 429 || res.status >= 500 ? 'retry' : 'final';
    } catch {
      return 'retry'; // refused, reset, or timed out
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => { this.wake = undefined; resolve(); }, ms);
      this.wake = () => { clearTimeout(timer); resolve(); };
    });
  }

  /** Stop delivering: the attempt in flight is aborted, queued events are discarded. */
  stop(): void {
    this.stopped = true;
    this.abort.abort();
    this.wake?.();
    this.queue.length = 0;
  }
}
