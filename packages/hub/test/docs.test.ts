/**
 * Generated docs stay in sync with the code that defines them (the fastify
 * errors triad): docs/errors.md with the code table, docs/configuration.md with
 * the option tables. Regenerate with `npm run docs`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Codes } from '@fieldlink/protocol';
import { errorsDoc } from '../src/cli/errors-doc.js';
import { configurationDoc } from '../src/cli/config.js';
import { mqttDoc } from '../src/cli/mqtt-doc.js';
import { MQTT5_FEATURES } from '../src/transports/mqtt-features.js';
import { hubOptions } from '../src/config/options.js';
import { existsSync } from 'node:fs';

const doc = (name: string) => readFileSync(fileURLToPath(new URL(`../../../docs/${name}`, import.meta.url)), 'utf8');

test('docs/errors.md is generated from the code table (run `npm run docs` after changing codes.ts)', () => {
  assert.equal(doc('errors.md'), errorsDoc());
});

test('docs/configuration.md is generated from the option tables (run `npm run docs`)', () => {
  assert.equal(doc('configuration.md'), configurationDoc());
});

test('docs/mqtt.md is generated from the feature, profile, limit and reason tables (run `npm run docs`)', () => {
  assert.equal(doc('mqtt.md'), mqttDoc());
});

test('every MQTT 5 feature row names options and test files that exist', () => {
  for (const f of MQTT5_FEATURES) {
    for (const o of f.options) assert.ok(o in hubOptions, `${f.feature}: no option ${o}`);
    for (const t of f.tests) assert.ok(existsSync(fileURLToPath(new URL(`../../${t}`, import.meta.url))), `${f.feature}: no test file ${t}`);
  }
});

test('error codes are unique, in their policy range, and every one is documented', () => {
  const seen = new Set<number>();
  for (const [name, c] of Object.entries(Codes)) {
    assert.ok(!seen.has(c.code), `duplicate code ${c.code}`);
    seen.add(c.code);
    assert.ok(c.code >= 1000 && c.code < 4000, name);
    assert.ok(c.doc.length > 10, `${name} needs a description`);
  }
});

test('every code a door can send is in docs/protocol.md or docs/errors.md by name', () => {
  const all = doc('errors.md');
  for (const name of Object.keys(Codes)) assert.ok(all.includes(`\`${name}\``), name);
});
