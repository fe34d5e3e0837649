import { pino, type Logger } from 'pino';

export type { Logger };

/** Structured logs (JSON lines on stdout). Secrets never reach a log line: the redact list is the backstop. */
export function createLogger(level: string, name = 'fieldlink'): Logger {
  return pino({ name, level, redact: ['secret', 'token', 'password', '*.secret', '*.token', '*.password'] });
}
