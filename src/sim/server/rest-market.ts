/** §7.1 market quote, §7.2 candles, §4.7 searchScrip. */
import type { SimQuote } from '../market/types.js';
import { candles } from './candles.js';
import { type Route, fail, ok } from './rest.js';
import { fmtOrderTime, r2, str } from './util.js';

const SECURE = '/rest/secure/angelbroking';

function level(l: { price: number; qty: number; orders: number } | undefined): { price: number; quantity: number; orders: number } {
  return l === undefined ? { price: 0, quantity: 0, orders: 0 } : { price: r2(l.price), quantity: l.qty, orders: l.orders };
}

function full(q: SimQuote): Record<string, unknown> {
  const change = q.ltp - q.prevClose;
  return {
    lastTradeQty: q.lastQty,
    exchFeedTime: fmtOrderTime(q.ts),
    exchTradeTime: fmtOrderTime(q.lastTradeTs),
    netChange: r2(change),
    percentChange: q.prevClose > 0 ? r2((change / q.prevClose) * 100) : 0,
    avgPrice: r2(q.avgPrice),
    tradeVolume: q.volume,
    opnInterest: q.oi,
    lowerCircuit: r2(q.lowerCircuit),
    upperCircuit: r2(q.upperCircuit),
    totBuyQuan: q.totBuyQty,
    totSellQuan: q.totSellQty,
    '52WeekLow': r2(q.low52),
    '52WeekHigh': r2(q.high52),
    depth: { buy: [0, 1, 2, 3, 4].map((i) => level(q.bids[i])), sell: [0, 1, 2, 3, 4].map((i) => level(q.asks[i])) },
  };
}

export const marketRoutes: Route[] = [
  {
    method: 'POST',
    path: `${SECURE}/market/v1/quote`,
    bucket: 'quote',
    auth: true,
    handle({ core, body }) {
      const mode = str(body.mode).toUpperCase();
      if (mode !== 'LTP' && mode !== 'OHLC' && mode !== 'FULL') return fail('AB1004', `Invalid mode '${str(body.mode)}': LTP, OHLC or FULL`);
      const et = body.exchangeTokens;
      if (typeof et !== 'object' || et === null || Array.isArray(et)) return fail('AB1004', 'exchangeTokens must be an object of exchange → token list');
      const wanted: [string, unknown][] = [];
      for (const [ex, list] of Object.entries(et as Record<string, unknown>)) {
        if (!Array.isArray(list)) return fail('AB1004', `exchangeTokens.${ex} must be a list`);
        for (const t of list) wanted.push([ex, t]);
      }
      if (wanted.length > 50) return fail('AB1004', 'At most 50 tokens per request');
      const fetched: Record<string, unknown>[] = [];
      const unfetched: Record<string, unknown>[] = [];
      for (const [exchange, t] of wanted) {
        const token = str(t);
        if (token === '') {
          unfetched.push({ exchange, symbolToken: token, message: 'Symbol token cannot be empty', errorCode: 'AB4018' });
          continue;
        }
        const inst = core.instruments.get(token);
        const q = inst === undefined || inst.segment !== exchange ? undefined : core.market.quote(token);
        if (inst === undefined || q === undefined) {
          unfetched.push({ exchange, symbolToken: token, message: 'Invalid symbol token', errorCode: 'AB4006' });
          continue;
        }
        const item: Record<string, unknown> = { exchange, tradingSymbol: inst.symbol, symbolToken: token, ltp: r2(q.ltp) };
        if (mode !== 'LTP') Object.assign(item, { open: r2(q.open), high: r2(q.high), low: r2(q.low), close: r2(q.prevClose) });
        if (mode === 'FULL') Object.assign(item, full(q));
        fetched.push(item);
      }
      return ok({ fetched, unfetched });
    },
  },
  {
    method: 'POST',
    path: `${SECURE}/historical/v1/getCandleData`,
    bucket: 'getCandleData',
    auth: true,
    handle({ core, body }) {
      const r = candles(core.market, body, core.driver.now());
      return r.ok ? ok(r.rows) : fail(r.code, r.message);
    },
  },
  {
    method: 'POST',
    path: `${SECURE}/order/v1/searchScrip`,
    bucket: 'searchScrip',
    auth: true,
    handle({ core, body }) {
      const exchange = str(body.exchange).toUpperCase();
      const needle = str(body.searchscrip).toUpperCase();
      if (needle === '') return fail('AB1004', 'searchscrip is required');
      const rows = [...core.instruments.values()]
        .filter((i) => i.segment === exchange && i.symbol.toUpperCase().includes(needle))
        .map((i) => ({ exchange: i.segment, tradingsymbol: i.symbol, symboltoken: i.token }));
      return ok(rows);
    },
  },
];
