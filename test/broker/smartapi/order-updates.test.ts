import { afterEach, describe, expect, it } from 'vitest';
import type { OrderRequest } from '../../../src/broker/broker.js';
import type { EventOf } from '../../../src/core/events.js';
import { harness, type Harness } from './support/fake-smartapi.js';
import { OrderUpdates } from '../../../src/broker/smartapi/order-updates.js';
import { EventBus } from '../../../src/core/bus.js';
import { SimClock } from '../../../src/core/clock.js';
import { Secret } from '../../../src/core/secrets.js';
import { waitFor as until } from '../../support/wait.js';

let h: Harness;
afterEach(async () => {
  await h?.close();
});

const req = (tag: string): OrderRequest => ({
  tag,
  instrument: { token: '45829', symbol: 'NIFTY04APR2423000CE', exchange: 'NFO' },
  side: 'BUY',
  orderType: 'LIMIT',
  qty: 50,
  price: 100,
  product: 'INTRADAY',
});


const updates = (x: Harness) => x.events.filter((e): e is EventOf<'OrderUpdated'> => e.type === 'OrderUpdated');
const shape = (e: EventOf<'OrderUpdated'>) => {
  const { source: _s, orderId: _o, ...rest } = e.data;
  return rest;
};

/** One scripted order lifecycle: placed (open), part-filled, duplicate, filled; a second order rejected. */
async function lifecycle(x: Harness): Promise<void> {
  const a = await x.broker.placeOrder(req('life-a'));
  await until(() => updates(x).some((e) => e.data.orderId === a.orderId));
  const o = x.fake.orders.find((q) => q.orderid === a.orderId)!;
  Object.assign(o, { filledshares: 25, unfilledshares: 25, averageprice: 100 });
  x.fake.pushOrderUpdate(o, 'AB01');
  await until(() => updates(x).some((e) => e.data.state === 'partially_filled'));
  x.fake.pushOrderUpdate(o, 'AB01'); // identical: dropped
  x.fake.fill(a.orderId, 100.2);
  x.fake.pushOrderUpdate(o, 'AB05');
  await until(() => updates(x).some((e) => e.data.state === 'filled'));
  const b = await x.broker.placeOrder(req('life-b'));
  const ob = x.fake.orders.find((q) => q.orderid === b.orderId)!;
  await until(() => updates(x).some((e) => e.data.orderId === b.orderId));
  Object.assign(ob, { status: 'rejected', text: 'RMS:Margin Exceeds' });
  x.fake.pushOrderUpdate(ob, 'AB00'); // §15: the docs' sample has a rejection under AB00; the status decides
  await until(() => updates(x).some((e) => e.data.state === 'rejected'));
}

describe('order-status WebSocket', () => {
  it('connects with the Bearer header, ignores the AB00 hello, maps frames to OrderUpdated by orderData.status, de-duplicates', async () => {
    h = await harness({ orderUpdates: { pollMs: 60_000 } });
    await h.broker.login();
    h.broker.orderUpdates.start();
    await until(() => h.broker.orderUpdates.connected);
    expect(h.fake.wsConnects).toBe(1);
    await lifecycle(h);
    const got = updates(h);
    expect(got.every((e) => e.data.source === 'stream' || e.data.source === 'poll')).toBe(true);
    expect(got.map(shape)).toEqual([
      { tag: 'life-a', state: 'open', rawStatus: 'open', filledQty: 0, avgFillPrice: 0 },
      { tag: 'life-a', state: 'partially_filled', rawStatus: 'open', filledQty: 25, avgFillPrice: 100 },
      { tag: 'life-a', state: 'filled', rawStatus: 'complete', filledQty: 50, avgFillPrice: 100.2 },
      { tag: 'life-b', state: 'open', rawStatus: 'open', filledQty: 0, avgFillPrice: 0 },
      { tag: 'life-b', state: 'rejected', rawStatus: 'rejected', filledQty: 0, avgFillPrice: 0, reason: 'RMS:Margin Exceeds' },
    ]);
    expect(got.filter((e) => e.data.source === 'stream').length).toBeGreaterThanOrEqual(4);
    expect(h.broker.orderUpdates.stats.duplicates).toBeGreaterThanOrEqual(1);
  });

  it('sends text ping on the heartbeat and gets pong', async () => {
    h = await harness({ orderUpdates: { pingMs: 20, pollMs: 60_000 } });
    await h.broker.login();
    h.broker.orderUpdates.start();
    await until(() => h.fake.wsPings >= 2);
  });

  it('a 401 handshake (expired token) renews the session and reconnects', async () => {
    h = await harness({ orderUpdates: { pollMs: 60_000 } });
    await h.broker.login();
    h.fake.expireJwt();
    h.broker.orderUpdates.start();
    await until(() => h.broker.orderUpdates.connected);
    expect(h.fake.wsRefusals).toEqual([401]);
    expect(h.fake.count('generateTokens')).toBe(1);
  });
});

describe('order-book polling fallback', () => {
  it('while the socket is down, polling produces the same OrderUpdated events', async () => {
    // The socket URL points nowhere: the stream never comes up.
    h = await harness({ orderUpdates: { url: 'ws://127.0.0.1:1/smart-order-update', pollMs: 20, reconnectMinMs: 10_000 } });
    await h.broker.login();
    h.broker.orderUpdates.start();
    await lifecycle(h);
    const polled = updates(h);
    expect(polled.every((e) => e.data.source === 'poll')).toBe(true);

    // The same lifecycle over the stream gives the same facts.
    const streamed = await (async () => {
      const s = await harness({ orderUpdates: { pollMs: 60_000 } });
      try {
        await s.broker.login();
        s.broker.orderUpdates.start();
        await until(() => s.broker.orderUpdates.connected);
        await lifecycle(s);
        return updates(s);
      } finally {
        await s.close();
      }
    })();
    expect(polled.map(shape)).toEqual(streamed.map(shape));
  });

  it('polling stops once the socket is up; a dropped socket reconnects', async () => {
    h = await harness({ orderUpdates: { pollMs: 20, reconnectMinMs: 20, reconnectMaxMs: 40 } });
    await h.broker.login();
    h.broker.orderUpdates.start();
    await until(() => h.broker.orderUpdates.connected);
    const polls = h.fake.count('getOrderBook');
    await new Promise((r) => setTimeout(r, 100));
    expect(h.fake.count('getOrderBook')).toBeLessThanOrEqual(polls + 1); // at most the catch-up poll
    await h.fake.stopListening();
    await h.fake.listenAgain();
    await until(() => h.broker.orderUpdates.connected && h.fake.wsConnects === 2);
  });
});

describe('order states never go backwards (stream and poll interleaved)', () => {
  const bookOf = (...rows: Array<Record<string, unknown> & { status: string }>) => ({ kind: 'json' as const, body: { status: true, message: 'SUCCESS', errorcode: '', data: rows.map((r) => ({ ...r, orderstatus: r.status })) } });

  it('a poll answered after the stream said filled/50 does not publish open/0 (nor a lower fill after a partial)', async () => {
    h = await harness({ orderUpdates: { pollMs: 60_000 } });
    await h.broker.login();
    h.broker.orderUpdates.start();
    await until(() => h.broker.orderUpdates.connected);
    const a = await h.broker.placeOrder(req('mono-1'));
    await until(() => updates(h).some((e) => e.data.orderId === a.orderId));
    const o = h.fake.orders.find((q) => q.orderid === a.orderId)!;
    const asOpen = { ...o, status: 'open', filledshares: 0, unfilledshares: 50, averageprice: 0 };

    Object.assign(o, { filledshares: 25, unfilledshares: 25, averageprice: 100 });
    h.fake.pushOrderUpdate(o, 'AB01');
    await until(() => updates(h).some((e) => e.data.state === 'partially_filled'));
    h.fake.failNext('getOrderBook', bookOf(asOpen)); // a poll that read the book before the part-fill
    await h.broker.orderUpdates.pollOnce();

    h.fake.fill(a.orderId, 100.2);
    h.fake.pushOrderUpdate(o, 'AB05');
    await until(() => updates(h).some((e) => e.data.state === 'filled'));
    h.fake.failNext('getOrderBook', bookOf(asOpen), bookOf({ ...asOpen, filledshares: 25, unfilledshares: 25, averageprice: 100 }));
    await h.broker.orderUpdates.pollOnce();
    await h.broker.orderUpdates.pollOnce();
    h.fake.pushOrderUpdate({ ...o, status: 'cancelled' }, 'AB02'); // nothing after a final state, whatever its source

    await new Promise((r) => setTimeout(r, 50));
    expect(updates(h).filter((e) => e.data.orderId === a.orderId).map((e) => [e.data.state, e.data.filledQty])).toEqual([
      ['open', 0],
      ['partially_filled', 25],
      ['filled', 50],
    ]);
    expect(h.broker.orderUpdates.stats.stale).toBe(4);
  });

  it('at the same fill, a row with an older broker time is not published over a newer one', async () => {
    h = await harness({ orderUpdates: { pollMs: 60_000 } });
    await h.broker.login();
    h.broker.orderUpdates.start();
    await until(() => h.broker.orderUpdates.connected);
    const a = await h.broker.placeOrder(req('mono-2'));
    await until(() => updates(h).some((e) => e.data.orderId === a.orderId));
    const o = h.fake.orders.find((q) => q.orderid === a.orderId)!;
    h.fake.pushOrderUpdate({ ...o, status: 'modified', updatetime: '02-Jan-2024 09:21:00' }, 'AB01');
    await until(() => updates(h).some((e) => e.data.rawStatus === 'modified'));
    h.fake.failNext('getOrderBook', bookOf({ ...o, status: 'open pending', updatetime: '02-Jan-2024 09:19:59' }));
    await h.broker.orderUpdates.pollOnce();
    expect(updates(h).filter((e) => e.data.orderId === a.orderId).map((e) => e.data.rawStatus)).toEqual(['open', 'modified']);
    expect(h.broker.orderUpdates.stats.stale).toBe(1);
  });
});

describe('order-status socket: connect never throws', () => {
  it('a token with CR/LF is refused before it reaches a header: no throw, a reconnect is scheduled, polling goes on', async () => {
    const clock = new SimClock(1_700_000_000_000);
    const bus = new EventBus(clock);
    let polls = 0;
    const bad = new Secret('eyJ\r\nX-Injected: 1');
    const u = new OrderUpdates(
      { jwt: () => bad, feedToken: () => undefined, apiKey: new Secret('k'), clientCode: new Secret('c'), renew: async () => {} },
      async () => {
        polls++;
        return [];
      },
      bus,
      clock,
      undefined,
      { url: 'ws://127.0.0.1:9/never', pollMs: 100, reconnectMinMs: 1_000, reconnectMaxMs: 1_000 },
    );
    expect(() => u.start()).not.toThrow();
    expect(u.stats.connectErrors).toBe(1);
    clock.advanceBy(1_500); // the scheduled reconnect runs and fails the same way, again without throwing
    await new Promise((r) => setImmediate(r));
    expect(u.stats.connectErrors).toBeGreaterThanOrEqual(2);
    expect(polls).toBeGreaterThan(0);
    await u.stop();
  });

  it('an unusable URL is a failed connect, not a throw out of start()', async () => {
    const clock = new SimClock(1_700_000_000_000);
    const u = new OrderUpdates(
      { jwt: () => new Secret('eyJhbGciOi'), feedToken: () => undefined, apiKey: new Secret('k'), clientCode: new Secret('c'), renew: async () => {} },
      async () => [],
      new EventBus(clock),
      clock,
      undefined,
      { url: 'not a url', pollMs: 100 },
    );
    expect(() => u.start()).not.toThrow();
    expect(u.stats.connectErrors).toBe(1);
    await u.stop();
  });
});

describe('rows that would make an invalid OrderUpdated never reach the bus', () => {
  it('a negative filled quantity or average price is refused at the edge, naming the field (stream and book)', async () => {
    h = await harness({ orderUpdates: { pollMs: 60_000 } });
    await h.broker.login();
    h.broker.orderUpdates.start();
    await until(() => h.broker.orderUpdates.connected);
    const a = await h.broker.placeOrder(req('neg-1'));
    await until(() => updates(h).some((e) => e.data.orderId === a.orderId));
    const o = h.fake.orders.find((q) => q.orderid === a.orderId)!;
    const rejectedBefore = h.broker.orderUpdates.stats.rejectedFrames;
    h.fake.pushOrderUpdate({ ...o, filledshares: -25, averageprice: 100 }, 'AB01');
    await until(() => h.broker.orderUpdates.stats.rejectedFrames > rejectedBefore);
    expect(h.logs.some((l) => l.includes('order-status message refused') && l.includes('orderData.filledshares: must not be negative'))).toBe(true);

    h.fake.failNext('getOrderBook', { kind: 'json', body: { status: true, message: 'SUCCESS', errorcode: '', data: [{ ...o, orderstatus: o.status, averageprice: -1 }] } });
    await expect(h.broker.orderBook()).rejects.toMatchObject({ kind: 'invalid_response', message: expect.stringMatching(/averageprice: must not be negative/) });
    expect(updates(h).every((e) => e.data.filledQty >= 0 && e.data.avgFillPrice >= 0)).toBe(true);
    expect(updates(h).filter((e) => e.data.orderId === a.orderId)).toHaveLength(1);
  });
});
