/**
 * Orders over SmartAPI REST (§4): place, modify, cancel, order book, trade
 * book, one order's details, and the lookup by `ordertag`.
 *
 * A placement is never re-sent blindly. When its outcome is unknown (timeout,
 * reset connection, refused connection, 5xx, unreadable answer), the order
 * book is searched for the order's tag; the order is sent again only when the
 * book — read successfully — provably does not hold it, and the result says so.
 */
import type { Order, OrderAck, OrderModification, OrderRequest, Trade } from '../broker.js';
import type { Clock } from '../../core/clock.js';
import type { Logger } from '../../core/log.js';
import { SmartApiError } from './errors.js';
import { toOrder, toTrade } from './order-mapping.js';
import type { SmartApiRest } from './rest.js';
import { listOf, orderAck, orderRow, tradeRow } from './schemas.js';

/** How a placement's outcome was established. */
export type PlaceResolution =
  /** The broker answered the placement. */
  | 'response'
  /** The answer was lost; the order was found in the book by its tag (not re-sent). */
  | 'found_by_tag'
  /** The order book proved the order absent; it was sent a second time and that answer came back. */
  | 'resent_after_absent'
  /** The re-send's answer was lost too; the order was then found by its tag. */
  | 'found_by_tag_after_resend';

export type PlaceResult = OrderAck & { uniqueOrderId?: string; resolution: PlaceResolution };

export type OrdersConfig = {
  /** Wait before looking an unknown placement up, so an order still being processed can reach the book (UNCERTAIN how long). */
  lookupDelayMs: number;
  /** Variety sent with every order (`NORMAL`). */
  variety: string;
  /** Duration sent with every order (`DAY`). */
  duration: string;
};

export const DEFAULT_ORDERS: OrdersConfig = { lookupDelayMs: 1000, variety: 'NORMAL', duration: 'DAY' };

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

/** Outcomes that leave open whether the broker took the order. */
function outcomeUnknown(err: unknown): boolean {
  if (!(err instanceof SmartApiError)) return false;
  return err.kind === 'network' || err.kind === 'timeout' || err.kind === 'invalid_response' || (err.kind === 'http' && (err.httpStatus ?? 0) >= 500);
}

type Known = { req: OrderRequest; variety: string };

export class SmartApiOrders {
  private readonly config: OrdersConfig;
  /** Orders placed through this instance: modify/cancel need fields the port does not pass. */
  private readonly known = new Map<string, Known>();
  private readonly uniqueIds = new Map<string, string>();
  /** Resolves a trading symbol to its token for trade-book rows (which carry none). */
  tokenOf: (symbol: string, exchange: string) => string | undefined = () => undefined;

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
    if (!(Number.isInteger(req.qty) && req.qty > 0)) {
      throw new SmartApiError('invalid_request', { endpoint: 'placeOrder', code: 'BAD_QTY', detail: `quantity must be a positive integer, got ${req.qty}` });
    }
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
    const send = async (): Promise<PlaceResult> => {
      const ack = await this.rest.call('placeOrder', orderAck, { body });
      return this.remember(req, ack.orderid, ack.uniqueorderid, 'response');
    };

    try {
      return await send();
    } catch (err) {
      if (!outcomeUnknown(err)) throw err;
      this.log?.warn({ tag: req.tag, kind: (err as SmartApiError).kind }, 'placement outcome unknown; looking the order up by its tag');
    }

    const found = await this.lookupAfterDelay(req.tag);
    if (found !== undefined) return this.remember(req, found.orderId, undefined, 'found_by_tag');

    this.log?.warn({ tag: req.tag }, 'order provably absent from the order book; sending it again (once)');
    try {
      const r = await send();
      return { ...r, resolution: 'resent_after_absent' };
    } catch (err) {
      if (!outcomeUnknown(err)) throw err;
    }
    const again = await this.lookupAfterDelay(req.tag);
    if (again !== undefined) return this.remember(req, again.orderId, undefined, 'found_by_tag_after_resend');
    throw new SmartApiError('unknown_outcome', {
      endpoint: 'placeOrder',
      code: 'UNKNOWN_OUTCOME',
      detail: `tag ${req.tag}: both sends lost their answer and the order book does not show the order; it may still appear`,
    });
  }

  async modify(orderId: string, change: OrderModification): Promise<OrderAck> {
    const base = await this.describe(orderId);
    const orderType = change.orderType ?? base.orderType;
    const body = {
      variety: base.variety,
      orderid: orderId,
      ordertype: orderType,
      producttype: base.product,
      duration: this.config.duration,
      price: orderType === 'MARKET' ? '0' : (change.price ?? base.price).toFixed(2),
      quantity: String(change.qty ?? base.qty),
      tradingsymbol: base.symbol,
      symboltoken: base.token,
      exchange: base.exchange,
    };
    const ack = await this.rest.call('modifyOrder', orderAck, { body });
    const k = this.known.get(orderId);
    if (k !== undefined) {
      this.known.set(orderId, { ...k, req: { ...k.req, orderType, qty: change.qty ?? k.req.qty, price: change.price ?? k.req.price } });
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

  private async lookupAfterDelay(tag: string): Promise<Order | undefined> {
    if (this.config.lookupDelayMs > 0) await new Promise<void>((r) => this.clock.setTimer(this.clock.now() + this.config.lookupDelayMs, r));
    return this.findByTag(tag);
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
      orderType: row.ordertype.toUpperCase().includes('MARKET') ? ('MARKET' as const) : ('LIMIT' as const),
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
