/**
 * The money path on the bus (SPEC §4–§5): turns an entry's option choice
 * into a sized, checked, write-ahead order; watches positions on every tick
 * of their options; exits on the position rules, technical signals, end of
 * day, risk halts, the kill switch and shutdown; and keeps the risk book.
 *
 * State lives in three folds — the order book, the position book and the risk
 * book — fed every event in bus order (`apply`), so replaying a day's ledger
 * through `apply` rebuilds them. Decisions are made in the handlers below
 * and published as events; nothing here changes state except through them.
 * The exceptions are not books: the last price of each option (from ticks
 * the ledger does not keep), and which options the desk streams (a side
 * effect on the feed, kept in step with the books by `syncStreams`).
 */
import type { Broker, InstrumentRef } from '../broker/broker.js';
import type { InstrumentIndex } from '../broker/smartapi/instrument-index.js';
import type { EventBus, Unsubscribe } from '../core/bus.js';
import { type Clock, type TimerHandle, daysBetween, hhmmToMinutes, istDate, istDayEnd, istMinuteOfDay, istToMillis } from '../core/clock.js';
import type { Config } from '../core/config.js';
import type { EventOf, Payload, RustroEvent } from '../core/events.js';
import type { TradingCalendar } from '../market/calendar.js';
import { VALIDATION } from '../strategy/supertrend-scalper.js';
import type { TradingState } from '../strategy/strategy-runner.js';
import { orderCharges } from './charges.js';
import { OrderBook, isFinal } from './order-book.js';
import { type Journal, OrderManager, ladderPrice, tagOf } from './order-manager.js';
import { type ExitReason, type ExitRules, PositionBook, openQty } from './positions.js';
import { checkOrder } from './pre-trade-checks.js';
import { Reconciler } from './reconciler.js';
import { RiskBook } from './risk.js';
import { sizeEntry } from './sizing.js';

export type TradingDeskOptions = {
  bus: EventBus;
  clock: Clock;
  calendar: TradingCalendar;
  config: Config;
  journal: Journal;
  /** Orders go here: the SmartAPI adapter (live) or the paper broker. */
  broker: Pick<Broker, 'placeOrder' | 'modifyOrder' | 'cancelOrder' | 'quotes' | 'orderBook' | 'positions'>;
  instruments: () => InstrumentIndex | undefined;
  /** Streams an option's ticks from now on (its positions are marked on them). */
  subscribe: (refs: InstrumentRef[]) => void;
  /** Stops an option's ticks: nothing held, ordered or being entered on it any more. */
  unsubscribe: (refs: InstrumentRef[]) => void;
  vix: InstrumentRef;
};

type Tick = { ltp: number; at: number; upper?: number; lower?: number };

const refKey = (r: InstrumentRef): string => `${r.exchange}:${r.token}`;

/** Exit rules per strategy, from its config table. */
export function exitRules(config: Config['strategy'], strategy: string): ExitRules {
  if (strategy === 'supertrend-scalper') {
    const s = config.supertrend_scalper;
    return { stopLossPct: 0, trailActivatePct: 0, trailPct: s.trailing_stop_pct, targetPct: 0, profitLockRupees: s.profit_lock_rupees };
  }
  const a = config.adx_mtf;
  return { stopLossPct: a.stop_loss_pct, trailActivatePct: a.trail_activate_pct, trailPct: a.trail_pct, targetPct: a.target_pct, profitLockRupees: 0 };
}

/** The idempotency key of a signal's entry: (strategy, underlying, signal bar, leg, placement); a resent entry counts up. */
const entryKey = (s: Payload<'SignalRaised'>, placement: number): string => `${s.strategy}|${s.underlying}|${s.barTs}|entry|${placement}`;

export class TradingDesk implements TradingState {
  readonly book = new OrderBook();
  readonly positions: PositionBook;
  readonly risk: RiskBook;
  readonly reconciler: Reconciler;
  private readonly orders: OrderManager;
  /** Today's signals, with when they were raised (a restart resends an entry only while its signal is fresh). */
  private readonly signals = new Map<string, EventOf<'SignalRaised'>>();
  /** Facts a restart needs to carry on with an entry decided but never at the broker. */
  private readonly entryFacts = { picks: new Map<string, Payload<'OptionPicked'>>(), skipped: new Set<string>(), refusedKeys: new Set<string>() };
  private readonly ticks = new Map<string, Tick>();
  /** Options the desk streams, and entries in progress per option (their ticks must not stop mid-entry). */
  private readonly streamed = new Map<string, InstrumentRef>();
  private readonly entering = new Map<string, { ref: InstrumentRef; n: number }>();
  private readonly subs: Unsubscribe[] = [];
  private readonly work = new Set<Promise<void>>();
  private eodTimer: TimerHandle | undefined;
  private stopped = false;
  private entriesStopped = false;

  constructor(private readonly o: TradingDeskOptions) {
    const c = o.config;
    this.positions = new PositionBook((s) => exitRules(c.strategy, s), (token) => o.instruments()?.byToken(token)?.tickSize ?? 0.05);
    this.risk = new RiskBook(c.risk, c.trading.capital);
    this.orders = new OrderManager({
      broker: o.broker, journal: o.journal, clock: o.clock, book: this.book, settings: c.orders, product: c.trading.product,
      priceOf: (ref) => {
        const t = this.fresh(ref);
        const inst = o.instruments()?.get(ref);
        return t === undefined ? undefined : { ltp: t.ltp, tickSize: inst?.tickSize ?? 0.05 };
      },
      onRequestError: (intentId, what, err) => this.o.bus.emit('BrokerRequestFailed', {
        endpoint: `${what} ${intentId}`, code: (err as { code?: string }).code ?? 'error', message: (err as Error).message ?? String(err), attempts: 1,
      }),
    });
    this.reconciler = new Reconciler({
      bus: o.bus, clock: o.clock, calendar: o.calendar, config: c, journal: o.journal, broker: o.broker, book: this.book, positions: this.positions,
      afterFill: (id) => this.afterFill(id),
      exit: (which, detail) => {
        for (const e of this.positions.trigger(which, 'risk', detail, this.o.clock.now())) this.o.bus.publish(e);
      },
    });
  }

  // ── the strategy's view (TradingState) ─────────────────────────────────────
  openPositions(strategy: string, underlying: string): number {
    return this.positions.openOn(strategy, underlying).length;
  }

  lastExitAt(strategy: string, underlying: string): number | undefined {
    return this.lastExits.get(`${strategy}:${underlying}`);
  }

  private readonly lastExits = new Map<string, number>();
  /** Epoch ms the IST day of the latest event ends (-Infinity before the first). */
  private dayEnd = -Infinity;

  /**
   * The first event of a new IST day (only forward, as the risk book's day): what
   * only earlier days read goes — positions that are over and their final orders,
   * the signals and entry facts of earlier days. That is exactly what a restart,
   * which replays only today's ledger, does not know either; a daemon that runs
   * for months must not keep every order and signal it ever made. Open positions,
   * working orders and their history (an exit's attempt count, its entry) stay.
   */
  private rollDay(ts: number): void {
    this.dayEnd = istDayEnd(ts);
    const working = new Set(this.book.working().map((o) => o.intent.positionId));
    this.positions.forgetFinished((p) => working.has(p.id));
    // Final orders of positions no longer kept (forgotten now, or earlier).
    this.book.forget((o) => this.positions.get(o.intent.positionId) === undefined);
    this.signals.clear();
    this.entryFacts.picks.clear();
    this.entryFacts.skipped.clear();
    this.entryFacts.refusedKeys.clear();
  }

  /** Folds one event into the books. Also what a restart replays today's ledger through. */
  apply(e: RustroEvent): void {
    if (e.ts >= this.dayEnd) this.rollDay(e.ts);
    this.book.apply(e);
    this.positions.apply(e);
    this.risk.apply(e);
    if (e.type === 'SignalRaised') this.signals.set(e.data.signalId, e);
    if (e.type === 'OptionPicked') this.entryFacts.picks.set(e.data.signalId, e.data);
    if (e.type === 'EntrySkipped') this.entryFacts.skipped.add(e.data.signalId);
    if (e.type === 'OrderRefused' && e.data.purpose === 'entry') this.entryFacts.refusedKeys.add(e.data.intentKey);
    if (e.type === 'PositionClosed') this.lastExits.set(`${e.data.strategy}:${e.data.underlying}`, e.ts);
  }

  start(): void {
    const { bus } = this.o;
    this.subs.push(
      bus.onAny((e) => this.apply(e), 'trading books'),
      bus.on('Tick', (e) => this.onTick(e.data), 'trading ticks'),
      bus.on('OptionPicked', (e) => this.track(this.enter(e.data)), 'trading entries'),
      bus.on('SignalRaised', (e) => this.onSignal(e.data), 'trading technical exits'),
      bus.on('OrderUpdated', (e) => this.onOrderUpdate(e), 'trading order updates'),
      bus.on('OrderFilled', (e) => {
        this.afterFill(e.data.intentId);
        // A fill can come after its order ended (a late fill of a cancelled or unknown entry): the position it makes needs its ticks.
        this.syncStreams();
      }, 'trading fills'),
      bus.on('OrderStateChanged', (e) => {
        this.afterFill(e.data.intentId);
        // An entry that ended without a fill holds nothing: its option's ticks can stop.
        if (isFinal(e.data.to)) this.syncStreams();
      }, 'trading order states'),
      // A working entry given up (reconciliation), or a position adopted mid-session (its stop needs the ticks).
      bus.on('OrderPlaceFailed', () => this.syncStreams(), 'trading streams'),
      bus.on('PositionAdopted', () => this.syncStreams(), 'trading streams'),
      bus.on('ExitTriggered', (e) => this.track(this.exit(e.data)), 'trading exits'),
      bus.on('RiskHalted', (e) => {
        if (e.data.scope === 'all') this.exitAll('risk', `risk halted: ${e.data.reason}`);
      }, 'trading halts'),
      bus.on('KillSwitchActivated', (e) => this.exitAll('kill_switch', `kill switch (${e.data.source}): ${e.data.detail}`), 'trading kill switch'),
    );
    this.scheduleEndOfDay();
  }

  /**
   * After a restart's reconciliation, the decisions made before the daemon
   * died go on: the ticks of the options held or being ordered; the ladders of orders still working,
   * and a ladder step recorded but not at the broker sent again; entries whose order never
   * reached the broker (no intent recorded, or its tag not in the broker's
   * book), while their signal is at most `orders.resume_entry_sec` old; exits
   * triggered whose order never reached the broker. Nothing is sent twice:
   * a resent entry or exit is a new intent with its own tag, made only when
   * the broker has been seen not to have the first.
   */
  resume(): { ladders: number; steps: string[]; entries: string[]; exits: string[] } {
    // First the options held or being ordered: their ticks mark the positions and price the ladder steps.
    this.syncStreams();
    const ladders = this.orders.resume();
    for (const id of this.reconciler.stepsBehind) this.track(this.orders.resendStep(id));
    const entries = this.resumeEntries();
    const exits: string[] = [];
    const now = this.o.clock.now();
    for (const p of this.positions.open()) {
      if (openQty(p) <= 0 || p.exitReason === undefined) continue;
      const orders = this.book.all().filter((o) => o.intent.positionId === p.id && o.intent.purpose === 'exit');
      if (orders.some((o) => !isFinal(o.state))) continue; // its ladder goes on
      const lost = p.exiting !== undefined || orders.at(-1)?.placeFailed?.code === 'NOT_AT_BROKER';
      if (!lost) continue;
      const e = this.positions.retrigger(p.id, 'resumed after a restart: the exit was decided but its order never reached the broker', now);
      if (e === undefined) continue;
      exits.push(p.id);
      this.o.bus.publish(e);
    }
    return { ladders, steps: this.reconciler.stepsBehind, entries, exits };
  }

  private resumeEntries(): string[] {
    const within = this.o.config.orders.resume_entry_sec * 1000;
    const now = this.o.clock.now();
    const f = this.entryFacts;
    const resumed: string[] = [];
    if (within <= 0 || this.entriesStopped) return resumed;
    for (const [signalId, pick] of f.picks) {
      const raised = this.signals.get(signalId);
      if (raised === undefined || raised.data.action !== 'entry' || now - raised.ts > within || f.skipped.has(signalId)) continue;
      const orders = this.book.all().filter((o) => o.intent.purpose === 'entry' && o.intent.signalId === signalId);
      // Resent only while every earlier order is known never to have reached the broker.
      if (orders.some((o) => o.placeFailed?.code !== 'NOT_AT_BROKER')) continue;
      if (orders.length === 0 && f.refusedKeys.has(entryKey(raised.data, 0))) continue;
      resumed.push(signalId);
      this.track(this.enter(pick, orders.length));
    }
    return resumed;
  }

  /** Entries, exits or closes in flight. */
  get busy(): boolean {
    return this.work.size > 0 || this.closingNow.size > 0 || this.orders.busy;
  }

  /** The kill switch: flatten everything and stop entries for the day. */
  kill(source: 'signal' | 'file', detail: string): void {
    if (this.risk.killed(this.o.clock.now())) return;
    void this.o.journal.durable('KillSwitchActivated', { source, detail });
  }

  /** Shutdown, first half: no more entries; with `flatten`, every open position is exited (the caller waits for `flat`). */
  beginStop(flatten: boolean): void {
    this.entriesStopped = true;
    if (flatten && !this.flat) this.exitAll('shutdown', 'the daemon is stopping (flatten_on_shutdown)');
  }

  /** No units held. */
  get flat(): boolean {
    return !this.positions.open().some((p) => openQty(p) > 0);
  }

  /** Shutdown, second half: timers, subscriptions, work in flight (working orders stay at the broker as they are). */
  async stop(): Promise<void> {
    this.entriesStopped = true;
    this.stopped = true;
    this.orders.stop();
    await this.reconciler.stop();
    for (const u of this.subs.splice(0)) u();
    if (this.eodTimer !== undefined) this.o.clock.cancel(this.eodTimer);
    await Promise.allSettled([...this.work]);
  }

  // ── reactions ──────────────────────────────────────────────────────────────
  private onTick(t: Payload<'Tick'>): void {
    const now = this.o.clock.now();
    const tick: Tick = { ltp: t.ltp, at: now };
    if (t.upperCircuit !== undefined) tick.upper = t.upperCircuit;
    if (t.lowerCircuit !== undefined) tick.lower = t.lowerCircuit;
    this.ticks.set(`${t.exchange}:${t.token}`, tick);
    if (t.token === this.o.vix.token && t.exchange === this.o.vix.exchange) {
      // The day's first print is the breaker's baseline: recorded, so a restart measures the jump from it too.
      if (this.risk.vixBaseline(now) === undefined) this.o.bus.emit('VixBaselineRecorded', { level: t.ltp });
      const halt = this.risk.checkVix(t.ltp, now);
      if (halt !== undefined) void this.o.journal.durable('RiskHalted', halt);
      return;
    }
    // Only a tick of a held option moves a position's value: the index ticks skip the loss check.
    if (!this.positions.holds(t.token)) return;
    for (const e of this.positions.mark(t.token, t.ltp, now)) this.o.bus.publish(e);
    const halt = this.risk.checkLoss(this.positions.unrealisedNet((o) => orderCharges(o, this.o.config.charges).total), now);
    if (halt !== undefined) void this.o.journal.durable('RiskHalted', halt);
  }

  private onSignal(s: Payload<'SignalRaised'>): void {
    if (s.action !== 'exit') return;
    for (const e of this.positions.trigger((p) => p.strategy === s.strategy && p.underlying === s.underlying, 'technical', s.reason, this.o.clock.now())) this.o.bus.publish(e);
  }

  private onOrderUpdate(e: EventOf<'OrderUpdated'>): void {
    // Applied to the book at once (and again, harmlessly, on delivery): a second update queued
    // in the same delivery must be decided against this one's result, or a fill counts twice.
    for (const d of this.book.decide(e.data, e.ts)) {
      this.book.apply(d);
      this.o.bus.publish(d);
    }
  }

  /** After a fill or a final state: a position that is now flat closes, and its result may halt entries. */
  private afterFill(intentId: string): void {
    const intent = this.positions.intent(intentId);
    if (intent === undefined) return;
    // Once: a fill and the final state both land here, before the close is delivered back.
    if (this.closingNow.has(intent.positionId)) return;
    const closed = this.positions.closing(intent.positionId, (o) => orderCharges(o, this.o.config.charges).total);
    if (closed === undefined) return;
    this.closingNow.add(intent.positionId);
    this.track(this.o.journal.durable('PositionClosed', closed).then(() => {
      this.closingNow.delete(intent.positionId);
      this.syncStreams();
      const halt = this.risk.checkStreak(this.o.clock.now());
      if (halt !== undefined) return this.o.journal.durable('RiskHalted', halt);
    }));
  }

  private exitAll(reason: ExitReason, detail: string): void {
    for (const e of this.positions.trigger(() => true, reason, detail, this.o.clock.now())) this.o.bus.publish(e);
    // Entries still working are cancelled: nothing new may be bought now.
    for (const order of this.book.working()) if (order.intent.purpose === 'entry') this.track(this.orders.cancel(order.intent.intentId, detail));
  }

  private scheduleEndOfDay(): void {
    if (this.stopped) return;
    const now = this.o.clock.now();
    let at = Infinity;
    for (let d = 0, date = istDate(now); d < 15 && at === Infinity; d++, date = istDate(istToMillis(date) + 36 * 3_600_000)) {
      const windows = this.o.calendar.sessionWindows(date);
      const last = windows[windows.length - 1];
      if (last === undefined) continue;
      // The configured exit time, or 10 minutes before a special session's close if that is earlier.
      const exitAt = Math.min(istToMillis(date, this.o.config.risk.end_of_day_exit), last.close - 10 * 60_000);
      if (exitAt > now) at = exitAt;
    }
    if (at === Infinity) return;
    this.eodTimer = this.o.clock.setTimer(at, () => {
      this.exitAll('end_of_day', `end-of-day exit at ${this.o.config.risk.end_of_day_exit}`);
      this.scheduleEndOfDay();
    });
  }

  // ── entries ────────────────────────────────────────────────────────────────
  /** Enters on a pick; `resend` counts earlier orders for the signal that never reached the broker (a restart's resumed entry). */
  private async enter(pick: Payload<'OptionPicked'>, resend = 0): Promise<void> {
    const signal = this.signals.get(pick.signalId)?.data;
    if (signal === undefined || signal.action !== 'entry' || this.entriesStopped) return;
    const ref: InstrumentRef = { exchange: pick.exchange, token: pick.token };
    const k = refKey(ref);
    const e = this.entering.get(k);
    if (e === undefined) this.entering.set(k, { ref, n: 1 });
    else e.n++;
    this.syncStreams();
    try {
      await this.enterOn(ref, pick, signal, resend);
    } finally {
      if (--this.entering.get(k)!.n === 0) this.entering.delete(k);
      this.syncStreams();
    }
  }

  private async enterOn(ref: InstrumentRef, pick: Payload<'OptionPicked'>, signal: Payload<'SignalRaised'>, resend: number): Promise<void> {
    const { clock, config, bus } = this.o;
    const skip = (reason: string, detail: string, values: Payload<'EntrySkipped'>['values'] = {}): void =>
      bus.emit('EntrySkipped', { signalId: pick.signalId, underlying: pick.underlying, reason, detail, values });
    const inst = this.o.instruments()?.get(ref);
    // The picker's quote is as fresh as a tick (it was taken for this signal): no second request.
    if (pick.ltp !== undefined && this.fresh(ref) === undefined) this.ticks.set(refKey(ref), { ltp: pick.ltp, at: clock.now() });
    const tick = await this.price(ref);
    if (tick === undefined) return skip('no_price', `no price for ${pick.symbol}: no fresh tick and the quote failed`);

    const now = clock.now();
    const today = istDate(now);
    const rules = exitRules(config.strategy, signal.strategy);
    const stopPct = rules.stopLossPct > 0 ? rules.stopLossPct : rules.trailPct;
    const vixTick = this.ticks.get(refKey(this.o.vix));
    const daysToExpiry = Math.max(0, daysBetween(today, pick.expiry));
    const size = sizeEntry({ premium: tick.ltp, lotSize: pick.lotSize, stopPct, vix: vixTick?.ltp, daysToExpiry, outlayOnUnderlying: this.committed(pick.underlying) }, config.trading);
    if (size.skip !== undefined) return skip(size.skip.reason, size.skip.detail, size.values);

    const key = entryKey(signal, resend);
    const tag = tagOf(key);
    const price = ladderPrice('entry', tick.ltp, config.orders.entry_ladder_pct[0]!, inst?.tickSize ?? 0.05);
    const charges = orderCharges({ side: 'BUY', qty: size.qty, price, exchange: pick.exchange }, config.charges).total;
    const block = this.risk.entryBlock(pick.underlying, this.positions.open().length, now);
    const check = checkOrder({
      purpose: 'entry', now, sessionOpen: this.o.calendar.isSessionOpen(now), inEntryWindow: this.inEntryWindow(signal.strategy, now),
      instrument: inst, today, side: 'BUY', orderType: 'LIMIT', qty: size.qty, price,
      ltp: tick.ltp, lastTickAt: tick.at, maxQuoteAgeMs: config.orders.max_quote_age_sec * 1000, fatFingerPct: config.orders.fat_finger_pct,
      ...(tick.upper === undefined ? {} : { upperCircuit: tick.upper }), ...(tick.lower === undefined ? {} : { lowerCircuit: tick.lower }),
      availableFunds: config.trading.capital - this.committed(), estimatedCharges: charges,
      riskBlocksEntries: block !== undefined, ...(block === undefined ? {} : { riskReason: `${block.reason}: ${block.detail}` }),
      keyUsed: this.book.wasUsed(tag), key: tag,
    });
    if (!check.ok) {
      bus.emit('OrderRefused', { intentKey: key, purpose: 'entry', check: check.check, detail: check.detail, values: check.values });
      return;
    }
    await this.orders.place({
      intentId: tag, tag, signalId: signal.signalId, strategy: signal.strategy, underlying: signal.underlying, exchange: pick.exchange,
      symbol: pick.symbol, token: pick.token, side: 'BUY', orderType: 'LIMIT', qty: size.qty, price, purpose: 'entry', attempt: 0,
      positionId: `P${tag.slice(1)}`,
    });
  }

  private inEntryWindow(strategy: string, now: number): boolean {
    const s = this.o.config.strategy;
    const m = istMinuteOfDay(now);
    const [from, to] = strategy === 'supertrend-scalper'
      ? [s.supertrend_scalper.entry_start, VALIDATION[s.supertrend_scalper.validation_mode].lastEntry]
      : [s.adx_mtf.entry_start, s.adx_mtf.entry_end];
    return m >= hhmmToMinutes(from) && m <= hhmmToMinutes(to) && m < hhmmToMinutes(this.o.config.risk.end_of_day_exit);
  }

  /** Premium committed — open positions plus working entries — on one underlying, or on all. */
  private committed(underlying?: string): number {
    let sum = this.positions.outlay(underlying);
    for (const o of this.book.working()) {
      if (o.intent.purpose === 'entry' && (underlying === undefined || o.intent.underlying === underlying)) sum += (o.intent.qty - o.filledQty) * o.price;
    }
    return sum;
  }

  // ── exits ──────────────────────────────────────────────────────────────────
  /** Positions whose exit is being prepared (between the trigger and the recorded intent). */
  private readonly preparingExit = new Set<string>();
  private readonly closingNow = new Set<string>();

  private async exit(t: Payload<'ExitTriggered'>): Promise<void> {
    if (this.preparingExit.has(t.positionId)) return;
    this.preparingExit.add(t.positionId);
    try {
      await this.placeExit(t);
    } finally {
      this.preparingExit.delete(t.positionId);
    }
  }

  private async placeExit(t: Payload<'ExitTriggered'>): Promise<void> {
    const { config } = this.o;
    const p = this.positions.get(t.positionId);
    if (p === undefined || this.stopped) return;
    // One exit order at a time per position: a second trigger while it works changes nothing.
    if (this.book.working().some((o) => o.intent.positionId === p.id && o.intent.purpose === 'exit')) return;
    // An entry still working is cancelled first: what it has filled is what is sold.
    for (const o of this.book.working()) if (o.intent.positionId === p.id && o.intent.purpose === 'entry') await this.orders.cancel(o.intent.intentId, `exit: ${t.reason}`);
    const qty = openQty(p);
    if (qty <= 0) return;
    const ref: InstrumentRef = { exchange: p.exchange, token: p.token };
    const inst = this.o.instruments()?.get(ref);
    // Without a fresh tick (just after a restart) a quote is asked for first: MARKET only if that fails too.
    const tick = (await this.price(ref)) ?? { ltp: t.ltp, at: -Infinity };
    const attempt = this.book.all().filter((o) => o.intent.positionId === p.id && o.intent.purpose === 'exit').length;
    const key = `${p.id}|exit|${attempt}`;
    const tag = tagOf(key);
    const now = this.o.clock.now();
    const stale = !(now - tick.at <= config.orders.max_quote_age_sec * 1000);
    // Without a fresh price an exit still goes, as MARKET: being unable to sell is the bigger risk.
    const orderType = stale ? 'MARKET' : 'LIMIT';
    const price = stale ? 0 : ladderPrice('exit', tick.ltp, config.orders.exit_ladder_pct[0]!, inst?.tickSize ?? 0.05);
    const check = checkOrder({
      purpose: 'exit', now, sessionOpen: this.o.calendar.isSessionOpen(now), inEntryWindow: true, instrument: inst, today: istDate(now),
      side: 'SELL', orderType, qty, price, ltp: Number.isFinite(tick.ltp) ? tick.ltp : undefined, lastTickAt: Number.isFinite(tick.at) ? tick.at : undefined,
      maxQuoteAgeMs: config.orders.max_quote_age_sec * 1000, fatFingerPct: config.orders.fat_finger_pct,
      availableFunds: Infinity, estimatedCharges: 0, riskBlocksEntries: false, keyUsed: this.book.wasUsed(tag), key: tag,
    });
    if (!check.ok) {
      this.o.bus.emit('OrderRefused', { intentKey: key, purpose: 'exit', check: check.check, detail: check.detail, values: check.values });
      return;
    }
    await this.orders.place({
      intentId: tag, tag, signalId: this.positions.intent(this.entryIntentOf(p.id) ?? '')?.signalId ?? p.id, strategy: p.strategy, underlying: p.underlying,
      exchange: p.exchange, symbol: p.symbol, token: p.token, side: 'SELL', orderType, qty, price, purpose: 'exit', attempt, positionId: p.id,
    });
  }

  private entryIntentOf(positionId: string): string | undefined {
    return this.book.all().find((o) => o.intent.positionId === positionId && o.intent.purpose === 'entry')?.intent.intentId;
  }

  // ── option streams ─────────────────────────────────────────────────────────
  /** Options something needs the ticks of: an open position, a working order, an entry in progress. */
  private refsInUse(): Map<string, InstrumentRef> {
    const used = new Map<string, InstrumentRef>();
    for (const [k, e] of this.entering) used.set(k, e.ref);
    for (const p of this.positions.open()) used.set(refKey(p), { exchange: p.exchange, token: p.token });
    for (const o of this.book.working()) used.set(refKey(o.intent), { exchange: o.intent.exchange, token: o.intent.token });
    return used;
  }

  /**
   * Streams exactly the options in use: subscribes the ones that came into use (an entry, a restart's
   * held options, a fill that came after its order ended) and stops the rest. A contract traded once
   * used to stream until it expired (bars and ledger lines every minute, subscriptions replayed on
   * each reconnect); a new entry on it subscribes it again, and the feed answers with its quote.
   */
  private syncStreams(): void {
    const used = this.refsInUse();
    const start: InstrumentRef[] = [];
    for (const [k, r] of used) {
      if (this.streamed.has(k)) continue;
      this.streamed.set(k, r);
      start.push(r);
    }
    const stop: InstrumentRef[] = [];
    for (const [k, r] of this.streamed) {
      if (used.has(k)) continue;
      this.streamed.delete(k);
      this.ticks.delete(k);
      stop.push(r);
    }
    if (start.length > 0) this.o.subscribe(start);
    if (stop.length > 0) this.o.unsubscribe(stop);
  }

  // ── prices ─────────────────────────────────────────────────────────────────
  /** The option's last tick if fresh enough to price an order. */
  private fresh(ref: InstrumentRef): Tick | undefined {
    const t = this.ticks.get(refKey(ref));
    return t !== undefined && this.o.clock.now() - t.at <= this.o.config.orders.max_quote_age_sec * 1000 ? t : undefined;
  }

  /** A fresh tick, or a quote from the broker when there is none yet. */
  private async price(ref: InstrumentRef): Promise<Tick | undefined> {
    const t = this.fresh(ref);
    if (t !== undefined) return t;
    try {
      const [q] = await this.o.broker.quotes([ref], 'ltp');
      if (q === undefined || !(q.ltp > 0)) return undefined;
      const tick: Tick = { ltp: q.ltp, at: this.o.clock.now() };
      this.ticks.set(refKey(ref), tick);
      return tick;
    } catch {
      return undefined;
    }
  }

  private track(p: Promise<void>): void {
    const settled = p.catch((err: unknown) => {
      this.o.bus.emit('BrokerRequestFailed', { endpoint: 'trading', code: 'error', message: err instanceof Error ? err.message : String(err), attempts: 1 });
    });
    this.work.add(settled);
    void settled.then(() => this.work.delete(settled));
  }
}
