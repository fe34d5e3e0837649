/**
 * The only file that picks a bus backend (design.md). Everything else imports
 * `createBus` from here and the `Bus` type from `./types.js`.
 */
import type { Bus } from './types.js';
import { createEmbeddedBus, type EmbeddedBus } from './embedded.js';

export type BusOptions = { kind: 'embedded'; maxTopicLevels?: number };

export type { Bus, EmbeddedBus };

export async function createBus(opts: BusOptions = { kind: 'embedded' }): Promise<EmbeddedBus> {
  switch (opts.kind) {
    case 'embedded':
      return createEmbeddedBus({ broker: { maxTopicLevels: opts.maxTopicLevels ?? 32 } });
  }
}
