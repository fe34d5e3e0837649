/** Passwords come from a prompt without echo on a terminal, or from stdin's first line (scripts). Never from argv: it would show in `ps` and shell history. */
import { createInterface } from 'node:readline';
import { ConfigError } from '../config/schema.js';

export async function readPassword(fromStdin: boolean, prompt: string): Promise<string> {
  let password: string;
  if (fromStdin || !process.stdin.isTTY) {
    const rl = createInterface({ input: process.stdin });
    password = await new Promise<string>((resolve) => {
      let first: string | undefined;
      rl.once('line', (l) => ((first = l), rl.close()));
      rl.once('close', () => resolve(first ?? ''));
    });
  } else {
    process.stderr.write(prompt);
    process.stdin.setRawMode(true);
    password = await new Promise<string>((resolve) => {
      let buf = '';
      const onData = (d: Buffer) => {
        for (const ch of d.toString('utf8')) {
          if (ch === '\r' || ch === '\n') {
            process.stdin.setRawMode(false);
            process.stdin.off('data', onData);
            process.stdin.pause();
            process.stderr.write('\n');
            return resolve(buf);
          }
          if (ch === '\u0003') process.exit(130);
          buf = ch === '\u007f' ? buf.slice(0, -1) : buf + ch;
        }
      };
      process.stdin.on('data', onData);
    });
  }
  if (password.length < 8) throw new ConfigError('passwords need at least 8 characters');
  return password;
}
