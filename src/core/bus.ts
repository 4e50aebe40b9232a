/**
 * The in-process event bus. Synchronous, FIFO, run-to-completion: an event
 * published from inside a handler is queued and delivered only after the
 * current event has reached every subscriber, so all subscribers see one and
 * the same order — live, in replay and in a backtest.
 *
 * Subscribers for one type and subscribers for all events are kept in one list
 * per type in subscription order, so "all" handlers interleave exactly where
 * they subscribed. A handler that throws is isolated: the error becomes a
 * `HandlerFailed` event and delivery goes on.
 */
import type { Clock } from './clock.js';
import type { EventOf, EventType, Payload, RustroEvent } from './events.js';

export type Handler<T extends EventType> = (event: EventOf<T>) => void;
export type AnyHandler = (event: RustroEvent) => void;
export type Unsubscribe = () => void;

type Sub = { readonly type: EventType | '*'; readonly fn: AnyHandler; readonly name: string };

export class EventBus {
  private readonly subs: Sub[] = [];
  private readonly routes = new Map<EventType, AnyHandler[]>();
  private readonly names = new Map<AnyHandler, string>();
  private readonly queue: RustroEvent[] = [];
  private head = 0;
  private draining = false;
  private published = 0;
  /** Called when a HandlerFailed handler itself throws: there is nowhere left on the bus to report it. */
  onUnreportable: (err: unknown, event: RustroEvent) => void = () => {};

  constructor(private readonly clock: Clock) {}

  /** Subscribes to one event type. `name` appears in HandlerFailed reports. */
  on<T extends EventType>(type: T, fn: Handler<T>, name = fn.name || type + ' handler'): Unsubscribe {
    return this.add({ type, fn: fn as unknown as AnyHandler, name });
  }

  /** Subscribes to every event. */
  onAny(fn: AnyHandler, name = fn.name || 'any handler'): Unsubscribe {
    return this.add({ type: '*', fn, name });
  }

  /** Stamps `data` with the clock's time and publishes it. */
  emit<T extends EventType>(type: T, data: Payload<T>): void {
    this.publish({ type, ts: this.clock.now(), data } as RustroEvent);
  }

  /** Publishes an already-built event (replay, tests). */
  publish(event: RustroEvent): void {
    this.queue.push(event);
    if (this.draining) return;
    this.draining = true;
    try {
      this.drain();
    } finally {
      this.draining = false;
    }
  }

  /** Events delivered since the bus was built. */
  get deliveredCount(): number {
    return this.published;
  }

  private drain(): void {
    while (this.head < this.queue.length) {
      const event = this.queue[this.head++]!;
      this.published++;
      const handlers = this.routes.get(event.type) ?? this.route(event.type);
      for (let i = 0; i < handlers.length; i++) {
        const fn = handlers[i]!;
        try {
          fn(event);
        } catch (err) {
          this.reportFailure(fn, event, err);
        }
      }
    }
    this.queue.length = 0; // emptied in place: a new array per publish was garbage for every tick
    this.head = 0;
  }

  private reportFailure(fn: AnyHandler, event: RustroEvent, err: unknown): void {
    if (event.type === 'HandlerFailed') {
      // Reporting a failure to report would loop forever.
      this.onUnreportable(err, event);
      return;
    }
    const error = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    this.queue.push({
      type: 'HandlerFailed',
      ts: this.clock.now(),
      data: { eventType: event.type, handler: this.names.get(fn) ?? '?', error },
    });
  }

  private add(sub: Sub): Unsubscribe {
    this.subs.push(sub);
    this.names.set(sub.fn, sub.name);
    this.routes.clear();
    return () => {
      const i = this.subs.indexOf(sub);
      if (i >= 0) this.subs.splice(i, 1);
      this.routes.clear();
    };
  }

  private route(type: EventType): AnyHandler[] {
    const list = this.subs.filter((s) => s.type === '*' || s.type === type).map((s) => s.fn);
    this.routes.set(type, list);
    return list;
  }
}
