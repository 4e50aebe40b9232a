/**
 * REST market data (§7) and account reads (§5, §6): quotes, historical
 * candles, funds and positions, mapped to the port's types.
 */
import type { Candle, CandleInterval, CandleRequest, Funds, InstrumentRef, Position, Quote, QuoteMode } from '../broker.js';
import type { Logger } from '../../core/log.js';
import { toIst } from '../../core/clock.js';
import { SmartApiError } from './errors.js';
import { asExchange } from './order-mapping.js';
import type { SmartApiRest } from './rest.js';
import { candleRows, listOf, positionRow, quoteData, rms, type QuoteItem } from './schemas.js';

const INTERVALS: Record<CandleInterval, { name: string; maxDays: number }> = {
  '1m': { name: 'ONE_MINUTE', maxDays: 30 },
  '3m': { name: 'THREE_MINUTE', maxDays: 60 },
  '5m': { name: 'FIVE_MINUTE', maxDays: 100 },
  '10m': { name: 'TEN_MINUTE', maxDays: 100 },
  '15m': { name: 'FIFTEEN_MINUTE', maxDays: 200 },
  '30m': { name: 'THIRTY_MINUTE', maxDays: 200 },
  '1h': { name: 'ONE_HOUR', maxDays: 400 },
  '1d': { name: 'ONE_DAY', maxDays: 2000 },
};

/** Tokens per quote request (§7.1). */
export const QUOTE_BATCH = 50;

const DAY_MS = 86_400_000;
const fmt = (ms: number): string => toIst(ms).toFormat('yyyy-MM-dd HH:mm');

export class SmartApiMarketData {
  constructor(
    private readonly rest: SmartApiRest,
    private readonly log?: Logger,
  ) {}

  async funds(): Promise<Funds> {
    const d = await this.rest.call('getRMS', rms);
    return { availableCash: d.availablecash, net: d.net, utilised: d.utiliseddebits };
  }

  /**
   * Every position on the exchanges Rustro knows, whatever its product: one
   * opened outside Rustro (DELIVERY, MARGIN, BO…) is `product: 'OTHER'` with
   * the broker's word in `rawProduct` — real exposure is never dropped. Rows
   * on other exchanges (MCX, CDS…) cannot be expressed in the port's types;
   * an open one is logged as a warning.
   */
  async positions(): Promise<Position[]> {
    const rows = await this.rest.call('getPosition', listOf(positionRow), { emptyCodes: ['AB1016'] });
    const out: Position[] = [];
    for (const r of rows) {
      const exchange = asExchange(r.exchange);
      if (exchange === undefined) {
        if (r.netqty !== 0) this.log?.warn({ exchange: r.exchange, symbol: r.tradingsymbol, netQty: r.netqty }, 'open position on an exchange Rustro does not trade: not reported');
        continue;
      }
      const raw = r.producttype.trim().toUpperCase();
      const own = raw === 'INTRADAY' || raw === 'CARRYFORWARD';
      out.push({
        token: r.symboltoken,
        symbol: r.tradingsymbol,
        exchange,
        product: own ? raw : 'OTHER',
        ...(own ? {} : { rawProduct: r.producttype }),
        netQty: r.netqty,
        buyQty: r.buyqty,
        sellQty: r.sellqty,
        buyAvg: r.buyavgprice,
        sellAvg: r.sellavgprice,
      });
    }
    return out;
  }

  /** Quotes in batches of 50 tokens; tokens the broker could not fetch are left out. */
  async quotes(refs: InstrumentRef[], mode: QuoteMode): Promise<Quote[]> {
    const out: Quote[] = [];
    for (let i = 0; i < refs.length; i += QUOTE_BATCH) {
      const batch = refs.slice(i, i + QUOTE_BATCH);
      const exchangeTokens: Record<string, string[]> = {};
      for (const r of batch) (exchangeTokens[r.exchange] ??= []).push(r.token);
      const d = await this.rest.call('quote', quoteData, { body: { mode: mode.toUpperCase(), exchangeTokens } });
      for (const item of d.fetched) {
        const q = toQuote(item);
        if (q !== undefined) out.push(q);
      }
    }
    return out;
  }

  /** Candles over [from, to], split into requests within the interval's max days (§7.2). */
  async candles(req: CandleRequest): Promise<Candle[]> {
    const iv = INTERVALS[req.interval];
    if (iv === undefined) throw new SmartApiError('invalid_request', { endpoint: 'getCandleData', code: 'BAD_INTERVAL', detail: `interval ${String(req.interval)}` });
    if (req.from > req.to) throw new SmartApiError('invalid_request', { endpoint: 'getCandleData', code: 'BAD_RANGE', detail: 'from is after to' });
    const out: Candle[] = [];
    const span = iv.maxDays * DAY_MS;
    for (let from = req.from; from <= req.to; from += span) {
      const to = Math.min(req.to, from + span - 60_000);
      const rows = await this.rest.call('getCandleData', candleRows, {
        body: { exchange: req.exchange, symboltoken: req.token, interval: iv.name, fromdate: fmt(from), todate: fmt(to) },
      });
      for (const [ts, open, high, low, close, volume] of rows) {
        const t = Date.parse(ts);
        if (Number.isFinite(t) && (out.length === 0 || t > out[out.length - 1]!.ts)) out.push({ ts: t, open, high, low, close, volume });
      }
    }
    return out;
  }
}

function toQuote(i: QuoteItem): Quote | undefined {
  const exchange = asExchange(i.exchange);
  if (exchange === undefined) return undefined;
  const q: Quote = { token: i.symbolToken, exchange, ltp: i.ltp };
  if (i.open !== undefined) q.open = i.open;
  if (i.high !== undefined) q.high = i.high;
  if (i.low !== undefined) q.low = i.low;
  if (i.close !== undefined) q.close = i.close;
  if (i.tradeVolume !== undefined) q.volume = i.tradeVolume;
  if (i.opnInterest !== undefined) q.oi = i.opnInterest;
  if (i.upperCircuit !== undefined) q.upperCircuit = i.upperCircuit;
  if (i.lowerCircuit !== undefined) q.lowerCircuit = i.lowerCircuit;
  if (i.depth !== undefined) {
    q.bids = i.depth.buy.map((l) => ({ price: l.price, qty: l.quantity, orders: l.orders }));
    q.asks = i.depth.sell.map((l) => ({ price: l.price, qty: l.quantity, orders: l.orders }));
  }
  return q;
}
