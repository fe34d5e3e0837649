import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodePubPayload, parseRequest } from '../src/frames.js';
import { parseDeviceFrame } from '../src/device-frames.js';

const code = (text: string) => {
  const r = parseRequest(text);
  return r.ok ? 'ok' : r.code;
};

test('every kind of bad browser frame maps to its code', () => {
  assert.equal(code('{'), 'BAD_JSON');
  assert.equal(code('[1,2]'), 'BAD_FRAME');
  assert.equal(code('null'), 'BAD_FRAME');
  assert.equal(code('{"op":"ping"}'), 'MISSING_FIELD');
  assert.equal(code('{"op":"ping","id":7}'), 'WRONG_TYPE');
  assert.equal(code(`{"op":"ping","id":"${'x'.repeat(65)}"}`), 'WRONG_TYPE');
  assert.equal(code('{"id":"1"}'), 'MISSING_FIELD');
  assert.equal(code('{"op":"dance","id":"1"}'), 'UNKNOWN_OP');
  assert.equal(code('{"op":"sub","id":"1"}'), 'MISSING_FIELD');
  assert.equal(code('{"op":"sub","id":"1","filter":3}'), 'WRONG_TYPE');
  assert.equal(code('{"op":"sub","id":"1","filter":""}'), 'INVALID_FILTER');
  assert.equal(code('{"op":"sub","id":"1","filter":"a/#/b"}'), 'INVALID_FILTER');
  assert.equal(code('{"op":"pub","id":"1","topic":"a/+","payload":1}'), 'INVALID_TOPIC');
  assert.equal(code('{"op":"pub","id":"1","topic":"a","payload":1,"qos":3}'), 'WRONG_TYPE');
  assert.equal(code('{"op":"pub","id":"1","topic":"a","payload":"!!","encoding":"base64"}'), 'WRONG_TYPE');
  assert.equal(code('{"op":"pub","id":"1","topic":"a"}'), 'MISSING_FIELD');
  assert.equal(code('{"op":"call","id":"1","device":"d","method":"m","timeout":0}'), 'WRONG_TYPE');
  assert.equal(code('{"op":"call","id":"1","device":"d","method":"a/b"}'), 'WRONG_TYPE');
  assert.equal(code('{"op":"call","id":"1","device":"d","method":"m","params":[1]}'), 'WRONG_TYPE');
  assert.equal(code('{"op":"history","id":"1","device":"d","metric":"lux","limit":"10"}'), 'WRONG_TYPE');
});

test('valid requests parse, and the id survives a failure so the reply can be correlated', () => {
  assert.equal(code('{"op":"sub","id":"1","filter":"devices/+/telemetry"}'), 'ok');
  assert.equal(code('{"op":"pub","id":"1","topic":"a/b","payload":{"x":1},"retain":true,"qos":1}'), 'ok');
  assert.equal(code('{"op":"call","id":"1","device":"d","method":"set_interval","params":{"ms":500},"timeout":1000}'), 'ok');
  const r = parseRequest('{"op":"sub","id":"abc","filter":"#/x"}');
  assert.ok(!r.ok && r.id === 'abc');
});

test('pub payload encodings', () => {
  assert.equal(encodePubPayload({ payload: { a: 1 } }), '{"a":1}');
  assert.equal(encodePubPayload({ payload: 'hi', encoding: 'text' }), 'hi');
  assert.deepEqual([...(encodePubPayload({ payload: 'AAEC/w==', encoding: 'base64' }) as Uint8Array)], [0, 1, 2, 255]);
});

test('device frames', () => {
  const c = (t: string) => {
    const r = parseDeviceFrame(t);
    return r.ok ? 'ok' : r.code;
  };
  assert.equal(c('{"op":"auth","device":"lamp-1"}'), 'ok');
  assert.equal(c('{"op":"auth","device":"a/b"}'), 'INVALID_ID');
  assert.equal(c('{"op":"auth"}'), 'MISSING_FIELD');
  assert.equal(c('{"op":"telemetry","data":{"lux":1},"ts":5}'), 'ok');
  assert.equal(c('{"op":"telemetry","data":[1]}'), 'WRONG_TYPE');
  assert.equal(c('{"op":"telemetry","data":{"lux":1},"ts":"x"}'), 'WRONG_TYPE');
  assert.equal(c('{"op":"res","ok":true}'), 'MISSING_FIELD');
  assert.equal(c('{"op":"pub","topic":"a/#","payload":1}'), 'INVALID_TOPIC');
  assert.equal(c('{"op":"fly"}'), 'UNKNOWN_OP');
  assert.equal(c('{"op":"ping","id":5}'), 'WRONG_TYPE');
});
