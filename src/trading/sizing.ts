/**
 * Position sizing for an option entry (SPEC §4): "lots = risk budget (1% of
 * capital) ÷ (premium × stop % × lot size), capped by `max_lots` and
 * `capital_alloc_pct` per index, scaled down when INDIA VIX is high or
 * days-to-expiry are few. Zero lots is a recorded skip, not an error."
 *
 * With `t` = the `[trading]` table:
 *   budget      = capital × risk_per_trade_pct%           the most one trade may lose at its stop
 *   riskPerLot  = premium × stopPct% × lotSize             what one lot loses if the stop is hit
 *   rawLots     = floor(budget / riskPerLot)
 *   allocLeft   = capital × capital_alloc_pct% − outlayOnUnderlying
 *                                                          premium still allowed on this underlying
 *   allocLots   = floor(max(0, allocLeft) / (premium × lotSize))
 *   baseLots    = min(rawLots, max_lots, allocLots)
 *   vixFactor   = vix_scale when vix ≥ vix_scale_from, else 1
 *   dteFactor   = dte_scale when daysToExpiry ≤ dte_scale_days, else 1
 *   lots        = floor(baseLots × vixFactor × dteFactor)
 *   qty         = lots × lotSize (units, as orders are placed)
 *
 * - The two scale factors multiply: high volatility and a near expiry are
 *   separate risks (bigger swings; faster decay and gamma), so a trade facing
 *   both is cut by both (defaults 0.5 × 0.5 = a quarter). The floor is taken
 *   once, after both: 3 lots × 0.6 × 0.6 = 1.08 gives 1 lot, where flooring
 *   between the factors would give floor(floor(1.8) × 0.6) = 0.
 * - Scaling only ever shrinks (factors are in [0, 1]), so every cap still
 *   holds after it: lots ≤ max_lots, lots × riskPerLot ≤ budget, and the
 *   premium outlay stays within the allocation.
 * - A VIX that is not known (`vix` undefined) does not scale; `values.vix` is
 *   then null so the record shows it. A VIX that is known but not a finite
 *   number ≥ 0 is bad input. (High VIX halts are the risk module's job.)
 * - Floors allow 1e-9 of binary rounding: 0.3 / 0.1 is 2.9999999999999996 in
 *   floating point and must give 3 lots, not 2. So a cap can be exceeded by at
 *   most a billionth of a lot.
 * - Zero lots returns `skip: { reason: 'zero_lots' }` with every cause that
 *   is zero named in the detail (the risk budget, the allocation, the
 *   scaling). Bad input — premium not a finite number > 0, lot size not a
 *   positive (safe) integer, stop % not a finite number > 0, days to expiry
 *   not a finite number ≥ 0, outlay not a finite number ≥ 0, a VIX given but
 *   not finite ≥ 0, or a product premium × stop × lot size that overflows or
 *   underflows — returns `skip: { reason: 'bad_input' }` naming the value.
 *   Market data can be wrong; sizing never throws for it.
 * - `values` carries every input and intermediate so the event (EntrySkipped,
 *   or the entry's own record) explains the size. Its values are finite
 *   numbers, strings, booleans or null — a non-finite input is recorded as
 *   null, with its text in the detail.
 */

import type { Config } from '../core/config.js';

export type SizingInput = {
  /** Option premium per unit, rupees (the price the entry would pay). */
  premium: number;
  /** Units per lot (exchange contract size). */
  lotSize: number;
  /** Stop distance as % of the premium, e.g. 20. */
  stopPct: number;
  /** INDIA VIX, when known. */
  vix?: number | undefined;
  /** Calendar days to the option's expiry (0 = expiry day). */
  daysToExpiry: number;
  /** Premium already committed on this underlying (open positions and working entries), rupees. */
  outlayOnUnderlying: number;
};

export type SizingValue = number | string | boolean | null;

export type SizingSkip = { reason: 'zero_lots' | 'bad_input'; detail: string };

export type Sizing = {
  lots: number;
  /** lots × lotSize, in units. */
  qty: number;
  values: Record<string, SizingValue>;
  skip?: SizingSkip;
};

/** Floor with room for binary rounding (see the header). */
function floorTol(x: number): number {
  return Math.floor(x + 1e-9);
}

/** A number fit for the record: finite, or null. */
function rec(x: number | undefined): number | null {
  return x !== undefined && Number.isFinite(x) ? x : null;
}

function badInput(input: SizingInput): string | undefined {
  const { premium, lotSize, stopPct, vix, daysToExpiry, outlayOnUnderlying } = input;
  const bad: string[] = [];
  if (!(Number.isFinite(premium) && premium > 0)) bad.push(`premium ${premium} (must be a finite number > 0)`);
  if (!(Number.isSafeInteger(lotSize) && lotSize > 0)) bad.push(`lotSize ${lotSize} (must be a positive integer)`);
  if (!(Number.isFinite(stopPct) && stopPct > 0)) bad.push(`stopPct ${stopPct} (must be a finite number > 0)`);
  if (!(Number.isFinite(daysToExpiry) && daysToExpiry >= 0)) bad.push(`daysToExpiry ${daysToExpiry} (must be a finite number ≥ 0)`);
  if (!(Number.isFinite(outlayOnUnderlying) && outlayOnUnderlying >= 0)) {
    bad.push(`outlayOnUnderlying ${outlayOnUnderlying} (must be a finite number ≥ 0)`);
  }
  if (vix !== undefined && !(Number.isFinite(vix) && vix >= 0)) bad.push(`vix ${vix} (must be a finite number ≥ 0 when given)`);
  return bad.length > 0 ? bad.join('; ') : undefined;
}

export function sizeEntry(input: SizingInput, t: Config['trading']): Sizing {
  const { premium, lotSize, stopPct, vix, daysToExpiry, outlayOnUnderlying } = input;
  const values: Record<string, SizingValue> = {
    capital: t.capital,
    riskPerTradePct: t.risk_per_trade_pct,
    maxLots: t.max_lots,
    capitalAllocPct: t.capital_alloc_pct,
    vixScaleFrom: t.vix_scale_from,
    vixScale: t.vix_scale,
    dteScaleDays: t.dte_scale_days,
    dteScale: t.dte_scale,
    premium: rec(premium),
    lotSize: rec(lotSize),
    stopPct: rec(stopPct),
    vix: rec(vix),
    daysToExpiry: rec(daysToExpiry),
    outlayOnUnderlying: rec(outlayOnUnderlying),
  };

  const bad = badInput(input);
  if (bad !== undefined) return { lots: 0, qty: 0, values, skip: { reason: 'bad_input', detail: bad } };

  const budget = (t.capital * t.risk_per_trade_pct) / 100;
  const riskPerLot = (premium * stopPct * lotSize) / 100;
  const lotOutlay = premium * lotSize;
  if (!(Number.isFinite(riskPerLot) && riskPerLot > 0 && Number.isFinite(lotOutlay) && lotOutlay > 0)) {
    const detail = `premium ${premium} × stopPct ${stopPct}% × lotSize ${lotSize} is out of range (risk per lot ${riskPerLot}, one lot's premium ${lotOutlay})`;
    return { lots: 0, qty: 0, values, skip: { reason: 'bad_input', detail } };
  }
  const rawLots = floorTol(budget / riskPerLot);
  const allocCap = (t.capital * t.capital_alloc_pct) / 100;
  const allocLeft = allocCap - outlayOnUnderlying;
  const allocLots = allocLeft > 0 ? floorTol(allocLeft / lotOutlay) : 0;
  const baseLots = Math.min(rawLots, t.max_lots, allocLots);
  const binding = baseLots === rawLots ? 'risk_budget' : baseLots === allocLots ? 'allocation' : 'max_lots';
  const vixHigh = vix !== undefined && vix >= t.vix_scale_from;
  const vixFactor = vixHigh ? t.vix_scale : 1;
  const nearExpiry = daysToExpiry <= t.dte_scale_days;
  const dteFactor = nearExpiry ? t.dte_scale : 1;
  const scaledLots = baseLots * vixFactor * dteFactor;
  const lots = floorTol(scaledLots);
  const qty = lots * lotSize;

  Object.assign(values, {
    budget,
    riskPerLot,
    rawLots: rec(rawLots), // a tiny risk per lot can make these Infinity (then null); the min with max_lots is finite
    allocCap,
    allocLeft,
    lotOutlay,
    allocLots: rec(allocLots),
    baseLots,
    binding,
    vixKnown: vix !== undefined,
    vixHigh,
    vixFactor,
    nearExpiry,
    dteFactor,
    scaledLots,
    lots,
    qty,
    outlay: lots * lotOutlay,
    riskAtStop: lots * riskPerLot,
  });

  if (lots > 0) return { lots, qty, values };

  const causes: string[] = [];
  if (rawLots === 0) causes.push(`risk budget ₹${budget} is less than the risk of one lot ₹${riskPerLot} (premium ${premium} × stop ${stopPct}% × lot ${lotSize})`);
  if (allocLots === 0) {
    causes.push(`allocation left on the underlying ₹${allocLeft} (${t.capital_alloc_pct}% of ₹${t.capital} less ₹${outlayOnUnderlying} committed) is less than one lot's premium ₹${lotOutlay}`);
  }
  if (baseLots > 0) {
    const f = [vixHigh ? `VIX ${vix} ≥ ${t.vix_scale_from}: × ${t.vix_scale}` : '', nearExpiry ? `${daysToExpiry} days to expiry ≤ ${t.dte_scale_days}: × ${t.dte_scale}` : '']
      .filter((s) => s !== '')
      .join(', ');
    causes.push(`${baseLots} lot(s) scaled by ${f} = ${scaledLots} floors to 0`);
  }
  return { lots: 0, qty: 0, values, skip: { reason: 'zero_lots', detail: causes.join('; ') } };
}
