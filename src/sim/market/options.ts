/**
 * Option pricing for the simulator: Black–Scholes (European, r = 6.5 %,
 * q = 0) on the underlying's tick, a per-strike volatility smile around the
 * ATM IV, and a book around the theoretical premium. Pure functions; the
 * market decides when to call them.
 *
 * Smile: IV depends on the strike only (sticky strike, against a reference
 * spot fixed for the day), never on call vs put, so put–call parity holds
 * exactly on the theoretical prices, and within a minute a premium is a
 * monotone function of spot (call up, put down).
 */
import { hash4 } from './rng.js';
import type { SimLevel } from './types.js';

export const RISK_FREE_RATE = 0.065;
export const OPTION_TICK = 0.05;
const INV_TICK = 20;
const YEAR_MS = 365 * 86_400_000;
/** Time to expiry never goes below five minutes (expiry-day last minutes price near intrinsic, not at a 0 singularity). */
export const MIN_T_MS = 5 * 60_000;

/**
 * Standard normal CDF, double precision (Hart 1968 via West 2005). Built
 * symmetric: normCdf(x) + normCdf(-x) === 1 up to one rounding, so put–call
 * parity does not leak approximation error.
 */
export function normCdf(x: number): number {
  const z = Math.abs(x);
  let c: number;
  if (z > 37) c = 0;
  else {
    const e = Math.exp(-0.5 * z * z);
    if (z < 7.07106781186547) {
      let n = 3.52624965998911e-2 * z + 0.700383064443688;
      n = n * z + 6.37396220353165;
      n = n * z + 33.912866078383;
      n = n * z + 112.079291497871;
      n = n * z + 221.213596169931;
      n = n * z + 220.206867912376;
      let d = 8.83883476483184e-2 * z + 1.75566716318264;
      d = d * z + 16.064177579207;
      d = d * z + 86.7807322029461;
      d = d * z + 296.564248779674;
      d = d * z + 637.333633378831;
      d = d * z + 793.826512519948;
      d = d * z + 440.413735824752;
      c = (e * n) / d;
    } else {
      let d = z + 0.65;
      d = z + 4 / d;
      d = z + 3 / d;
      d = z + 2 / d;
      d = z + 1 / d;
      c = e / d / 2.506628274631;
    }
  }
  return x <= 0 ? c : 1 - c;
}

/** Years from `nowMs` to `expiryCloseMs` (15:30 IST on the expiry day), floored at MIN_T_MS. */
export function yearsToExpiry(nowMs: number, expiryCloseMs: number): number {
  return Math.max(expiryCloseMs - nowMs, MIN_T_MS) / YEAR_MS;
}

/** Black–Scholes premium of a European option (q = 0). */
export function bsPrice(type: 'CE' | 'PE', spot: number, strike: number, years: number, sigma: number, r = RISK_FREE_RATE): number {
  const sst = sigma * Math.sqrt(years);
  const d1 = (Math.log(spot / strike) + (r + 0.5 * sigma * sigma) * years) / sst;
  const d2 = d1 - sst;
  const disc = strike * Math.exp(-r * years);
  return type === 'CE' ? spot * normCdf(d1) - disc * normCdf(d2) : disc * normCdf(-d2) - spot * normCdf(-d1);
}

/**
 * Pre-computed Black–Scholes for one option over a span where T and σ are
 * fixed (the simulator quantises time to the minute): `price(S)` costs one
 * log and two exp.
 */
export class BsFixed {
  sst = 1;
  drift = 0;
  disc = 0;
  constructor(readonly isCall: boolean, readonly strike: number) {}

  set(years: number, sigma: number, r = RISK_FREE_RATE): this {
    this.sst = sigma * Math.sqrt(years);
    this.drift = (r + 0.5 * sigma * sigma) * years;
    this.disc = this.strike * Math.exp(-r * years);
    return this;
  }

  price(spot: number): number {
    const d1 = (Math.log(spot / this.strike) + this.drift) / this.sst;
    const d2 = d1 - this.sst;
    return this.isCall ? spot * normCdf(d1) - this.disc * normCdf(d2) : this.disc * normCdf(-d2) - spot * normCdf(-d1);
  }
}

export const SKEW = {
  /** Put wing (strikes below the reference spot): IV × (1 + a·|x| + b·x²). */
  putLinear: 0.05,
  putQuad: 0.025,
  /** Call wing (strikes above): IV × (1 + a·x + b·x²) — gentler, the usual index smirk. */
  callLinear: 0.015,
  callQuad: 0.01,
  /** Moneyness is clamped to ±6 standard deviations. */
  maxX: 6,
} as const;

/**
 * Standardised moneyness x = ln(K / S_ref) / (σ_atm √T), the number of
 * standard deviations the strike sits from the reference spot.
 */
export function moneyness(strike: number, refSpot: number, atmIv: number, years: number): number {
  const x = Math.log(strike / refSpot) / (atmIv * Math.sqrt(years));
  return Math.max(-SKEW.maxX, Math.min(SKEW.maxX, x));
}

/** IV at a strike: ATM IV lifted on the put wing (K < S_ref) and, less, on the call wing. */
export function smileIv(atmIv: number, strike: number, refSpot: number, years: number): number {
  const x = moneyness(strike, refSpot, atmIv, years);
  const lift = x < 0 ? SKEW.putLinear * -x + SKEW.putQuad * x * x : SKEW.callLinear * x + SKEW.callQuad * x * x;
  return atmIv * (1 + lift);
}

/** Rounds to the 0.05 grid (nearest); results are the canonical doubles of k × 0.05. */
export function roundTick(x: number): number {
  return Math.round(x * INV_TICK) / INV_TICK;
}

function floorTick(x: number): number {
  return Math.floor(x * INV_TICK + 1e-9) / INV_TICK;
}

function ceilTick(x: number): number {
  return Math.ceil(x * INV_TICK - 1e-9) / INV_TICK;
}

/** Last traded price for a theoretical premium: on the tick grid, at least one tick. */
export function ltpOf(theo: number): number {
  const p = roundTick(theo);
  return p < OPTION_TICK ? OPTION_TICK : p;
}

/**
 * Full bid–ask spread for a premium: 0.25 % of the premium, at least two
 * ticks, widened by |x|/4 for far strikes (so cheap and far options quote
 * wide in percentage terms, ATM ones tight).
 */
export function spreadOf(theo: number, absX: number): number {
  return Math.max(0.1, 0.0025 * theo) * (1 + 0.25 * absX);
}

/** Best bid and ask on the tick grid around `theo`: bid >= 0.05, ask >= bid + 0.05, bid <= ltp <= ask. */
export function bidAsk(theo: number, absX: number): { bid: number; ask: number } {
  const half = spreadOf(theo, absX) / 2;
  let bid = floorTick(theo - half);
  if (bid < OPTION_TICK) bid = OPTION_TICK;
  let ask = ceilTick(theo + half);
  if (ask < bid + OPTION_TICK) ask = roundTick(bid + OPTION_TICK);
  return { bid, ask };
}

export type Book = { bids: SimLevel[]; asks: SimLevel[]; totBuyQty: number; totSellQty: number };

/**
 * Best five a tick apart from the best bid / ask, quantities in whole lots
 * (more lots near the money: `depthLots` is the mean lots per level), orders
 * per level between 1 and the lots. Levels that would go below 0.05 are empty
 * (zeros). Totals are the visible depth times a seeded factor (the whole
 * book is deeper than five levels). Seeded by (seed, token, tick ordinal).
 */
export function bookAround(bid: number, ask: number, lot: number, depthLots: number, seed: number, tokenHash: number, ordinal: number): Book {
  const bids: SimLevel[] = [];
  const asks: SimLevel[] = [];
  let visBuy = 0;
  let visSell = 0;
  const span = Math.max(1, Math.round(depthLots * 2));
  for (let i = 0; i < 5; i++) {
    const hb = hash4(seed, tokenHash, ordinal, i);
    const ha = hash4(seed, tokenHash, ordinal, i + 16);
    const pb = roundTick(bid - i * OPTION_TICK);
    if (pb >= OPTION_TICK) {
      const lots = 1 + (hb % span);
      bids.push({ price: pb, qty: lots * lot, orders: 1 + ((hb >>> 12) % lots) });
      visBuy += lots;
    } else bids.push({ price: 0, qty: 0, orders: 0 });
    const lotsA = 1 + (ha % span);
    asks.push({ price: roundTick(ask + i * OPTION_TICK), qty: lotsA * lot, orders: 1 + ((ha >>> 12) % lotsA) });
    visSell += lotsA;
  }
  const ht = hash4(seed, tokenHash, ordinal, 99);
  return { bids, asks, totBuyQty: visBuy * lot * (4 + (ht % 17)), totSellQty: visSell * lot * (4 + ((ht >>> 8) % 17)) };
}
