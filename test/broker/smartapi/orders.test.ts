import { afterEach, describe, expect, it } from 'vitest';
import type { OrderRequest } from '../../../src/broker/broker.js';
import { SmartApiError } from '../../../src/broker/smartapi/errors.js';
import { mapOrderState, parseBrokerTime } from '../../../src/broker/smartapi/order-mapping.js';
import { validateTag } from '../../../src/broker/smartapi/orders.js';
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

describe('orders: unknown placement outcomes', () => {
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

  it('connection refused (never reached the broker) → looked up, provably absent, re-sent exactly once', async () => {
    await loggedIn();
    await h.fake.stopListening();
    // The broker comes back as soon as the failure is reported; the lookup retries until it answers.
    h.bus.on('BrokerRequestFailed', (e) => {
      if (e.data.endpoint === 'placeOrder') void h.fake.listenAgain();
    });
    const r = await h.broker.placeOrder(req('refused-1'));
    expect(r.resolution).toBe('resent_after_absent');
    expect(h.fake.count('placeOrder')).toBe(1); // the first send never arrived
    expect(h.fake.orders).toHaveLength(1);
    expect(h.fake.orders[0]!.ordertag).toBe('refused-1');
    const failed = h.events.find((e) => e.type === 'BrokerRequestFailed');
    expect(failed?.data).toMatchObject({ endpoint: 'placeOrder', code: 'ECONNREFUSED', attempts: 1 });
  });

  it('a 5xx answer to a placement is an unknown outcome too: resolved by tag', async () => {
    await loggedIn();
    h.fake.failNext('placeOrder', { kind: 'text', status: 504, text: 'Gateway Timeout' });
    const r = await h.broker.placeOrder(req('gw-1'));
    expect(r.resolution).toBe('resent_after_absent'); // the scripted 504 did no work: absent, so sent once more
    expect(h.fake.orders).toHaveLength(1);
  });

  it('a 5xx with a JSON envelope body is an unknown outcome as well (not a business refusal)', async () => {
    await loggedIn();
    h.fake.failNext('placeOrder', { kind: 'json', status: 500, body: { status: false, message: 'Internal Error, Please Try After Sometime', errorcode: 'AB2001', data: null } });
    const r = await h.broker.placeOrder(req('gw-2'));
    expect(r.resolution).toBe('resent_after_absent');
    expect(h.fake.orders).toHaveLength(1);
  });

  it('both sends lose their answer: found by tag after the re-send, never a third send', async () => {
    await loggedIn();
    h.fake.failNext('placeOrder', { kind: 'destroy' }, { kind: 'destroy-after' });
    const r = await h.broker.placeOrder(req('twice-1'));
    expect(r.resolution).toBe('found_by_tag_after_resend');
    expect(h.fake.count('placeOrder')).toBe(2);
    expect(h.fake.orders).toHaveLength(1);
  });

  it('both sends lost and still absent → unknown_outcome error, no third send', async () => {
    await loggedIn();
    h.fake.failNext('placeOrder', { kind: 'destroy' }, { kind: 'destroy' });
    await expect(h.broker.placeOrder(req('gone-1'))).rejects.toMatchObject({ kind: 'unknown_outcome', endpoint: 'placeOrder' });
    expect(h.fake.count('placeOrder')).toBe(2);
    expect(h.fake.orders).toHaveLength(0);
  });

  it('a lookup that cannot read the book does not re-send', async () => {
    await loggedIn({ rest: { retry: { retries: 1, minTimeoutMs: 1, maxTimeoutMs: 2, factor: 1, randomize: false } } });
    h.fake.failNext('placeOrder', { kind: 'destroy' });
    h.fake.failNext('getOrderBook', { kind: 'text', status: 500, text: 'x' }, { kind: 'text', status: 500, text: 'x' });
    await expect(h.broker.placeOrder(req('nolook-1'))).rejects.toMatchObject({ endpoint: 'getOrderBook' });
    expect(h.fake.count('placeOrder')).toBe(1);
  });
});
