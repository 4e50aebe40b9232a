/**
 * The simulator's market, as the SmartAPI-compatible server and the backtest
 * see it. Pure: no sockets, no timers — time moves only when the caller asks
 * (`advanceTo`), so the same seed and data give the same ticks every time.
 * Prices in rupees, times in epoch ms; the server converts to wire units.
 */

export type SimSegment = 'NSE' | 'NFO' | 'BSE' | 'BFO';
export type SimInstrumentType = 'AMXIDX' | 'OPTIDX' | 'FUTIDX';

export type SimInstrument = {
  token: string;
  /** Trading symbol as the broker's master spells it, e.g. NIFTY04JAN2421700CE, "Nifty 50". */
  symbol: string;
  /** NIFTY, BANKNIFTY, SENSEX, INDIA VIX. */
  name: string;
  segment: SimSegment;
  type: SimInstrumentType;
  /** IST date YYYY-MM-DD; undefined for indices. */
  expiry?: string;
  strike?: number;
  optionType?: 'CE' | 'PE';
  lotSize: number;
  /** Rupees (0.05 for index options; 0 for indices). */
  tickSize: number;
  /** Exchange freeze quantity in units, where known. */
  freezeQty?: number;
  /** For options and futures: the token of the underlying index. */
  underlyingToken?: string;
};

export type SimLevel = { price: number; qty: number; orders: number };

/** The full state of one instrument at one moment: what a SnapQuote carries. */
export type SimQuote = {
  token: string;
  /** Exchange timestamp, epoch ms. */
  ts: number;
  ltp: number;
  lastQty: number;
  /** Cumulative units traded today (0 for indices). */
  volume: number;
  avgPrice: number;
  open: number;
  high: number;
  low: number;
  /** Previous session's close. */
  prevClose: number;
  oi: number;
  /** Best five, best first; empty levels are zeros. Indices have none. */
  bids: readonly SimLevel[];
  asks: readonly SimLevel[];
  totBuyQty: number;
  totSellQty: number;
  upperCircuit: number;
  lowerCircuit: number;
  high52: number;
  low52: number;
  lastTradeTs: number;
};

export type SimBar = { ts: number; open: number; high: number; low: number; close: number; volume: number };

export interface SimMarket {
  /** The IST trading day being replayed, YYYY-MM-DD. */
  readonly day: string;
  readonly openMs: number;
  readonly closeMs: number;
  /** Everything the instrument master lists for this day: indices, options (and futures) with real lot and tick sizes. */
  instruments(): readonly SimInstrument[];
  /**
   * Moves the market forward to `toMs` (never back), calling `onTick` for every
   * tick with ts in (previous time, toMs], in time order. Only tokens in
   * `tokens` are priced and reported (options are priced off their underlying's
   * ticks), so an unsubscribed chain costs nothing. Pass a new set when the
   * tokens change, never the same one changed in place: a call with the same
   * set goes on from where the last one left each feed.
   */
  advanceTo(toMs: number, tokens: ReadonlySet<string>, onTick: (q: SimQuote) => void): void;
  /**
   * When the next tick of `tokens` after the market's current time is
   * (Infinity if none today): a replay skips the steps before it. The same
   * set-identity rule as `advanceTo`, whose next call goes on from here.
   */
  nextTickAt(tokens: ReadonlySet<string>): number;
  /** The latest state of one instrument at the market's current time. */
  quote(token: string): SimQuote | undefined;
  /** Source 1-minute bars of an index token with bar start in [fromMs, toMs), across all bundled days up to the replayed day. */
  minuteBars(token: string, fromMs: number, toMs: number): SimBar[];
}
