/**
 * `PaperBroker`: the broker port with simulated orders (SPEC §6, paper mode).
 * Login, session, quotes, candles, the instrument master and the tick stream
 * are the real (or simulator) broker's, delegated to `data`; orders, trades,
 * positions and funds are simulated here against the ticks the daemon hands
 * to `onTick`. Nothing here reads the wall clock or draws a random number:
 * two runs over the same ticks and requests give the same orders, ids, fills
 * and updates.
 *
 * Requests, as the live adapter answers them:
 * - `placeOrder` checks the request with the adapter's own functions
 *   (`validateTag`, `validateOrderValues`: tag rules, positive multiple of the
 *   lot, at most the freeze quantity, LIMIT price on the tick grid) and
 *   refuses with the adapter's `SmartApiError` kind `invalid_request`. Unlike
 *   the adapter it also refuses an instrument `instrumentOf` does not know
 *   (code `UNKNOWN_INSTRUMENT`): the simulation needs its lot and tick size.
 *   An accepted order gets the next id `<idPrefix>-<n>` (default `PAPER-1`,
 *   `PAPER-2`…), is in the book at once as `pending` ('open pending', the
 *   broker's word for an order not yet at the exchange) and the ack resolves
 *   at once (`resolution: 'response'`, as the adapter's `PlaceResult`).
 * - Latency: every request takes effect `latency_ms` later on the clock
 *   (`clock.setTimer`). A placement then becomes `open` (reported), and only
 *   ticks stamped at or after that moment can fill it; a modify changes the
 *   price/quantity/type only then (ticks stamped before it are not matched,
 *   so a late tick is never judged against the new price); a cancel removes
 *   the order only then, so the order can still fill meanwhile. With one
 *   latency for all requests, effects happen in request order.
 * - A modify or cancel of an unknown order is refused like the adapter's
 *   modify (`invalid_request`, code `AB1013`); of an order already final
 *   (filled, cancelled, rejected) with `invalid_request` code `ORDER_FINAL`
 *   naming the order and its state (category `rejected`, not retryable). A
 *   modify to a quantity not above the filled quantity is refused (`BAD_QTY`).
 *   A request accepted while the order was live but overtaken by the market
 *   during the latency (a cancel or modify landing after the last fill) does
 *   nothing, as at the exchange: the order stays final.
 * - Funds (an RMS check, as the broker's): at activation a BUY whose value
 *   (quantity × limit; a MARKET buy at the last ask + slippage, unchecked
 *   before any tick) exceeds the cash left after the other live BUY orders is
 *   `rejected` with the reason. SELLs are not margined (option-writing margin
 *   is not modelled), and a modify that raises the value is not re-checked.
 *
 * Fills (`onTick`, for every tick; see `fill-rules.ts`): at the touch (best
 * ask for a BUY, best bid for a SELL, the LTP without depth) plus
 * `slippage_ticks` against the order, capped at a LIMIT's limit, on the tick
 * grid; `max_lots_per_fill` > 0 caps each tick's fill (`partially_filled`,
 * average weighted by quantity). Every live order of the token is matched
 * against the tick's full size: the paper broker does not consume depth.
 * Trades get ids `<idPrefix>-F<n>` and the clock's time.
 *
 * Updates: every change of an order (open, each fill, modify applied, cancel,
 * rejection) goes to `onOrderUpdate` as a copy of the full `Order`, in the
 * broker's words (`rawStatus` 'open', 'complete', 'cancelled', 'rejected';
 * `updatedAt` from the clock), the way the live order-status stream reports
 * it; the daemon turns it into `OrderUpdated`. Per order they never go
 * backwards: nothing after a final state, the filled quantity never shrinks,
 * `updatedAt` never decreases. The 'pending' placement is in the book but not
 * reported (the stream's first word on an order is 'open').
 *
 * Positions are netted per (token, product) from the trades; `funds()`
 * reports `availableCash` = capital − premium paid + premium received,
 * `utilised` = value blocked by live BUY orders, `net` = the difference.
 * Brokerage, taxes and other charges are NOT deducted here: they are the
 * trading layer's job (the same for live and paper), so the ledger computes
 * them once from the fills.
 *
 * `findOrderByTag` returns the latest order carrying the tag, like the
 * adapter's. The book lives in memory only: a restarted daemon starts an
 * empty paper book (pass a distinct `idPrefix` per run if ids must not repeat
 * across restarts of one day).
 */
import type {
  Broker,
  BrokerSession,
  Candle,
  CandleRequest,
  Funds,
  Instrument,
  InstrumentRef,
  Order,
  OrderAck,
  OrderModification,
  OrderRequest,
  OrderState,
  OrderType,
  Position,
  Product,
  Quote,
  QuoteMode,
  Tick,
  TickStream,
  Trade,
} from '../broker.js';
import { type Clock, istDayEnd } from '../../core/clock.js';
import type { Config } from '../../core/config-schema.js';
import { SmartApiError } from '../smartapi/errors.js';
import { validateOrderValues, validateTag, type OrderLimits, type PlaceResult } from '../smartapi/orders.js';
import { fillPrice, fillQty, roundToTick, touchOf } from './fill-rules.js';

export type PaperBrokerOptions = {
  /** The real (or simulator) broker: login, quotes, candles, instruments and the tick stream are delegated to it. */
  data: Broker;
  clock: Clock;
  settings: Config['paper'];
  /** `[trading] capital`, rupees: the cash the paper account starts with. */
  capital: number;
  /** Instrument lookup for validation and matching (lot size, tick size, freeze qty): e.g. the adapter's instrument index. */
  instrumentOf: (exchange: string, token: string) => Instrument | undefined;
  /** Every state change of an order, as the live order-status stream reports it (the daemon turns it into `OrderUpdated`, source 'stream'). */
  onOrderUpdate: (o: Order) => void;
  /** Order ids are `<idPrefix>-<n>`, fill ids `<idPrefix>-F<n>` (default `PAPER`). */
  idPrefix?: string;
};

const FINAL: ReadonlySet<OrderState> = new Set(['filled', 'cancelled', 'rejected']);

/** One order as the paper exchange holds it. */
type Held = {
  /** The public view, changed in place and copied out. */
  o: Order;
  product: Product;
  /** The instrument's lot, tick and freeze quantity, as looked up at placement. */
  limits: OrderLimits;
  /** Ticks stamped before this are not matched: the activation time, then each applied modify's (Infinity while pending). */
  matchFrom: number;
  /** Σ fill qty × price, for the weighted average. */
  filledValue: number;
  /** The latest requested values: a modify merges onto these (as the adapter's do), not onto what is in effect. */
  want: { orderType: OrderType; qty: number; price: number };
};

type PositionAcc = { token: string; symbol: string; exchange: Position['exchange']; product: Product; buyQty: number; sellQty: number; buyValue: number; sellValue: number };

const keyOf = (exchange: string, token: string): string => `${exchange}:${token}`;
/** Averages and money to 1e-6 rupee: enough for any price, free of float noise in the ledger. */
const money = (x: number): number => Math.round(x * 1e6) / 1e6;

export class PaperBroker implements Broker {
  private readonly orders: Held[] = [];
  private readonly byId = new Map<string, Held>();
  /** Non-final orders per exchange:token, in placement order. */
  private readonly live = new Map<string, Held[]>();
  private readonly trades: Trade[] = [];
  private readonly positionAcc = new Map<string, PositionAcc>();
  /** The last best ask seen per exchange:token (pricing MARKET buys for the funds check). */
  private readonly lastAsk = new Map<string, number>();
  private orderSeq = 0;
  private fillSeq = 0;
  private cash: number;
  private readonly prefix: string;
  /** Epoch ms the IST day of the books ends (-Infinity before the first order or tick). */
  private dayEnd = -Infinity;

  constructor(private readonly opts: PaperBrokerOptions) {
    if (!(Number.isFinite(opts.capital) && opts.capital >= 0)) throw new RangeError(`PaperBroker: capital must be a finite amount ≥ 0 rupees, got ${opts.capital}`);
    const { slippage_ticks, latency_ms, max_lots_per_fill } = opts.settings;
    for (const [name, v] of [['slippage_ticks', slippage_ticks], ['latency_ms', latency_ms], ['max_lots_per_fill', max_lots_per_fill]] as const) {
      if (!(Number.isFinite(v) && v >= 0)) throw new RangeError(`PaperBroker: [paper] ${name} must be ≥ 0, got ${v}`);
    }
    this.cash = opts.capital;
    this.prefix = opts.idPrefix ?? 'PAPER';
  }

  // ---- delegated to the data broker ----------------------------------------

  get ticks(): TickStream {
    return this.opts.data.ticks;
  }

  login(): Promise<BrokerSession> {
    return this.opts.data.login();
  }

  refresh(): Promise<BrokerSession> {
    return this.opts.data.refresh();
  }

  logout(): Promise<void> {
    return this.opts.data.logout();
  }

  quotes(refs: InstrumentRef[], mode: QuoteMode): Promise<Quote[]> {
    return this.opts.data.quotes(refs, mode);
  }

  candles(req: CandleRequest): Promise<Candle[]> {
    return this.opts.data.candles(req);
  }

  instruments(): Promise<Instrument[]> {
    return this.opts.data.instruments();
  }

  // ---- simulated orders ----------------------------------------------------

  async placeOrder(req: OrderRequest): Promise<PlaceResult> {
    this.rollDay();
    validateTag(req.tag);
    const { exchange, token, symbol } = req.instrument;
    const inst = this.opts.instrumentOf(exchange, token);
    if (inst === undefined) {
      throw new SmartApiError('invalid_request', {
        endpoint: 'placeOrder',
        code: 'UNKNOWN_INSTRUMENT',
        detail: `paper broker: instrument ${exchange}:${token} (${symbol}) is not in the instrument master; its lot and tick size are needed to simulate fills`,
      });
    }
    validateOrderValues('placeOrder', req, inst);
    const now = this.opts.clock.now();
    const h: Held = {
      o: {
        orderId: `${this.prefix}-${++this.orderSeq}`,
        tag: req.tag,
        token,
        symbol,
        exchange,
        side: req.side,
        orderType: req.orderType,
        qty: req.qty,
        price: req.orderType === 'MARKET' ? 0 : req.price,
        filledQty: 0,
        avgFillPrice: 0,
        state: 'pending',
        rawStatus: 'open pending',
        updatedAt: now,
      },
      product: req.product,
      limits: { symbol: inst.symbol, lotSize: inst.lotSize, tickSize: inst.tickSize, ...(inst.freezeQty !== undefined ? { freezeQty: inst.freezeQty } : {}) },
      matchFrom: Infinity,
      filledValue: 0,
      want: { orderType: req.orderType, qty: req.qty, price: req.price },
    };
    this.orders.push(h);
    this.byId.set(h.o.orderId, h);
    const k = keyOf(exchange, token);
    let list = this.live.get(k);
    if (list === undefined) this.live.set(k, (list = []));
    list.push(h);
    this.after(() => this.activate(h));
    return { orderId: h.o.orderId, resolution: 'response' };
  }

  async modifyOrder(orderId: string, change: OrderModification): Promise<OrderAck> {
    const h = this.held(orderId, 'modifyOrder');
    this.refuseFinal(h, 'modifyOrder', 'modified');
    const next = { orderType: change.orderType ?? h.want.orderType, qty: change.qty ?? h.want.qty, price: change.price ?? h.want.price };
    validateOrderValues('modifyOrder', next, h.limits);
    if (next.qty <= h.o.filledQty) {
      throw new SmartApiError('invalid_request', {
        endpoint: 'modifyOrder',
        code: 'BAD_QTY',
        detail: `order ${orderId}: quantity ${next.qty} must exceed the filled quantity ${h.o.filledQty}`,
      });
    }
    h.want = next;
    this.after(() => this.applyModify(h, next));
    return { orderId };
  }

  async cancelOrder(orderId: string): Promise<void> {
    const h = this.held(orderId, 'cancelOrder');
    this.refuseFinal(h, 'cancelOrder', 'cancelled');
    this.after(() => {
      if (FINAL.has(h.o.state)) return; // filled during the latency: the cancel finds nothing to cancel
      this.finish(h, 'cancelled', 'cancelled');
    });
  }

  async orderBook(): Promise<Order[]> {
    return this.orders.map((h) => ({ ...h.o }));
  }

  async tradeBook(): Promise<Trade[]> {
    return this.trades.map((t) => ({ ...t }));
  }

  async orderStatus(orderId: string): Promise<Order | undefined> {
    const h = this.byId.get(orderId);
    return h === undefined ? undefined : { ...h.o };
  }

  /** The latest order carrying `tag` (the adapter's choice when several do). */
  async findOrderByTag(tag: string): Promise<Order | undefined> {
    const h = this.orders.findLast((x) => x.o.tag === tag);
    return h === undefined ? undefined : { ...h.o };
  }

  async positions(): Promise<Position[]> {
    return [...this.positionAcc.values()].map((p) => ({
      token: p.token,
      symbol: p.symbol,
      exchange: p.exchange,
      product: p.product,
      netQty: p.buyQty - p.sellQty,
      buyQty: p.buyQty,
      sellQty: p.sellQty,
      buyAvg: p.buyQty > 0 ? money(p.buyValue / p.buyQty) : 0,
      sellAvg: p.sellQty > 0 ? money(p.sellValue / p.sellQty) : 0,
    }));
  }

  async funds(): Promise<Funds> {
    const utilised = money(this.blocked());
    const availableCash = money(this.cash);
    return { availableCash, net: money(availableCash - utilised), utilised };
  }

  /**
   * Matches the live orders of the tick's instrument against it. The daemon
   * calls this for every tick; ticks of instruments without live orders only
   * update the last ask.
   */
  onTick(t: Tick): void {
    this.rollDay();
    const k = keyOf(t.exchange, t.token);
    const ask = touchOf(t, 'BUY');
    if (ask !== undefined) this.lastAsk.set(k, ask);
    const list = this.live.get(k);
    if (list === undefined) return;
    const { slippage_ticks, max_lots_per_fill } = this.opts.settings;
    for (const h of [...list]) {
      if (h.o.state !== 'open' && h.o.state !== 'partially_filled') continue;
      if (!(t.exchTs >= h.matchFrom)) continue;
      const price = fillPrice(h.o, t, h.limits.tickSize, slippage_ticks);
      if (price === undefined) continue;
      const qty = fillQty(h.o.qty - h.o.filledQty, h.limits.lotSize, max_lots_per_fill);
      if (qty > 0) this.fill(h, qty, price);
    }
  }

  // ---- internals -----------------------------------------------------------

  /**
   * The first order or tick of a new IST day (only fills change the books, and
   * only on a tick): the exchange's order and trade books are per day (a modify
   * or cancel of an order not in today's book is AB1013), so earlier days'
   * final orders and their trades go, and so do positions that ended flat.
   * Working orders, positions held overnight and the cash stay. Without this a
   * paper daemon that runs for months keeps every order and fill it ever made.
   */
  private rollDay(): void {
    const now = this.opts.clock.now();
    if (now < this.dayEnd) return;
    this.dayEnd = istDayEnd(now);
    const dayStart = this.dayEnd - 86_400_000;
    let kept = 0;
    for (const h of this.orders) {
      if (FINAL.has(h.o.state)) this.byId.delete(h.o.orderId);
      else this.orders[kept++] = h;
    }
    this.orders.length = kept;
    kept = 0;
    for (const t of this.trades) if (t.time >= dayStart) this.trades[kept++] = t;
    this.trades.length = kept;
    for (const [k, p] of this.positionAcc) if (p.buyQty === p.sellQty) this.positionAcc.delete(k);
  }

  /** Runs `fn` when a request sent now takes effect. */
  private after(fn: () => void): void {
    const clock = this.opts.clock;
    clock.setTimer(clock.now() + this.opts.settings.latency_ms, fn);
  }

  private activate(h: Held): void {
    if (h.o.state !== 'pending') return;
    const now = this.opts.clock.now();
    if (h.o.side === 'BUY') {
      const value = h.o.qty * this.refPrice(h);
      const free = this.cash - this.blocked(h);
      if (value > free + 1e-6) {
        this.finish(h, 'rejected', 'rejected', `RMS: insufficient funds: order value ${value.toFixed(2)} exceeds the available ${free.toFixed(2)}`);
        return;
      }
    }
    h.matchFrom = now;
    this.setState(h, 'open', 'open');
  }

  private applyModify(h: Held, next: Held['want']): void {
    // Landed after the order finished, or after it filled past the new quantity: the exchange refuses it; the order stays as it is.
    if (FINAL.has(h.o.state) || next.qty <= h.o.filledQty) return;
    h.o.orderType = next.orderType;
    h.o.qty = next.qty;
    h.o.price = next.orderType === 'MARKET' ? 0 : next.price;
    if (h.o.state === 'pending') {
      h.o.updatedAt = Math.max(h.o.updatedAt, this.opts.clock.now()); // not at the exchange yet: nothing to report
      return;
    }
    h.matchFrom = Math.max(h.matchFrom, this.opts.clock.now());
    this.setState(h, h.o.filledQty > 0 ? 'partially_filled' : 'open', 'open');
  }

  private fill(h: Held, qty: number, price: number): void {
    const o = h.o;
    const now = this.opts.clock.now();
    o.filledQty += qty;
    h.filledValue += qty * price;
    o.avgFillPrice = money(h.filledValue / o.filledQty);
    this.trades.push({ orderId: o.orderId, fillId: `${this.prefix}-F${++this.fillSeq}`, token: o.token, symbol: o.symbol, side: o.side, qty, price, time: now });
    const pk = `${keyOf(o.exchange, o.token)}|${h.product}`;
    let p = this.positionAcc.get(pk);
    if (p === undefined) {
      p = { token: o.token, symbol: o.symbol, exchange: o.exchange, product: h.product, buyQty: 0, sellQty: 0, buyValue: 0, sellValue: 0 };
      this.positionAcc.set(pk, p);
    }
    if (o.side === 'BUY') {
      p.buyQty += qty;
      p.buyValue += qty * price;
      this.cash -= qty * price;
    } else {
      p.sellQty += qty;
      p.sellValue += qty * price;
      this.cash += qty * price;
    }
    if (o.filledQty >= o.qty) this.finish(h, 'filled', 'complete');
    else this.setState(h, 'partially_filled', 'open');
  }

  /** Moves `h` to a final state, takes it off the live list and reports it. */
  private finish(h: Held, state: OrderState, rawStatus: string, reason?: string): void {
    const list = this.live.get(keyOf(h.o.exchange, h.o.token));
    if (list !== undefined) {
      const i = list.indexOf(h);
      if (i >= 0) list.splice(i, 1);
      if (list.length === 0) this.live.delete(keyOf(h.o.exchange, h.o.token));
    }
    if (reason !== undefined) h.o.reason = reason;
    this.setState(h, state, rawStatus);
  }

  private setState(h: Held, state: OrderState, rawStatus: string): void {
    h.o.state = state;
    h.o.rawStatus = rawStatus;
    h.o.updatedAt = Math.max(h.o.updatedAt, this.opts.clock.now());
    this.opts.onOrderUpdate({ ...h.o });
  }

  /** Value held back by live BUY orders (other than `except`): remaining quantity × reference price. */
  private blocked(except?: Held): number {
    let sum = 0;
    for (const list of this.live.values()) {
      for (const h of list) {
        if (h === except || h.o.side !== 'BUY' || h.o.state === 'pending') continue;
        sum += (h.o.qty - h.o.filledQty) * this.refPrice(h);
      }
    }
    return sum;
  }

  /** What one unit of a BUY is expected to cost: its limit, or for MARKET the last ask plus slippage (0 before any tick). */
  private refPrice(h: Held): number {
    if (h.o.orderType === 'LIMIT') return h.o.price;
    const ask = this.lastAsk.get(keyOf(h.o.exchange, h.o.token));
    return ask === undefined ? 0 : roundToTick(ask + this.opts.settings.slippage_ticks * h.limits.tickSize, h.limits.tickSize, 'up');
  }

  private held(orderId: string, endpoint: 'modifyOrder' | 'cancelOrder'): Held {
    const h = this.byId.get(orderId);
    if (h === undefined) throw new SmartApiError('invalid_request', { endpoint, code: 'AB1013', detail: `order ${orderId} is not in today's order book` });
    return h;
  }

  private refuseFinal(h: Held, endpoint: 'modifyOrder' | 'cancelOrder', verb: string): void {
    if (!FINAL.has(h.o.state)) return;
    throw new SmartApiError('invalid_request', {
      endpoint,
      code: 'ORDER_FINAL',
      detail: `order ${h.o.orderId} is ${h.o.state} ('${h.o.rawStatus}'): it cannot be ${verb}`,
    });
  }
}
