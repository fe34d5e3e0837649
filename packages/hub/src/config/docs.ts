/** Renders option tables as `--help` text and as Markdown (docs/configuration.md). */
import { envName, kebab, type OptionSet } from './schema.js';

const show = (v: unknown) => (Array.isArray(v) ? v.join(',') : v === '' ? '(none)' : String(v));

export function helpText(usage: string, summary: string, set: OptionSet): string {
  const lines = [`Usage: ${usage}`, '', summary, ''];
  let group = '';
  for (const [k, d] of Object.entries(set)) {
    if (d.advanced) continue;
    if (d.group && d.group !== group) lines.push(`${(group = d.group)}:`);
    const flag = `  --${kebab(k)}${d.kind === 'bool' ? '' : ' <' + (d.kind === 'int' ? 'n' : d.kind === 'enum' ? d.values?.join('|') : 'value') + '>'}`;
    lines.push(`${flag.padEnd(34)} ${d.doc.replace(/`/g, '')} [${show(d.default)}]`);
  }
  lines.push('', 'Every option can also be set as FIELDLINK_<NAME> (e.g. FIELDLINK_PORT=8080) or in a --config file.');
  lines.push('All options, including advanced ones: docs/configuration.md or `fieldlink config defaults`.');
  return lines.join('\n');
}

export function markdownTable(set: OptionSet): string {
  const rows = ['| option | environment | default | meaning |', '| --- | --- | --- | --- |'];
  for (const [k, d] of Object.entries(set)) {
    const range = d.kind === 'enum' ? ` One of: ${d.values?.map((v) => `\`${v}\``).join(', ')}.` : d.min !== undefined ? ` Range ${d.min}–${d.max}.` : '';
    rows.push(`| \`--${kebab(k)}\` | \`${envName(k)}\` | \`${show(d.default)}\` | ${d.doc}${range} |`);
  }
  return rows.join('\n');
}

export function defaultsYaml(set: OptionSet): string {
  return Object.entries(set)
    .map(([k, d]) => `# ${d.doc.replace(/`/g, '')}\n${k}: ${JSON.stringify(d.default)}`)
    .join('\n');
}
