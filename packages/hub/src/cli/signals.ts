import type { Logger } from '../log.js';

/** Graceful stop on SIGINT/SIGTERM (exit 0), at once on a second signal (exit 1), bounded by `timeoutMs`. */
export function onShutdown(log: Logger, timeoutMs: number, stop: () => Promise<void>): void {
  let signals = 0;
  const handler = (signal: string) => {
    if (++signals > 1) process.exit(1);
    log.info({ signal }, 'shutting down');
    setTimeout(() => {
      log.error('shutdown timed out');
      process.exit(1);
    }, timeoutMs).unref();
    stop().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => handler('SIGINT'));
  process.on('SIGTERM', () => handler('SIGTERM'));
}
