/**
 * The strategy port. A strategy sees closed bars (and, through its context,
 * a few facts others own: INDIA VIX, feed freshness, the money path's state)
 * and publishes what it concluded — every evaluation with each filter's value
 * and verdict, and signals with reasons. It never places an order: the
 * trading layer turns a signal into one.
 *
 * Strategies decide only from what the context and the bar stores give them,
 * on the injected clock, so a backtest or a replay decides exactly as live.
 */
import type { InstrumentRef } from '../broker/broker.js';
import type { EventBus } from '../core/bus.js';
import type { STRATEGY_NAMES, UNDERLYINGS } from '../core/config-schema.js';
import type { Bar } from '../market/bar.js';
import type { BarRing } from '../market/bar-store.js';
import type { Timeframe } from '../market/timeframes.js';

export type StrategyName = (typeof STRATEGY_NAMES)[number];
export type UnderlyingName = (typeof UNDERLYINGS)[number];
export type OptionSide = 'CE' | 'PE';

/** An index the strategy trades options on, and the stream of its spot. */
export type Underlying = { readonly name: UnderlyingName; readonly ref: InstrumentRef };

/**
 * What a strategy may read and do besides its bars. The runner implements it
 * on the bus; tests implement it directly.
 */
export interface StrategyContext {
  /** Publishes the strategy's conclusions (StrategyEvaluated, DailyBiasDecided, SignalRaised). */
  readonly emit: EventBus['emit'];
  now(): number;
  /** Closed bars of a stream (history, restored and live), oldest first. */
  bars(ref: InstrumentRef, tf: Timeframe): BarRing;
  /** The last INDIA VIX level seen, if any. */
  vix(): number | undefined;
  /** INDIA VIX's own bars (daily closes for an IV-rank proxy). */
  vixBars(tf: Timeframe): BarRing;
  /** No FeedStale outstanding: prices are current. */
  feedFresh(): boolean;
  /** Risk has halted entries. */
  halted(): boolean;
  /** Open (or entering) positions of this strategy on an underlying. */
  openPositions(underlying: UnderlyingName): number;
  /** Entries this strategy made on an underlying today (IST). */
  tradesToday(underlying: UnderlyingName): number;
  /** When this strategy last exited a position on an underlying (epoch ms). */
  lastExitAt(underlying: UnderlyingName): number | undefined;
  /** Whether today is the expiry day of the underlying's nearest option expiry (undefined: no instrument master). */
  isExpiryDay(underlying: UnderlyingName): boolean | undefined;
}

/** Closed bars a strategy needs on one timeframe of each underlying's index (or of INDIA VIX) before it is warm. */
export type StreamNeed = { readonly stream: 'underlying' | 'vix'; readonly tf: Timeframe; readonly bars: number };

export interface Strategy {
  readonly name: StrategyName;
  /** Closed bars per timeframe the strategy reads; declared to the bootstrap before the broker is online. */
  needs(): readonly StreamNeed[];
  /** A bar of the underlying's index closed (every timeframe is offered; a strategy picks its own). */
  onBar(u: Underlying, bar: Bar, ctx: StrategyContext): void;
  /** IST wall times ("HH:MM") at which `onTime` runs on each trading day. */
  readonly decisionTimes: readonly string[];
  onTime(u: Underlying, ctx: StrategyContext): void;
}

/** The signal id: deterministic, so the same bar evaluated again (after a restart) gives the same id. */
export function signalId(strategy: StrategyName, underlying: UnderlyingName, barTs: number, side: OptionSide, action: 'entry' | 'exit'): string {
  return `${strategy}:${underlying}:${barTs}:${side}:${action}`;
}
