/**
 * The only file that picks a bus backend (design.md). Everything else imports
 * `createBus` from here and the `Bus` type from `./types.js`.
 */
import type { Bus } from './types.js';
import { DEFAULT_MQTT_ENGINE } from '../config/options.js';
import { createEmbeddedBus, type AedesBus } from './embedded.js';
import { createCoreBus, type CoreBus, type CoreBusOptions } from './core.js';
import { createExternalBus, type ExternalBusOptions } from './external.js';

/** The embedded bus: its MQTT engine (--mqtt-engine) and that engine's options. */
export interface EmbeddedBusOptions extends CoreBusOptions {
  kind: 'embedded';
  /** Default: DEFAULT_MQTT_ENGINE (config/options.ts). */
  engine?: 'core' | 'aedes';
  /** Aedes only. */
  maxTopicLevels?: number;
}

export type BusOptions = EmbeddedBusOptions | ({ kind: 'external' } & ExternalBusOptions);

/** An embedded bus, by engine: the MQTT door (transports/mqtt-door.ts) serves whichever it is. */
export type EmbeddedBus = AedesBus | CoreBus;
export type { Bus };

export async function createBus(opts: EmbeddedBusOptions): Promise<EmbeddedBus>;
export async function createBus(opts: BusOptions): Promise<Bus | EmbeddedBus>;
export async function createBus(opts: BusOptions = { kind: 'embedded' }): Promise<Bus | EmbeddedBus> {
  switch (opts.kind) {
    case 'embedded':
      if ((opts.engine ?? DEFAULT_MQTT_ENGINE) === 'core') return createCoreBus(opts);
      return createEmbeddedBus({ broker: { maxTopicLevels: opts.maxTopicLevels ?? 32 } });
    case 'external':
      return createExternalBus(opts);
  }
}

/** The embedded bus has a broker for the MQTT doors; an external one leaves them to its broker. */
export function isEmbedded(bus: Bus): bus is EmbeddedBus {
  return bus.kind === 'embedded';
}
