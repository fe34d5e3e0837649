import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Conf, GAINS, INTEGRATION_TIMES, decodeConf, decodePsm, encodeConf, encodePsm } from '../src/veml7700/registers.js';

test('ALS_CONF encodings follow datasheet Table 1', () => {
  const base = { persistence: 1, interruptEnable: false, shutdown: false } as const;
  // gain bits 12:11
  assert.equal(encodeConf({ ...base, gain: '1', integrationMs: 100 }), 0x0000);
  assert.equal(encodeConf({ ...base, gain: '2', integrationMs: 100 }), 0x0800);
  assert.equal(encodeConf({ ...base, gain: '1/8', integrationMs: 100 }), 0x1000);
  assert.equal(encodeConf({ ...base, gain: '1/4', integrationMs: 100 }), 0x1800);
  // IT bits 9:6
  const it = (ms: 25 | 50 | 100 | 200 | 400 | 800) => (encodeConf({ ...base, gain: '1', integrationMs: ms }) >> 6) & 0xf;
  assert.deepEqual([25, 50, 100, 200, 400, 800].map((ms) => it(ms as 25)), [0b1100, 0b1000, 0b0000, 0b0001, 0b0010, 0b0011]);
  // persistence bits 5:4, INT_EN bit 1, SD bit 0
  assert.equal(encodeConf({ gain: '1', integrationMs: 100, persistence: 8, interruptEnable: true, shutdown: true }), 0b11_0011);
  assert.equal(encodeConf({ ...base, gain: '1', integrationMs: 100, persistence: 4 }), 0b10_0000);
});

test('ALS_CONF round-trips every gain × IT and never sets reserved bits', () => {
  for (const gain of GAINS) for (const integrationMs of INTEGRATION_TIMES) {
    const c = { gain, integrationMs, persistence: 2, interruptEnable: true, shutdown: false } as const;
    const w = encodeConf(c);
    assert.equal(w & Conf.RESERVED_MASK, 0);
    assert.deepEqual(decodeConf(w), c);
  }
  assert.equal(decodeConf(0b0100 << 6), undefined, 'IT code 0100b is undefined');
});

test('power-saving register: PSM bits 2:1, PSM_EN bit 0', () => {
  assert.equal(encodePsm({ enabled: true, mode: 1 }), 0b001);
  assert.equal(encodePsm({ enabled: true, mode: 4 }), 0b111);
  assert.equal(encodePsm({ enabled: false, mode: 3 }), 0b100);
  assert.deepEqual(decodePsm(0b011), { enabled: true, mode: 2 });
});
