import { test } from 'node:test';
import assert from 'node:assert/strict';
import { filterProblem, isDeviceId, parseDeviceTopic, topicMatches, topicProblem } from '../src/topics.js';

test('topic names: wildcards, empty, NUL and over-long topics are refused', () => {
  assert.equal(topicProblem('devices/a/telemetry'), undefined);
  assert.equal(topicProblem(''), 'empty');
  assert.equal(topicProblem('a/+/b'), 'wildcard');
  assert.equal(topicProblem('a/#'), 'wildcard');
  assert.equal(topicProblem('a\u0000b'), 'nul');
  assert.equal(topicProblem('x'.repeat(1025)), 'too_long');
  assert.equal(topicProblem(Array(40).fill('a').join('/')), 'too_deep');
  assert.equal(topicProblem('/'), undefined, 'a lone separator is a valid topic [MQTT-4.7.1]');
});

test('filters: # only last and alone in its level, + alone in its level', () => {
  for (const ok of ['#', '+', 'a/#', 'a/+/c', '+/+', 'sport/tennis/#', '$SYS/#']) assert.equal(filterProblem(ok), undefined, ok);
  for (const bad of ['a/#/c', 'a#', 'a/b+', '+a/b', '##']) assert.equal(filterProblem(bad), 'bad_wildcard', bad);
  assert.equal(filterProblem(''), 'empty');
});

test('matching follows MQTT 3.1.1 section 4.7', () => {
  assert.ok(topicMatches('sport/tennis/player1/#', 'sport/tennis/player1'));
  assert.ok(topicMatches('sport/tennis/player1/#', 'sport/tennis/player1/ranking/wimbledon'));
  assert.ok(topicMatches('sport/#', 'sport'));
  assert.ok(topicMatches('sport/+', 'sport/'));
  assert.ok(!topicMatches('sport/+', 'sport'));
  assert.ok(topicMatches('+/+', '/finance'));
  assert.ok(topicMatches('/+', '/finance'));
  assert.ok(!topicMatches('+', '/finance'));
  assert.ok(topicMatches('devices/+/telemetry', 'devices/x/telemetry'));
  assert.ok(!topicMatches('devices/+/telemetry', 'devices/x/status'));
  // [MQTT-4.7.2-1]
  assert.ok(!topicMatches('#', '$SYS/broker/uptime'));
  assert.ok(!topicMatches('+/monitor/Clients', '$SYS/monitor/Clients'));
  assert.ok(topicMatches('$SYS/#', '$SYS/monitor/Clients'));
  assert.ok(topicMatches('$SYS/monitor/+', '$SYS/monitor/Clients'));
});

test('device topics are recognised, everything else is left alone', () => {
  assert.deepEqual(parseDeviceTopic('devices/lamp-1/telemetry'), { device: 'lamp-1', kind: 'telemetry' });
  assert.deepEqual(parseDeviceTopic('devices/lamp-1/cmd/identify'), { device: 'lamp-1', kind: 'cmd', method: 'identify' });
  assert.deepEqual(parseDeviceTopic('devices/lamp-1/cmd/identify/res'), { device: 'lamp-1', kind: 'cmd_res', method: 'identify' });
  assert.equal(parseDeviceTopic('devices/lamp-1/other'), undefined);
  assert.equal(parseDeviceTopic('devices/../telemetry'), undefined);
  assert.equal(parseDeviceTopic('things/x/telemetry'), undefined);
  assert.ok(isDeviceId('sim-1') && isDeviceId('a.b:c_d') && !isDeviceId('') && !isDeviceId('-x') && !isDeviceId('a/b') && !isDeviceId('x'.repeat(65)));
});
