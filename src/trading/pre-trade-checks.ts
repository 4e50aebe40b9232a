/**
 * The nine checks before any order (SPEC §4), as one pure function over a
 * snapshot the caller assembles: no clock, no I/O, so a refusal replays
 * exactly. The checks run in the SPEC's order and the first failure is
 * returned with its named reason (`OrderRefused.check`), a human sentence and
 * the values it judged, so the ledger answers "why was this not sent?".
 *
 *  1. session       the trading day and session are open (the caller decides
 *                   from the calendar: `sessionOpen`).
 *  2. entry_window  entries only: inside the strategy's entry window.
 *  3. instrument    known; an index option on NFO/BFO with a positive whole
 *                   lot size and a positive tick size; an expiry, not before
 *                   `today` (expired = expiry < today; expiry day trades).
 *  4. quantity      a positive whole multiple of the lot size, at most the
 *                   freeze quantity where known (the port's `freezeQty` is the
 *                   largest quantity one order may carry).
 *  5. price         LIMIT: positive, on the tick grid (tolerance 1e-6 of a
 *                   tick, as the adapter), within the circuit limits where
 *                   known, and within `fatFingerPct` % of the last price
 *                   (|price − ltp| / ltp ≤ pct; exactly on the band passes).
 *                   Without a usable last price the band is not judged here:
 *                   check 6 refuses the order as `data_fresh`, the root cause.
 *                   MARKET: no price to put on a grid or in a band (the price
 *                   field must only be a finite number ≥ 0); a MARKET ENTRY is
 *                   refused when the last price sits at the circuit limit on
 *                   its side (a buy at/above the upper circuit, a sell at/below
 *                   the lower) — it would fill at the limit. A MARKET EXIT is
 *                   never refused for a circuit: it queues at the limit, and
 *                   holding the position is not safer.
 *  6. data_fresh    the last tick is at most `maxQuoteAgeMs` old (exactly the
 *                   maximum passes) and carries a usable last price (> 0).
 *                   MARKET EXITS skip it: a stop, the end of day or the kill
 *                   switch must be able to close a position when the feed is
 *                   down, and a MARKET order needs no price; refusing leaves an
 *                   open long option exactly when nothing can be seen. A LIMIT
 *                   exit still needs a fresh price (its limit and band come
 *                   from it); the exit ladder's MARKET fallback covers it.
 *                   MARKET ENTRIES are not exempt: never enter blind.
 *  7. funds         BUY entries: premium + estimated charges ≤ available funds;
 *                   premium = qty × price (LIMIT), or qty × the worst price a
 *                   MARKET buy should see (the last price raised by the
 *                   fat-finger band, capped at the upper circuit where known).
 *                   SELL entries are refused here: selling to open needs
 *                   margin, which these checks cannot see (Rustro only buys
 *                   options). Exits skip it: selling a held option needs no
 *                   funds.
 *  8. risk          entries only: no risk rule blocks entries (halt, daily
 *                   loss, consecutive losses, concurrency, cooldown — decided
 *                   by the risk component: `riskBlocksEntries`).
 *  9. idempotency   the intent key was never used (`keyUsed`, from the order
 *                   book), and is not empty.
 *
 * Exits skip entry_window, risk and funds — an exit must always be possible —
 * but never session, instrument, quantity, price or idempotency (a malformed
 * or duplicate exit is a bug, and sending it helps nobody).
 */
import type { Instrument } from '../broker/broker.js';
import type { Payload } from '../core/events.js';

export type CheckName = Payload<'OrderRefused'>['check'];

/** The nine, in the order they run. */
export const CHECK_ORDER: readonly CheckName[] = [
  'session',
  'entry_window',
  'instrument',
  'quantity',
  'price',
  'data_fresh',
  'funds',
  'risk',
  'idempotency',
];

export type CheckValues = Record<string, number | string | boolean | null>;

export type OrderCheckInput = {
  purpose: 'entry' | 'exit';
  /** Epoch ms, for the quote's age. */
  now: number;
  /** Trading day and session open now (the caller decides from the calendar). */
  sessionOpen: boolean;
  /** Inside the strategy's entry window (ignored for exits). */
  inEntryWindow: boolean;
  instrument: Instrument | undefined;
  /** IST date, YYYY-MM-DD. */
  today: string;
  side: 'BUY' | 'SELL';
  orderType: 'LIMIT' | 'MARKET';
  /** Units. */
  qty: number;
  /** Rupees; for MARKET a placeholder (0). */
  price: number;
  /** The instrument's last traded price, rupees. */
  ltp: number | undefined;
  /** When that price arrived, epoch ms (same clock as `now`). */
  lastTickAt: number | undefined;
  maxQuoteAgeMs: number;
  /** The band around the last price a LIMIT price must fall in, in percent (5 = ±5 %). */
  fatFingerPct: number;
  upperCircuit?: number;
  lowerCircuit?: number;
  /** Rupees available for new premium. */
  availableFunds: number;
  /** Rupees: brokerage, taxes and fees of this order. */
  estimatedCharges: number;
  riskBlocksEntries: boolean;
  riskReason?: string;
  /** The order book has seen `key` (intent id or tag) before. */
  keyUsed: boolean;
  key: string;
};

export type CheckResult =
  /** `skipped`: checks not run for this order (exits: entry_window, funds, risk; MARKET exits also data_fresh). */
  | { ok: true; skipped: CheckName[] }
  | { ok: false; check: CheckName; detail: string; values: CheckValues };

/** A price is on the grid when it is a whole number of ticks, within 1e-6 of a tick (float tolerance). */
export function onTickGrid(price: number, tickSize: number): boolean {
  const steps = price / tickSize;
  return Math.abs(steps - Math.round(steps)) <= 1e-6;
}

/** |price − ltp| ≤ ltp·pct/100, with a relative tolerance so a price exactly on the band passes. */
export function withinBand(price: number, ltp: number, pct: number): boolean {
  return Math.abs(price - ltp) <= (ltp * pct) / 100 + 1e-9 * Math.max(1, ltp);
}

const F_AND_O: ReadonlySet<string> = new Set(['NFO', 'BFO']);
const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

type Failure = { detail: string; values: CheckValues };
type Check = (i: OrderCheckInput) => Failure | undefined;

const usableLtp = (ltp: number | undefined): ltp is number => ltp !== undefined && Number.isFinite(ltp) && ltp > 0;

const checks: Record<CheckName, Check> = {
  session: (i) =>
    i.sessionOpen ? undefined : { detail: 'the market is closed (not a trading day, or outside the session)', values: { sessionOpen: false, today: i.today, now: i.now } },

  entry_window: (i) =>
    i.inEntryWindow ? undefined : { detail: 'outside the entry window', values: { inEntryWindow: false, now: i.now } },

  instrument: (i) => {
    const ins = i.instrument;
    if (ins === undefined) return { detail: 'unknown instrument', values: { instrument: null } };
    const values: CheckValues = {
      token: ins.token,
      symbol: ins.symbol,
      exchange: ins.exchange,
      kind: ins.kind,
      expiry: ins.expiry ?? null,
      today: i.today,
      lotSize: ins.lotSize,
      tickSize: ins.tickSize,
    };
    if (ins.kind !== 'option' || !F_AND_O.has(ins.exchange)) return { detail: `${ins.symbol} is not an index option on NFO/BFO (${ins.kind} on ${ins.exchange})`, values };
    if (!(Number.isInteger(ins.lotSize) && ins.lotSize > 0)) return { detail: `${ins.symbol} has no valid lot size (${ins.lotSize})`, values };
    if (!(Number.isFinite(ins.tickSize) && ins.tickSize > 0)) return { detail: `${ins.symbol} has no valid tick size (${ins.tickSize})`, values };
    if (ins.expiry === undefined || !ISO_DATE.test(ins.expiry)) return { detail: `${ins.symbol} has no valid expiry (${ins.expiry ?? 'none'})`, values };
    if (ins.expiry < i.today) return { detail: `${ins.symbol} expired on ${ins.expiry}`, values };
    return undefined;
  },

  quantity: (i) => {
    const ins = i.instrument!; // the instrument check passed
    const values: CheckValues = { qty: i.qty, lotSize: ins.lotSize, freezeQty: ins.freezeQty ?? null };
    if (!(Number.isInteger(i.qty) && i.qty > 0)) return { detail: `quantity must be a positive whole number of units, got ${i.qty}`, values };
    if (i.qty % ins.lotSize !== 0) return { detail: `quantity ${i.qty} is not a multiple of the lot size ${ins.lotSize}`, values };
    if (ins.freezeQty !== undefined && i.qty > ins.freezeQty) return { detail: `quantity ${i.qty} exceeds the freeze quantity ${ins.freezeQty}`, values };
    return undefined;
  },

  price: (i) => {
    const ins = i.instrument!;
    const upper = i.upperCircuit ?? null;
    const lower = i.lowerCircuit ?? null;
    const values: CheckValues = {
      orderType: i.orderType,
      side: i.side,
      price: i.price,
      ltp: i.ltp ?? null,
      tickSize: ins.tickSize,
      fatFingerPct: i.fatFingerPct,
      upperCircuit: upper,
      lowerCircuit: lower,
    };
    if (i.orderType === 'MARKET') {
      if (!(Number.isFinite(i.price) && i.price >= 0)) return { detail: `price must be a finite number ≥ 0, got ${i.price}`, values };
      if (i.purpose === 'exit' || !usableLtp(i.ltp)) return undefined; // no last price: data_fresh refuses the entry
      if (i.side === 'BUY' && upper !== null && i.ltp >= upper) return { detail: `the last price ${i.ltp} is at the upper circuit ${upper}: a market buy would fill at the limit`, values };
      if (i.side === 'SELL' && lower !== null && i.ltp <= lower) return { detail: `the last price ${i.ltp} is at the lower circuit ${lower}: a market sell would fill at the limit`, values };
      return undefined;
    }
    if (!(Number.isFinite(i.price) && i.price > 0)) return { detail: `a LIMIT price must be a positive number, got ${i.price}`, values };
    if (!onTickGrid(i.price, ins.tickSize)) return { detail: `price ${i.price} is not a multiple of the tick size ${ins.tickSize}`, values };
    if (upper !== null && i.price > upper) return { detail: `price ${i.price} is above the upper circuit ${upper}`, values };
    if (lower !== null && i.price < lower) return { detail: `price ${i.price} is below the lower circuit ${lower}`, values };
    if (!usableLtp(i.ltp)) return undefined; // the band needs a last price: data_fresh refuses the order next
    if (!withinBand(i.price, i.ltp, i.fatFingerPct)) {
      const pct = (Math.abs(i.price - i.ltp) / i.ltp) * 100;
      return { detail: `price ${i.price} is ${pct.toFixed(2)}% from the last price ${i.ltp}, beyond the fat-finger band of ${i.fatFingerPct}%`, values: { ...values, deviationPct: pct } };
    }
    return undefined;
  },

  data_fresh: (i) => {
    const age = i.lastTickAt === undefined ? null : i.now - i.lastTickAt;
    const values: CheckValues = { ltp: i.ltp ?? null, lastTickAt: i.lastTickAt ?? null, now: i.now, ageMs: age, maxQuoteAgeMs: i.maxQuoteAgeMs };
    if (age === null || !usableLtp(i.ltp)) return { detail: 'no last price for the instrument', values };
    if (!(age <= i.maxQuoteAgeMs)) return { detail: `the last price is ${age} ms old, older than ${i.maxQuoteAgeMs} ms`, values };
    return undefined;
  },

  funds: (i) => {
    const values: CheckValues = { side: i.side, qty: i.qty, availableFunds: i.availableFunds, estimatedCharges: i.estimatedCharges };
    if (i.side === 'SELL') return { detail: 'selling to open needs margin, which is not checked: refused', values };
    let refPrice = i.price;
    if (i.orderType === 'MARKET') {
      refPrice = i.ltp! * (1 + i.fatFingerPct / 100); // data_fresh passed: ltp is usable
      if (i.upperCircuit !== undefined) refPrice = Math.min(refPrice, i.upperCircuit);
    }
    const premium = i.qty * refPrice;
    const need = premium + i.estimatedCharges;
    const v = { ...values, refPrice, premium, required: need };
    if (!(Number.isFinite(need) && i.estimatedCharges >= 0)) return { detail: `the cost cannot be estimated (premium ${premium}, charges ${i.estimatedCharges})`, values: v };
    if (!(need <= i.availableFunds)) return { detail: `premium ${premium.toFixed(2)} + charges ${i.estimatedCharges.toFixed(2)} = ${need.toFixed(2)} exceeds the available ${i.availableFunds.toFixed(2)}`, values: v };
    return undefined;
  },

  risk: (i) =>
    i.riskBlocksEntries ? { detail: `a risk limit blocks entries${i.riskReason === undefined ? '' : `: ${i.riskReason}`}`, values: { riskBlocksEntries: true, riskReason: i.riskReason ?? null } } : undefined,

  idempotency: (i) => {
    if (i.key === '') return { detail: 'no idempotency key', values: { key: '', keyUsed: i.keyUsed } };
    return i.keyUsed ? { detail: `the key ${i.key} was already used: an order with it was recorded before`, values: { key: i.key, keyUsed: true } } : undefined;
  },
};

/** NaN and ±Infinity as text: the ledger's schema takes finite numbers only, and a refusal must always be recordable. */
function ledgerSafe(values: CheckValues): CheckValues {
  const out: CheckValues = {};
  for (const [k, v] of Object.entries(values)) out[k] = typeof v === 'number' && !Number.isFinite(v) ? String(v) : v;
  return out;
}

/** Checks that do not run for this order (see the header for why). */
export function skippedChecks(i: Pick<OrderCheckInput, 'purpose' | 'orderType'>): CheckName[] {
  if (i.purpose === 'entry') return [];
  return i.orderType === 'MARKET' ? ['entry_window', 'data_fresh', 'funds', 'risk'] : ['entry_window', 'funds', 'risk'];
}

/** Runs the nine checks in order; the first failure, or ok. */
export function checkOrder(i: OrderCheckInput): CheckResult {
  const skipped = skippedChecks(i);
  for (const name of CHECK_ORDER) {
    if (skipped.includes(name)) continue;
    const f = checks[name](i);
    if (f !== undefined) return { ok: false, check: name, detail: f.detail, values: ledgerSafe(f.values) };
  }
  return { ok: true, skipped };
}
