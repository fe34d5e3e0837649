/**
 * Holds: how "an acknowledgement means stored" (design.md) crosses the bus.
 *
 * A handler whose work makes a message durable (ingest: its points in the store)
 * calls `msg.hold(commit)` with a promise that resolves once that is committed,
 * or rejects with a NotStored. The bus collects the holds of one publish; the
 * publisher's acknowledgement waits for all of them: the core MQTT engine's
 * PUBACK/PUBREC (Hooks.durable), the JSON device door's `ack` (bus.publish with
 * `durable: true`). Only messages published at QoS ≥ 1 on the core engine carry
 * `hold`; Aedes and the external bus never do (their acks are theirs: Aedes
 * acknowledges from memory, an external broker by its own rules).
 */

/** Why a held message is not stored. `full`: a bounded queue is full (retry later); `failed`: the store failed. */
export class NotStored extends Error {
  constructor(readonly why: 'full' | 'failed', message: string) {
    super(message);
    this.name = 'NotStored';
  }
}

const noop = (): void => {};

/**
 * The holds of one message (created on the first `hold`). A rejected hold is
 * marked handled here, so a publish whose holds nobody awaits (an in-process
 * publish without `durable`) cannot crash the process with an unhandled rejection.
 */
export class Holds {
  private list: Promise<void>[] | null = null;

  add(p: Promise<void>): void {
    p.catch(noop);
    if (this.list === null) this.list = [p];
    else if (!this.list.includes(p)) this.list.push(p); // one commit serves many messages
  }

  /** undefined: nothing to wait for. */
  settled(): Promise<void> | undefined {
    const l = this.list;
    if (l === null) return undefined;
    return l.length === 1 ? l[0] : Promise.all(l).then(noop);
  }
}

/**
 * One commit promise shared by every held message accepted between two batch
 * cuts of a writer (ingest): it resolves when every part of them is committed,
 * rejects at the first part that is not. Parts: a message's points may be split
 * over two batches.
 */
export class Commit {
  readonly promise: Promise<void>;
  private resolve!: () => void;
  private reject!: (e: Error) => void;
  private parts = 0;
  settled = false;

  constructor() {
    this.promise = new Promise<void>((res, rej) => { this.resolve = res; this.reject = rej; });
    this.promise.catch(noop);
  }

  addPart(): void { this.parts++; }

  partDone(): void {
    if (--this.parts === 0 && !this.settled) { this.settled = true; this.resolve(); }
  }

  fail(e: NotStored): void {
    if (!this.settled) { this.settled = true; this.reject(e); }
  }
}
