/** Shared fixtures for the paper broker tests: a fake data broker, instruments, ticks and a harness on a SimClock. */
import type { Broker, Instrument, Order, OrderRequest, Tick, TickStream } from '../../../src/broker/broker.js';
import { SimClock } from '../../../src/core/clock.js';
import type { Config } from '../../../src/core/config-schema.js';
import { PaperBroker } from '../../../src/broker/paper/paper-broker.js';

export const T0 = Date.UTC(2024, 3, 1, 4, 0, 0); // 09:30 IST

export const CE: Instrument = {
  token: '45829',
  symbol: 'NIFTY04APR2423000CE',
  name: 'NIFTY',
  exchange: 'NFO',
  kind: 'option',
  expiry: '2024-04-04',
  strike: 23000,
  optionType: 'CE',
  lotSize: 25,
  tickSize: 0.05,
  freezeQty: 1800,
};

export const PE: Instrument = { ...CE, token: '45830', symbol: 'NIFTY04APR2423000PE', optionType: 'PE' };

const INSTRUMENTS = [CE, PE];

const ticksStub: TickStream = {
  subscribe() {},
  unsubscribe() {},
  async start() {},
  async stop() {},
};

/** The data side: answers login/quotes/instruments, throws if an order method is ever delegated to it. */
export function fakeData(): Broker & { calls: string[] } {
  const calls: string[] = [];
  const never = (name: string) => async (): Promise<never> => {
    throw new Error(`order method ${name} was delegated to the data broker`);
  };
  return {
    calls,
    ticks: ticksStub,
    async login() {
      calls.push('login');
      return { clientCode: 'X1', loggedInAt: T0, expiresAt: T0 + 86_400_000 };
    },
    async refresh() {
      calls.push('refresh');
      return { clientCode: 'X1', loggedInAt: T0, expiresAt: T0 + 86_400_000 };
    },
    async logout() {
      calls.push('logout');
    },
    async quotes(refs) {
      calls.push('quotes');
      return refs.map((r) => ({ ...r, ltp: 100 }));
    },
    async candles() {
      calls.push('candles');
      return [];
    },
    async instruments() {
      calls.push('instruments');
      return INSTRUMENTS;
    },
    funds: never('funds'),
    placeOrder: never('placeOrder'),
    modifyOrder: never('modifyOrder'),
    cancelOrder: never('cancelOrder'),
    orderBook: never('orderBook'),
    tradeBook: never('tradeBook'),
    orderStatus: never('orderStatus'),
    findOrderByTag: never('findOrderByTag'),
    positions: never('positions'),
  };
}

export const req = (tag: string, over: Partial<OrderRequest> = {}): OrderRequest => ({
  tag,
  instrument: { token: CE.token, symbol: CE.symbol, exchange: CE.exchange },
  side: 'BUY',
  orderType: 'LIMIT',
  qty: 50,
  price: 100,
  product: 'INTRADAY',
  ...over,
});

export type Quote = { ltp: number; ask?: number; bid?: number; token?: string };

export function tick(ts: number, q: Quote): Tick {
  const t: Tick = { token: q.token ?? CE.token, exchange: 'NFO', mode: q.ask !== undefined || q.bid !== undefined ? 'snap' : 'ltp', exchTs: ts, ltp: q.ltp };
  if (q.ask !== undefined) t.asks = [{ price: q.ask, qty: 500, orders: 3 }];
  if (q.bid !== undefined) t.bids = [{ price: q.bid, qty: 500, orders: 3 }];
  return t;
}

export type Harness = {
  clock: SimClock;
  broker: PaperBroker;
  data: ReturnType<typeof fakeData>;
  updates: Order[];
  /** Moves the clock to T0 + ms (firing due request effects), then delivers a tick stamped then. */
  at(ms: number, q: Quote): void;
  /** Moves the clock to T0 + ms without a tick. */
  to(ms: number): void;
};

export function harness(settings: Partial<Config['paper']> = {}, capital = 500_000): Harness {
  const clock = new SimClock(T0);
  const data = fakeData();
  const updates: Order[] = [];
  const broker = new PaperBroker({
    data,
    clock,
    settings: { slippage_ticks: 1, latency_ms: 250, max_lots_per_fill: 0, ...settings },
    capital,
    instrumentOf: (exchange, token) => INSTRUMENTS.find((i) => i.exchange === exchange && i.token === token),
    onOrderUpdate: (o) => updates.push(o),
  });
  return {
    clock,
    broker,
    data,
    updates,
    at(ms, q) {
      clock.advanceTo(T0 + ms);
      broker.onTick(tick(T0 + ms, q));
    },
    to(ms) {
      clock.advanceTo(T0 + ms);
    },
  };
}

/** The updates of one order, as (state, filledQty) pairs. */
export const trail = (updates: Order[], orderId: string): Array<[string, number]> =>
  updates.filter((u) => u.orderId === orderId).map((u) => [u.state, u.filledQty]);
