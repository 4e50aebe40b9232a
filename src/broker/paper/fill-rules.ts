/**
 * The paper broker's matching rules, as pure functions of one order and one
 * tick (no state, no clock), so they can be read and tested on their own.
 *
 * - The touch is the best opposite quote: a BUY looks at the best ask, a SELL
 *   at the best bid (depth level 0 when the tick carries depth with a
 *   positive price, else the last traded price).
 * - A BUY LIMIT fills when the touch is at or below the limit, at
 *   min(limit, touch + slippage); a SELL LIMIT when the touch is at or above
 *   the limit, at max(limit, touch − slippage). Slippage always works against
 *   the order and never carries a LIMIT fill past its limit.
 * - A MARKET order fills at the touch + slippage (BUY) or touch − slippage
 *   (SELL), never below one tick.
 * - Prices land on the tick grid, rounded against the order (BUY up, SELL
 *   down); a LIMIT price is itself on the grid (checked at placement), so the
 *   cap keeps the fill on it.
 */
import type { OrderType, Side, Tick } from '../broker.js';

/** Decimal noise left by multiplying a step count by a tick size (3 × 0.05 = 0.15000000000000002). */
const DECIMALS = 8;
const EPS = 1e-9;

function clean(x: number): number {
  return Number(x.toFixed(DECIMALS));
}

/** `price` on the `tickSize` grid, rounded up, down or to the nearest step; unchanged when tickSize ≤ 0. */
export function roundToTick(price: number, tickSize: number, dir: 'up' | 'down' | 'nearest'): number {
  if (!(tickSize > 0)) return clean(price);
  const steps = price / tickSize;
  const n = dir === 'up' ? Math.ceil(steps - EPS) : dir === 'down' ? Math.floor(steps + EPS) : Math.round(steps);
  return clean(n * tickSize);
}

/** The price a `side` order trades against on this tick, or undefined when the tick offers none. */
export function touchOf(t: Tick, side: Side): number | undefined {
  const best = (side === 'BUY' ? t.asks : t.bids)?.[0]?.price;
  const p = best !== undefined && best > 0 ? best : t.ltp;
  return Number.isFinite(p) && p > 0 ? p : undefined;
}

export type Matchable = { side: Side; orderType: OrderType; /** The limit (ignored for MARKET). */ price: number };

/** The fill price of `o` against tick `t`, or undefined when it does not fill on this tick. */
export function fillPrice(o: Matchable, t: Tick, tickSize: number, slippageTicks: number): number | undefined {
  const touch = touchOf(t, o.side);
  if (touch === undefined) return undefined;
  const slip = Math.max(0, slippageTicks) * Math.max(0, tickSize);
  if (o.side === 'BUY') {
    const at = roundToTick(touch + slip, tickSize, 'up');
    if (o.orderType === 'MARKET') return at;
    return touch <= o.price + EPS ? Math.min(o.price, at) : undefined;
  }
  const at = roundToTick(touch - slip, tickSize, 'down');
  if (o.orderType === 'MARKET') {
    const p = tickSize > 0 ? Math.max(tickSize, at) : at;
    return p > 0 ? p : undefined;
  }
  return touch >= o.price - EPS ? Math.max(o.price, at) : undefined;
}

/**
 * Units filled on one tick: the whole remainder, or at most `maxLotsPerFill`
 * lots when that is > 0 (never less than what remains if that is smaller).
 */
export function fillQty(remaining: number, lotSize: number, maxLotsPerFill: number): number {
  if (remaining <= 0) return 0;
  if (!(maxLotsPerFill > 0)) return remaining;
  return Math.min(remaining, maxLotsPerFill * Math.max(1, lotSize));
}
