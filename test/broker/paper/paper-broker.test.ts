import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { Order } from '../../../src/broker/broker.js';
import { SmartApiError } from '../../../src/broker/smartapi/errors.js';
import { CE, PE, T0, harness, req, tick, trail, type Harness } from './support.js';

describe('placement', () => {
  it('acks at once with a deterministic id; pending in the book, open (reported) only after the latency', async () => {
    const h = harness();
    const ack = await h.broker.placeOrder(req('t1'));
    expect(ack).toEqual({ orderId: 'PAPER-1', resolution: 'response' });
    expect(h.updates).toEqual([]);
    expect(await h.broker.orderStatus('PAPER-1')).toMatchObject({ state: 'pending', rawStatus: 'open pending', tag: 't1', filledQty: 0 });
    h.to(249);
    expect(h.updates).toEqual([]);
    h.to(250);
    expect(h.updates).toEqual([
      {
        orderId: 'PAPER-1',
        tag: 't1',
        token: CE.token,
        symbol: CE.symbol,
        exchange: 'NFO',
        side: 'BUY',
        orderType: 'LIMIT',
        qty: 50,
        price: 100,
        filledQty: 0,
        avgFillPrice: 0,
        state: 'open',
        rawStatus: 'open',
        updatedAt: T0 + 250,
      },
    ]);
    expect((await h.broker.placeOrder(req('t2'))).orderId).toBe('PAPER-2');
  });

  it('a MARKET order is booked at price 0, as the broker books it', async () => {
    const h = harness();
    await h.broker.placeOrder(req('m', { orderType: 'MARKET', price: 0 }));
    expect(await h.broker.orderStatus('PAPER-1')).toMatchObject({ orderType: 'MARKET', price: 0 });
  });
});

describe('fills against ticks', () => {
  it('a LIMIT buy that is not marketable waits, then fills at the ask + slippage once the ask comes down', async () => {
    const h = harness({ slippage_ticks: 1 });
    await h.broker.placeOrder(req('lb', { price: 100 }));
    h.at(300, { ltp: 100.5, ask: 101, bid: 100.4 });
    h.at(400, { ltp: 100.1, ask: 100.05, bid: 99.9 });
    expect(trail(h.updates, 'PAPER-1')).toEqual([['open', 0]]);
    h.at(500, { ltp: 99.6, ask: 99.5, bid: 99.4 });
    expect(trail(h.updates, 'PAPER-1')).toEqual([['open', 0], ['filled', 50]]);
    expect(h.updates.at(-1)).toMatchObject({ avgFillPrice: 99.55, rawStatus: 'complete', updatedAt: T0 + 500 });
    expect(await h.broker.tradeBook()).toEqual([{ orderId: 'PAPER-1', fillId: 'PAPER-F1', token: CE.token, symbol: CE.symbol, side: 'BUY', qty: 50, price: 99.55, time: T0 + 500 }]);
  });

  it('slippage never carries a LIMIT fill past its limit', async () => {
    const h = harness({ slippage_ticks: 3 });
    await h.broker.placeOrder(req('lb', { price: 100 }));
    await h.broker.placeOrder(req('ls', { side: 'SELL', price: 100 }));
    h.at(300, { ltp: 100, ask: 100, bid: 100 });
    expect((await h.broker.tradeBook()).map((t) => [t.side, t.price])).toEqual([['BUY', 100], ['SELL', 100]]);
  });

  it('a LIMIT sell fills when the bid reaches the limit, at the bid − slippage but not below the limit', async () => {
    const h = harness({ slippage_ticks: 2 });
    await h.broker.placeOrder(req('ls', { side: 'SELL', price: 120 }));
    h.at(300, { ltp: 119.5, ask: 119.95, bid: 119.9 });
    expect(await h.broker.tradeBook()).toEqual([]);
    h.at(400, { ltp: 121, ask: 121.2, bid: 121 });
    expect((await h.broker.tradeBook()).map((t) => t.price)).toEqual([120.9]);
  });

  it('without depth the touch is the LTP', async () => {
    const h = harness({ slippage_ticks: 1 });
    await h.broker.placeOrder(req('lb', { price: 100 }));
    h.at(300, { ltp: 100.2 });
    h.at(400, { ltp: 99.8 });
    expect((await h.broker.tradeBook()).map((t) => t.price)).toEqual([99.85]);
  });

  it('MARKET orders fill on the first tick after the latency, buys up and sells down by the slippage', async () => {
    const h = harness({ slippage_ticks: 2, latency_ms: 250 });
    await h.broker.placeOrder(req('mb', { orderType: 'MARKET', price: 0 }));
    await h.broker.placeOrder(req('ms', { side: 'SELL', orderType: 'MARKET', price: 0 }));
    h.at(200, { ltp: 100, ask: 100.1, bid: 99.9 }); // before the orders reach the exchange
    expect(await h.broker.tradeBook()).toEqual([]);
    h.at(260, { ltp: 101, ask: 101.1, bid: 100.9 });
    expect((await h.broker.tradeBook()).map((t) => [t.orderId, t.side, t.price, t.time])).toEqual([
      ['PAPER-1', 'BUY', 101.2, T0 + 260],
      ['PAPER-2', 'SELL', 100.8, T0 + 260],
    ]);
  });

  it('a MARKET sell never fills below one tick', async () => {
    const h = harness({ slippage_ticks: 5 });
    await h.broker.placeOrder(req('ms', { side: 'SELL', orderType: 'MARKET', price: 0 }));
    h.at(300, { ltp: 0.1, bid: 0.1 });
    expect((await h.broker.tradeBook()).map((t) => t.price)).toEqual([0.05]);
  });

  it('only ticks of the order\'s instrument fill it', async () => {
    const h = harness();
    await h.broker.placeOrder(req('mb', { orderType: 'MARKET', price: 0 }));
    h.to(300);
    h.broker.onTick(tick(T0 + 300, { token: PE.token, ltp: 50 }));
    h.broker.onTick({ ...tick(T0 + 300, { ltp: 50 }), exchange: 'BFO' });
    expect(await h.broker.tradeBook()).toEqual([]);
    h.at(400, { ltp: 90 });
    expect((await h.broker.tradeBook()).map((t) => t.price)).toEqual([90.05]);
  });
});

describe('latency', () => {
  it('no fill from a tick stamped before the order became active, even if it arrives later', async () => {
    const h = harness({ latency_ms: 250 });
    await h.broker.placeOrder(req('mb', { orderType: 'MARKET', price: 0 }));
    h.to(300); // active at +250
    h.broker.onTick(tick(T0 + 240, { ltp: 100 })); // a late tick from before activation
    expect(await h.broker.tradeBook()).toEqual([]);
    h.broker.onTick(tick(T0 + 250, { ltp: 101 }));
    expect((await h.broker.tradeBook()).map((t) => t.price)).toEqual([101.05]);
  });

  it('a tick before the clock reaches activation cannot fill (the order is still pending)', async () => {
    const h = harness({ latency_ms: 500 });
    await h.broker.placeOrder(req('lb', { price: 100 }));
    h.at(100, { ltp: 90 });
    h.at(499, { ltp: 90 });
    expect(await h.broker.tradeBook()).toEqual([]);
    h.at(500, { ltp: 90 });
    expect((await h.broker.tradeBook()).map((t) => t.time)).toEqual([T0 + 500]);
  });

  it('a modify takes effect only after the latency; ticks until then see the old price', async () => {
    const h = harness({ latency_ms: 250, slippage_ticks: 0 });
    await h.broker.placeOrder(req('lb', { price: 100 }));
    h.at(300, { ltp: 102, ask: 102 });
    expect(await h.broker.modifyOrder('PAPER-1', { price: 103 })).toEqual({ orderId: 'PAPER-1' });
    h.at(400, { ltp: 102, ask: 102 }); // modify lands at +550
    expect(await h.broker.tradeBook()).toEqual([]);
    expect(await h.broker.orderStatus('PAPER-1')).toMatchObject({ price: 100 });
    h.to(600);
    expect(h.updates.at(-1)).toMatchObject({ price: 103, state: 'open', rawStatus: 'open', updatedAt: T0 + 550 });
    h.broker.onTick(tick(T0 + 540, { ltp: 102, ask: 102 })); // stamped before the modify landed
    expect(await h.broker.tradeBook()).toEqual([]);
    h.at(700, { ltp: 102, ask: 102 });
    expect((await h.broker.tradeBook()).map((t) => t.price)).toEqual([102]);
  });

  it('a modify to MARKET fills at the touch after the latency', async () => {
    const h = harness({ latency_ms: 100, slippage_ticks: 1 });
    await h.broker.placeOrder(req('lb', { price: 100 }));
    h.at(150, { ltp: 105, ask: 105 });
    await h.broker.modifyOrder('PAPER-1', { orderType: 'MARKET' });
    h.at(200, { ltp: 105, ask: 105 });
    expect(await h.broker.tradeBook()).toEqual([]);
    h.at(250, { ltp: 105, ask: 105.1 });
    expect((await h.broker.tradeBook()).map((t) => t.price)).toEqual([105.15]);
    expect(await h.broker.orderStatus('PAPER-1')).toMatchObject({ orderType: 'MARKET', price: 0, state: 'filled' });
  });

  it('a cancel racing a fill: the fill during the latency wins, the cancel does nothing', async () => {
    const h = harness({ latency_ms: 250 });
    await h.broker.placeOrder(req('lb', { price: 100 }));
    h.at(300, { ltp: 101, ask: 101 });
    await h.broker.cancelOrder('PAPER-1'); // lands at +550
    h.at(400, { ltp: 99, ask: 99 });
    h.to(1000);
    expect(trail(h.updates, 'PAPER-1')).toEqual([['open', 0], ['filled', 50]]);
    expect(await h.broker.orderStatus('PAPER-1')).toMatchObject({ state: 'filled', rawStatus: 'complete' });
  });

  it('a cancel that lands first: cancelled, and later ticks do not fill', async () => {
    const h = harness({ latency_ms: 250 });
    await h.broker.placeOrder(req('lb', { price: 100 }));
    h.at(300, { ltp: 101, ask: 101 });
    await h.broker.cancelOrder('PAPER-1');
    h.at(549, { ltp: 101, ask: 101 });
    h.at(550, { ltp: 99, ask: 99 }); // the cancel's timer fires as the clock reaches +550, before this tick
    expect(trail(h.updates, 'PAPER-1')).toEqual([['open', 0], ['cancelled', 0]]);
    expect(h.updates.at(-1)).toMatchObject({ rawStatus: 'cancelled', updatedAt: T0 + 550 });
    expect(await h.broker.tradeBook()).toEqual([]);
  });

  it('latency 0: effects land on the next clock move, never inside the request', async () => {
    const h = harness({ latency_ms: 0 });
    await h.broker.placeOrder(req('mb', { orderType: 'MARKET', price: 0 }));
    expect(h.updates).toEqual([]);
    h.at(0, { ltp: 100 });
    expect(trail(h.updates, 'PAPER-1')).toEqual([['open', 0], ['filled', 50]]);
  });
});

describe('partial fills', () => {
  it('max_lots_per_fill caps each tick; the average is weighted; states go open → partial → filled', async () => {
    const h = harness({ max_lots_per_fill: 2, slippage_ticks: 0 });
    await h.broker.placeOrder(req('big', { qty: 125, price: 101 })); // 5 lots of 25
    h.at(300, { ltp: 100, ask: 100 });
    h.at(400, { ltp: 101, ask: 101 });
    h.at(500, { ltp: 99, ask: 99.5 });
    expect(trail(h.updates, 'PAPER-1')).toEqual([['open', 0], ['partially_filled', 50], ['partially_filled', 100], ['filled', 125]]);
    expect(h.updates.map((u) => u.rawStatus)).toEqual(['open', 'open', 'open', 'complete']);
    expect((await h.broker.tradeBook()).map((t) => [t.fillId, t.qty, t.price])).toEqual([
      ['PAPER-F1', 50, 100],
      ['PAPER-F2', 50, 101],
      ['PAPER-F3', 25, 99.5],
    ]);
    expect(h.updates.at(-1)!.avgFillPrice).toBeCloseTo((50 * 100 + 50 * 101 + 25 * 99.5) / 125, 6);
    expect(h.updates[1]!.avgFillPrice).toBe(100);
    expect(h.updates[2]!.avgFillPrice).toBe(100.5);
  });

  it('cancelling a partly filled order keeps the filled quantity', async () => {
    const h = harness({ max_lots_per_fill: 1 });
    await h.broker.placeOrder(req('big', { qty: 75, price: 101 }));
    h.at(300, { ltp: 100, ask: 100 });
    await h.broker.cancelOrder('PAPER-1');
    h.to(600);
    expect(trail(h.updates, 'PAPER-1')).toEqual([['open', 0], ['partially_filled', 25], ['cancelled', 25]]);
    expect((await h.broker.positions())[0]).toMatchObject({ netQty: 25 });
  });

  it('a modify below the filled quantity is refused; one landing after more fills is dropped', async () => {
    const h = harness({ max_lots_per_fill: 1, slippage_ticks: 0 });
    await h.broker.placeOrder(req('big', { qty: 100, price: 101 }));
    h.at(300, { ltp: 100, ask: 100 });
    await expect(h.broker.modifyOrder('PAPER-1', { qty: 25 })).rejects.toMatchObject({ kind: 'invalid_request', code: 'BAD_QTY' });
    await h.broker.modifyOrder('PAPER-1', { qty: 50 }); // lands at +550
    h.at(400, { ltp: 100, ask: 100 }); // now 50 filled
    h.to(600);
    expect(await h.broker.orderStatus('PAPER-1')).toMatchObject({ qty: 100, filledQty: 50, state: 'partially_filled' });
  });
});

describe('refusals, with the adapter\'s error type', () => {
  const cases = [
    ['a quantity not a multiple of the lot', req('q', { qty: 30 }), 'BAD_QTY'],
    ['a zero quantity', req('q', { qty: 0 }), 'BAD_QTY'],
    ['a quantity above the freeze quantity', req('q', { qty: 1825 }), 'BAD_QTY'],
    ['a LIMIT price off the tick grid', req('p', { price: 100.03 }), 'BAD_PRICE'],
    ['a LIMIT price of 0', req('p', { price: 0 }), 'BAD_PRICE'],
    ['a tag with a space', req('bad tag'), 'BAD_TAG'],
    ['a tag of 20 characters', req('x'.repeat(20)), 'BAD_TAG'],
    ['an instrument not in the master', req('u', { instrument: { token: '1', symbol: 'NOPE', exchange: 'NFO' } }), 'UNKNOWN_INSTRUMENT'],
  ] as const;

  it.each(cases)('%s', async (_name, r, code) => {
    const h = harness();
    const err = await h.broker.placeOrder(r).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(SmartApiError);
    expect(err).toMatchObject({ kind: 'invalid_request', endpoint: 'placeOrder', code, category: 'rejected' });
    expect(await h.broker.orderBook()).toEqual([]);
    h.to(1000);
    expect(h.updates).toEqual([]);
  });

  it('a modify is checked like a placement', async () => {
    const h = harness();
    await h.broker.placeOrder(req('m'));
    await expect(h.broker.modifyOrder('PAPER-1', { price: 100.02 })).rejects.toMatchObject({ kind: 'invalid_request', endpoint: 'modifyOrder', code: 'BAD_PRICE' });
    await expect(h.broker.modifyOrder('PAPER-1', { qty: 60 })).rejects.toMatchObject({ code: 'BAD_QTY' });
  });

  it('modify or cancel of an unknown order: AB1013', async () => {
    const h = harness();
    await expect(h.broker.cancelOrder('PAPER-9')).rejects.toMatchObject({ kind: 'invalid_request', endpoint: 'cancelOrder', code: 'AB1013' });
    await expect(h.broker.modifyOrder('PAPER-9', { price: 99 })).rejects.toMatchObject({ endpoint: 'modifyOrder', code: 'AB1013' });
  });

  it('cancelling or modifying a final order is refused with the order and its state named', async () => {
    const h = harness();
    await h.broker.placeOrder(req('f'));
    h.at(300, { ltp: 90 });
    await expect(h.broker.cancelOrder('PAPER-1')).rejects.toThrow(/PAPER-1 is filled/);
    await expect(h.broker.cancelOrder('PAPER-1')).rejects.toMatchObject({ kind: 'invalid_request', code: 'ORDER_FINAL', category: 'rejected' });
    await expect(h.broker.modifyOrder('PAPER-1', { price: 95 })).rejects.toMatchObject({ endpoint: 'modifyOrder', code: 'ORDER_FINAL' });
    await h.broker.placeOrder(req('c'));
    await h.broker.cancelOrder('PAPER-2');
    h.to(1000);
    await expect(h.broker.cancelOrder('PAPER-2')).rejects.toThrow(/PAPER-2 is cancelled/);
  });

  it('a BUY the cash cannot pay for is rejected at the exchange (RMS), with the reason', async () => {
    const h = harness({}, 10_000);
    await h.broker.placeOrder(req('a', { qty: 75, price: 100 })); // 7,500
    await h.broker.placeOrder(req('b', { qty: 50, price: 100 })); // 5,000 more: over
    h.to(300);
    expect(trail(h.updates, 'PAPER-1')).toEqual([['open', 0]]);
    expect(trail(h.updates, 'PAPER-2')).toEqual([['rejected', 0]]);
    expect(h.updates.at(-1)).toMatchObject({ rawStatus: 'rejected', reason: expect.stringMatching(/insufficient funds/) });
    expect(await h.broker.funds()).toEqual({ availableCash: 10_000, utilised: 7_500, net: 2_500 });
    h.at(400, { ltp: 99 });
    expect(trail(h.updates, 'PAPER-2')).toEqual([['rejected', 0]]);
  });

  it('a MARKET buy is priced at the last ask + slippage for the funds check', async () => {
    const h = harness({ slippage_ticks: 0 }, 5_000);
    h.at(0, { ltp: 150, ask: 150 });
    await h.broker.placeOrder(req('m', { orderType: 'MARKET', price: 0, qty: 50 })); // ~7,500
    h.to(300);
    expect(trail(h.updates, 'PAPER-1')).toEqual([['rejected', 0]]);
  });
});

describe('books', () => {
  it('findOrderByTag finds the order by its tag (the latest when a tag repeats), undefined otherwise', async () => {
    const h = harness();
    await h.broker.placeOrder(req('A1'));
    await h.broker.placeOrder(req('B1'));
    await h.broker.placeOrder(req('A1', { price: 99 }));
    expect((await h.broker.findOrderByTag('B1'))?.orderId).toBe('PAPER-2');
    expect((await h.broker.findOrderByTag('A1'))?.orderId).toBe('PAPER-3');
    expect(await h.broker.findOrderByTag('nope')).toBeUndefined();
    expect(await h.broker.orderStatus('nope')).toBeUndefined();
  });

  it('tradeBook, positions and funds after a round trip', async () => {
    const h = harness({ slippage_ticks: 1 }, 100_000);
    await h.broker.placeOrder(req('in', { qty: 75, orderType: 'MARKET', price: 0 }));
    h.at(300, { ltp: 100, ask: 100, bid: 99.95 });
    expect(await h.broker.funds()).toEqual({ availableCash: 92_496.25, utilised: 0, net: 92_496.25 });
    expect(await h.broker.positions()).toEqual([
      { token: CE.token, symbol: CE.symbol, exchange: 'NFO', product: 'INTRADAY', netQty: 75, buyQty: 75, sellQty: 0, buyAvg: 100.05, sellAvg: 0 },
    ]);
    await h.broker.placeOrder(req('out', { side: 'SELL', qty: 75, price: 110 }));
    h.at(600, { ltp: 111, ask: 111.1, bid: 110.9 });
    expect(await h.broker.tradeBook()).toEqual([
      { orderId: 'PAPER-1', fillId: 'PAPER-F1', token: CE.token, symbol: CE.symbol, side: 'BUY', qty: 75, price: 100.05, time: T0 + 300 },
      { orderId: 'PAPER-2', fillId: 'PAPER-F2', token: CE.token, symbol: CE.symbol, side: 'SELL', qty: 75, price: 110.85, time: T0 + 600 },
    ]);
    expect(await h.broker.positions()).toEqual([
      { token: CE.token, symbol: CE.symbol, exchange: 'NFO', product: 'INTRADAY', netQty: 0, buyQty: 75, sellQty: 75, buyAvg: 100.05, sellAvg: 110.85 },
    ]);
    const f = await h.broker.funds();
    expect(f.availableCash).toBeCloseTo(100_000 + 75 * (110.85 - 100.05), 6);
    expect(f).toMatchObject({ utilised: 0 });
    expect(f.net).toBe(f.availableCash);
  });

  it('positions are kept per token and product', async () => {
    const h = harness();
    await h.broker.placeOrder(req('a', { orderType: 'MARKET', price: 0 }));
    await h.broker.placeOrder(req('b', { orderType: 'MARKET', price: 0, product: 'CARRYFORWARD' }));
    await h.broker.placeOrder(req('c', { orderType: 'MARKET', price: 0, instrument: { token: PE.token, symbol: PE.symbol, exchange: 'NFO' } }));
    h.at(300, { ltp: 100 });
    h.broker.onTick(tick(T0 + 300, { token: PE.token, ltp: 80 }));
    expect((await h.broker.positions()).map((p) => [p.symbol, p.product, p.netQty])).toEqual([
      [CE.symbol, 'INTRADAY', 50],
      [CE.symbol, 'CARRYFORWARD', 50],
      [PE.symbol, 'INTRADAY', 50],
    ]);
  });

  it('books are per day: the next day\'s first tick or order drops earlier days\' final orders, their trades and flat positions; working orders, held positions and cash stay', async () => {
    const h = harness({ slippage_ticks: 0 }, 100_000);
    await h.broker.placeOrder(req('in', { qty: 50, orderType: 'MARKET', price: 0 }));
    await h.broker.placeOrder(req('pe', { qty: 50, orderType: 'MARKET', price: 0, instrument: { token: PE.token, symbol: PE.symbol, exchange: 'NFO' } }));
    h.at(300, { ltp: 100, ask: 100, bid: 100 });
    h.broker.onTick(tick(T0 + 300, { token: PE.token, ltp: 80 }));
    await h.broker.placeOrder(req('out', { side: 'SELL', qty: 50, price: 110 }));
    h.at(600, { ltp: 111, ask: 111, bid: 111 });
    await h.broker.placeOrder(req('wait', { qty: 50, price: 50 })); // never marketable: working overnight
    h.to(900);
    const cash = (await h.broker.funds()).availableCash;
    expect((await h.broker.orderBook()).map((o) => o.state)).toEqual(['filled', 'filled', 'filled', 'open']);

    h.at(86_400_000, { ltp: 112, ask: 112, bid: 112 });
    expect((await h.broker.orderBook()).map((o) => [o.orderId, o.state])).toEqual([['PAPER-4', 'open']]);
    expect(await h.broker.tradeBook()).toEqual([]);
    // The CE round trip ended flat; the PE bought yesterday is held.
    expect((await h.broker.positions()).map((p) => [p.symbol, p.netQty])).toEqual([[PE.symbol, 50]]);
    expect((await h.broker.funds()).availableCash).toBe(cash);
    expect(await h.broker.orderStatus('PAPER-1')).toBeUndefined();
    await expect(h.broker.cancelOrder('PAPER-1')).rejects.toMatchObject({ code: 'AB1013' });
    // Ids go on; the working order still fills.
    expect((await h.broker.placeOrder(req('next'))).orderId).toBe('PAPER-5');
    h.at(86_400_000 + 300, { ltp: 49, ask: 49, bid: 49 });
    expect((await h.broker.tradeBook()).map((t) => t.orderId)).toEqual(['PAPER-4', 'PAPER-5']);
  });

  it('returned orders and trades are copies', async () => {
    const h = harness();
    await h.broker.placeOrder(req('a'));
    const book = await h.broker.orderBook();
    book[0]!.state = 'filled';
    h.updates.length = 0;
    h.to(300);
    expect(h.updates[0]!.state).toBe('open');
    h.updates[0]!.price = 1;
    expect((await h.broker.orderStatus('PAPER-1'))!.price).toBe(100);
  });
});

describe('delegation', () => {
  it('session, market data, instruments and the tick stream go to the data broker; orders never do', async () => {
    const h = harness();
    await h.broker.login();
    await h.broker.refresh();
    await h.broker.quotes([{ exchange: 'NFO', token: CE.token }], 'ltp');
    await h.broker.candles({ exchange: 'NFO', token: CE.token, interval: '1m', from: T0, to: T0 + 60_000 });
    await h.broker.instruments();
    await h.broker.logout();
    expect(h.data.calls).toEqual(['login', 'refresh', 'quotes', 'candles', 'instruments', 'logout']);
    expect(h.broker.ticks).toBe(h.data.ticks);
    await h.broker.placeOrder(req('x'));
    await h.broker.modifyOrder('PAPER-1', { price: 99 });
    await h.broker.cancelOrder('PAPER-1');
    await h.broker.orderBook();
    await h.broker.tradeBook();
    await h.broker.orderStatus('PAPER-1');
    await h.broker.findOrderByTag('x');
    await h.broker.positions();
    await h.broker.funds();
    h.to(1000);
  });
});

// ---- scenarios: monotone updates and determinism ------------------------------------------------

type Step =
  | { kind: 'place'; side: 'BUY' | 'SELL'; market: boolean; lots: number; priceSteps: number; pe: boolean }
  | { kind: 'modify'; which: number; priceSteps: number; lots: number }
  | { kind: 'cancel'; which: number }
  | { kind: 'tick'; dt: number; ltpSteps: number; spreadSteps: number; pe: boolean };

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ kind: fc.constant('place' as const), side: fc.constantFrom('BUY' as const, 'SELL' as const), market: fc.boolean(), lots: fc.integer({ min: 1, max: 6 }), priceSteps: fc.integer({ min: 1900, max: 2100 }), pe: fc.boolean() }),
  fc.record({ kind: fc.constant('modify' as const), which: fc.nat(20), priceSteps: fc.integer({ min: 1900, max: 2100 }), lots: fc.integer({ min: 1, max: 8 }) }),
  fc.record({ kind: fc.constant('cancel' as const), which: fc.nat(20) }),
  fc.record({ kind: fc.constant('tick' as const), dt: fc.integer({ min: 0, max: 400 }), ltpSteps: fc.integer({ min: 1900, max: 2100 }), spreadSteps: fc.integer({ min: 0, max: 4 }), pe: fc.boolean() }),
);

async function run(steps: Step[], settings: { latency_ms: number; max_lots_per_fill: number; slippage_ticks: number }) {
  const h: Harness = harness(settings, 20_000); // small enough that some BUYs meet the funds check
  let t = 0;
  let placed = 0;
  const errors: string[] = [];
  for (const s of steps) {
    try {
      if (s.kind === 'place') {
        const inst = s.pe ? PE : CE;
        await h.broker.placeOrder(
          req(`s${placed++}`, { side: s.side, orderType: s.market ? 'MARKET' : 'LIMIT', qty: s.lots * 25, price: s.market ? 0 : s.priceSteps * 0.05, instrument: { token: inst.token, symbol: inst.symbol, exchange: 'NFO' } }),
        );
      } else if (s.kind === 'modify') {
        await h.broker.modifyOrder(`PAPER-${(s.which % Math.max(1, placed)) + 1}`, { price: s.priceSteps * 0.05, qty: s.lots * 25 });
      } else if (s.kind === 'cancel') {
        await h.broker.cancelOrder(`PAPER-${(s.which % Math.max(1, placed)) + 1}`);
      } else {
        t += s.dt;
        const ltp = s.ltpSteps * 0.05;
        h.clock.advanceTo(T0 + t);
        h.broker.onTick(tick(T0 + t, { token: s.pe ? PE.token : CE.token, ltp, ask: ltp + s.spreadSteps * 0.05, bid: ltp }));
      }
    } catch (e) {
      errors.push(e instanceof SmartApiError ? `${e.endpoint}:${e.code}` : String(e));
    }
  }
  h.clock.advanceTo(T0 + t + 10_000);
  return { h, errors, orders: await h.broker.orderBook(), trades: await h.broker.tradeBook(), positions: await h.broker.positions(), funds: await h.broker.funds() };
}

const settingsArb = fc.record({ latency_ms: fc.constantFrom(0, 100, 250), max_lots_per_fill: fc.constantFrom(0, 1, 2), slippage_ticks: fc.constantFrom(0, 1, 3) });

const FINAL: ReadonlySet<Order['state']> = new Set(['filled', 'cancelled', 'rejected']);

describe('scenarios', () => {
  it('updates never go backwards, and books agree with the updates and the trades', async () => {
    const seen = { trades: 0, partial: 0, cancelled: 0, rejected: 0, modified: 0 };
    await fc.assert(
      fc.asyncProperty(fc.array(stepArb, { minLength: 1, maxLength: 60 }), settingsArb, async (steps, settings) => {
        const { h, orders, trades, positions } = await run(steps, settings);
        seen.trades += trades.length;
        seen.partial += h.updates.filter((u) => u.state === 'partially_filled').length;
        seen.cancelled += orders.filter((o) => o.state === 'cancelled').length;
        seen.rejected += orders.filter((o) => o.state === 'rejected').length;
        seen.modified += h.updates.filter((u, i) => h.updates.slice(0, i).some((p) => p.orderId === u.orderId && p.state === u.state && p.filledQty === u.filledQty)).length;
        for (const o of orders) {
          const us = h.updates.filter((u) => u.orderId === o.orderId);
          for (let i = 1; i < us.length; i++) {
            const [a, b] = [us[i - 1]!, us[i]!];
            expect(FINAL.has(a.state), `update after a final state of ${o.orderId}`).toBe(false);
            expect(b.filledQty).toBeGreaterThanOrEqual(a.filledQty);
            expect(b.updatedAt).toBeGreaterThanOrEqual(a.updatedAt);
            if (a.state === 'partially_filled') expect(b.state).not.toBe('open');
          }
          expect(us.every((u) => u.state !== 'pending')).toBe(true);
          if (us.length > 0) expect(['open', 'rejected']).toContain(us[0]!.state);
          if (us.length > 0) expect(us.at(-1)).toEqual(o); // the last update is the book's view
          const fills = trades.filter((t) => t.orderId === o.orderId);
          expect(fills.reduce((s, t) => s + t.qty, 0)).toBe(o.filledQty);
          expect(o.filledQty).toBeLessThanOrEqual(o.qty);
          if (o.state === 'filled') expect(o.filledQty).toBe(o.qty);
          for (const f of fills) {
            expect(Math.abs(f.price / 0.05 - Math.round(f.price / 0.05))).toBeLessThan(1e-6); // on the grid
            if (o.orderType === 'LIMIT') expect(o.side === 'BUY' ? f.price <= o.price + 1e-9 : f.price >= o.price - 1e-9).toBe(true);
          }
        }
        for (const p of positions) {
          const mine = trades.filter((t) => t.token === p.token);
          expect(p.netQty).toBe(mine.reduce((s, t) => s + (t.side === 'BUY' ? t.qty : -t.qty), 0));
        }
      }),
      { numRuns: 150, seed: 20240401 },
    );
    // The scenarios do exercise what they check.
    for (const [what, n] of Object.entries(seen)) expect(n, what).toBeGreaterThan(0);
  });

  it('two runs of the same scenario give identical orders, trades, updates, positions and funds', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(stepArb, { minLength: 1, maxLength: 60 }), settingsArb, async (steps, settings) => {
        const a = await run(steps, settings);
        const b = await run(steps, settings);
        expect(b.orders).toEqual(a.orders);
        expect(b.trades).toEqual(a.trades);
        expect(b.h.updates).toEqual(a.h.updates);
        expect(b.positions).toEqual(a.positions);
        expect(b.funds).toEqual(a.funds);
        expect(b.errors).toEqual(a.errors);
      }),
      { numRuns: 50, seed: 7 },
    );
  });
});
