// Alerts across hub restarts on one SQLite store: a firing alert resumes with
// its id and retained topic and is not notified again; one whose rule is gone
// from the alerts file is resolved in the store and its topic cleared.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mqttConnect, startTestHub, until } from '../helpers.js';

describe('alerts across restarts', () => {
  it('resume firing alerts, resolve those of removed rules', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fl-alerts-restart-'));
    const file = join(dir, 'alerts.yaml');
    const cfg = { store: `sqlite:${join(dir, 'hub.db')}`, alertsFile: file };
    try {
      writeFileSync(file, 'rules:\n  - { name: dark, kind: threshold, metric: lux, below: 50 }\n');
      let hub = await startTestHub(cfg);
      const c = await mqttConnect(`mqtt://127.0.0.1:${hub.mqttPort}`);
      await c.publishAsync('devices/g1/telemetry', JSON.stringify({ lux: 3 }), { qos: 1 });
      await until(() => hub.alerts!.firing().length === 1, 5000, 'firing');
      const id = hub.alerts!.firing()[0]!.id;
      await c.endAsync();
      await hub.stop();

      hub = await startTestHub(cfg);
      assert.deepEqual(hub.alerts!.firing().map((a) => a.id), [id]);
      await until(() => hub.alerts!.stats().fired === 0 && hub.alerts!.stats().published === 1, 5000, 'retained topic set again, nothing fired');
      const retained = await hub.bus.retained('alerts/#');
      assert.deepEqual(retained.map((m) => m.topic), ['alerts/dark/g1']);
      assert.equal(JSON.parse(retained[0]!.payload.toString()).id, id);
      await hub.stop();

      writeFileSync(file, 'rules: []\n');
      hub = await startTestHub(cfg);
      assert.deepEqual(hub.alerts!.firing(), []);
      await until(() => hub.alerts!.stats().writes === 1, 5000, 'resolve written');
      const stored = await hub.alerts!.get(id);
      assert.equal(stored?.state, 'resolved');
      await hub.stop();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
