/**
 * Sends orders, write-ahead (ARCHITECTURE rule 2), and walks the price
 * ladder (SPEC §4).
 *
 * - Every request is preceded by its durable record: `OrderIntentRecorded`
 *   before a placement, `OrderRepriced` before a modify,
 *   `OrderCancelRequested` before a cancel — each fsync'd by the journal
 *   before the request leaves.
 * - The idempotency key is deterministic — (strategy, underlying, signal bar,
 *   leg, attempt) for entries, (position, leg, attempt) for exits — and its
 *   hash is the broker's order tag (`R` + 18 hex digits: within the 19
 *   characters of [A-Za-z0-9_-] the broker accepts). A key seen before is
 *   never placed again.
 * - A placement whose outcome is unknown (the answer was lost) is resolved by
 *   the adapter looking the tag up in the order book, never by sending it
 *   again; if it is still unknown, `OrderPlaceFailed` says so and the order
 *   stays unsent as far as Rustro is concerned (reconciliation, issue 8,
 *   finds it if the broker did take it).
 * - Entries are LIMIT at the last price + `entry_ladder_pct[0]`%, moved to
 *   + the next step every `ladder_step_sec` while not fully filled, then
 *   cancelled. Exits walk `exit_ladder_pct` downwards and then, with
 *   `exit_market_fallback`, become MARKET. Each step is priced from the
 *   option's latest tick and rounded onto the tick grid (up for buys, down
 *   for sells).
 */
import { createHash } from 'node:crypto';
import type { Broker, InstrumentRef, OrderModification } from '../broker/broker.js';
import type { Clock, TimerHandle } from '../core/clock.js';
import type { Config } from '../core/config.js';
import type { EventType, Payload } from '../core/events.js';
import { type BookOrder, type OrderIntent, OrderBook, isFinal } from './order-book.js';

/** Publishes an event and resolves once the ledger has it on disk. */
export interface Journal {
  durable<T extends EventType>(type: T, data: Payload<T>): Promise<void>;
}

export type OrderManagerOptions = {
  broker: Pick<Broker, 'placeOrder' | 'modifyOrder' | 'cancelOrder'>;
  journal: Journal;
  clock: Clock;
  book: OrderBook;
  settings: Config['orders'];
  product: Config['trading']['product'];
  /** The option's latest price and its tick size, for the ladder. */
  priceOf: (ref: InstrumentRef) => { ltp: number; tickSize: number } | undefined;
  /** Reports a request that failed without changing the order (a modify or cancel refused). */
  onRequestError: (intentId: string, what: string, err: unknown) => void;
};

/** The broker order tag of an idempotency key. */
export function tagOf(key: string): string {
  return 'R' + createHash('sha256').update(key).digest('hex').slice(0, 18);
}

/** Rounds a price onto the tick grid, up or down (a half-tick float error never rounds past a grid point). */
export function onGrid(price: number, tick: number, dir: 'up' | 'down'): number {
  if (!(tick > 0)) return Math.round(price * 100) / 100;
  const steps = price / tick;
  const n = dir === 'up' ? Math.ceil(steps - 1e-9) : Math.floor(steps + 1e-9);
  return Math.round(Math.max(1, n) * tick * 100) / 100;
}

/** The LIMIT price of ladder step `step` from the last price. */
export function ladderPrice(purpose: 'entry' | 'exit', ltp: number, pct: number, tick: number): number {
  return purpose === 'entry' ? onGrid(ltp * (1 + pct / 100), tick, 'up') : onGrid(ltp * (1 - pct / 100), tick, 'down');
}

export class OrderManager {
  private readonly timers = new Map<string, TimerHandle>();
  private stopped = false;
  private stepsInFlight = 0;

  /** A ladder step (its record, its request) is in flight. */
  get busy(): boolean {
    return this.stepsInFlight > 0;
  }

  constructor(private readonly o: OrderManagerOptions) {}

  /** Records the intent durably, then places it; resolves when the placement's outcome is recorded. */
  async place(intent: OrderIntent): Promise<void> {
    const { journal, broker } = this.o;
    await journal.durable('OrderIntentRecorded', intent);
    let orderId: string;
    let foundByTag = false;
    try {
      const ack = await broker.placeOrder({
        tag: intent.tag,
        instrument: { token: intent.token, symbol: intent.symbol, exchange: intent.exchange },
        side: intent.side,
        orderType: intent.orderType,
        qty: intent.qty,
        price: intent.price,
        product: this.o.product,
      });
      orderId = ack.orderId;
      // The SmartAPI adapter says when a lost answer was resolved by looking the tag up.
      foundByTag = (ack as { resolution?: string }).resolution === 'found_by_tag';
    } catch (err) {
      const e = err as { kind?: string; code?: string; message?: string };
      await journal.durable('OrderPlaceFailed', {
        intentId: intent.intentId,
        outcome: e.kind === 'unknown_outcome' ? 'unknown' : 'rejected',
        code: e.code || e.kind || 'error',
        message: e.message ?? String(err),
      });
      return;
    }
    await journal.durable('OrderPlaced', { intentId: intent.intentId, orderId, foundByTag });
    this.scheduleFromStep(intent.intentId);
  }

  /** Cancels a working order (end of day, an exit overtaking an entry, shutdown). */
  async cancel(intentId: string, reason: string): Promise<void> {
    const order = this.o.book.get(intentId);
    if (order?.orderId === undefined || isFinal(order.state) || order.cancelRequested !== undefined) return;
    this.clear(intentId);
    await this.o.journal.durable('OrderCancelRequested', { intentId, orderId: order.orderId, reason });
    try {
      await this.o.broker.cancelOrder(order.orderId);
    } catch (err) {
      if (!this.finalNow(intentId)) this.o.onRequestError(intentId, 'cancel', err);
    }
  }

  /**
   * After a restart: the ladder goes on for every order still working at the
   * broker, each from its recorded step and on that step's schedule (a step
   * overdue while the daemon was down is taken at once). Returns how many.
   */
  resume(): number {
    let n = 0;
    for (const o of this.o.book.working()) {
      if (o.orderId === undefined || o.cancelRequested !== undefined) continue;
      this.scheduleFromStep(o.intent.intentId);
      n++;
    }
    return n;
  }

  /**
   * After a restart: sends again the modify of a ladder step recorded but not
   * shown at the broker (the daemon died before it arrived). The step's record
   * is already on disk, and a modify sets a price, so a second one is harmless.
   */
  async resendStep(intentId: string): Promise<void> {
    const order = this.o.book.get(intentId);
    if (order?.orderId === undefined || isFinal(order.state) || order.cancelRequested !== undefined) return;
    this.stepsInFlight++;
    try {
      await this.modify(intentId, order.orderId, { orderType: order.orderType, price: order.price });
    } finally {
      this.stepsInFlight--;
    }
  }

  /** Stops the ladder timers (working orders stay at the broker as they are). */
  stop(): void {
    this.stopped = true;
    for (const id of [...this.timers.keys()]) this.clear(id);
  }

  private finalNow(intentId: string): boolean {
    const o = this.o.book.get(intentId);
    return o !== undefined && isFinal(o.state);
  }

  /**
   * The next step is due a ladder step after the current one was recorded, not
   * after the broker's answer: the same instant live, and after a restart
   * (a step overdue while the daemon was down is taken at once).
   */
  private scheduleFromStep(intentId: string): void {
    this.schedule(intentId, this.o.book.get(intentId)?.steppedAt ?? this.o.clock.now());
  }

  private schedule(intentId: string, steppedAt: number): void {
    if (this.stopped) return;
    this.clear(intentId);
    const at = steppedAt + this.o.settings.ladder_step_sec * 1000;
    this.timers.set(intentId, this.o.clock.setTimer(at, () => {
      this.timers.delete(intentId);
      this.stepsInFlight++;
      void this.step(intentId)
        .catch((err: unknown) => this.o.onRequestError(intentId, 'ladder', err))
        .finally(() => this.stepsInFlight--);
    }));
  }

  private clear(intentId: string): void {
    const t = this.timers.get(intentId);
    if (t !== undefined) this.o.clock.cancel(t);
    this.timers.delete(intentId);
  }

  /** One ladder step for an order still working: reprice, go MARKET, or cancel. */
  private async step(intentId: string): Promise<void> {
    const order = this.o.book.get(intentId);
    if (order?.orderId === undefined || isFinal(order.state) || order.cancelRequested !== undefined || this.stopped) return;
    // A MARKET order has no price to walk: it fills at the market.
    if (order.orderType === 'MARKET') return;
    const purpose = order.intent.purpose;
    const ladder = purpose === 'entry' ? this.o.settings.entry_ladder_pct : this.o.settings.exit_ladder_pct;
    const next = order.attempt + 1;
    if (next < ladder.length) {
      const px = this.o.priceOf({ exchange: order.intent.exchange, token: order.intent.token });
      if (px === undefined) return this.schedule(intentId, this.o.clock.now()); // no fresh price: hold this step
      return this.reprice(order, next, { orderType: 'LIMIT', price: ladderPrice(purpose, px.ltp, ladder[next]!, px.tickSize) });
    }
    if (purpose === 'entry') return this.cancel(intentId, `entry ladder exhausted (${ladder.length} steps) without a full fill`);
    if (this.o.settings.exit_market_fallback) return this.reprice(order, next, { orderType: 'MARKET', price: 0 });
  }

  private async reprice(order: BookOrder, attempt: number, change: Required<Pick<OrderModification, 'orderType' | 'price'>>): Promise<void> {
    const intentId = order.intent.intentId;
    await this.o.journal.durable('OrderRepriced', { intentId, orderId: order.orderId!, attempt, orderType: change.orderType, price: change.price });
    await this.modify(intentId, order.orderId!, change);
    if (change.orderType === 'LIMIT') this.scheduleFromStep(intentId);
  }

  /** Sends a modify whose step is already recorded. */
  private async modify(intentId: string, orderId: string, change: OrderModification): Promise<void> {
    try {
      await this.o.broker.modifyOrder(orderId, change);
    } catch (err) {
      // A fill that beat the modify to the exchange is the ladder's normal race, not an error.
      if (!this.finalNow(intentId)) this.o.onRequestError(intentId, 'modify', err);
    }
  }
}
