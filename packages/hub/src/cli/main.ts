/**
 * `fieldlink <role> [options]`. Errors a user can fix (bad option, port in use)
 * are one line on stderr and exit code 2, never a stack trace.
 */
import { helpText } from '../config/docs.js';
import { ConfigError } from '../config/schema.js';
import { VERSION } from '../version.js';
import { roles } from './roles.js';

function usage(): string {
  const rows = Object.entries(roles).map(([name, r]) => `  ${name.padEnd(8)} ${r.summary}`);
  return [`fieldlink ${VERSION}: the WebSocket layer of an IoT network`, '', 'Usage: fieldlink <role> [options]', '', 'Roles:', ...rows, '', 'fieldlink <role> --help shows the options of a role.'].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(usage());
    return name ? 0 : 2;
  }
  if (name === '--version' || name === '-v') {
    console.log(VERSION);
    return 0;
  }
  const role = roles[name];
  if (!role) {
    console.error(`fieldlink: unknown role "${name}"\n\n${usage()}`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    console.log(role.options ? helpText(role.usage, role.summary, role.options) : `Usage: ${role.usage}\n\n${role.summary}`);
    return 0;
  }
  try {
    return (await role.run(rest)) ?? 0;
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`fieldlink: ${err.message}`);
      return 2;
    }
    throw err;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code !== undefined && code !== 0) process.exit(code);
  },
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
