/**
 * Charges on Indian index-option orders (NFO = NSE F&O, BFO = BSE F&O), in
 * rupees. Pure functions of an executed order and the `[charges]` rates.
 *
 * For one executed order — side, quantity in units, premium per unit,
 * exchange — with turnover = qty × price (premium turnover, not notional):
 *
 * - brokerage    `brokerage_per_order` flat per executed order; when
 *                `brokerage_pct` > 0, the lower of that and
 *                `brokerage_pct`% × turnover ("₹20 or x%, whichever is lower").
 * - STT          `stt_sell_pct`% of turnover, SELL only (options: on premium;
 *                0.1% from 2024-10-01, 0.15% from 2026-04-01 by the Finance
 *                Act 2026 — the rate is config's).
 * - exchange     `exchange_txn_pct_nse`% (NFO) or `exchange_txn_pct_bse`% (BFO)
 *                of turnover, both sides.
 * - IPFT         NSE's Investor Protection Fund Trust levy, `ipft_pct_nse`% of
 *                premium turnover on NFO, both sides (₹50/crore = 0.0005% since
 *                2023-04-01). Not in `[charges]` yet, so an optional extra rate
 *                here, 0 when absent. Contract notes fold it into the exchange
 *                transaction charge, but it is outside the GST base: so in the
 *                Kite example below, and Upstox's help page says "GST is not
 *                applicable to IPFT" (Zerodha's IPFT page says "+ 18% GST";
 *                the difference is 18% of ₹50/crore).
 * - SEBI fee     `sebi_per_crore` × turnover / 1e7, both sides.
 * - stamp duty   `stamp_buy_pct`% of turnover, BUY only.
 * - GST          `gst_pct`% of (brokerage + exchange charge + SEBI fee) — not
 *                of STT, stamp duty or IPFT.
 * - total        the sum of all of the above.
 *
 * Exchanges: NSE and NFO take the NSE rates, BSE and BFO the BSE rates. The
 * rates are the F&O option rates; cash-segment trades (which Rustro never
 * makes) would need other rates.
 *
 * Rounding: none. Every component is kept at full precision and the total is
 * their exact sum. Why:
 *  - the published worked example this module is tested against — the
 *    virtual contract note in Zerodha's Kite Connect v3 API docs
 *    (`POST /charges/orders`) — gives unrounded figures (exchange charge
 *    0.07575, GST 3.613527, total 23.689427), and we reproduce it exactly;
 *  - value-based components must add up over fills and over a day; rounding
 *    each order (or fill) to the paisa breaks that and drifts;
 *  - a real contract note rounds its own aggregates, not each order (Zerodha's
 *    support page: "STT/CTT charged will be rounded off to the nearest
 *    rupee"), which no per-order function can reproduce.
 * `roundCharges` rounds each component half-up to the paisa and makes the
 * total the sum of the rounded components (so a displayed note adds up) — for
 * display and reports; P&L keeps the exact figures.
 *
 * Partial fills: brokerage is per executed ORDER (an order filled in five
 * parts pays ₹20 once), while STT, exchange, IPFT, SEBI and stamp are linear
 * in turnover, and GST is linear in its base. So an order's charges are those
 * of ONE order of its total filled quantity at its volume-weighted average
 * price: `orderCharges({ side, qty: filledQty, price: avgPrice, exchange })`,
 * or `chargesForFills` from the list of fills (it sums qty × price exactly
 * rather than trusting a rounded average). Never sum `orderCharges` over the
 * fills of one order — that charges brokerage once per fill (and applies the
 * percentage cap per fill instead of per order).
 * - Charges so far on a working order are its charges at the cumulative
 *   filled quantity; what one more fill adds is the difference between the
 *   charges after and before it (`chargesDelta`) — the flat brokerage lands
 *   on the first fill.
 * - To split one order's charges between owners (an exit order closing two
 *   positions, or the realised part of a partly closed position),
 *   `prorateCharges` scales every component by the quantity share; the shares
 *   add back up to the whole.
 */

import type { Exchange, Side } from '../broker/broker.js';
import type { Config } from '../core/config.js';
import { toPaisa } from './money.js';

/**
 * The `[charges]` table, plus NSE's IPFT levy which the table lacks (% of
 * premium turnover on NFO; absent = 0). NSE charges it at ₹50 per crore of
 * option premium (0.0005%) since 2023-04-01.
 */
export type ChargeRates = Config['charges'];

/** One executed order (or its aggregate fill): quantity in units, premium per unit in rupees. */
export type ExecutedOrder = { side: Side; qty: number; price: number; exchange: Exchange };

/** A fill of an order: quantity in units at a premium per unit. */
export type Fill = { qty: number; price: number };

/** Every component of an order's charges, in rupees, unrounded. `turnover` is the base, not a charge. */
export type Charges = {
  turnover: number;
  brokerage: number;
  stt: number;
  exchangeTxn: number;
  ipft: number;
  sebi: number;
  stamp: number;
  gst: number;
  total: number;
};

/** The components that are charges (everything but `turnover` and `total`). */
const COMPONENTS = ['brokerage', 'stt', 'exchangeTxn', 'ipft', 'sebi', 'stamp', 'gst'] as const;

/** A `Charges` built field by field. */
function fields(f: (k: keyof Charges) => number): Charges {
  return {
    turnover: f('turnover'), brokerage: f('brokerage'), stt: f('stt'), exchangeTxn: f('exchangeTxn'),
    ipft: f('ipft'), sebi: f('sebi'), stamp: f('stamp'), gst: f('gst'), total: f('total'),
  };
}

export const NO_CHARGES: Readonly<Charges> = Object.freeze({
  turnover: 0, brokerage: 0, stt: 0, exchangeTxn: 0, ipft: 0, sebi: 0, stamp: 0, gst: 0, total: 0,
});

function isNse(exchange: Exchange): boolean {
  return exchange === 'NFO' || exchange === 'NSE';
}

function checkAmount(name: string, v: number): void {
  if (!Number.isFinite(v) || v < 0) throw new RangeError(`charges: ${name} must be a finite number ≥ 0, got ${v}`);
}

/**
 * The charges of one order of premium `turnover` rupees. An order with no
 * turnover was not executed and costs nothing (no brokerage either).
 */
export function chargesOnTurnover(side: Side, exchange: Exchange, turnover: number, rates: ChargeRates): Charges {
  checkAmount('turnover', turnover);
  if (turnover === 0) return { ...NO_CHARGES };
  const pct = (p: number) => (turnover * p) / 100;
  const brokerage = rates.brokerage_pct > 0
    ? Math.min(rates.brokerage_per_order, pct(rates.brokerage_pct))
    : rates.brokerage_per_order;
  const stt = side === 'SELL' ? pct(rates.stt_sell_pct) : 0;
  const exchangeTxn = pct(isNse(exchange) ? rates.exchange_txn_pct_nse : rates.exchange_txn_pct_bse);
  const ipft = isNse(exchange) ? pct(rates.ipft_pct_nse) : 0;
  const sebi = (turnover * rates.sebi_per_crore) / 1e7;
  const stamp = side === 'BUY' ? pct(rates.stamp_buy_pct) : 0;
  const gst = ((brokerage + exchangeTxn + sebi) * rates.gst_pct) / 100;
  const total = brokerage + stt + exchangeTxn + ipft + sebi + stamp + gst;
  return { turnover, brokerage, stt, exchangeTxn, ipft, sebi, stamp, gst, total };
}

/**
 * The charges of one executed order: for an order filled in parts, pass its
 * total filled quantity and average price (see the header), or use
 * `chargesForFills`.
 */
export function orderCharges(order: ExecutedOrder, rates: ChargeRates): Charges {
  checkAmount('qty', order.qty);
  checkAmount('price', order.price);
  return chargesOnTurnover(order.side, order.exchange, order.qty * order.price, rates);
}

/** The charges of one order from its fills (one brokerage for the order), with its filled quantity and average price. */
export function chargesForFills(
  side: Side,
  exchange: Exchange,
  fills: readonly Fill[],
  rates: ChargeRates,
): Charges & { qty: number; avgPrice: number } {
  let qty = 0;
  let turnover = 0;
  for (const f of fills) {
    checkAmount('fill qty', f.qty);
    checkAmount('fill price', f.price);
    qty += f.qty;
    turnover += f.qty * f.price;
  }
  return { ...chargesOnTurnover(side, exchange, turnover, rates), qty, avgPrice: qty > 0 ? turnover / qty : 0 };
}

/** What one more fill adds to an order's charges: charges at the new cumulative fill minus those at the old one. */
export function chargesDelta(before: Charges, after: Charges): Charges {
  return fields((k) => after[k] - before[k]);
}

/** Component-wise sum (e.g. the two legs of a round trip, or a day). */
export function sumCharges(list: readonly Charges[]): Charges {
  return fields((k) => list.reduce((acc, c) => acc + c[k], 0));
}

/** The share `part / whole` (by quantity) of an order's charges, every component scaled alike. */
export function prorateCharges(c: Charges, part: number, whole: number): Charges {
  checkAmount('part', part);
  if (!Number.isFinite(whole) || whole <= 0 || part > whole) {
    throw new RangeError(`charges: prorate needs 0 ≤ part ≤ whole and whole > 0, got ${part} of ${whole}`);
  }
  const f = part / whole;
  return fields((k) => c[k] * f);
}

export type RoundTrip = { exchange: Exchange; qty: number; buyPrice: number; sellPrice: number };

/** A buy and a sell of the same quantity: each leg is one executed order (two brokerages). */
export function roundTripCharges(trip: RoundTrip, rates: ChargeRates): { buy: Charges; sell: Charges; total: Charges } {
  const buy = orderCharges({ side: 'BUY', qty: trip.qty, price: trip.buyPrice, exchange: trip.exchange }, rates);
  const sell = orderCharges({ side: 'SELL', qty: trip.qty, price: trip.sellPrice, exchange: trip.exchange }, rates);
  return { buy, sell, total: sumCharges([buy, sell]) };
}


/** Every component rounded to the paisa, the total being the sum of the rounded components (a note that adds up). For display. */
export function roundCharges(c: Charges): Charges {
  const r = fields((k) => (k === 'total' ? 0 : toPaisa(c[k])));
  r.total = toPaisa(COMPONENTS.reduce((acc, k) => acc + r[k], 0));
  return r;
}
