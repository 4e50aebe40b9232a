/**
 * Every simulator fault against the SmartAPI adapter, and the adapter's
 * recovery: dropped sockets, a stalled feed (muted, and silent), garbage
 * frames, HTTP 500/429/timeouts, invalidated tokens, rejected orders, a
 * delayed acknowledgement and a placement answer lost after the order was
 * booked. Time: see support/harness.ts.
 */
import { createServer, connect, type Socket, type AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Instrument, InstrumentRef, OrderRequest } from '../../src/broker/broker.js';
import { SmartApiError } from '../../src/broker/smartapi/errors.js';
import { NIFTY, type Rig, type SimEnv, makeRig, runClock, settle, startEnv, startFeed, waitFor, waitForSubscriptions } from './support/harness.js';

let env: SimEnv;
let rig: Rig;
let opt: Instrument;
let optRef: InstrumentRef;

beforeAll(async () => {
  env = await startEnv();
  rig = makeRig(env);
  await rig.broker.login();
  await rig.broker.instruments();
  const spot = env.market.quote(NIFTY.token)!.ltp;
  opt = rig.broker.instrumentIndex!.chain('NIFTY', '2024-01-04').filter((i) => i.optionType === 'CE')
    .reduce((a, b) => (Math.abs(b.strike! - spot) < Math.abs(a.strike! - spot) ? b : a));
  optRef = { exchange: opt.exchange, token: opt.token };
  await startFeed(env, rig, [[[NIFTY], 'ltp'], [[optRef], 'quote']]);
  rig.broker.orderUpdates.start();
  await waitFor(() => rig.broker.orderUpdates.connected, 'order-status socket');
});
afterEach(async () => {
  env.sim.setFaults({ clear: true });
});
afterAll(async () => {
  await rig?.close();
  await env?.close();
});

/** Moves sim time and waits for the NIFTY tick of the new sim time: ticks flow. */
async function ticksFlow(ms = 1_000): Promise<void> {
  const n = rig.events.length;
  await env.sim.advanceBy(ms);
  const ts = env.market.quote(NIFTY.token)!.ts;
  await waitFor(() => rig.since(n, 'Tick').some((t) => t.token === NIFTY.token && t.exchTs === ts), 'ticks after the fault');
}

const order = (tag: string, over: Partial<OrderRequest> = {}): OrderRequest => ({
  tag, instrument: opt, side: 'BUY', orderType: 'LIMIT', qty: 50, price: 1, product: 'INTRADAY', ...over,
});
/** Orders carrying `tag` in the simulator's order book (read over REST). */
async function simOrdersTagged(tag: string): Promise<number> {
  return (await rig.broker.orderBook()).filter((o) => o.tag === tag).length;
}

describe('market-data socket', () => {
  it('dropped socket → FeedDisconnected, reconnect, resubscribe, ticks again', async () => {
    await ticksFlow();
    const n = rig.events.length;
    const sockets = rig.wire.sockets;
    env.sim.setFaults({ dropSockets: 'market' });
    await waitFor(() => rig.since(n, 'FeedReconnectScheduled').length === 1, 'a reconnect to be scheduled');
    expect(rig.since(n, 'FeedDisconnected')[0]).toMatchObject({ connection: 0, code: 1006 });
    expect(rig.since(n, 'FeedReconnectScheduled')[0]).toEqual({ connection: 0, attempt: 1, delayMs: 200 });
    await runClock(env, rig, 200);
    await waitFor(() => rig.since(n, 'FeedConnected').length === 1, 'the reconnect');
    expect(rig.since(n, 'FeedConnected')[0]).toEqual({ connection: 0, subscriptions: 2 });
    expect(rig.wire.sockets).toBe(sockets + 1);
    await waitForSubscriptions(env, rig);
    await ticksFlow();
    expect(rig.since(n, 'Tick').some((t) => t.token === opt.token && t.mode === 'quote')).toBe(true);
  });

  it('stalled feed (pongs answered, no ticks) → FeedMuted resubscribe, then reconnect, then ticks again', async () => {
    await ticksFlow();
    const n = rig.events.length;
    env.sim.setFaults({ stallFeedSec: 10 });
    await runClock(env, rig, 3_000, { pongs: true });
    expect(rig.since(n, 'FeedMuted')).toEqual([{ connection: 0, silentMs: 3000, action: 'resubscribe' }]);
    // The simulator answers the resubscribe with snapshot ticks of the last (stale) quotes: not life.
    await waitFor(() => rig.since(n, 'Tick').some((t) => t.token === NIFTY.token), 'the snapshot after the resubscribe');
    await runClock(env, rig, 3_000, { pongs: true });
    expect(rig.since(n, 'FeedMuted')[1]).toEqual({ connection: 0, silentMs: 6000, action: 'reconnect' });
    expect(rig.since(n, 'FeedDisconnected')[0]).toEqual({ connection: 0, reason: 'muted: no tick for 6000 ms after a resubscribe' });
    await runClock(env, rig, 4_000, { pongs: true });
    expect(rig.since(n, 'FeedConnected')).toHaveLength(1);
    expect(env.sim.state().stalled).toBe(false);
    await waitForSubscriptions(env, rig);
    await ticksFlow();
  });

  it('silent stall (no pong either) → dead link, reconnect, then ticks again', async () => {
    await ticksFlow();
    const n = rig.events.length;
    env.sim.setFaults({ stallFeedSec: 8, stallSilent: true });
    await runClock(env, rig, 6_000);
    const down = rig.since(n, 'FeedDisconnected');
    expect(down.length).toBeGreaterThanOrEqual(1);
    expect(down[0]!.reason).toMatch(/^dead link: no message for \d+ ms$/);
    await runClock(env, rig, 4_000);
    expect(env.sim.state().stalled).toBe(false);
    await waitFor(() => rig.feed.openConnections === 1, 'the link back');
    await waitForSubscriptions(env, rig);
    await runClock(env, rig, 3_000, { pongs: true });
    expect(rig.feed.openConnections).toBe(1);
    await ticksFlow();
  });

  it('garbage frames → FeedFrameRejected events, no crash, ticks go on', async () => {
    const n = rig.events.length;
    env.sim.setFaults({ garbageFrames: 5 });
    await ticksFlow();
    await waitFor(() => rig.since(n, 'FeedFrameRejected').length === 5, 'five rejected frames');
    for (const r of rig.since(n, 'FeedFrameRejected')) expect(r.connection).toBe(0);
    expect(rig.feed.counters.internalErrors).toBe(0);
    expect(rig.feed.openConnections).toBe(1);
    await ticksFlow();
  });
});

describe('order-status socket', () => {
  it('dropped: what happened meanwhile is caught up by an order-book poll on reconnect', async () => {
    env.sim.setFaults({ dropSockets: 'order' });
    await waitFor(() => !rig.broker.orderUpdates.connected, 'the order socket to drop');
    const ack = await rig.broker.placeOrder(order('e2e-ou-1'));
    await rig.broker.cancelOrder(ack.orderId);
    await settle();
    expect(rig.of('OrderUpdated').filter((u) => u.tag === 'e2e-ou-1')).toEqual([]); // nobody told us yet
    await runClock(env, rig, 500);
    await waitFor(() => rig.broker.orderUpdates.connected, 'the order socket back');
    await waitFor(() => rig.of('OrderUpdated').some((u) => u.tag === 'e2e-ou-1'), 'the catch-up poll');
    expect(rig.of('OrderUpdated').filter((u) => u.tag === 'e2e-ou-1')).toEqual([
      { orderId: ack.orderId, tag: 'e2e-ou-1', state: 'cancelled', rawStatus: 'cancelled', filledQty: 0, avgFillPrice: 0, source: 'poll' },
    ]);
  });
});

describe('REST faults', () => {
  it('HTTP 500 and 429 at a rate: reads are retried and succeed', async () => {
    env.sim.setFaults({ http: { rate500: 0.2, rate429: 0.2 } });
    const sent0 = [...rig.broker.rest.sent.values()].reduce((a, b) => a + b, 0);
    for (let i = 0; i < 4; i++) {
      expect((await rig.broker.funds()).availableCash).toBeGreaterThan(0);
      expect((await rig.broker.quotes([optRef], 'ltp'))[0]!.token).toBe(opt.token);
      await rig.broker.orderBook();
      await rig.broker.positions();
    }
    const sent = [...rig.broker.rest.sent.values()].reduce((a, b) => a + b, 0) - sent0;
    expect(sent).toBeGreaterThan(16); // some were failed by the simulator and sent again
    expect(rig.of('BrokerRequestFailed')).toEqual([]);
  });

  it('HTTP timeouts at a rate: reads time out, are retried and succeed', async () => {
    const quick = makeRig(env, { timeoutMs: 150 });
    try {
      await quick.broker.login();
      env.sim.setFaults({ http: { rateTimeout: 0.4, pathPrefix: '/rest/secure/' } });
      for (let i = 0; i < 3; i++) {
        await quick.broker.funds();
        await quick.broker.candles({ ...NIFTY, interval: '5m', from: env.sim.state().openMs - 86_400_000, to: env.sim.state().openMs - 60_000 });
      }
      const sent = (quick.broker.rest.sent.get('getRMS') ?? 0) + (quick.broker.rest.sent.get('getCandleData') ?? 0);
      expect(sent).toBeGreaterThan(6);
      expect(quick.of('BrokerRequestFailed')).toEqual([]);
    } finally {
      env.sim.setFaults({ clear: true });
      await quick.close();
    }
  });

  it('invalidated tokens: the refresh is refused, a new login is made, the call succeeds; both sockets re-authenticate', async () => {
    const n = rig.events.length;
    env.sim.setFaults({ invalidateTokens: true });
    expect((await rig.broker.funds()).availableCash).toBeGreaterThan(0);
    expect(rig.since(n, 'BrokerLoggedIn')).toHaveLength(1);

    // The sockets were authenticated at connect time; dropped now, they come back with the new tokens.
    env.sim.setFaults({ invalidateTokens: true, dropSockets: 'all' });
    await waitFor(() => rig.since(n, 'FeedReconnectScheduled').length >= 1, 'feed reconnect');
    await runClock(env, rig, 200);
    // First try: the old feed token → HTTP 401 → re-login → reconnect.
    await waitFor(() => rig.since(n, 'FeedDisconnected').some((d) => d.code === 401), 'the 401 handshake');
    await waitFor(() => rig.since(n, 'BrokerLoggedIn').length === 2, 'the re-login');
    await runClock(env, rig, 1_000);
    await waitFor(() => rig.feed.openConnections === 1 && rig.broker.orderUpdates.connected, 'both sockets back');
    await waitForSubscriptions(env, rig);
    await ticksFlow();
  });
});

describe('order faults', () => {
  it('a refused placement is a typed error; an exchange rejection is OrderUpdated rejected', async () => {
    env.sim.setFaults({ rejectNextOrders: { count: 1, code: 'AB4036', message: 'Token under exchange cautionary listing' } });
    const err = await rig.broker.placeOrder(order('e2e-rej-1')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SmartApiError);
    expect(err).toMatchObject({ kind: 'envelope', code: 'AB4036', category: 'rejected', endpoint: 'placeOrder' });
    expect(await simOrdersTagged('e2e-rej-1')).toBe(0);

    // A quantity off the lot size is refused by the adapter before it leaves (the instrument is in the index).
    await expect(rig.broker.placeOrder(order('e2e-rej-lot', { qty: 25 }))).rejects.toMatchObject({ kind: 'invalid_request', code: 'BAD_QTY' });
    expect(await simOrdersTagged('e2e-rej-lot')).toBe(0);

    const ack = await rig.broker.placeOrder(order('e2e-rej-2', { price: 99_999.95 })); // outside the day's price band
    await waitFor(() => rig.of('OrderUpdated').some((u) => u.tag === 'e2e-rej-2'), 'OrderUpdated rejected');
    const u = rig.of('OrderUpdated').find((x) => x.tag === 'e2e-rej-2')!;
    expect(u).toMatchObject({ orderId: ack.orderId, state: 'rejected', rawStatus: 'rejected', source: 'stream' });
    expect(u.reason).toMatch(/price band/);
    expect((await rig.broker.orderStatus(ack.orderId))?.state).toBe('rejected');
  });

  it('HTTP 500 on placements: outcome unknown, looked up by tag over the window on the clock, never re-sent', async () => {
    const slow = makeRig(env, { broker: { orders: { lookupDelayMs: 1_000, lookupWindowMs: 3_000 } } });
    try {
      await slow.broker.login();
      env.sim.setFaults({ http: { rate500: 1, pathPrefix: '/rest/secure/angelbroking/order/v1/placeOrder' } });
      const booked = env.sim.state().orders;
      let done = false;
      const p = slow.broker.placeOrder(order('e2e-500-1')).catch((e: unknown) => e).finally(() => (done = true));
      for (let i = 0; i < 20 && !done; i++) {
        await settle();
        env.clock.advanceBy(500);
      }
      const err = await p;
      expect(err).toBeInstanceOf(SmartApiError);
      expect(err).toMatchObject({ kind: 'unknown_outcome', endpoint: 'placeOrder', sent: 'unknown' });
      expect(slow.broker.rest.sent.get('placeOrder')).toBe(1);
      // Reads every 1 s over a 3 s window (the test clock runs on while reads are in flight: 2 or 3 reads).
      expect(slow.broker.rest.sent.get('getOrderBook')).toBeGreaterThanOrEqual(2);
      expect(slow.broker.rest.sent.get('getOrderBook')).toBeLessThanOrEqual(3);
      expect(env.sim.state().orders).toBe(booked);
      env.sim.setFaults({ clear: true });
      expect(await simOrdersTagged('e2e-500-1')).toBe(0);
    } finally {
      env.sim.setFaults({ clear: true });
      await slow.close();
    }
  });

  it('a placement that never reached the server (connection refused) is a definite failure: network, sent "no", no lookup, nothing booked', async () => {
    // A loopback forwarder to the simulator that can be shut, so the session is live but the next connect is refused.
    const sockets = new Set<Socket>();
    const target = new URL(env.sim.url);
    const proxy = createServer((c) => {
      const up = connect(Number(target.port), target.hostname);
      sockets.add(c).add(up);
      c.pipe(up).pipe(c);
      const drop = (): void => { c.destroy(); up.destroy(); };
      c.on('error', drop).on('close', drop);
      up.on('error', drop).on('close', drop);
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', () => r()));
    const port = (proxy.address() as AddressInfo).port;
    const cut = makeRig(env, { broker: { rest: { baseUrl: `http://127.0.0.1:${port}`, timeoutMs: 3000, retry: { retries: 0, minTimeoutMs: 1, maxTimeoutMs: 1, factor: 1, randomize: false } } } });
    try {
      await cut.broker.login();
      const closed = new Promise<void>((r) => proxy.close(() => r()));
      for (const s of sockets) s.destroy();
      await closed;
      await settle();
      const booked = env.sim.state().orders;
      const err = await cut.broker.placeOrder(order('e2e-refused-1')).catch((e: unknown) => e);
      expect(err).toMatchObject({ kind: 'network', code: 'ECONNREFUSED', sent: 'no', endpoint: 'placeOrder' });
      expect(cut.broker.rest.sent.get('getOrderBook') ?? 0).toBe(0);
      expect(env.sim.state().orders).toBe(booked);
      expect(await simOrdersTagged('e2e-refused-1')).toBe(0);
    } finally {
      await cut.close(); // its logout is refused too: logged, tokens forgotten
    }
  });

  it('a delayed acknowledgement: the order-status stream reports the order before the answer arrives', async () => {
    env.sim.setFaults({ ackDelayMs: 3_000 });
    const booked = env.sim.state().orders;
    let done = false;
    const p = rig.broker.placeOrder(order('e2e-ack-1')).finally(() => (done = true));
    await waitFor(() => env.sim.state().orders === booked + 1, 'the order to be booked');
    await waitFor(() => rig.of('OrderUpdated').some((u) => u.tag === 'e2e-ack-1' && u.state === 'open'), 'OrderUpdated open');
    await settle();
    expect(done).toBe(false);
    env.clock.advanceBy(3_000);
    const ack = await p;
    expect(ack.resolution).toBe('response');
    expect(rig.of('OrderUpdated').find((u) => u.tag === 'e2e-ack-1')!.orderId).toBe(ack.orderId);
    expect(await simOrdersTagged('e2e-ack-1')).toBe(1);
    const cancelled = rig.broker.cancelOrder(ack.orderId); // answered after the same delay
    await waitFor(() => rig.of('OrderUpdated').some((u) => u.tag === 'e2e-ack-1' && u.state === 'cancelled'), 'cancelled before the answer');
    env.clock.advanceBy(3_000);
    await cancelled;
    await waitFor(() => rig.of('OrderUpdated').some((u) => u.tag === 'e2e-ack-1' && u.state === 'cancelled'), 'cancelled');
  });

  it('an acknowledgement slower than the client timeout is resolved by tag, not sent twice', async () => {
    const quick = makeRig(env, { timeoutMs: 150 });
    try {
      await quick.broker.login();
      env.sim.setFaults({ ackDelayMs: 60_000 });
      const booked = env.sim.state().orders;
      const ack = await quick.broker.placeOrder(order('e2e-slow-1'));
      expect(ack.resolution).toBe('found_by_tag');
      expect(env.sim.state().orders).toBe(booked + 1);
      expect(await simOrdersTagged('e2e-slow-1')).toBe(1);
    } finally {
      env.sim.setFaults({ clear: true });
      await quick.close();
    }
  });

  it('the placement answer dropped after the order was booked → resolved by ordertag, not duplicated', async () => {
    env.sim.setFaults({ dropOrderResponses: 1 });
    const booked = env.sim.state().orders;
    const ack = await rig.broker.placeOrder(order('e2e-drop-1'));
    expect(ack.resolution).toBe('found_by_tag');
    expect(env.sim.state().orders).toBe(booked + 1);
    expect(await simOrdersTagged('e2e-drop-1')).toBe(1);
    expect((await rig.broker.findOrderByTag('e2e-drop-1'))?.orderId).toBe(ack.orderId);
    expect(rig.broker.rest.sent.get('placeOrder')).toBeGreaterThan(0);
  });
});
