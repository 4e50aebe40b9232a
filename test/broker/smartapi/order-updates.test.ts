import { afterEach, describe, expect, it } from 'vitest';
import type { OrderRequest } from '../../../src/broker/broker.js';
import type { EventOf } from '../../../src/core/events.js';
import { harness, type Harness } from './support/fake-smartapi.js';

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

/** Waits (a few ms at a time, bounded) until `cond` holds. */
async function until(cond: () => boolean, ms = 3000): Promise<void> {
  const end = performance.now() + ms;
  while (!cond()) {
    if (performance.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

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
