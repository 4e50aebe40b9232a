/**
 * The broker port (ARCHITECTURE rule 4): everything Rustro asks of a broker,
 * in Rustro's own types — prices in rupees, times as epoch ms, tokens as
 * strings, quantities in units (not lots). The SmartAPI adapter
 * (`broker/smartapi/`) and the paper broker (`broker/paper/`) implement it;
 * nothing outside `broker/smartapi/` knows a SmartAPI field name.
 */

import type { EXCHANGES, Payload } from '../core/events.js';

export type Exchange = (typeof EXCHANGES)[number];
export type InstrumentKind = 'index' | 'option' | 'future' | 'equity';
export type OptionType = 'CE' | 'PE';
export type Side = 'BUY' | 'SELL';
export type OrderType = 'LIMIT' | 'MARKET';
export type Product = 'INTRADAY' | 'CARRYFORWARD';
/**
 * A position's product: Rustro's own two, or `OTHER` for a position opened
 * some other way (DELIVERY, MARGIN, BO… — by hand in the broker's app), with
 * the broker's word in `Position.rawProduct`. Such positions are reported,
 * never dropped: they hold real exposure.
 */
export type PositionProduct = Product | 'OTHER';

/** One tradable (or watchable) contract. */
export type Instrument = {
  token: string;
  /** The broker's trading symbol, e.g. NIFTY04JAN2421700CE. Always taken from the master, never built. */
  symbol: string;
  /** Underlying / short name: NIFTY, BANKNIFTY, SENSEX, INDIA VIX. */
  name: string;
  exchange: Exchange;
  kind: InstrumentKind;
  /** Expiry date in IST, YYYY-MM-DD; undefined for indices and equities. */
  expiry?: string;
  /** Strike in rupees (options only). */
  strike?: number;
  optionType?: OptionType;
  lotSize: number;
  /** Tick size in rupees (0 for indices). */
  tickSize: number;
  /** Largest quantity (units) one order may carry, where the master says. */
  freezeQty?: number;
};

export type InstrumentRef = { exchange: Exchange; token: string };

/** A live session. The credentials and tokens stay inside the adapter. */
export type BrokerSession = { clientCode: string; loggedInAt: number; expiresAt: number };

export type Funds = { availableCash: number; net: number; utilised: number };

export type OrderRequest = {
  /** Deterministic idempotency key, sent as the broker's order tag (≤ 19 chars, [A-Za-z0-9_-]). */
  tag: string;
  instrument: Pick<Instrument, 'token' | 'symbol' | 'exchange'>;
  side: Side;
  orderType: OrderType;
  /** Units, a multiple of the lot size. */
  qty: number;
  /** Rupees; ignored for MARKET. */
  price: number;
  product: Product;
};

export type OrderModification = { orderType?: OrderType; qty?: number; price?: number };

export type OrderAck = { orderId: string };

/** Rustro's order lifecycle; `rawStatus` keeps the broker's own word for audits. */
export type OrderState = 'pending' | 'open' | 'partially_filled' | 'filled' | 'cancelled' | 'rejected';

export type Order = {
  orderId: string;
  tag?: string;
  token: string;
  symbol: string;
  exchange: Exchange;
  side: Side;
  orderType: OrderType;
  qty: number;
  price: number;
  filledQty: number;
  avgFillPrice: number;
  state: OrderState;
  rawStatus: string;
  /** The broker's reason for a rejection or cancellation, if it gave one. */
  reason?: string;
  updatedAt: number;
};

export type Trade = { orderId: string; fillId: string; token: string; symbol: string; side: Side; qty: number; price: number; time: number };

export type Position = {
  token: string;
  symbol: string;
  exchange: Exchange;
  product: PositionProduct;
  /** The broker's product word when `product` is `OTHER`. */
  rawProduct?: string;
  /** Net units: positive long, negative short. */
  netQty: number;
  buyQty: number;
  sellQty: number;
  buyAvg: number;
  sellAvg: number;
};

export type QuoteMode = 'ltp' | 'ohlc' | 'full';
export type DepthLevel = { price: number; qty: number; orders: number };

export type Quote = {
  token: string;
  exchange: Exchange;
  ltp: number;
  open?: number;
  high?: number;
  low?: number;
  /** Previous session's close. */
  close?: number;
  volume?: number;
  oi?: number;
  upperCircuit?: number;
  lowerCircuit?: number;
  bids?: DepthLevel[];
  asks?: DepthLevel[];
};

export type CandleInterval = '1m' | '3m' | '5m' | '10m' | '15m' | '30m' | '1h' | '1d';
/** ts is the bar's start, epoch ms. Volume 0 for indices. */
export type Candle = { ts: number; open: number; high: number; low: number; close: number; volume: number };
export type CandleRequest = InstrumentRef & { interval: CandleInterval; from: number; to: number };

export type FeedMode = 'ltp' | 'quote' | 'snap';

/** One market-data update, decoded from the feed. Fields beyond the LTP header are present per mode. */
export type Tick = {
  token: string;
  exchange: Exchange;
  mode: FeedMode;
  /** Exchange timestamp, epoch ms. */
  exchTs: number;
  ltp: number;
  lastQty?: number;
  avgPrice?: number;
  /** Cumulative volume traded today, units. */
  volume?: number;
  totBuyQty?: number;
  totSellQty?: number;
  open?: number;
  high?: number;
  low?: number;
  close?: number;
  /** Last trade time, epoch ms. */
  lastTradeTs?: number;
  oi?: number;
  bids?: DepthLevel[];
  asks?: DepthLevel[];
  upperCircuit?: number;
  lowerCircuit?: number;
  high52?: number;
  low52?: number;
};

/** The live tick stream. Ticks and connection changes reach the app through the callbacks the app wires to the bus. */
export interface TickStream {
  subscribe(refs: InstrumentRef[], mode: FeedMode): void;
  unsubscribe(refs: InstrumentRef[], mode: FeedMode): void;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export interface Broker {
  login(): Promise<BrokerSession>;
  refresh(): Promise<BrokerSession>;
  logout(): Promise<void>;
  funds(): Promise<Funds>;
  placeOrder(req: OrderRequest): Promise<OrderAck>;
  modifyOrder(orderId: string, change: OrderModification): Promise<OrderAck>;
  cancelOrder(orderId: string): Promise<void>;
  orderBook(): Promise<Order[]>;
  tradeBook(): Promise<Trade[]>;
  orderStatus(orderId: string): Promise<Order | undefined>;
  /** The order carrying this tag in today's book, if any: how an unknown placement outcome is resolved. */
  findOrderByTag(tag: string): Promise<Order | undefined>;
  positions(): Promise<Position[]>;
  quotes(refs: InstrumentRef[], mode: QuoteMode): Promise<Quote[]>;
  candles(req: CandleRequest): Promise<Candle[]>;
  instruments(): Promise<Instrument[]>;
  readonly ticks: TickStream;
}

/**
 * A broker's report of an order as the `OrderUpdated` event carries it: the
 * one mapping every source uses (the SmartAPI order-status stream and its
 * polling, the paper broker, reconciliation).
 */
export function orderUpdatedOf(o: Order, source: Payload<'OrderUpdated'>['source']): Payload<'OrderUpdated'> {
  return {
    orderId: o.orderId,
    ...(o.tag === undefined ? {} : { tag: o.tag }),
    state: o.state,
    rawStatus: o.rawStatus,
    filledQty: o.filledQty,
    avgFillPrice: o.avgFillPrice,
    ...(o.reason === undefined ? {} : { reason: o.reason }),
    source,
  };
}
