// The alert engine over in-memory inputs with a virtual clock: hysteresis,
// minimum duration against flicker, the wheel fallback, absence and offline,
// rate windows, reloads keeping state, restore after restart, and the index.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AlertEngine, type AlertEvent } from '../../src/services/alerts/engine.js';
import { parseRule, parseRules, RuleError } from '../../src/services/alerts/rules.js';
import { RuleIndex } from '../../src/services/alerts/index-rules.js';
import { readAlertsFile } from '../../src/services/alerts/config.js';

function setup(rules: unknown[]) {
  let t = 1_000_000;
  let n = 0;
  const events: AlertEvent[] = [];
  const e = new AlertEngine({ onEvent: (x) => events.push({ type: x.type, alert: { ...x.alert } }), newId: () => `id${++n}`, now: () => t, tickMs: 100 });
  e.setRules(parseRules(rules, 'file'));
  const at = (ms: number) => { t = ms; e.tick(t); };
  const lux = (device: string, v: number, ts = t) => e.telemetry(device, { lux: v, ts }, t);
  const types = () => events.map((x) => `${x.type}:${x.alert.rule}:${x.alert.device}`);
  return { e, events, at, lux, types, now: () => t };
}

const dark = { name: 'dark', kind: 'threshold', devices: ['greenhouse-*'], metric: 'lux', below: 50, hysteresis: 20, for: '5m' };

describe('alert engine', () => {
  it('threshold: fires after the duration, holds inside the hysteresis band, resolves past it', () => {
    const { at, lux, types, events, now } = setup([dark]);
    lux('greenhouse-1', 500);
    lux('other', 1); // outside the pattern
    lux('greenhouse-1', 10);
    at(now() + 4 * 60_000);
    lux('greenhouse-1', 12);
    assert.deepEqual(types(), []);
    at(now() + 61_000); // 5 min since the first dark reading on the hub clock: the wheel fires it
    assert.deepEqual(types(), ['firing:dark:greenhouse-1']);
    assert.equal(events[0]!.alert.value, 12);
    lux('greenhouse-1', 11);
    assert.equal(events.length, 1);
    lux('greenhouse-1', 60); // above 50, inside 50+20: still dark
    lux('greenhouse-1', 69);
    assert.equal(events.length, 1);
    lux('greenhouse-1', 71);
    assert.deepEqual(types(), ['firing:dark:greenhouse-1', 'resolved:dark:greenhouse-1']);
    assert.equal(events[1]!.alert.id, events[0]!.alert.id);
  });

  it('threshold: a flickering value restarts the duration and never fires', () => {
    const { at, lux, types, now } = setup([dark]);
    for (let i = 0; i < 20; i++) {
      lux('greenhouse-1', i % 2 ? 10 : 55);
      at(now() + 60_000);
    }
    assert.deepEqual(types(), []);
  });

  it('threshold: a device that goes quiet while pending fires from the wheel', () => {
    const { at, lux, types, now } = setup([dark]);
    lux('greenhouse-1', 3);
    at(now() + 5 * 60_000 + 200);
    assert.deepEqual(types(), ['firing:dark:greenhouse-1']);
  });

  it('uses the readings’ own timestamps; older readings are ignored', () => {
    const { e, lux, types } = setup([{ ...dark, for: '1m' }]);
    lux('greenhouse-1', 3, 10_000);
    lux('greenhouse-1', 3, 75_000); // device time moved 65 s, hub clock did not
    assert.deepEqual(types(), ['firing:dark:greenhouse-1']);
    lux('greenhouse-1', 900, 74_000); // stale
    assert.equal(types().length, 1);
    assert.equal(e.counters.stale, 1);
  });

  it('absence: fires per device after silence, once, and resolves on telemetry; offline rules use status', () => {
    const { e, at, lux, types, now } = setup([
      { name: 'silent', kind: 'absence', devices: ['gh-*'], for: '10m' },
      { name: 'down', kind: 'absence', devices: ['gh-*'], for: '1m', offline: true },
    ]);
    const t0 = now();
    lux('gh-1', 1);
    lux('gh-2', 1);
    e.known('gh-3'); // from the registry at start-up
    at(t0 + 9 * 60_000);
    lux('gh-2', 1);
    at(t0 + 10 * 60_000 + 100);
    assert.deepEqual(types().sort(), ['firing:silent:gh-1', 'firing:silent:gh-3']);
    at(t0 + 30 * 60_000);
    assert.equal(types().length, 3); // gh-2 only, once each
    lux('gh-1', 1);
    assert.ok(types().includes('resolved:silent:gh-1'));
    e.status('gh-1', false, now());
    at(now() + 61_000);
    assert.ok(types().includes('firing:down:gh-1'));
    e.status('gh-1', true, now());
    assert.ok(types().includes('resolved:down:gh-1'));
  });

  it('rate: rise, fall and change within the window', () => {
    const { lux, types, at, now } = setup([
      { name: 'jump', kind: 'rate', metric: 'lux', rise: 100, window: '1m' },
      { name: 'drop', kind: 'rate', metric: 'lux', fall: 100, window: '1m' },
    ]);
    lux('d', 0);
    at(now() + 30_000);
    lux('d', 150);
    assert.deepEqual(types(), ['firing:jump:d']);
    at(now() + 61_000);
    lux('d', 150); // the low reading left the window
    assert.deepEqual(types(), ['firing:jump:d', 'resolved:jump:d']);
    lux('d', 20);
    assert.deepEqual(types().at(-1), 'firing:drop:d');
  });

  it('a reload keeps the state of unchanged rules and resolves alerts of removed ones; restore does not re-fire', () => {
    const { e, lux, types } = setup([{ ...dark, for: 0 }, { name: 'hot', kind: 'threshold', metric: 'lux', above: 1000 }]);
    lux('greenhouse-1', 1);
    lux('greenhouse-2', 5000);
    assert.deepEqual(types(), ['firing:dark:greenhouse-1', 'firing:hot:greenhouse-2']);
    e.setRules(parseRules([{ ...dark, for: 0 }], 'file'));
    assert.deepEqual(types().slice(2), ['resolved:hot:greenhouse-2']);
    lux('greenhouse-1', 2);
    assert.equal(types().length, 3); // still firing, not again
    const open = e.open();
    const fresh = setup([{ ...dark, for: 0 }]);
    fresh.e.restore(open);
    fresh.lux('greenhouse-1', 3);
    assert.deepEqual(fresh.types(), []);
    fresh.lux('greenhouse-1', 500);
    assert.deepEqual(fresh.types(), ['resolved:dark:greenhouse-1']);
  });

  it('renotifies while firing, at its interval', () => {
    const { at, lux, types, now } = setup([{ ...dark, for: 0, renotify: '1h' }]);
    lux('greenhouse-1', 1);
    for (let h = 0; h < 3 * 36; h++) at(now() + 100_000);
    assert.deepEqual(types(), ['firing:dark:greenhouse-1', 'renotify:dark:greenhouse-1', 'renotify:dark:greenhouse-1', 'renotify:dark:greenhouse-1']);
  });

  it('indexes rules by device pattern and metric', () => {
    const rules = parseRules(Array.from({ length: 1000 }, (_, i) => ({ name: `r${i}`, kind: 'threshold', devices: [`dev-${i}`, 'all-*'], metric: i % 2 ? 'lux' : 'white', above: i })), 'file');
    const idx = new RuleIndex(rules);
    assert.deepEqual(idx.forDevice('dev-7').byMetric.get('lux')!.map((r) => r.name), ['r7']);
    assert.equal(idx.forDevice('dev-7').byMetric.get('white'), undefined);
    assert.equal(idx.forDevice('all-x').byMetric.get('lux')!.length, 500);
    assert.equal(idx.forDevice('nobody').byMetric.size, 0);
  });

  it('refuses bad rules with a message naming the field', () => {
    const bad: [unknown, RegExp][] = [
      [{ name: 'x', kind: 'threshold', metric: 'lux' }, /exactly one of "above" or "below"/],
      [{ name: 'x', kind: 'threshold', metric: 'lux', above: 1, below: 2 }, /exactly one/],
      [{ name: 'x y', kind: 'absence', for: '1m' }, /"name"/],
      [{ name: 'x', kind: 'absence' }, /needs "for"/],
      [{ name: 'x', kind: 'rate', metric: 'lux', window: '1m' }, /exactly one of "rise"/],
      [{ name: 'x', kind: 'rate', metric: 'lux', rise: -1, window: '1m' }, /positive/],
      [{ name: 'x', kind: 'nope' }, /"kind"/],
      [{ name: 'x', kind: 'absence', for: '1m', devices: ['a/b'] }, /"devices"/],
      [{ name: 'x', kind: 'absence', for: 'soon' }, /"for" must be a duration/],
      [{ name: 'x', kind: 'absence', for: '1m', extra: 1 }, /unknown field "extra"/],
    ];
    for (const [raw, re] of bad) assert.throws(() => parseRule(raw, 'api'), (e: Error) => e instanceof RuleError && re.test(e.message), JSON.stringify(raw));
    assert.throws(() => parseRules([{ name: 'a', kind: 'absence', for: 1 }, { name: 'a', kind: 'absence', for: 1 }], 'file'), /duplicate rule name/);
    assert.throws(() => readAlertsFile('/nonexistent/alerts.yaml'), RuleError);
  });
});
