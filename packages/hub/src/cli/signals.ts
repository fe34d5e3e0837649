import type { Logger } from '../log.js';

/**
 * Graceful stop on SIGINT/SIGTERM (exit 0), at once on a second signal (exit 1),
 * bounded by `timeoutMs`. Install it before anything starts; hand it the stop
 * function once there is something to stop: a signal that came during start-up
 * stops as soon as start-up is done.
 */
export function onShutdown(log: Logger, timeoutMs: number): (stop: () => Promise<void>) => void {
  let signals = 0;
  let stop: (() => Promise<void>) | undefined;
  let requested = false;
  const run = (s: () => Promise<void>) =>
    s().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  const handler = (signal: string) => {
    if (++signals > 1) process.exit(1);
    requested = true;
    log.info({ signal }, 'shutting down');
    setTimeout(() => {
      log.error('shutdown timed out');
      process.exit(1);
    }, timeoutMs).unref();
    if (stop) run(stop);
  };
  process.on('SIGINT', () => handler('SIGINT'));
  process.on('SIGTERM', () => handler('SIGTERM'));
  return (s) => {
    stop = s;
    if (requested) run(s);
  };
}
