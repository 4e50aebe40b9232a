/**
 * Orders over SmartAPI REST (§4): place, modify, cancel, order book, trade
 * book, one order's details, and the lookup by `ordertag`.
 *
 * A placement is NEVER sent twice by this adapter. The broker does not enforce
 * unique tags, and its order book lags (most at 09:15 and under load), so no
 * number of reads proves an order absent. When a placement's outcome is
 * unknown (timeout, reset connection, 5xx, unreadable answer), the book is
 * read a few times over `lookupWindowMs` for the order's tag: found → the
 * order is returned (`found_by_tag`); never found (or the book could not be
 * read) → `SmartApiError` kind `unknown_outcome`. The caller decides; any
 * re-send must be a new intent with a new tag. Only a placement that provably
 * never left (connection refused / DNS failure before the request was written:
 * kind `network`, `sent: 'no'`) is reported as a plain failure, without a lookup.
 *
 * Requests are checked before they leave (tag, price, quantity; lot size,
 * tick size and freeze quantity when the instrument is in the index).
 */
import type { Instrument, Order, OrderAck, OrderModification, OrderRequest, OrderType, Trade } from '../broker.js';
import type { Clock } from '../../core/clock.js';
import type { Logger } from '../../core/log.js';
import { SmartApiError } from './errors.js';
import { orderType, toOrder, toTrade } from './order-mapping.js';
import type { SmartApiRest } from './rest.js';
import { listOf, orderAck, orderRow, tradeRow } from './schemas.js';

/** How a placement's outcome was established. */
export type PlaceResolution =
  /** The broker answered the placement. */
  | 'response'
  /** The answer was lost; the order was found in the book by its tag (it was sent once, never re-sent). */
  | 'found_by_tag';

export type PlaceResult = OrderAck & { uniqueOrderId?: string; resolution: PlaceResolution };

export type OrdersConfig = {
  /** Wait before each order-book read while looking an unknown placement up (on the Clock). */
  lookupDelayMs: number;
  /** How long an unknown placement is looked for before giving up with `unknown_outcome` (UNCERTAIN how long the book lags). */
  lookupWindowMs: number;
  /** Variety sent with every order (`NORMAL`). */
  variety: string;
  /** Duration sent with every order (`DAY`). */
  duration: string;
};

export const DEFAULT_ORDERS: OrdersConfig = { lookupDelayMs: 3000, lookupWindowMs: 30_000, variety: 'NORMAL', duration: 'DAY' };

const TAG = /^[A-Za-z0-9_-]{1,19}$/;

/** Refuses a tag the broker would refuse (AB4008) or could mangle: 1–19 chars of [A-Za-z0-9_-]. */
export function validateTag(tag: string): void {
  if (!TAG.test(tag)) {
    throw new SmartApiError('invalid_request', {
      endpoint: 'placeOrder',
      code: 'BAD_TAG',
      detail: `order tag must be 1–19 characters of A-Z a-z 0-9 _ -, got ${tag.length} characters${/^[\x20-\x7e]*$/.test(tag) ? ` '${tag.slice(0, 40)}'` : ''}`,
    });
  }
}

/** What a price or quantity is checked against; only the fields the index knows. */
export type OrderLimits = Pick<Instrument, 'symbol' | 'lotSize' | 'tickSize' | 'freezeQty'>;

/**
 * Refuses a price or quantity the exchange would reject, or that could not be
 * what the caller meant (NaN, Infinity, fractions of a unit), before it leaves:
 * `invalid_request` naming the field and the value.
 */
export function validateOrderValues(
  endpoint: 'placeOrder' | 'modifyOrder',
  v: { orderType: OrderType; qty: number; price: number },
  inst: OrderLimits | undefined,
): void {
  const refuse = (code: string, detail: string): never => {
    throw new SmartApiError('invalid_request', { endpoint, code, detail });
  };
  const on = inst === undefined ? '' : ` for ${inst.symbol}`;
  if (!(Number.isInteger(v.qty) && v.qty > 0)) refuse('BAD_QTY', `quantity must be a positive integer, got ${v.qty}`);
  if (inst !== undefined) {
    if (inst.lotSize > 0 && v.qty % inst.lotSize !== 0) refuse('BAD_QTY', `quantity ${v.qty} is not a multiple of the lot size ${inst.lotSize}${on}`);
    if (inst.freezeQty !== undefined && v.qty > inst.freezeQty) refuse('BAD_QTY', `quantity ${v.qty} exceeds the freeze quantity ${inst.freezeQty}${on}`);
  }
  if (!Number.isFinite(v.price)) refuse('BAD_PRICE', `price must be a finite number, got ${v.price}`);
  if (v.orderType === 'LIMIT') {
    if (!(v.price > 0)) refuse('BAD_PRICE', `price of a LIMIT order must be > 0, got ${v.price}`);
    if (inst !== undefined && inst.tickSize > 0) {
      const steps = v.price / inst.tickSize;
      if (Math.abs(steps - Math.round(steps)) > 1e-6) refuse('BAD_PRICE', `price ${v.price} is not a multiple of the tick size ${inst.tickSize}${on}`);
    }
  }
}

/** Outcomes that leave open whether the broker took the order. */
function outcomeUnknown(err: unknown): err is SmartApiError {
  if (!(err instanceof SmartApiError)) return false;
  if (err.kind === 'network') return err.sent !== 'no';
  return err.kind === 'timeout' || err.kind === 'invalid_response' || (err.kind === 'http' && (err.httpStatus ?? 0) >= 500);
}

type Known = { req: OrderRequest; variety: string };

export class SmartApiOrders {
  private readonly config: OrdersConfig;
  /** Orders placed through this instance: modify/cancel need fields the port does not pass. */
  private readonly known = new Map<string, Known>();
  private readonly uniqueIds = new Map<string, string>();
  /** Resolves a trading symbol to its token for trade-book rows (which carry none). */
  tokenOf: (symbol: string, exchange: string) => string | undefined = () => undefined;
  /** The instrument behind (exchange, token), when the master is loaded: lot, tick and freeze checks. */
  instrumentOf: (exchange: string, token: string) => OrderLimits | undefined = () => undefined;

  constructor(
    private readonly rest: SmartApiRest,
    private readonly clock: Clock,
    private readonly log?: Logger,
    config: Partial<OrdersConfig> = {},
  ) {
    this.config = { ...DEFAULT_ORDERS, ...config };
  }

  async place(req: OrderRequest): Promise<PlaceResult> {
    validateTag(req.tag);
    validateOrderValues('placeOrder', req, this.instrumentOf(req.instrument.exchange, req.instrument.token));
    const body = {
      variety: this.config.variety,
      tradingsymbol: req.instrument.symbol,
      symboltoken: req.instrument.token,
      transactiontype: req.side,
      exchange: req.instrument.exchange,
      ordertype: req.orderType,
      producttype: req.product,
      duration: this.config.duration,
      price: req.orderType === 'MARKET' ? '0' : req.price.toFixed(2),
      quantity: String(req.qty),
      ordertag: req.tag,
    };

    let lost: SmartApiError;
    try {
      const ack = await this.rest.call('placeOrder', orderAck, { body });
      return this.remember(req, ack.orderid, ack.uniqueorderid, 'response');
    } catch (err) {
      // A refusal, or a request that provably never left (connection refused: sent 'no'), is a definite failure.
      if (!outcomeUnknown(err)) throw err;
      lost = err;
    }
    this.log?.warn({ tag: req.tag, kind: lost.kind, code: lost.code }, 'placement outcome unknown; looking the order up by its tag (it is never re-sent)');
    const found = await this.lookup(req.tag);
    if (found.order !== undefined) return this.remember(req, found.order.orderId, undefined, 'found_by_tag');
    throw new SmartApiError('unknown_outcome', {
      endpoint: 'placeOrder',
      code: 'UNKNOWN_OUTCOME',
      sent: 'unknown',
      detail:
        `tag ${req.tag}: the placement's answer was lost (${lost.code || lost.kind}) and the order was not found in ${found.reads} order-book read(s) over ${found.elapsedMs} ms` +
        `${found.lastError !== undefined ? `; the last read failed: ${found.lastError}` : ''}; it may still appear — do not re-send with this tag`,
    });
  }

  async modify(orderId: string, change: OrderModification): Promise<OrderAck> {
    const base = await this.describe(orderId);
    const orderType = change.orderType ?? base.orderType;
    const price = change.price ?? base.price;
    const qty = change.qty ?? base.qty;
    validateOrderValues('modifyOrder', { orderType, qty, price }, this.instrumentOf(base.exchange, base.token));
    const body = {
      variety: base.variety,
      orderid: orderId,
      ordertype: orderType,
      producttype: base.product,
      duration: this.config.duration,
      price: orderType === 'MARKET' ? '0' : price.toFixed(2),
      quantity: String(qty),
      tradingsymbol: base.symbol,
      symboltoken: base.token,
      exchange: base.exchange,
    };
    const ack = await this.rest.call('modifyOrder', orderAck, { body });
    const k = this.known.get(orderId);
    if (k !== undefined) {
      this.known.set(orderId, { ...k, req: { ...k.req, orderType, qty, price } });
    }
    return { orderId: ack.orderid };
  }

  async cancel(orderId: string): Promise<void> {
    const variety = this.known.get(orderId)?.variety ?? (await this.bookRow(orderId))?.variety ?? this.config.variety;
    await this.rest.call('cancelOrder', orderAck, { body: { variety, orderid: orderId } });
  }

  async orderBook(): Promise<Order[]> {
    const rows = await this.rest.call('getOrderBook', listOf(orderRow), { emptyCodes: ['AB1013'] });
    const now = this.clock.now();
    return rows.flatMap((r) => toOrder(r, now) ?? []);
  }

  async tradeBook(): Promise<Trade[]> {
    const rows = await this.rest.call('getTradeBook', listOf(tradeRow), { emptyCodes: ['AB1014'] });
    const now = this.clock.now();
    return rows.map((r) => toTrade(r, now, (s, e) => this.tokenOf(s, e) ?? this.tokenFromKnown(s)));
  }

  /** One order: by details/{uniqueorderid} when known, else from the order book. */
  async orderStatus(orderId: string): Promise<Order | undefined> {
    const unique = this.uniqueIds.get(orderId);
    if (unique !== undefined && unique !== '') {
      const row = await this.rest.call('orderDetails', orderRow.nullable(), { pathSuffix: `/${encodeURIComponent(unique)}`, emptyCodes: ['AB1013'] });
      if (row !== null) return toOrder(row, this.clock.now());
    }
    return (await this.orderBook()).find((o) => o.orderId === orderId);
  }

  /** The order carrying `tag` in today's book (the latest if several). */
  async findByTag(tag: string): Promise<Order | undefined> {
    const matches = (await this.orderBook()).filter((o) => o.tag === tag);
    if (matches.length > 1) this.log?.warn({ tag, count: matches.length }, 'several orders carry one tag');
    return matches.at(-1);
  }

  /**
   * Reads the book for `tag` up to floor(window / delay) times (at least once),
   * `lookupDelayMs` apart on the Clock, stopping early once the window has
   * passed. A failed read proves nothing: the next read is tried.
   */
  private async lookup(tag: string): Promise<{ order?: Order; reads: number; elapsedMs: number; lastError?: string }> {
    const { lookupDelayMs: delay, lookupWindowMs: window } = this.config;
    const maxReads = delay > 0 ? Math.max(1, Math.floor(window / delay)) : 1;
    const t0 = this.clock.now();
    let reads = 0;
    let lastError: string | undefined;
    while (reads < maxReads && (reads === 0 || this.clock.now() - t0 < window)) {
      if (delay > 0) await new Promise<void>((r) => this.clock.setTimer(this.clock.now() + delay, r));
      reads++;
      try {
        const order = await this.findByTag(tag);
        if (order !== undefined) return { order, reads, elapsedMs: this.clock.now() - t0 };
        lastError = undefined;
      } catch (err) {
        lastError = err instanceof Error ? err.message : String(err);
        this.log?.warn({ tag, read: reads, error: lastError }, 'order-book read failed while looking an unknown placement up');
      }
    }
    return { reads, elapsedMs: this.clock.now() - t0, ...(lastError !== undefined ? { lastError } : {}) };
  }

  private remember(req: OrderRequest, orderId: string, uniqueOrderId: string | undefined, resolution: PlaceResolution): PlaceResult {
    this.known.set(orderId, { req, variety: this.config.variety });
    if (uniqueOrderId !== undefined && uniqueOrderId !== '') this.uniqueIds.set(orderId, uniqueOrderId);
    return uniqueOrderId !== undefined && uniqueOrderId !== '' ? { orderId, uniqueOrderId, resolution } : { orderId, resolution };
  }

  private async describe(orderId: string) {
    const k = this.known.get(orderId);
    if (k !== undefined) {
      const r = k.req;
      return { variety: k.variety, orderType: r.orderType, product: r.product, price: r.price, qty: r.qty, symbol: r.instrument.symbol, token: r.instrument.token, exchange: r.instrument.exchange };
    }
    const row = await this.bookRow(orderId);
    if (row === undefined) throw new SmartApiError('invalid_request', { endpoint: 'modifyOrder', code: 'AB1013', detail: `order ${orderId} is not in today's order book` });
    return {
      variety: row.variety,
      orderType: orderType(row.ordertype),
      product: row.producttype,
      price: row.price,
      qty: row.quantity,
      symbol: row.tradingsymbol,
      token: row.symboltoken,
      exchange: row.exchange,
    };
  }

  private async bookRow(orderId: string) {
    const rows = await this.rest.call('getOrderBook', listOf(orderRow), { emptyCodes: ['AB1013'] });
    return rows.find((r) => r.orderid === orderId);
  }

  private tokenFromKnown(symbol: string): string | undefined {
    for (const k of this.known.values()) if (k.req.instrument.symbol === symbol) return k.req.instrument.token;
    return undefined;
  }
}
