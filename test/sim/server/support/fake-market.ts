/**
 * A small deterministic SimMarket for the server's tests and bench, until the
 * real market lands. Every priced token ticks at openMs + k·periodMs (k ≥ 1),
 * tokens in instrument order within one timestamp; prices are a closed-form
 * function of (token, k), so the ticks do not depend on how time is stepped.
 * Minute bars of index tokens: the n-th session minute (counted over all
 * bundled days) has open 20000+n, high +1, low −1, close +0.5, volume 1.
 */
import { istToMillis } from '../../../../src/core/clock.js';
import type { SimBar, SimInstrument, SimMarket, SimQuote } from '../../../../src/sim/market/types.js';

export type FakeMarketOptions = {
  day?: string;
  periodMs?: number;
  /** Extra option instruments (for load tests). */
  extraOptions?: number;
  /** Override the LTP of a token at tick k (tests script prices with this). */
  price?: (token: string, k: number) => number | undefined;
  /** Bundled days before `day` for minute bars. */
  history?: string[];
};

export const NIFTY = '99926000';
export const BANKNIFTY = '99926009';
export const CE = '43650';
export const PE = '43651';

export class FakeMarket implements SimMarket {
  readonly day: string;
  readonly openMs: number;
  readonly closeMs: number;
  readonly periodMs: number;
  private readonly list: SimInstrument[];
  private readonly order = new Map<string, number>();
  private now: number;
  private readonly days: string[];
  priceOverride: FakeMarketOptions['price'];
  advanceCalls = 0;

  constructor(o: FakeMarketOptions = {}) {
    this.day = o.day ?? '2024-01-02';
    this.openMs = istToMillis(this.day, '09:15');
    this.closeMs = istToMillis(this.day, '15:30');
    this.periodMs = o.periodMs ?? 1000;
    this.now = this.openMs;
    this.days = [...(o.history ?? ['2023-12-28', '2023-12-29', '2024-01-01']), this.day];
    this.priceOverride = o.price;
    const opt = (token: string, strike: number, type: 'CE' | 'PE'): SimInstrument => ({
      token,
      symbol: `NIFTY04JAN24${strike}${type}`,
      name: 'NIFTY',
      segment: 'NFO',
      type: 'OPTIDX',
      expiry: '2024-01-04',
      strike,
      optionType: type,
      lotSize: 50,
      tickSize: 0.05,
      freezeQty: 1800,
      underlyingToken: NIFTY,
    });
    this.list = [
      { token: NIFTY, symbol: 'Nifty 50', name: 'NIFTY', segment: 'NSE', type: 'AMXIDX', lotSize: 1, tickSize: 0 },
      { token: BANKNIFTY, symbol: 'Nifty Bank', name: 'BANKNIFTY', segment: 'NSE', type: 'AMXIDX', lotSize: 1, tickSize: 0 },
      { token: '99919000', symbol: 'SENSEX', name: 'SENSEX', segment: 'BSE', type: 'AMXIDX', lotSize: 1, tickSize: 0 },
      opt(CE, 21700, 'CE'),
      opt(PE, 21700, 'PE'),
    ];
    for (let i = 0; i < (o.extraOptions ?? 0); i++) this.list.push(opt(String(50000 + i), 20000 + 50 * (i >> 1), i % 2 === 0 ? 'CE' : 'PE'));
    this.list.forEach((x, i) => this.order.set(x.token, i));
  }

  instruments(): readonly SimInstrument[] {
    return this.list;
  }

  /** LTP of `token` at tick k (k = 0: the open). */
  ltpAt(token: string, k: number): number {
    const o = this.priceOverride?.(token, k);
    if (o !== undefined) return o;
    const i = this.order.get(token) ?? 0;
    const inst = this.list[i]!;
    const base = inst.type === 'AMXIDX' ? 21000 + i * 1000 : 100 + (i % 50);
    const wiggle = ((Math.imul(k + 1, 2654435761) ^ Math.imul(i + 7, 40503)) >>> 0) % 41;
    return Math.round((base + (wiggle - 20) * (inst.type === 'AMXIDX' ? 0.5 : 0.05)) * 100) / 100;
  }

  advanceTo(toMs: number, tokens: ReadonlySet<string>, onTick: (q: SimQuote) => void): void {
    this.advanceCalls++;
    if (toMs < this.now) throw new RangeError('FakeMarket: time went back');
    const from = this.now;
    this.now = toMs;
    if (tokens.size === 0) return;
    const sorted = [...tokens].filter((t) => this.order.has(t)).sort((a, b) => this.order.get(a)! - this.order.get(b)!);
    const k0 = Math.floor((from - this.openMs) / this.periodMs) + 1;
    const k1 = Math.floor((Math.min(toMs, this.closeMs) - this.openMs) / this.periodMs);
    for (let k = Math.max(1, k0); k <= k1; k++) for (const t of sorted) onTick(this.quoteAt(t, k));
  }

  nextTickAt(tokens: ReadonlySet<string>): number {
    if (![...tokens].some((t) => this.order.has(t))) return Infinity;
    const at = this.openMs + (Math.max(0, Math.floor((this.now - this.openMs) / this.periodMs)) + 1) * this.periodMs;
    return at <= this.closeMs ? at : Infinity;
  }

  quote(token: string): SimQuote | undefined {
    if (!this.order.has(token)) return undefined;
    return this.quoteAt(token, Math.max(0, Math.floor((Math.min(this.now, this.closeMs) - this.openMs) / this.periodMs)));
  }

  quoteAt(token: string, k: number): SimQuote {
    const inst = this.list[this.order.get(token)!]!;
    const ts = this.openMs + k * this.periodMs;
    const ltp = this.ltpAt(token, k);
    const isIdx = inst.type === 'AMXIDX';
    const lvl = (side: number, n: number) => ({ price: Math.round((ltp + side * 0.05 * (n + 1)) * 100) / 100, qty: 50 * (n + 1), orders: n + 1 });
    const prevClose = this.ltpAt(token, 0) - (isIdx ? 10 : 1);
    return {
      token,
      ts,
      ltp,
      lastQty: isIdx ? 0 : 50 + (k % 4) * 50,
      volume: isIdx ? 0 : k * 100,
      avgPrice: isIdx ? 0 : ltp - 0.1,
      open: this.ltpAt(token, 0),
      high: ltp + (isIdx ? 20 : 2),
      low: ltp - (isIdx ? 20 : 2),
      prevClose,
      oi: isIdx ? 0 : 1_000_000 + k,
      bids: isIdx ? [] : [0, 1, 2, 3, 4].map((n) => lvl(-1, n)),
      asks: isIdx ? [] : [0, 1, 2, 3, 4].map((n) => lvl(1, n)),
      totBuyQty: isIdx ? 0 : 605_175,
      totSellQty: isIdx ? 0 : 512_000,
      upperCircuit: isIdx ? 0 : Math.round(prevClose * 300) / 100,
      lowerCircuit: isIdx ? 0 : 0.05,
      high52: isIdx ? 22000 : 0,
      low52: isIdx ? 17000 : 0,
      lastTradeTs: ts - 1000,
    };
  }

  minuteBars(token: string, fromMs: number, toMs: number): SimBar[] {
    const inst = this.list[this.order.get(token) ?? -1];
    if (inst === undefined || inst.type !== 'AMXIDX') return [];
    const out: SimBar[] = [];
    let n = 0;
    for (const d of this.days) {
      const open = istToMillis(d, '09:15');
      for (let m = 0; m < 375; m++, n++) {
        const ts = open + m * 60_000;
        if (ts < fromMs || ts >= toMs) continue;
        const o = 20000 + n;
        out.push({ ts, open: o, high: o + 1, low: o - 1, close: o + 0.5, volume: 1 });
      }
    }
    return out;
  }
}
