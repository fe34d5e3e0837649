/**
 * The only file that picks a bus backend (design.md). Everything else imports
 * `createBus` from here and the `Bus` type from `./types.js`.
 */
import type { Bus } from './types.js';
import { createEmbeddedBus, type EmbeddedBus } from './embedded.js';
import { createExternalBus, type ExternalBusOptions } from './external.js';

export type BusOptions =
  | { kind: 'embedded'; maxTopicLevels?: number }
  | ({ kind: 'external' } & ExternalBusOptions);

export type { Bus, EmbeddedBus };

export async function createBus(opts: { kind: 'embedded'; maxTopicLevels?: number }): Promise<EmbeddedBus>;
export async function createBus(opts: BusOptions): Promise<Bus | EmbeddedBus>;
export async function createBus(opts: BusOptions = { kind: 'embedded' }): Promise<Bus | EmbeddedBus> {
  switch (opts.kind) {
    case 'embedded':
      return createEmbeddedBus({ broker: { maxTopicLevels: opts.maxTopicLevels ?? 32 } });
    case 'external':
      return createExternalBus(opts);
  }
}

/** The embedded bus has a broker for the MQTT doors; an external one leaves them to its broker. */
export function isEmbedded(bus: Bus): bus is EmbeddedBus {
  return bus.kind === 'embedded';
}
