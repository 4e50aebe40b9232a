/**
 * The strategy on the bus: hands each closed bar of an underlying's index to
 * the active strategy, runs its daily decision times on trading days, keeps
 * the facts its context reads (INDIA VIX, feed freshness, halts, trades
 * today), and turns each entry signal into an option choice (`OptionPicked`
 * or `OptionPickFailed`).
 *
 * Facts are folds over events, so replaying a day's ledger through the same
 * handlers rebuilds them: trades today count the day's entry signals, a
 * `RiskHalted` halts entries for the rest of its IST day, and a bias already
 * decided today (`DailyBiasDecided`) is not decided again.
 *
 * Open positions and the last exit belong to the money path; until it is
 * wired (`trading`), the runner reports none.
 */
import type { Instrument, InstrumentRef, Quote } from '../broker/broker.js';
import type { InstrumentIndex } from '../broker/smartapi/instrument-index.js';
import type { EventBus, Unsubscribe } from '../core/bus.js';
import { type Clock, type TimerHandle, istDate, istDayEnd, istToMillis } from '../core/clock.js';
import type { Config } from '../core/config.js';
import type { Check, EventOf, RustroEvent } from '../core/events.js';
import type { Bar } from '../market/bar.js';
import type { BarRing } from '../market/bar-store.js';
import type { WarmupNeed } from '../market/bootstrap.js';
import type { TradingCalendar } from '../market/calendar.js';
import type { Timeframe } from '../market/timeframes.js';
import { AdxMtf } from './adx-mtf.js';
import { type OptionQuote, type PickReason, type PickerSettings, pickOption } from './option-picker.js';
import type { Strategy, StrategyContext, Underlying, UnderlyingName } from './strategy.js';
import { SupertrendScalper } from './supertrend-scalper.js';

/** The money path's view the strategies read (positions, exits); absent until it is wired. */
export interface TradingState {
  openPositions(strategy: string, underlying: UnderlyingName): number;
  lastExitAt(strategy: string, underlying: UnderlyingName): number | undefined;
}

export type StrategyRunnerOptions = {
  bus: EventBus;
  clock: Clock;
  calendar: TradingCalendar;
  config: Pick<Config, 'strategy' | 'options'>;
  /** Closed bars per stream (the market pipeline's store). */
  bars: (ref: InstrumentRef, tf: Timeframe) => BarRing;
  underlyings: readonly Underlying[];
  vix: InstrumentRef;
  /** The day's instrument index (undefined until the master is loaded). */
  instruments: () => InstrumentIndex | undefined;
  /** Live quotes for the liquidity checks; without it the picker records them as skipped. */
  quotes?: (refs: InstrumentRef[]) => Promise<Quote[]>;
  trading?: TradingState;
  /** A strategy instance to run instead of the configured one (tests). */
  strategy?: Strategy;
};

export function makeStrategy(config: Pick<Config, 'strategy'>): Strategy {
  return config.strategy.active === 'adx-mtf' ? new AdxMtf(config.strategy.adx_mtf) : new SupertrendScalper(config.strategy.supertrend_scalper);
}

export function pickerSettings(config: Pick<Config, 'options'>): PickerSettings {
  const o = config.options;
  return { expiryDayCutoff: o.expiry_day_cutoff, strikeStep: o.strike_step, maxSpreadPct: o.max_spread_pct, minOi: o.min_oi, fallbackStrikes: o.fallback_strikes };
}

/** A picker reason as a ledger check: the candidate strike in the name, a skipped check says so in its limit. */
export function toCheck(r: PickReason): Check {
  const limit = r.limit === undefined ? '' : String(r.limit);
  return {
    name: r.strike === undefined ? r.check : `${r.check}@${r.strike}`,
    value: r.value,
    limit: r.skipped === true ? `skipped${limit === '' ? '' : ` (${limit})`}` : limit,
    passed: r.passed,
  };
}

export class StrategyRunner {
  readonly strategy: Strategy;
  private readonly subs: Unsubscribe[] = [];
  private readonly byToken = new Map<string, Underlying>();
  private readonly trades = new Map<string, number>();
  /** Today's entry signals whose option is not picked yet (in flight, or lost to a crash). */
  private readonly unpicked = new Map<string, EventOf<'SignalRaised'>>();
  /** Epoch ms the IST day of the latest event ends (-Infinity before the first). */
  private dayEnd = -Infinity;
  private readonly settings: PickerSettings;
  private vixLevel: number | undefined;
  private stale = false;
  private haltedOn: string | undefined;
  private timer: TimerHandle | undefined;
  private picks: Promise<void>[] = [];
  private stopped = false;
  readonly context: StrategyContext;

  constructor(private readonly o: StrategyRunnerOptions) {
    this.strategy = o.strategy ?? makeStrategy(o.config);
    this.settings = pickerSettings(o.config);
    for (const u of o.underlyings) this.byToken.set(`${u.ref.exchange}:${u.ref.token}`, u);
    const name = this.strategy.name;
    this.context = {
      emit: (type, data) => o.bus.emit(type, data),
      now: () => o.clock.now(),
      bars: (ref, tf) => o.bars(ref, tf),
      vix: () => this.vixLevel,
      vixBars: (tf) => o.bars(o.vix, tf),
      feedFresh: () => !this.stale,
      halted: () => this.haltedOn === istDate(o.clock.now()),
      openPositions: (u) => o.trading?.openPositions(name, u) ?? 0,
      tradesToday: (u) => this.trades.get(`${istDate(o.clock.now())}:${u}`) ?? 0,
      lastExitAt: (u) => o.trading?.lastExitAt(name, u),
      isExpiryDay: (u) => {
        const index = o.instruments();
        if (index === undefined) return undefined;
        const today = istDate(o.clock.now());
        return index.nearestExpiry(u, today) === today;
      },
    };
  }

  /** The history each underlying (and INDIA VIX) needs, for the market pipeline's bootstrap. */
  needs(): WarmupNeed[] {
    return this.strategy.needs().flatMap((n) =>
      n.stream === 'vix' ? [{ ref: this.o.vix, tf: n.tf, bars: n.bars }] : this.o.underlyings.map((u) => ({ ref: u.ref, tf: n.tf, bars: n.bars })));
  }

  /** Folds one event into the facts the context reads. Also what a restart replays today's ledger through. */
  apply(e: RustroEvent): void {
    if (e.ts >= this.dayEnd) this.rollDay(e.ts);
    switch (e.type) {
      case 'Tick':
        if (e.data.token === this.o.vix.token && e.data.exchange === this.o.vix.exchange) this.vixLevel = e.data.ltp;
        return;
      case 'FeedStale':
        this.stale = true;
        return;
      case 'FeedResumed':
        this.stale = false;
        return;
      case 'RiskHalted':
      case 'KillSwitchActivated':
        this.haltedOn = istDate(e.ts);
        return;
      case 'DailyBiasDecided':
        if (e.data.strategy === this.strategy.name && this.strategy instanceof AdxMtf) {
          this.strategy.restoreBias(e.data.underlying as UnderlyingName, e.data.date, e.data.bias);
        }
        return;
      case 'SignalRaised': {
        const s = e.data;
        if (s.strategy !== this.strategy.name || s.action !== 'entry') return;
        const key = `${istDate(e.ts)}:${s.underlying}`;
        this.trades.set(key, (this.trades.get(key) ?? 0) + 1);
        this.unpicked.set(s.signalId, e);
        return;
      }
      case 'OptionPicked':
      case 'OptionPickFailed':
        this.unpicked.delete(e.data.signalId);
        return;
      default:
    }
  }

  /**
   * The first event of a new IST day (only forward): earlier days' entry counts
   * and unpicked signals go. Only today's are read (`tradesToday`, a restart's
   * `resumePicks`), and a restart replays only today's ledger; kept, they would
   * grow by a day's worth every day for as long as the daemon runs.
   */
  private rollDay(ts: number): void {
    this.dayEnd = istDayEnd(ts);
    this.trades.clear();
    this.unpicked.clear();
  }

  start(): void {
    const { bus } = this.o;
    this.subs.push(
      bus.onAny((e) => this.apply(e), 'strategy facts'),
      bus.on('BarClosed', (e) => this.onBar(e.data), 'strategy bars'),
      bus.on('SignalRaised', (e) => this.onSignal(e), 'strategy option picks'),
    );
    this.schedule();
  }

  /**
   * After a restart: entry signals at most `withinMs` old whose option was
   * never picked (the daemon died while picking) are picked now. Returns
   * their ids.
   */
  resumePicks(withinMs: number): string[] {
    const now = this.o.clock.now();
    const resumed: string[] = [];
    for (const e of this.unpicked.values()) {
      if (withinMs <= 0 || now - e.ts > withinMs) continue;
      resumed.push(e.data.signalId);
      this.onSignal(e);
    }
    return resumed;
  }

  /** Option picks in flight. */
  get busy(): boolean {
    return this.picks.length > 0;
  }

  /** Stops listening and waits for option picks in flight. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const u of this.subs.splice(0)) u();
    if (this.timer !== undefined) this.o.clock.cancel(this.timer);
    await Promise.allSettled(this.picks);
  }

  private onBar(data: Bar): void {
    const u = this.byToken.get(`${data.exchange}:${data.token}`);
    if (u !== undefined) this.strategy.onBar(u, data, this.context);
  }

  private onSignal(e: EventOf<'SignalRaised'>): void {
    const s = e.data;
    if (s.strategy !== this.strategy.name || s.action !== 'entry') return;
    const p = this.pick(s, e.ts).catch((err: unknown) =>
      this.failPick(s, 'error', err instanceof Error ? err.message : String(err), []));
    this.picks.push(p);
    void p.then(() => (this.picks = this.picks.filter((x) => x !== p)));
  }

  /** Chooses the contract: first from the master alone, then again with quotes of the nearby strikes when quotes are available. */
  private async pick(s: EventOf<'SignalRaised'>['data'], at: number): Promise<void> {
    const index = this.o.instruments();
    if (index === undefined) return this.failPick(s, 'no_instruments', 'the instrument master is not loaded', []);
    const req = { underlying: s.underlying, optionType: s.side, spot: s.spot, now: at, otmSteps: s.strikeOffset };
    let pick = pickOption(index, req, this.settings);
    if (pick.ok && this.o.quotes !== undefined) {
      const candidates = nearbyStrikes(index, pick.instrument, pick.expiry, this.settings.strikeStep[s.underlying] ?? 0, (this.settings.fallbackStrikes ?? 0) + 1);
      const quotes = new Map((await this.o.quotes(candidates)).map((q) => [`${q.exchange}:${q.token}`, q]));
      if (this.stopped) return;
      pick = pickOption(index, req, this.settings, (i) => toOptionQuote(quotes.get(`${i.exchange}:${i.token}`)));
    }
    if (!pick.ok) return this.failPick(s, pick.reason, pick.detail, pick.reasons.map(toCheck));
    const i = pick.instrument;
    this.o.bus.emit('OptionPicked', {
      signalId: s.signalId, underlying: s.underlying, exchange: i.exchange, token: i.token, symbol: i.symbol,
      expiry: pick.expiry, strike: pick.strike, optionType: s.side, lotSize: i.lotSize, spot: s.spot, atm: pick.atm,
      rolled: pick.rolled, ...(pick.quote?.ltp !== undefined && pick.quote.ltp > 0 ? { ltp: pick.quote.ltp } : {}), checks: pick.reasons.map(toCheck),
    });
  }

  private failPick(s: EventOf<'SignalRaised'>['data'], reason: string, detail: string, checks: Check[]): void {
    if (this.stopped) return;
    this.o.bus.emit('OptionPickFailed', { signalId: s.signalId, underlying: s.underlying, reason, detail, checks });
  }

  /** Runs the strategy's decision times on each trading day, on the clock (so a replay decides at the same instants). */
  private schedule(): void {
    const times = this.strategy.decisionTimes;
    if (times.length === 0 || this.stopped) return;
    const now = this.o.clock.now();
    let next = Infinity;
    let date = istDate(now);
    for (let d = 0; d < 15 && next === Infinity; d++) {
      if (this.o.calendar.sessionWindows(date).length > 0) {
        for (const t of times) {
          const at = istToMillis(date, t);
          if (at > now && at < next) next = at;
        }
      }
      date = istDate(istToMillis(date) + 36 * 3_600_000);
    }
    if (next === Infinity) return;
    this.timer = this.o.clock.setTimer(next, () => {
      for (const u of this.o.underlyings) this.strategy.onTime(u, this.context);
      this.schedule();
    });
  }
}

/** The option contracts `span` strikes either side of `chosen` in its expiry and type (the picker's fallback candidates). */
function nearbyStrikes(index: InstrumentIndex, chosen: Instrument, expiry: string, step: number, span: number): InstrumentRef[] {
  const out: InstrumentRef[] = [];
  for (let k = -span; k <= span; k++) {
    const i = index.option(chosen.name, expiry, chosen.strike! + k * step, chosen.optionType!);
    if (i !== undefined) out.push({ exchange: i.exchange, token: i.token });
  }
  return out;
}

function toOptionQuote(q: Quote | undefined): OptionQuote | undefined {
  if (q === undefined) return undefined;
  const out: OptionQuote = { ltp: q.ltp };
  const bid = q.bids?.[0]?.price;
  const ask = q.asks?.[0]?.price;
  if (bid !== undefined) out.bid = bid;
  if (ask !== undefined) out.ask = ask;
  if (q.oi !== undefined) out.oi = q.oi;
  return out;
}
