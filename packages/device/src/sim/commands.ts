/**
 * The device's command set and meta, shared by simulated fleet devices and the
 * sensor node: one table from method name to parameter check and handler, so
 * the meta a device publishes and the commands it accepts cannot drift apart.
 * Handlers throw CommandError for a bad request; the link turns any throw into
 * `{ok:false, error:{message}}` (wire conventions: unknown method → ok:false).
 */
import type { DeviceMeta } from '@fieldlink/protocol';
import type { Gain, IntegrationTime } from '../veml7700/registers.js';
import { INTEGRATION_TIMES } from '../veml7700/registers.js';

export type GainSetting = Gain | 'auto';
export const GAIN_SETTINGS: readonly GainSetting[] = ['1/8', '1/4', '1', '2', 'auto'];
export const MIN_INTERVAL_MS = 100;
export const MAX_INTERVAL_MS = 3_600_000;

export const FIRMWARE = 'fieldlink-device/0.1.0';

export function deviceMeta(model: string): DeviceMeta {
  return {
    model,
    firmware: FIRMWARE,
    metrics: { lux: { unit: 'lx' }, white: { unit: 'counts' }, als: { unit: 'counts' } },
    methods: {
      set_interval: { params: { ms: { type: 'integer', min: MIN_INTERVAL_MS, max: MAX_INTERVAL_MS } } },
      set_gain: { params: { gain: { type: 'string', enum: [...GAIN_SETTINGS] } } },
      set_integration: { params: { ms: { type: 'integer', enum: [...INTEGRATION_TIMES] } } },
      identify: {},
      read_now: {},
    },
  };
}

export class CommandError extends Error {}

/** What a device must offer for the command table to drive it. */
export interface CommandTarget {
  setInterval(ms: number): void;
  setGain(gain: GainSetting): void;
  setIntegration(ms: IntegrationTime): void;
  identify(): void;
  readNow(): Promise<Record<string, number>>;
  readonly intervalMs: number;
  readonly gain: GainSetting;
  readonly integrationMs: IntegrationTime;
}

type Params = Record<string, unknown>;

const handlers: Record<string, (t: CommandTarget, p: Params) => unknown> = {
  set_interval(t, p) {
    const ms = p.ms;
    if (typeof ms !== 'number' || !Number.isInteger(ms) || ms < MIN_INTERVAL_MS || ms > MAX_INTERVAL_MS) {
      throw new CommandError(`params.ms must be an integer from ${MIN_INTERVAL_MS} to ${MAX_INTERVAL_MS}`);
    }
    t.setInterval(ms);
    return { intervalMs: t.intervalMs };
  },
  set_gain(t, p) {
    if (!GAIN_SETTINGS.includes(p.gain as GainSetting)) throw new CommandError(`params.gain must be one of ${GAIN_SETTINGS.join(', ')}`);
    t.setGain(p.gain as GainSetting);
    return { gain: t.gain, integrationMs: t.integrationMs };
  },
  set_integration(t, p) {
    if (!INTEGRATION_TIMES.includes(p.ms as IntegrationTime)) throw new CommandError(`params.ms must be one of ${INTEGRATION_TIMES.join(', ')}`);
    t.setIntegration(p.ms as IntegrationTime);
    return { gain: t.gain, integrationMs: t.integrationMs };
  },
  identify(t) {
    t.identify();
    return { identified: true };
  },
  read_now(t) {
    return t.readNow();
  },
};

/** Runs a command; resolves to the result, rejects with a message for the `error` field. */
export async function runCommand(target: CommandTarget, method: string, params: unknown): Promise<unknown> {
  const handler = Object.hasOwn(handlers, method) ? handlers[method] : undefined;
  if (!handler) throw new CommandError(`unknown method '${method}'`);
  const p = typeof params === 'object' && params !== null && !Array.isArray(params) ? (params as Params) : {};
  return handler(target, p);
}
