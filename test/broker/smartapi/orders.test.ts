import { afterEach, describe, expect, it } from 'vitest';
import type { OrderRequest } from '../../../src/broker/broker.js';
import { SmartApiError } from '../../../src/broker/smartapi/errors.js';
import { mapOrderState, parseBrokerTime } from '../../../src/broker/smartapi/order-mapping.js';
import { validateOrderValues, validateTag } from '../../../src/broker/smartapi/orders.js';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { istToMillis } from '../../../src/core/clock.js';
import { harness, type Harness } from './support/fake-smartapi.js';

let h: Harness;
afterEach(async () => {
  await h?.close();
});

const req = (tag: string, over: Partial<OrderRequest> = {}): OrderRequest => ({
  tag,
  instrument: { token: '45829', symbol: 'NIFTY04APR2423000CE', exchange: 'NFO' },
  side: 'BUY',
  orderType: 'LIMIT',
  qty: 50,
  price: 101.35,
  product: 'INTRADAY',
  ...over,
});

async function loggedIn(over: Parameters<typeof harness>[0] = {}): Promise<Harness> {
  h = await harness(over);
  await h.broker.login();
  return h;
}

describe('order status mapping (§4.5)', () => {
  it.each([
    ['complete', 50, 50, 'filled'],
    ['open', 0, 50, 'open'],
    ['open', 25, 50, 'partially_filled'],
    ['trigger pending', 0, 50, 'open'],
    ['cancelled', 25, 50, 'cancelled'],
    ['rejected', 0, 50, 'rejected'],
    ['after market order req received', 0, 50, 'pending'],
    ['open pending', 0, 50, 'pending'],
    ['validation pending', 0, 50, 'pending'],
    ['put order req received', 0, 50, 'pending'],
    ['modify pending', 0, 50, 'open'],
    ['cancel pending', 25, 50, 'partially_filled'],
    ['cancelled after market order', 0, 50, 'cancelled'],
    ['Complete', 50, 50, 'filled'],
    ['something new', 0, 50, 'pending'],
    ['', 0, 50, 'pending'],
  ] as const)('%s (filled %i of %i) → %s', (raw, filled, qty, state) => {
    expect(mapOrderState(raw, filled, qty)).toBe(state);
  });

  it('reads broker times (dd-MMM-yyyy HH:mm:ss IST)', () => {
    expect(parseBrokerTime('20-Oct-2020 13:10:59')).toBe(istToMillis('2020-10-20', '13:10:59'));
    expect(parseBrokerTime('')).toBeUndefined();
    expect(parseBrokerTime('garbage')).toBeUndefined();
  });
});

describe('order tags', () => {
  it('accepts 1–19 chars of [A-Za-z0-9_-], refuses the rest', () => {
    expect(() => validateTag('adx-NIFTY_0001')).not.toThrow();
    expect(() => validateTag('a'.repeat(19))).not.toThrow();
    for (const bad of ['', 'a'.repeat(20), 'has space', 'semi;colon', 'ünï']) {
      expect(() => validateTag(bad)).toThrow(SmartApiError);
    }
  });

  it('a bad tag is refused before anything is sent', async () => {
    await loggedIn();
    await expect(h.broker.placeOrder(req('x'.repeat(20)))).rejects.toMatchObject({ kind: 'invalid_request', code: 'BAD_TAG' });
    expect(h.fake.count('placeOrder')).toBe(0);
  });
});

describe('orders: happy paths', () => {
  it('place, book, details, modify, cancel, trade book, find by tag', async () => {
    await loggedIn();
    const ack = await h.broker.placeOrder(req('t-1'));
    expect(ack.resolution).toBe('response');
    expect(ack.orderId).toBe(h.fake.orders[0]!.orderid);
    expect(ack.uniqueOrderId).toBe(h.fake.orders[0]!.uniqueorderid);
    expect(h.fake.lastBodies.get('placeOrder')).toEqual({
      variety: 'NORMAL', tradingsymbol: 'NIFTY04APR2423000CE', symboltoken: '45829', transactiontype: 'BUY', exchange: 'NFO',
      ordertype: 'LIMIT', producttype: 'INTRADAY', duration: 'DAY', price: '101.35', quantity: '50', ordertag: 't-1',
    });

    const book = await h.broker.orderBook();
    expect(book).toEqual([
      {
        orderId: ack.orderId, tag: 't-1', token: '45829', symbol: 'NIFTY04APR2423000CE', exchange: 'NFO', side: 'BUY', orderType: 'LIMIT',
        qty: 50, price: 101.35, filledQty: 0, avgFillPrice: 0, state: 'open', rawStatus: 'open', updatedAt: istToMillis('2024-01-02', '09:20:00'),
      },
    ]);
    expect(await h.broker.findOrderByTag('t-1')).toMatchObject({ orderId: ack.orderId });
    expect(await h.broker.findOrderByTag('nope')).toBeUndefined();

    const detailsBefore = h.fake.count('details');
    expect(await h.broker.orderStatus(ack.orderId)).toMatchObject({ orderId: ack.orderId, state: 'open', price: 101.35 });
    expect(h.fake.count('details')).toBe(detailsBefore + 1);

    const mod = await h.broker.modifyOrder(ack.orderId, { price: 99.5 });
    expect(mod.orderId).toBe(ack.orderId);
    expect(h.fake.lastBodies.get('modifyOrder')).toMatchObject({ orderid: ack.orderId, price: '99.50', quantity: '50', ordertype: 'LIMIT', variety: 'NORMAL', symboltoken: '45829', exchange: 'NFO' });
    expect(h.fake.orders[0]!.price).toBe(99.5);

    await h.broker.cancelOrder(ack.orderId);
    expect(h.fake.lastBodies.get('cancelOrder')).toEqual({ variety: 'NORMAL', orderid: ack.orderId });
    expect((await h.broker.orderStatus(ack.orderId))?.state).toBe('cancelled');

    const b = await h.broker.placeOrder(req('t-2', { orderType: 'MARKET', side: 'SELL' }));
    expect(h.fake.lastBodies.get('placeOrder')).toMatchObject({ price: '0', ordertype: 'MARKET', transactiontype: 'SELL' });
    expect(await h.broker.tradeBook()).toEqual([]);
    h.fake.fill(b.orderId, 120.05);
    expect(await h.broker.tradeBook()).toEqual([
      { orderId: b.orderId, fillId: `F${b.orderId}`, token: '45829', symbol: 'NIFTY04APR2423000CE', side: 'SELL', qty: 50, price: 120.05, time: expect.any(Number) },
    ]);
    expect((await h.broker.orderStatus(b.orderId))).toMatchObject({ state: 'filled', filledQty: 50, avgFillPrice: 120.05 });
  });

  it('an empty book (data null or AB1013) is an empty list, not an error', async () => {
    await loggedIn();
    expect(await h.broker.orderBook()).toEqual([]);
    h.fake.failNext('getOrderBook', { kind: 'json', body: { status: false, message: 'Order not found', errorcode: 'AB1013', data: null } });
    expect(await h.broker.orderBook()).toEqual([]);
    expect(h.events.filter((e) => e.type === 'BrokerRequestFailed')).toEqual([]);
  });

  it('a broker rejection is thrown as is and NOT looked up or re-sent', async () => {
    await loggedIn();
    h.fake.failNext('placeOrder', { kind: 'json', body: { status: false, message: 'Token under exchange cautionary listing', errorcode: 'AB4036', data: null } });
    await expect(h.broker.placeOrder(req('rej-1'))).rejects.toMatchObject({ kind: 'envelope', code: 'AB4036', category: 'rejected' });
    expect(h.fake.count('placeOrder')).toBe(1);
    expect(h.fake.count('getOrderBook')).toBe(0);
  });
});

describe('orders: unknown placement outcomes (never re-sent)', () => {
  const emptyBook = { kind: 'json' as const, body: { status: true, message: 'SUCCESS', errorcode: '', data: [] } };

  it('answer lost after the broker accepted the order → found by tag, NOT duplicated', async () => {
    await loggedIn();
    h.fake.failNext('placeOrder', { kind: 'destroy-after' });
    const r = await h.broker.placeOrder(req('lost-1'));
    expect(r.resolution).toBe('found_by_tag');
    expect(h.fake.count('placeOrder')).toBe(1);
    expect(h.fake.orders).toHaveLength(1);
    expect(r.orderId).toBe(h.fake.orders[0]!.orderid);
    expect(h.fake.count('getOrderBook')).toBeGreaterThanOrEqual(1);
  });

  it('a lagging book (the order missing from the first reads) → still found by tag, one live order, one send', async () => {
    await loggedIn();
    h.fake.failNext('placeOrder', { kind: 'destroy-after' });
    h.fake.failNext('getOrderBook', emptyBook, emptyBook, emptyBook);
    const r = await h.broker.placeOrder(req('lag-1'));
    expect(r.resolution).toBe('found_by_tag');
    expect(h.fake.count('placeOrder')).toBe(1);
    expect(h.fake.orders.filter((o) => o.ordertag === 'lag-1')).toHaveLength(1);
    expect(h.fake.count('getOrderBook')).toBe(4);
  });

  it('answer lost and the tag never shows up within the window → unknown_outcome after a bounded number of reads, never re-sent', async () => {
    await loggedIn({ orders: { lookupDelayMs: 5, lookupWindowMs: 40 } });
    h.fake.failNext('placeOrder', { kind: 'destroy' });
    const err = await h.broker.placeOrder(req('gone-1')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SmartApiError);
    expect(err).toMatchObject({ kind: 'unknown_outcome', endpoint: 'placeOrder', sent: 'unknown' });
    expect((err as Error).message).toMatch(/gone-1.*do not re-send/);
    expect(h.fake.count('placeOrder')).toBe(1);
    expect(h.fake.orders).toHaveLength(0);
    const reads = h.fake.count('getOrderBook');
    expect(reads).toBeGreaterThanOrEqual(2);
    expect(reads).toBeLessThanOrEqual(8);
  });

  it('connection refused (provably never sent) → a definite network failure with sent "no", no lookup, nothing placed', async () => {
    await loggedIn();
    await h.fake.stopListening();
    // Let the client see its idle keep-alive socket close: a request written onto a socket the
    // server is closing is reset, which is (rightly) an unknown outcome, not a refusal.
    await new Promise((r) => setTimeout(r, 50));
    try {
      const err = await h.broker.placeOrder(req('refused-1')).catch((e: unknown) => e);
      expect(err).toMatchObject({ kind: 'network', code: 'ECONNREFUSED', sent: 'no', endpoint: 'placeOrder' });
    } finally {
      await h.fake.listenAgain();
    }
    expect(h.fake.count('placeOrder')).toBe(0);
    expect(h.fake.count('getOrderBook')).toBe(0);
    expect(h.fake.orders).toHaveLength(0);
  });

  it('a connection reset after the request left is NOT "never sent": looked up, and unknown_outcome when absent', async () => {
    await loggedIn({ orders: { lookupDelayMs: 5, lookupWindowMs: 15 } });
    h.fake.failNext('placeOrder', { kind: 'destroy' }); // ECONNRESET / socket hang up: sent 'unknown'
    await expect(h.broker.placeOrder(req('reset-1'))).rejects.toMatchObject({ kind: 'unknown_outcome' });
    expect(h.fake.count('getOrderBook')).toBeGreaterThanOrEqual(1);
    expect(h.fake.count('placeOrder')).toBe(1);
  });

  it('a 5xx answer to a placement is an unknown outcome: looked up by tag, never re-sent', async () => {
    await loggedIn({ orders: { lookupDelayMs: 5, lookupWindowMs: 15 } });
    h.fake.failNext('placeOrder', { kind: 'text', status: 504, text: 'Gateway Timeout' });
    await expect(h.broker.placeOrder(req('gw-1'))).rejects.toMatchObject({ kind: 'unknown_outcome', endpoint: 'placeOrder' });
    expect(h.fake.count('placeOrder')).toBe(1);
    expect(h.fake.orders).toHaveLength(0);
  });

  it('a 5xx with a JSON envelope body is an unknown outcome as well (not a business refusal)', async () => {
    await loggedIn({ orders: { lookupDelayMs: 5, lookupWindowMs: 15 } });
    h.fake.failNext('placeOrder', { kind: 'json', status: 500, body: { status: false, message: 'Internal Error, Please Try After Sometime', errorcode: 'AB2001', data: null } });
    await expect(h.broker.placeOrder(req('gw-2'))).rejects.toMatchObject({ kind: 'unknown_outcome' });
    expect(h.fake.count('placeOrder')).toBe(1);
  });

  it('a lookup that cannot read the book ends as unknown_outcome (never as a getOrderBook error read as "not placed")', async () => {
    await loggedIn({ rest: { retry: { retries: 1, minTimeoutMs: 1, maxTimeoutMs: 2, factor: 1, randomize: false } }, orders: { lookupDelayMs: 5, lookupWindowMs: 15 } });
    h.fake.failNext('placeOrder', { kind: 'destroy' });
    const fail500 = { kind: 'text' as const, status: 500, text: 'x' };
    h.fake.failNext('getOrderBook', ...Array.from({ length: 6 }, () => fail500));
    const err = await h.broker.placeOrder(req('nolook-1')).catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'unknown_outcome', endpoint: 'placeOrder' });
    expect((err as Error).message).toMatch(/last read failed/);
    expect(h.fake.count('placeOrder')).toBe(1);
  });

  it('a failed read is not the end: a later read in the window finds the order', async () => {
    await loggedIn({ rest: { retry: { retries: 0, minTimeoutMs: 1, maxTimeoutMs: 2, factor: 1, randomize: false } } });
    h.fake.failNext('placeOrder', { kind: 'destroy-after' });
    h.fake.failNext('getOrderBook', { kind: 'text', status: 502, text: 'Bad Gateway' });
    const r = await h.broker.placeOrder(req('late-1'));
    expect(r).toMatchObject({ resolution: 'found_by_tag', orderId: h.fake.orders[0]!.orderid });
    expect(h.fake.count('placeOrder')).toBe(1);
  });
});

describe('orders: requests are checked before they leave', () => {
  const row = { token: '45829', symbol: 'NIFTY04APR2423000CE', name: 'NIFTY', expiry: '04APR2024', strike: '2300000.000000', lotsize: '50', instrumenttype: 'OPTIDX', exch_seg: 'NFO', tick_size: '5.000000', freeze_qty: '1801' };

  it.each([
    [{ price: Number.NaN }, 'BAD_PRICE', /price must be a finite number, got NaN/],
    [{ price: Number.POSITIVE_INFINITY, orderType: 'MARKET' as const }, 'BAD_PRICE', /got Infinity/],
    [{ price: 0 }, 'BAD_PRICE', /price of a LIMIT order must be > 0, got 0/],
    [{ price: -1 }, 'BAD_PRICE', /got -1/],
    [{ qty: 1.5 }, 'BAD_QTY', /quantity must be a positive integer, got 1.5/],
    [{ qty: 0 }, 'BAD_QTY', /got 0/],
    [{ qty: Number.NaN }, 'BAD_QTY', /got NaN/],
  ])('%o is refused (%s) and nothing is sent', async (over, code, msg) => {
    await loggedIn();
    const err = await h.broker.placeOrder(req('bad-1', over)).catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'invalid_request', code, endpoint: 'placeOrder' });
    expect((err as Error).message).toMatch(msg);
    expect(h.fake.count('placeOrder')).toBe(0);
  });

  it('with the instrument master loaded: lot multiple, freeze quantity and tick grid, on place and on modify', async () => {
    h = await harness({ dataDir: mkdtempSync(join(tmpdir(), 'rustro-orders-')) });
    h.fake.master = JSON.stringify([row]);
    await h.broker.login();
    await h.broker.instruments();
    await expect(h.broker.placeOrder(req('lot-1', { qty: 75 }))).rejects.toMatchObject({ code: 'BAD_QTY', message: expect.stringMatching(/quantity 75 is not a multiple of the lot size 50 for NIFTY04APR2423000CE/) });
    await expect(h.broker.placeOrder(req('frz-1', { qty: 1850 }))).rejects.toMatchObject({ code: 'BAD_QTY', message: expect.stringMatching(/quantity 1850 exceeds the freeze quantity 1800/) });
    await expect(h.broker.placeOrder(req('tick-1', { price: 101.33 }))).rejects.toMatchObject({ code: 'BAD_PRICE', message: expect.stringMatching(/price 101.33 is not a multiple of the tick size 0.05/) });
    expect(h.fake.count('placeOrder')).toBe(0);

    const ok = await h.broker.placeOrder(req('ok-1', { qty: 1800, price: 101.35 }));
    await expect(h.broker.modifyOrder(ok.orderId, { price: 99.52 })).rejects.toMatchObject({ kind: 'invalid_request', endpoint: 'modifyOrder', code: 'BAD_PRICE' });
    await expect(h.broker.modifyOrder(ok.orderId, { qty: 60 })).rejects.toMatchObject({ endpoint: 'modifyOrder', code: 'BAD_QTY' });
    await expect(h.broker.modifyOrder(ok.orderId, { price: Number.NaN })).rejects.toMatchObject({ endpoint: 'modifyOrder', code: 'BAD_PRICE' });
    expect(h.fake.count('modifyOrder')).toBe(0);
    await h.broker.modifyOrder(ok.orderId, { price: 99.55, qty: 100 });
    expect(h.fake.lastBodies.get('modifyOrder')).toMatchObject({ price: '99.55', quantity: '100' });
  });

  it('tick grid check tolerates binary fractions (0.05 steps) and MARKET ignores the grid', () => {
    const inst = { symbol: 'X', lotSize: 25, tickSize: 0.05 };
    for (const price of [0.05, 0.1, 0.15, 101.35, 2171.95, 99999.95]) expect(() => validateOrderValues('placeOrder', { orderType: 'LIMIT', qty: 25, price }, inst)).not.toThrow();
    expect(() => validateOrderValues('placeOrder', { orderType: 'MARKET', qty: 25, price: 0 }, inst)).not.toThrow();
    expect(() => validateOrderValues('placeOrder', { orderType: 'LIMIT', qty: 25, price: 0.07 }, inst)).toThrow(/tick size 0.05/);
  });
});
