/**
 * Bus contract item 4 for a backend that subscribes before it reads retained
 * messages: live messages that arrive while the retained ones are read wait,
 * then follow them, so retained always come first. Without retained, live
 * messages go straight to the handler.
 */
import type { BusHandler, BusMessage } from './types.js';

export function retainedFirst(handler: BusHandler, withRetained: boolean) {
  let held: BusMessage[] | undefined = withRetained ? [] : undefined;
  return {
    live(m: BusMessage): void {
      if (held) held.push(m);
      else handler(m);
    },
    /** Deliver what `read` returns, then what waited; later live messages pass straight through. */
    async release(read: () => Promise<BusMessage[]>): Promise<void> {
      if (!held) return;
      for (const m of await read()) handler(m);
      const waited = held;
      held = undefined;
      for (const m of waited) handler(m);
    },
  };
}
