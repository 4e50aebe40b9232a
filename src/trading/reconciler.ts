/**
 * Runs reconciliation (reconcile.ts) against the broker: once at start before
 * trading, then every `reconcile.interval_sec` while the session is open —
 * one order-book read and one positions read each time, inside the broker's
 * 1 request/s budget — and applies an operator's decision about a mismatch.
 *
 * A mismatch seen in two rounds in a row (at start the second round follows
 * at once) publishes `ReconciliationMismatch` (durable): the risk book goes
 * reduce-only (no entries) until `ReconciliationResolved`. With
 * `unknown_position = "manage"` an unknown broker position is also adopted
 * at once (`PositionAdopted`), so its stop and the end-of-day exit watch it.
 * The operator decides with `rustro reconcile --adopt|--flatten`, which
 * leaves a `RECONCILE` file in the data directory for the daemon to act on:
 * adopt takes unknown positions into the books as they are; flatten adopts
 * them and exits them, and exits the ledger's positions on contracts whose
 * quantity disagrees.
 *
 * Paper trading has no broker books to compare: the ledger is the books.
 */
import { existsSync, readFileSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { Broker } from '../broker/broker.js';
import type { EventBus } from '../core/bus.js';
import type { Clock, TimerHandle } from '../core/clock.js';
import type { Config } from '../core/config.js';
import type { Payload } from '../core/events.js';
import type { TradingCalendar } from '../market/calendar.js';
import type { Journal } from './order-manager.js';
import type { OrderBook } from './order-book.js';
import type { PositionBook } from './positions.js';
import { type Mismatch, comparePositions, reconcileOrders } from './reconcile.js';

export const RECONCILE_FILE = 'RECONCILE';

const same = (a: Mismatch, b: Mismatch): boolean => a.exchange === b.exchange && a.token === b.token && a.brokerQty === b.brokerQty && a.ledgerQty === b.ledgerQty;

export type ReconcilerOptions = {
  bus: EventBus;
  clock: Clock;
  calendar: TradingCalendar;
  config: Config;
  journal: Journal;
  /** The broker that holds the orders (live: the SmartAPI adapter). */
  broker: Pick<Broker, 'orderBook' | 'positions'>;
  book: OrderBook;
  positions: PositionBook;
  /** After fills applied here: close what is now flat (the desk's own rule). */
  afterFill: (intentId: string) => void;
  /** Exit the positions matching `which` (the desk's exit path). */
  exit: (which: (p: { id: string; token: string }) => boolean, detail: string) => void;
};

export class Reconciler {
  private timer: TimerHandle | undefined;
  private running: Promise<void> | undefined;
  private outstanding: Mismatch[] = [];
  /** Mismatches seen in the last round, waiting for the next round to confirm them. */
  private unconfirmed: Mismatch[] = [];
  /**
   * From the start round: working orders whose recorded ladder step the broker does not show, for
   * the restart to send again. Only at start: in a session a modify still on its way looks the same.
   */
  stepsBehind: string[] = [];
  private confirming = false;
  private stopped = false;

  constructor(private readonly o: ReconcilerOptions) {}

  private get paper(): boolean {
    return this.o.config.trading.enable_paper_trading;
  }

  /** Reconciles now (one round at a time), then keeps doing so on the timer. */
  start(): Promise<void> {
    const first = this.run('start');
    this.schedule();
    return first;
  }

  stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) this.o.clock.cancel(this.timer);
    return this.running ?? Promise.resolve();
  }

  /** One round; concurrent calls share the round in flight. */
  run(trigger: Payload<'ReconciliationCompleted'>['trigger']): Promise<void> {
    this.running ??= this.round(trigger).finally(() => (this.running = undefined));
    return this.running;
  }

  /** The operator's decision file, if one is waiting: acted on once, then removed. */
  checkDecision(): void {
    const file = join(this.o.config.app.data_dir, RECONCILE_FILE);
    if (!existsSync(file)) return;
    const word = readFileSync(file, 'utf8').trim();
    unlinkSync(file);
    if (word !== 'adopt' && word !== 'flatten') {
      this.o.bus.emit('BrokerRequestFailed', { endpoint: 'reconcile decision', code: 'BAD_DECISION', message: `${file} says '${word.slice(0, 40)}': expected adopt or flatten`, attempts: 1 });
      return;
    }
    void this.resolve(word);
  }

  private schedule(): void {
    if (this.stopped || this.paper) return;
    this.timer = this.o.clock.setTimer(this.o.clock.now() + this.o.config.reconcile.interval_sec * 1000, () => {
      if (this.o.calendar.isSessionOpen(this.o.clock.now())) void this.run('timer');
      this.schedule();
    });
  }

  private async round(trigger: Payload<'ReconciliationCompleted'>['trigger']): Promise<void> {
    const { journal, clock } = this.o;
    const base = { trigger, foundByTag: [] as string[], notAtBroker: [] as string[], eventsApplied: 0, ordersChecked: 0, positionsChecked: 0, mismatches: [] as Mismatch[] };
    if (this.paper) {
      this.o.bus.emit('ReconciliationCompleted', { ...base, mode: 'paper', action: 'skipped', detail: 'paper trading: the ledger is the books; nothing at a broker to compare' });
      return;
    }
    let orders;
    let positions;
    try {
      orders = await this.o.broker.orderBook();
      positions = (await this.o.broker.positions()).filter((p) => p.exchange === 'NFO' || p.exchange === 'BFO');
    } catch (err) {
      this.o.bus.emit('BrokerRequestFailed', { endpoint: 'reconcile', code: (err as { code?: string }).code ?? 'error', message: (err as Error).message, attempts: 1 });
      return;
    }
    if (this.stopped) return;
    const r = reconcileOrders(this.o.book, orders, clock.now());
    if (trigger === 'start') this.stepsBehind = r.stepNotAtBroker;
    for (const e of r.events) await journal.durable(e.type, e.data as never);
    for (const e of r.events) if (e.type === 'OrderFilled' || e.type === 'OrderStateChanged') this.o.afterFill(e.data.intentId);
    const { mismatches: seen, positionsChecked } = comparePositions(this.o.positions, positions);
    // A fill between the two reads, or one whose report is still on its way, shows as a mismatch
    // for a moment: only one seen in two rounds in a row, with the same quantities, counts.
    const mismatches = seen.filter((m) => this.unconfirmed.some((u) => same(u, m)));
    this.unconfirmed = seen;
    if (trigger === 'start' && seen.length > mismatches.length && !this.confirming) {
      this.confirming = true;
      try {
        return await this.round(trigger);
      } finally {
        this.confirming = false;
      }
    }
    const fresh = mismatches.filter((m) => !this.outstanding.some((o) => same(o, m)));
    const handling = this.o.config.reconcile.unknown_position;
    if (fresh.length > 0) {
      await journal.durable('ReconciliationMismatch', { mismatches: fresh, handling });
      if (handling === 'manage') for (const m of fresh) if (m.kind === 'unknown_position') await this.adopt(m);
    }
    this.outstanding = mismatches;
    const action = mismatches.length > 0 ? 'halted' : r.events.length > 0 ? 'applied' : 'none';
    this.o.bus.emit('ReconciliationCompleted', {
      ...base, mode: 'live', action, foundByTag: r.foundByTag, notAtBroker: r.notAtBroker, eventsApplied: r.events.length,
      ordersChecked: r.ordersChecked, positionsChecked, mismatches,
      detail: mismatches.length > 0
        ? `entries halted until \`rustro reconcile --adopt\` or \`--flatten\`${handling === 'manage' ? '; unknown positions adopted and managed' : '; unknown positions left alone'}`
        : r.events.length > 0 ? `${r.events.length} event(s) applied from the broker's books` : 'the books agree',
    });
  }

  private async adopt(m: Mismatch): Promise<void> {
    if (m.brokerQty <= 0 || !(m.brokerAvg > 0)) return; // short or priceless: nothing Rustro could manage as a long option
    const have = this.o.positions.open().some((p) => p.token === m.token && p.strategy === 'adopted');
    if (have) return;
    await this.o.journal.durable('PositionAdopted', {
      positionId: `A-${m.exchange}-${m.token}`, exchange: m.exchange, token: m.token, symbol: m.symbol || m.token, underlying: '',
      qty: m.brokerQty - m.ledgerQty, avgPrice: m.brokerAvg,
    });
  }

  private async resolve(decision: 'adopt' | 'flatten'): Promise<void> {
    await this.run('request');
    const outstanding = this.outstanding;
    for (const m of outstanding) if (m.kind === 'unknown_position') await this.adopt(m);
    if (decision === 'flatten') {
      const tokens = new Set(outstanding.map((m) => m.token));
      this.o.exit((p) => tokens.has(p.token), 'reconcile --flatten: exiting positions the books disagreed on');
    }
    await this.o.journal.durable('ReconciliationResolved', {
      decision,
      detail: outstanding.length === 0 ? 'no mismatch outstanding' : outstanding.map((m) => `${m.kind} ${m.symbol || m.token}: ledger ${m.ledgerQty}, broker ${m.brokerQty}`).join('; '),
    });
    this.outstanding = [];
  }
}
