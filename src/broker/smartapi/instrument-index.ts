/**
 * Lookups over the day's instruments: by token, the index token of an
 * underlying (with the §10 built-in table for the five index rows, because
 * the master's index rows are UNCERTAIN), options by
 * (underlying, expiry, strike, CE/PE), futures, and expiries.
 */
import type { Exchange, Instrument, InstrumentRef, OptionType } from '../broker.js';

/** §10: index rows as quoted in public code; used when the master lacks them. */
export const BUILTIN_INDICES: readonly Instrument[] = [
  { token: '99926000', symbol: 'Nifty 50', name: 'NIFTY', exchange: 'NSE', kind: 'index', lotSize: 1, tickSize: 0 },
  { token: '99926009', symbol: 'Nifty Bank', name: 'BANKNIFTY', exchange: 'NSE', kind: 'index', lotSize: 1, tickSize: 0 },
  { token: '99926017', symbol: 'India VIX', name: 'INDIA VIX', exchange: 'NSE', kind: 'index', lotSize: 1, tickSize: 0 },
  { token: '99926037', symbol: 'Nifty Fin Service', name: 'FINNIFTY', exchange: 'NSE', kind: 'index', lotSize: 1, tickSize: 0 },
  { token: '99919000', symbol: 'SENSEX', name: 'SENSEX', exchange: 'BSE', kind: 'index', lotSize: 1, tickSize: 0 },
];

/** Code-unit order (ISO dates, CE/PE): much cheaper than localeCompare on 100k+ rows. */
const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
const strikeKey = (strike: number): string => (Math.round(strike * 100) / 100).toFixed(2);
const optionKey = (name: string, expiry: string, strike: number, type: OptionType): string => `${name.toUpperCase()}|${expiry}|${strikeKey(strike)}|${type}`;

export type SearchQuery = { name: string; strike?: number; optionType?: OptionType; expiry?: string; kind?: Instrument['kind'] };

export class InstrumentIndex {
  private readonly byRef = new Map<string, Instrument>();
  private readonly byTokenOnly = new Map<string, Instrument>();
  private readonly bySymbol = new Map<string, Instrument>();
  private readonly indices = new Map<string, Instrument>();
  private readonly options = new Map<string, Instrument>();
  private readonly chains = new Map<string, Instrument[]>();
  private readonly futuresBy = new Map<string, Instrument[]>();
  private readonly expiriesBy = new Map<string, string[]>();
  readonly size: number;

  constructor(readonly all: readonly Instrument[]) {
    const expirySets = new Map<string, Set<string>>();
    for (const i of all) {
      this.byRef.set(`${i.exchange}:${i.token}`, i);
      if (!this.byTokenOnly.has(i.token)) this.byTokenOnly.set(i.token, i);
      this.bySymbol.set(`${i.exchange}:${i.symbol}`, i);
      const name = i.name.toUpperCase();
      if (i.kind === 'index') {
        const builtin = BUILTIN_INDICES.find((b) => b.name === name);
        // Several index rows may share a name; the §10 token wins when present.
        if (!this.indices.has(name) || builtin?.token === i.token) this.indices.set(name, i);
      } else if (i.kind === 'option' && i.expiry !== undefined && i.strike !== undefined && i.optionType !== undefined) {
        this.options.set(optionKey(name, i.expiry, i.strike, i.optionType), i);
        const ck = `${name}|${i.expiry}`;
        let chain = this.chains.get(ck);
        if (chain === undefined) this.chains.set(ck, (chain = []));
        chain.push(i);
        let set = expirySets.get(name);
        if (set === undefined) expirySets.set(name, (set = new Set()));
        set.add(i.expiry);
      } else if (i.kind === 'future') {
        let list = this.futuresBy.get(name);
        if (list === undefined) this.futuresBy.set(name, (list = []));
        list.push(i);
      }
    }
    for (const b of BUILTIN_INDICES) if (!this.indices.has(b.name)) this.indices.set(b.name, b);
    for (const chain of this.chains.values()) chain.sort((a, b) => a.strike! - b.strike! || cmp(a.optionType!, b.optionType!));
    for (const list of this.futuresBy.values()) list.sort((a, b) => cmp(a.expiry!, b.expiry!));
    for (const [name, set] of expirySets) this.expiriesBy.set(name, [...set].sort());
    this.size = all.length;
  }

  get(ref: InstrumentRef): Instrument | undefined {
    return this.byRef.get(`${ref.exchange}:${ref.token}`);
  }

  /**
   * A derivative (NFO/BFO) this master does not list: an expired contract, as
   * Rustro only ever picks contracts from a master. Its candles are not asked
   * for and its subscription is dropped each morning.
   */
  expired(ref: InstrumentRef): boolean {
    return (ref.exchange === 'NFO' || ref.exchange === 'BFO') && this.get(ref) === undefined;
  }

  /** By token alone (tokens are unique per exchange; the first one seen wins across exchanges). */
  byToken(token: string): Instrument | undefined {
    return this.byTokenOnly.get(token) ?? BUILTIN_INDICES.find((b) => b.token === token);
  }

  bySymbolOn(exchange: Exchange | string, symbol: string): Instrument | undefined {
    return this.bySymbol.get(`${exchange.toUpperCase()}:${symbol}`);
  }

  /** The index instrument of an underlying (NIFTY, BANKNIFTY, SENSEX, INDIA VIX, FINNIFTY…). */
  index(name: string): Instrument | undefined {
    return this.indices.get(name.toUpperCase());
  }

  indexToken(name: string): string | undefined {
    return this.index(name)?.token;
  }

  option(underlying: string, expiry: string, strike: number, type: OptionType): Instrument | undefined {
    return this.options.get(optionKey(underlying, expiry, strike, type));
  }

  /** Every option of one expiry, by strike then CE before PE. */
  chain(underlying: string, expiry: string): readonly Instrument[] {
    return this.chains.get(`${underlying.toUpperCase()}|${expiry}`) ?? [];
  }

  /** Futures of an underlying, nearest expiry first. */
  futures(underlying: string): readonly Instrument[] {
    return this.futuresBy.get(underlying.toUpperCase()) ?? [];
  }

  /** Option expiries of an underlying, ascending (YYYY-MM-DD). */
  expiries(underlying: string): readonly string[] {
    return this.expiriesBy.get(underlying.toUpperCase()) ?? [];
  }

  /** The first option expiry on or after `date` (YYYY-MM-DD). */
  nearestExpiry(underlying: string, onOrAfter: string): string | undefined {
    const list = this.expiries(underlying);
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (list[mid]! < onOrAfter) lo = mid + 1;
      else hi = mid;
    }
    return list[lo];
  }

  /** Instruments of an underlying matching the optional strike / type / expiry / kind, sorted for display. */
  search(q: SearchQuery): Instrument[] {
    const name = q.name.toUpperCase();
    let rows: Instrument[];
    if (q.expiry !== undefined && (q.kind === undefined || q.kind === 'option')) rows = [...this.chain(name, q.expiry)];
    else rows = this.all.filter((i) => i.name.toUpperCase() === name);
    if (rows.length === 0 && q.kind === undefined && q.strike === undefined && q.optionType === undefined) {
      const idx = this.index(name);
      if (idx !== undefined) rows = [idx];
    }
    const out = rows.filter(
      (i) =>
        (q.kind === undefined || i.kind === q.kind) &&
        (q.expiry === undefined || i.expiry === q.expiry) &&
        (q.strike === undefined || (i.strike !== undefined && Math.abs(i.strike - q.strike) < 0.005)) &&
        (q.optionType === undefined || i.optionType === q.optionType),
    );
    const kindOrder = { index: 0, equity: 1, future: 2, option: 3 } as const;
    return out.sort(
      (a, b) =>
        kindOrder[a.kind] - kindOrder[b.kind] ||
        cmp(a.expiry ?? '', b.expiry ?? '') ||
        (a.strike ?? 0) - (b.strike ?? 0) ||
        cmp(a.optionType ?? '', b.optionType ?? '') ||
        cmp(a.exchange, b.exchange),
    );
  }
}
