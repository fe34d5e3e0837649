/** How values read in the device list and views. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatValue } from '../src/lib/format.js';

test('formatValue: integers as they are, fractions with about four significant digits, units appended', () => {
  assert.equal(formatValue(0, 'lx'), '0 lx');
  assert.equal(formatValue(920, 'counts'), '920 counts');
  assert.equal(formatValue(11603, 'counts'), '11603 counts');
  assert.equal(formatValue(404.21, 'lx'), '404.2 lx');
  assert.equal(formatValue(12.345), '12.35');
  assert.equal(formatValue(0.0123, 'lx'), '0.0123 lx');
  assert.equal(formatValue(123456.7), '123457');
  assert.equal(formatValue(-3.5), '-3.50');
  assert.equal(formatValue(undefined), '–');
  assert.equal(formatValue('on'), 'on');
});
