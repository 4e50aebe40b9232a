/**
 * The SmartAPI adapter against the simulator, over real loopback sockets:
 * login, instrument master, candles, the three tick modes and an order's
 * round trip. Faults and recovery: adapter-sim-faults.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Candle, Instrument, Order } from '../../src/broker/broker.js';
import { SmartApiError } from '../../src/broker/smartapi/errors.js';
import { istToMillis } from '../../src/core/clock.js';
import type { SimBar } from '../../src/sim/market/types.js';
import { BANKNIFTY, DAY, NIFTY, type Rig, type SimEnv, demoSecrets, makeRig, startEnv, startFeed, waitFor } from './support/harness.js';

let env: SimEnv;
let rig: Rig;

beforeAll(async () => {
  env = await startEnv();
  rig = makeRig(env);
});
afterAll(async () => {
  await rig?.close();
  await env?.close();
});

/** Groups minute bars by `key` (bar start → bucket start), as a candle builder independent of the simulator's. */
function group(bars: readonly SimBar[], key: (ts: number) => number): Candle[] {
  const out: Candle[] = [];
  for (const b of bars) {
    const k = key(b.ts);
    const last = out.at(-1);
    if (last === undefined || last.ts !== k) out.push({ ts: k, open: b.open, high: b.high, low: b.low, close: b.close, volume: b.volume });
    else {
      last.high = Math.max(last.high, b.high);
      last.low = Math.min(last.low, b.low);
      last.close = b.close;
      last.volume += b.volume;
    }
  }
  return out.map((c) => ({ ...c, open: r2(c.open), high: r2(c.high), low: r2(c.low), close: r2(c.close) }));
}
const r2 = (x: number): number => Math.round(x * 100) / 100;

describe('session', () => {
  it('logs in with the right TOTP and reads funds', async () => {
    const s = await rig.broker.login();
    expect(s.clientCode).toBe('SIM1001');
    expect(s.expiresAt).toBe(istToMillis('2024-01-03'));
    expect(rig.of('BrokerLoggedIn')).toHaveLength(1);
    const f = await rig.broker.funds();
    expect(f.availableCash).toBe(1_000_000);
  });

  it('refreshes the session with generateTokens; the new token works, the old one no longer does', async () => {
    const old = rig.broker.auth.jwt!;
    await rig.broker.refresh();
    expect(rig.of('BrokerSessionRefreshed')).toHaveLength(1);
    expect(rig.broker.auth.jwt!.reveal()).not.toBe(old.reveal());
    expect((await rig.broker.funds()).availableCash).toBe(1_000_000);
    expect(rig.of('BrokerLoggedIn')).toHaveLength(1); // no re-login was needed
  });

  it('a wrong TOTP is refused with the typed AB1050 error', async () => {
    const bad = makeRig(env, { secrets: demoSecrets(env.sim.apiKey, { totpSecret: 'GEZDGNBVGY3TQOJQ' }) });
    try {
      const err = await bad.broker.login().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SmartApiError);
      expect(err).toMatchObject({ kind: 'envelope', code: 'AB1050', category: 'credentials', endpoint: 'login' });
      expect(bad.broker.auth.session).toBeUndefined();
    } finally {
      await bad.close();
    }
  });
});

describe('instrument master', () => {
  let all: Instrument[];
  beforeAll(async () => {
    all = await rig.broker.instruments();
  });

  it('downloads and indexes the simulator master', () => {
    expect(rig.broker.instrumentStats).toMatchObject({ bad: 0, instruments: env.market.instruments().length });
    const idx = rig.broker.instrumentIndex!;
    expect(idx.index('NIFTY')).toMatchObject({ token: '99926000', kind: 'index', exchange: 'NSE' });
    expect(idx.index('BANKNIFTY')?.token).toBe('99926009');
    const niftyOpts = all.filter((i) => i.name === 'NIFTY' && i.kind === 'option');
    expect(niftyOpts.length).toBeGreaterThan(20);
    for (const o of niftyOpts) {
      expect(o).toMatchObject({ exchange: 'NFO', lotSize: 50, tickSize: 0.05 });
      expect(o.symbol.endsWith(o.optionType!)).toBe(true);
    }
  });

  it('lists the expiries listed on the replayed day, and the nearest one', () => {
    const idx = rig.broker.instrumentIndex!;
    expect(idx.expiries('NIFTY')).toEqual(['2024-01-04', '2024-01-11', '2024-01-25']);
    expect(idx.expiries('BANKNIFTY')).toEqual(['2024-01-03', '2024-01-10', '2024-01-25']);
    expect(idx.nearestExpiry('NIFTY', DAY)).toBe('2024-01-04');
    expect(idx.nearestExpiry('BANKNIFTY', DAY)).toBe('2024-01-03');
    expect(idx.nearestExpiry('NIFTY', '2024-01-05')).toBe('2024-01-11');
  });

  it('every simulator instrument maps to the same contract', () => {
    const idx = rig.broker.instrumentIndex!;
    for (const s of env.market.instruments()) {
      const i = idx.get({ exchange: s.segment, token: s.token });
      expect(i, s.symbol).toBeDefined();
      expect(i).toMatchObject({ symbol: s.symbol, name: s.name, lotSize: s.lotSize, tickSize: s.tickSize });
      if (s.type === 'OPTIDX') {
        expect(i).toMatchObject({ expiry: s.expiry, strike: s.strike, optionType: s.optionType });
        expect(idx.option(s.name, s.expiry!, s.strike!, s.optionType!)?.token).toBe(s.token);
      }
    }
  });
});

describe('historical candles', () => {
  const prevOpen = istToMillis('2024-01-01', '09:15');
  const prevClose = istToMillis('2024-01-01', '15:30');
  const ist = (ms: number) => ms + 19_800_000;
  const bucketFrom915 = (span: number) => (ts: number) => {
    const open = ts - (ist(ts) % 86_400_000) + 555 * 60_000;
    return open + Math.floor((ts - open) / span) * span;
  };

  it('1m candles are the market source bars', async () => {
    const got = await rig.broker.candles({ ...NIFTY, interval: '1m', from: prevOpen, to: prevClose - 60_000 });
    const want = group(env.market.minuteBars(NIFTY.token, prevOpen, prevClose), (t) => t);
    expect(got).toHaveLength(375);
    expect(got).toEqual(want);
  });

  it('5m candles aggregate the source bars from 09:15', async () => {
    const got = await rig.broker.candles({ ...BANKNIFTY, interval: '5m', from: prevOpen, to: prevClose - 60_000 });
    const want = group(env.market.minuteBars(BANKNIFTY.token, prevOpen, prevClose), bucketFrom915(300_000));
    expect(got).toHaveLength(75);
    expect(got).toEqual(want);
  });

  it('1h candles are anchored at 09:15 with a short 15:15 last bar', async () => {
    const got = await rig.broker.candles({ ...NIFTY, interval: '1h', from: prevOpen, to: prevClose - 60_000 });
    const want = group(env.market.minuteBars(NIFTY.token, prevOpen, prevClose), bucketFrom915(3_600_000));
    expect(got.map((c) => new Date(ist(c.ts)).toISOString().slice(11, 16))).toEqual(['09:15', '10:15', '11:15', '12:15', '13:15', '14:15', '15:15']);
    expect(got).toEqual(want);
    const bars = env.market.minuteBars(NIFTY.token, istToMillis('2024-01-01', '15:15'), prevClose);
    expect(bars).toHaveLength(15);
    expect(got.at(-1)!.close).toBe(r2(bars.at(-1)!.close));
  });

  it('1d candles per IST day, today only up to the finished minutes', async () => {
    const from = istToMillis('2023-12-26');
    const got = await rig.broker.candles({ ...NIFTY, interval: '1d', from, to: istToMillis(DAY, '15:29') });
    const dayStart = (ts: number) => ts - (ist(ts) % 86_400_000);
    const want = group(env.market.minuteBars(NIFTY.token, from, env.sim.now()), dayStart);
    expect(got.length).toBeGreaterThanOrEqual(2);
    expect(got.at(-1)!.ts).toBe(istToMillis(DAY));
    expect(got).toEqual(want);
  });
});

describe('REST quotes', () => {
  it('LTP, OHLC and FULL quotes are the market quote', async () => {
    const idx = rig.broker.instrumentIndex!;
    const opt = idx.chain('NIFTY', '2024-01-11')[4]!;
    const refs = [NIFTY, { exchange: opt.exchange, token: opt.token }];
    const [ltp, ohlc, full] = [await rig.broker.quotes(refs, 'ltp'), await rig.broker.quotes(refs, 'ohlc'), await rig.broker.quotes(refs, 'full')];
    const n = env.market.quote(NIFTY.token)!;
    const o = env.market.quote(opt.token)!;
    expect(ltp).toEqual([{ token: NIFTY.token, exchange: 'NSE', ltp: r2(n.ltp) }, { token: opt.token, exchange: 'NFO', ltp: r2(o.ltp) }]);
    expect(ohlc[1]).toEqual({ token: opt.token, exchange: 'NFO', ltp: r2(o.ltp), open: r2(o.open), high: r2(o.high), low: r2(o.low), close: r2(o.prevClose) });
    expect(full[1]).toMatchObject({ volume: o.volume, oi: o.oi, upperCircuit: r2(o.upperCircuit), lowerCircuit: r2(o.lowerCircuit) });
    expect(full[1]!.bids).toEqual(o.bids.map((l) => ({ price: r2(l.price), qty: l.qty, orders: l.orders })));
    expect(full[1]!.asks).toEqual(o.asks.map((l) => ({ price: r2(l.price), qty: l.qty, orders: l.orders })));
  });
});

describe('ticks through SmartStreamFeed', () => {
  it('LTP, Quote and SnapQuote ticks match the market quotes', async () => {
    const idx = rig.broker.instrumentIndex!;
    const spot = env.market.quote(NIFTY.token)!.ltp;
    const chain = idx.chain('NIFTY', '2024-01-04').filter((i) => i.optionType === 'CE');
    const atm = chain.reduce((a, b) => (Math.abs(b.strike! - spot) < Math.abs(a.strike! - spot) ? b : a));
    const opt = { exchange: atm.exchange, token: atm.token };
    await startFeed(env, rig, [[[NIFTY], 'ltp'], [[BANKNIFTY], 'quote'], [[opt], 'snap']]);
    await env.sim.advanceBy(5_000);
    const q = { n: env.market.quote(NIFTY.token)!, b: env.market.quote(BANKNIFTY.token)!, o: env.market.quote(opt.token)! };
    const last = (token: string, ts: number) => rig.of('Tick').find((t) => t.token === token && t.exchTs === ts);
    await waitFor(() => last(NIFTY.token, q.n.ts) !== undefined && last(BANKNIFTY.token, q.b.ts) !== undefined && last(opt.token, q.o.ts) !== undefined, 'the latest ticks');
    expect(rig.of('Tick').filter((t) => t.token === NIFTY.token).length).toBeGreaterThan(10);

    expect(last(NIFTY.token, q.n.ts)).toEqual({ token: NIFTY.token, exchange: 'NSE', mode: 'ltp', exchTs: q.n.ts, ltp: r2(q.n.ltp) });
    expect(last(BANKNIFTY.token, q.b.ts)).toMatchObject({
      mode: 'quote', exchange: 'NSE', ltp: r2(q.b.ltp), open: r2(q.b.open), high: r2(q.b.high), low: r2(q.b.low), close: r2(q.b.prevClose),
      volume: q.b.volume, lastQty: q.b.lastQty,
    });
    const snap = last(opt.token, q.o.ts)!;
    expect(snap).toMatchObject({
      mode: 'snap', exchange: 'NFO', ltp: r2(q.o.ltp), open: r2(q.o.open), high: r2(q.o.high), low: r2(q.o.low), close: r2(q.o.prevClose),
      volume: q.o.volume, oi: q.o.oi, totBuyQty: q.o.totBuyQty, totSellQty: q.o.totSellQty, avgPrice: r2(q.o.avgPrice),
      upperCircuit: r2(q.o.upperCircuit), lowerCircuit: r2(q.o.lowerCircuit), lastTradeTs: Math.floor(q.o.lastTradeTs / 1000) * 1000,
    });
    expect(snap.bids).toEqual(q.o.bids.map((l) => ({ price: r2(l.price), qty: l.qty, orders: l.orders })));
    expect(snap.asks).toEqual(q.o.asks.map((l) => ({ price: r2(l.price), qty: l.qty, orders: l.orders })));
    expect(snap.bids![0]!.price).toBeLessThan(snap.asks![0]!.price);
    expect(snap.bids![0]!.price).toBeGreaterThan(snap.bids![1]!.price);
    expect(rig.of('FeedFrameRejected')).toEqual([]);
    expect(rig.feed.counters.internalErrors).toBe(0);
  });

  it('unsubscribing stops a token', async () => {
    rig.broker.ticks.unsubscribe([BANKNIFTY], 'quote');
    await waitFor(() => env.sim.state().subscriptions === 2, 'the unsubscribe to reach the sim');
    const n = rig.events.length;
    await env.sim.advanceBy(2_000);
    const ts = env.market.quote(NIFTY.token)!.ts;
    await waitFor(() => rig.since(n, 'Tick').some((t) => t.token === NIFTY.token && t.exchTs === ts), 'NIFTY ticks');
    expect(rig.since(n, 'Tick').filter((t) => t.token === BANKNIFTY.token)).toEqual([]);
  });
});

describe('an order round trip', () => {
  let opt: Instrument;
  const updates = (tag: string) => rig.of('OrderUpdated').filter((u) => u.tag === tag);
  beforeAll(() => {
    rig.broker.orderUpdates.start();
    const idx = rig.broker.instrumentIndex!;
    const spot = env.market.quote(NIFTY.token)!.ltp;
    opt = idx.chain('NIFTY', '2024-01-04').filter((i) => i.optionType === 'PE').reduce((a, b) => (Math.abs(b.strike! - spot) < Math.abs(a.strike! - spot) ? b : a));
  });
  const ltp = async () => (await rig.broker.quotes([{ exchange: opt.exchange, token: opt.token }], 'ltp'))[0]!.ltp;

  it('a resting LIMIT is open, found by tag, then cancelled', async () => {
    await waitFor(() => rig.broker.orderUpdates.connected, 'order-status socket');
    const price = Math.round((await ltp()) * 0.5 * 20) / 20;
    const ack = await rig.broker.placeOrder({ tag: 'e2e-rest-1', instrument: opt, side: 'BUY', orderType: 'LIMIT', qty: 50, price, product: 'INTRADAY' });
    expect(ack.resolution).toBe('response');
    await waitFor(() => updates('e2e-rest-1').length >= 1, 'OrderUpdated open');
    expect(updates('e2e-rest-1')[0]).toMatchObject({ orderId: ack.orderId, state: 'open', rawStatus: 'open', filledQty: 0, source: 'stream' });

    const book = await rig.broker.orderBook();
    const row = book.find((o) => o.orderId === ack.orderId);
    expect(row).toMatchObject<Partial<Order>>({ tag: 'e2e-rest-1', token: opt.token, symbol: opt.symbol, exchange: 'NFO', side: 'BUY', orderType: 'LIMIT', qty: 50, price, state: 'open' });
    expect((await rig.broker.findOrderByTag('e2e-rest-1'))?.orderId).toBe(ack.orderId);
    expect((await rig.broker.orderStatus(ack.orderId))?.state).toBe('open');

    await env.sim.advanceBy(2_000); // the market moves; a limit at half the premium does not fill
    const lower = Math.round((price - 0.5) * 20) / 20;
    expect(await rig.broker.modifyOrder(ack.orderId, { price: lower })).toEqual({ orderId: ack.orderId });
    await waitFor(() => updates('e2e-rest-1').some((u) => u.rawStatus === 'modified'), 'OrderUpdated modified');
    expect((await rig.broker.findOrderByTag('e2e-rest-1'))).toMatchObject({ price: lower, state: 'open' });
    await rig.broker.cancelOrder(ack.orderId);
    await waitFor(() => updates('e2e-rest-1').some((u) => u.state === 'cancelled'), 'OrderUpdated cancelled');
    expect((await rig.broker.findOrderByTag('e2e-rest-1'))?.state).toBe('cancelled');
    expect((await rig.broker.tradeBook()).filter((t) => t.orderId === ack.orderId)).toEqual([]);
  });

  it('a LIMIT the market crosses is filled; trade book and positions show it', async () => {
    const before = await rig.broker.funds();
    const price = Math.round((await ltp()) * 1.1 * 20) / 20;
    const ack = await rig.broker.placeOrder({ tag: 'e2e-fill-1', instrument: opt, side: 'BUY', orderType: 'LIMIT', qty: 100, price, product: 'INTRADAY' });
    await waitFor(() => updates('e2e-fill-1').length >= 1, 'OrderUpdated open');
    await env.sim.advanceBy(1_000);
    await waitFor(() => updates('e2e-fill-1').some((u) => u.state === 'filled'), 'OrderUpdated filled');
    const filled = updates('e2e-fill-1').find((u) => u.state === 'filled')!;
    expect(filled).toMatchObject({ orderId: ack.orderId, rawStatus: 'complete', filledQty: 100, source: 'stream' });
    expect(filled.avgFillPrice).toBeGreaterThan(0);
    expect(filled.avgFillPrice).toBeLessThanOrEqual(price);

    const trades = (await rig.broker.tradeBook()).filter((t) => t.orderId === ack.orderId);
    expect(trades).toHaveLength(1);
    expect(trades[0]).toMatchObject({ token: opt.token, symbol: opt.symbol, side: 'BUY', qty: 100, price: filled.avgFillPrice });
    expect(trades[0]!.time).toBeGreaterThan(env.sim.now() - 1_000 - 1_000);
    expect(trades[0]!.time).toBeLessThanOrEqual(env.sim.now());
    const pos = (await rig.broker.positions()).find((p) => p.token === opt.token);
    expect(pos).toMatchObject({ exchange: 'NFO', product: 'INTRADAY', netQty: 100, buyQty: 100, sellQty: 0, buyAvg: filled.avgFillPrice });
    const after = await rig.broker.funds();
    expect(after.availableCash).toBeCloseTo(before.availableCash - 100 * filled.avgFillPrice, 2);
    expect((await rig.broker.orderStatus(ack.orderId))).toMatchObject({ state: 'filled', filledQty: 100 });
  });
});
