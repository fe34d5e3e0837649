/**
 * The only module that reads process.env (design.md dependency rules): it
 * gathers the sources for `resolve` and loads the config file.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { ConfigError, envName, resolve, type OptionSet, type Values } from './schema.js';

function findConfigPath(argv: string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--config') return argv[i + 1];
    if (a.startsWith('--config=')) return a.slice('--config='.length);
  }
  return process.env[envName('config')] || undefined;
}

export function readConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ConfigError(`cannot read config file ${path}: ${(e as Error).message}`);
  }
  let data: unknown;
  try {
    data = path.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (e) {
    throw new ConfigError(`config file ${path} is not valid ${path.endsWith('.json') ? 'JSON' : 'YAML'}: ${(e as Error).message.split('\n')[0]}`);
  }
  if (data === null || data === undefined) return {};
  if (typeof data !== 'object' || Array.isArray(data)) throw new ConfigError(`config file ${path} must hold a mapping of option names to values`);
  return data as Record<string, unknown>;
}

export function loadConfig<S extends OptionSet>(set: S, argv: string[], warn: (m: string) => void): Values<S> {
  const path = findConfigPath(argv);
  const file = path ? readConfigFile(path) : undefined;
  return resolve(set, { argv, env: process.env, file, warn });
}

/** True when stdout is an interactive terminal (progress lines, pretty output). */
export const isTTY = () => Boolean(process.stdout.isTTY);
