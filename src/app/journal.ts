/**
 * The write-ahead journal the money path uses: an event published on the bus
 * whose promise resolves only when the ledger has it on disk (fdatasync'd for
 * durable events). It works from inside a bus handler too: the event may sit
 * in the bus's queue for a while, so the journal waits for the ledger's own
 * append of that very event rather than for whatever is pending now.
 */
import type { EventBus } from '../core/bus.js';
import type { Clock } from '../core/clock.js';
import type { EventType, Payload, RustroEvent } from '../core/events.js';
import type { Journal } from '../trading/order-manager.js';

export class LedgerJournal implements Journal {
  private readonly waiting = new Map<RustroEvent, { resolve: () => void; reject: (err: Error) => void }>();

  constructor(private readonly bus: EventBus, private readonly clock: Clock) {}

  /** Durable records published and not yet on disk. */
  get pending(): number {
    return this.waiting.size + this.writing;
  }

  private writing = 0;

  durable<T extends EventType>(type: T, data: Payload<T>): Promise<void> {
    const event = { type, ts: this.clock.now(), data } as RustroEvent;
    const done = new Promise<void>((resolve, reject) => this.waiting.set(event, { resolve, reject }));
    this.bus.publish(event);
    return done;
  }

  /** Whether `event` is a durable record published here and waiting for its line. */
  waitsFor(event: RustroEvent): boolean {
    return this.waiting.has(event);
  }

  /** Called by the ledger's bus subscriber with the append's promise of each event it `waitsFor`. */
  appended(event: RustroEvent, written: Promise<unknown>): void {
    const w = this.waiting.get(event);
    if (w === undefined) return;
    this.waiting.delete(event);
    this.writing++;
    written.then(
      () => {
        this.writing--;
        w.resolve();
      },
      (err: Error) => {
        this.writing--;
        w.reject(err);
      },
    );
  }
}

/** For a bus without a ledger (tests, tools): resolves once the event is published. */
export class BusJournal implements Journal {
  constructor(private readonly bus: EventBus) {}

  durable<T extends EventType>(type: T, data: Payload<T>): Promise<void> {
    this.bus.emit(type, data);
    return Promise.resolve();
  }
}
