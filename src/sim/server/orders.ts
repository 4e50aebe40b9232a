/**
 * The simulated broker's order book and matching (smartapi-protocol.md §4–§6).
 *
 * Two kinds of refusal, as on the real service:
 * - a malformed request (bad enum, unknown token, long ordertag, bad number)
 *   is refused synchronously: `status:false` with the SmartAPI code;
 * - an exchange/RMS check (lot multiple, tick size, freeze quantity, price
 *   band, stop-loss trigger side, funds, market closed) books the order and
 *   rejects it at once: placeOrder returns an orderid, the order reads
 *   `status:"rejected"` with the reason in `text`, the order stream says AB03.
 *
 * Matching runs on ticks of the order's token: MARKET (and triggered SL-M)
 * fills on the next tick at LTP ± `slippageTicks`; LIMIT fills when the LTP
 * touches or crosses the limit — at the limit for a resting order, at the
 * better of limit and LTP for an order marketable when placed; stop orders
 * wait in `trigger pending` until the LTP reaches the trigger; IOC cancels
 * what the first tick does not fill; open orders are cancelled at the close.
 */
import type { SimInstrument, SimQuote } from '../market/types.js';
import { fmtClock, fmtExpiry, fmtOrderTime, isMultiple, num, r2, roundTo, str } from './util.js';

export type OrderStatus = 'open' | 'complete' | 'cancelled' | 'rejected' | 'trigger pending' | 'modified';

export type SimOrder = {
  clientcode: string;
  orderid: string;
  uniqueorderid: string;
  exchangeorderid: string;
  variety: string;
  ordertype: string;
  producttype: string;
  duration: string;
  transactiontype: 'BUY' | 'SELL';
  exchange: string;
  tradingsymbol: string;
  symboltoken: string;
  inst: SimInstrument;
  price: number;
  triggerprice: number;
  quantity: number;
  disclosedquantity: number;
  ordertag: string;
  status: OrderStatus;
  text: string;
  filled: number;
  /** Sum of fill price × qty, for the average. */
  filledValue: number;
  cancelsize: number;
  updatedMs: number;
  exchMs: number;
  fillid: string;
  filltime: string;
  /** Marketable against the quote when placed/modified: fills at the better of limit and LTP. */
  marketable: boolean;
  /** The first tick after placement has been seen (for IOC). */
  seenTick: boolean;
};

export type SimTrade = { order: SimOrder; fillid: string; price: number; qty: number; ms: number };

type Position = {
  clientcode: string;
  inst: SimInstrument;
  exchange: string;
  producttype: string;
  buyqty: number;
  sellqty: number;
  buyamount: number;
  sellamount: number;
};

export type OrderUpdate = { order: SimOrder; code: string };
export type Refusal = { ok: false; code: string; message: string };
export type Accepted = { ok: true; order: SimOrder };

export type OrderBookOptions = {
  instruments: readonly SimInstrument[];
  quote: (token: string) => SimQuote | undefined;
  now: () => number;
  rng: () => number;
  session: { openMs: number; closeMs: number };
  onUpdate: (u: OrderUpdate) => void;
  slippageTicks?: number | undefined;
  partialFills?: boolean | undefined;
  initialCash?: number | undefined;
};

const VARIETIES = new Set(['NORMAL', 'STOPLOSS', 'ROBO', 'AMO']);
const PRODUCTS = new Set(['DELIVERY', 'CARRYFORWARD', 'MARGIN', 'INTRADAY', 'BO']);
const ORDER_TYPES = new Set(['MARKET', 'LIMIT', 'STOPLOSS_LIMIT', 'STOPLOSS_MARKET']);
const DURATIONS = new Set(['DAY', 'IOC']);
const EXCHANGES = new Set(['NSE', 'BSE', 'NFO', 'BFO', 'MCX', 'CDS', 'NCDEX']);

/** order-status socket code for an order status (§12). */
export const STATUS_CODE: Record<OrderStatus, string> = {
  open: 'AB01',
  cancelled: 'AB02',
  rejected: 'AB03',
  modified: 'AB04',
  complete: 'AB05',
  'trigger pending': 'AB10',
};

const isStop = (t: string): boolean => t === 'STOPLOSS_LIMIT' || t === 'STOPLOSS_MARKET';
const isLive = (o: SimOrder): boolean => o.status === 'open' || o.status === 'trigger pending' || o.status === 'modified';

export class OrderBook {
  private readonly byToken = new Map<string, SimInstrument>();
  private readonly orders: SimOrder[] = [];
  private readonly byId = new Map<string, SimOrder>();
  private readonly byUnique = new Map<string, SimOrder>();
  private readonly live = new Map<string, SimOrder[]>();
  private readonly trades: SimTrade[] = [];
  private readonly positions = new Map<string, Position>();
  private seq = 0;
  private fillSeq = 0;
  /** Where today's orders and trades start in `orders` and `trades` (consecutive days: the books the client reads are the day's). */
  private dayOrders = 0;
  private dayTrades = 0;
  /** Cash from positions of earlier days, closed and dropped at a day's start. */
  private carriedCash = 0;
  private session: { openMs: number; closeMs: number };
  private readonly slippageTicks: number;
  private readonly partialFills: boolean;
  readonly initialCash: number;

  constructor(private readonly o: OrderBookOptions) {
    this.session = o.session;
    for (const i of o.instruments) this.byToken.set(i.token, i);
    this.slippageTicks = o.slippageTicks ?? 0;
    this.partialFills = o.partialFills ?? false;
    this.initialCash = o.initialCash ?? 1_000_000;
  }

  /** Tokens with a live order: the market must price them. */
  liveTokens(): string[] {
    return [...this.live.keys()];
  }

  /** Tokens with a position (for m2m). */
  positionTokens(): string[] {
    return [...new Set([...this.positions.values()].filter((p) => p.buyqty !== p.sellqty).map((p) => p.inst.token))];
  }

  /** Every order booked, of every client, in booking order (what tests check against the ledger). */
  all(): readonly SimOrder[] {
    return this.orders;
  }

  /** The client's orders today (the order book the broker serves is the day's). */
  ordersOf(clientcode: string): SimOrder[] {
    const out: SimOrder[] = [];
    for (let i = this.dayOrders; i < this.orders.length; i++) if (this.orders[i]!.clientcode === clientcode) out.push(this.orders[i]!);
    return out;
  }

  byUniqueId(clientcode: string, id: string): SimOrder | undefined {
    const x = this.byUnique.get(id) ?? this.byId.get(id);
    return x?.clientcode === clientcode ? x : undefined;
  }

  tradesOf(clientcode: string): SimTrade[] {
    const out: SimTrade[] = [];
    for (let i = this.dayTrades; i < this.trades.length; i++) if (this.trades[i]!.order.clientcode === clientcode) out.push(this.trades[i]!);
    return out;
  }

  get orderCount(): number {
    return this.orders.length;
  }

  place(clientcode: string, body: Record<string, unknown>): Accepted | Refusal {
    const v = this.validateShape(body);
    if (!v.ok) return v;
    const { inst, f } = v;
    const now = this.o.now();
    const order: SimOrder = {
      clientcode,
      orderid: this.nextOrderId(now),
      uniqueorderid: this.uuid(),
      exchangeorderid: '',
      variety: f.variety,
      ordertype: f.ordertype,
      producttype: f.producttype,
      duration: f.duration,
      transactiontype: f.transactiontype as 'BUY' | 'SELL',
      exchange: f.exchange,
      tradingsymbol: inst.symbol,
      symboltoken: inst.token,
      inst,
      price: f.ordertype === 'MARKET' || f.ordertype === 'STOPLOSS_MARKET' ? 0 : f.price,
      triggerprice: isStop(f.ordertype) ? f.triggerprice : 0,
      quantity: f.quantity,
      disclosedquantity: Number.isFinite(f.disclosedquantity) ? f.disclosedquantity : 0,
      ordertag: f.ordertag,
      status: 'open',
      text: '',
      filled: 0,
      filledValue: 0,
      cancelsize: 0,
      updatedMs: now,
      exchMs: now,
      fillid: '',
      filltime: '',
      marketable: false,
      seenTick: false,
    };
    this.orders.push(order);
    this.byId.set(order.orderid, order);
    this.byUnique.set(order.uniqueorderid, order);

    const reason = this.exchangeCheck(order, order.quantity, order.price, order.triggerprice, order.ordertype, true);
    if (reason !== undefined) {
      order.status = 'rejected';
      order.text = reason;
      this.o.onUpdate({ order, code: STATUS_CODE.rejected });
      return { ok: true, order };
    }
    order.exchangeorderid = `1${String(this.seq).padStart(15, '0')}`;
    order.status = isStop(order.ordertype) ? 'trigger pending' : 'open';
    order.marketable = this.isMarketable(order);
    this.addLive(order);
    this.o.onUpdate({ order, code: STATUS_CODE[order.status] });
    return { ok: true, order };
  }

  modify(clientcode: string, body: Record<string, unknown>): Accepted | Refusal {
    const order = this.byId.get(str(body.orderid));
    if (order === undefined || order.clientcode !== clientcode) return { ok: false, code: 'AB1013', message: 'Order not found' };
    if (!isLive(order)) return { ok: false, code: 'AB1004', message: `Order cannot be modified: it is ${order.status}` };
    const ordertype = body.ordertype === undefined ? order.ordertype : str(body.ordertype);
    if (!ORDER_TYPES.has(ordertype)) return { ok: false, code: 'AB1007', message: 'INVALID PARAMETERS: ordertype' };
    if (isStop(ordertype) !== isStop(order.ordertype)) return { ok: false, code: 'AB1008', message: 'Invalid Order Variety' };
    const quantity = body.quantity === undefined ? order.quantity : num(body.quantity);
    if (!Number.isInteger(quantity) || quantity <= 0) return { ok: false, code: 'AB1007', message: 'INVALID PARAMETERS: quantity' };
    if (quantity <= order.filled) return { ok: false, code: 'AB1007', message: `Quantity ${quantity} must exceed the filled quantity ${order.filled}` };
    const market = ordertype === 'MARKET' || ordertype === 'STOPLOSS_MARKET';
    const price = market ? 0 : body.price === undefined ? order.price : num(body.price);
    const trigger = !isStop(ordertype) ? 0 : body.triggerprice === undefined ? order.triggerprice : num(body.triggerprice);
    if (!Number.isFinite(price) || price < 0 || (!market && price <= 0)) return { ok: false, code: 'AB1007', message: 'INVALID PARAMETERS: price' };
    if (!Number.isFinite(trigger) || trigger < 0 || (isStop(ordertype) && trigger <= 0)) return { ok: false, code: 'AB1007', message: 'INVALID PARAMETERS: triggerprice' };
    const reason = this.exchangeCheck(order, quantity, price, trigger, ordertype, order.status === 'trigger pending');
    if (reason !== undefined) return { ok: false, code: 'AB1007', message: reason };
    order.ordertype = ordertype;
    order.quantity = quantity;
    order.price = price;
    order.triggerprice = trigger;
    order.updatedMs = this.o.now();
    order.marketable = this.isMarketable(order);
    const after = order.status;
    order.status = 'modified';
    this.o.onUpdate({ order, code: STATUS_CODE.modified });
    order.status = after;
    this.o.onUpdate({ order, code: STATUS_CODE[after] });
    return { ok: true, order };
  }

  cancel(clientcode: string, body: Record<string, unknown>): Accepted | Refusal {
    const order = this.byId.get(str(body.orderid));
    if (order === undefined || order.clientcode !== clientcode) return { ok: false, code: 'AB1013', message: 'Order not found' };
    if (!isLive(order)) return { ok: false, code: 'AB1004', message: `Order cannot be cancelled: it is ${order.status}` };
    this.finishCancel(order, '');
    return { ok: true, order };
  }

  /**
   * A new trading day (consecutive-day replays): the day's instruments and
   * session hours; the order and trade books start empty (every order stays
   * in `all()`); flat positions are settled into cash and dropped, open ones
   * are carried. Call after `closeSession`.
   */
  newDay(instruments: readonly SimInstrument[], session: { openMs: number; closeMs: number }): void {
    this.byToken.clear();
    for (const i of instruments) this.byToken.set(i.token, i);
    this.session = session;
    this.dayOrders = this.orders.length;
    this.dayTrades = this.trades.length;
    for (const [k, p] of this.positions) {
      if (p.buyqty !== p.sellqty) continue;
      this.carriedCash += p.sellamount - p.buyamount;
      this.positions.delete(k);
    }
  }

  /** Cancels every live order (session close). */
  closeSession(): void {
    for (const list of [...this.live.values()]) for (const o of [...list]) this.finishCancel(o, 'Cancelled by the exchange at market close');
  }

  onTick(q: SimQuote): void {
    const list = this.live.get(q.token);
    if (list === undefined) return;
    for (const o of [...list]) this.match(o, q);
  }

  // ---- positions and funds -------------------------------------------------

  positionsOf(clientcode: string): Position[] {
    return [...this.positions.values()].filter((p) => p.clientcode === clientcode);
  }

  /** Realised and unrealised P&L of one position, rupees. */
  pnl(p: Position): { realised: number; unrealised: number; ltp: number } {
    const ltp = this.o.quote(p.inst.token)?.ltp ?? 0;
    const buyAvg = p.buyqty > 0 ? p.buyamount / p.buyqty : 0;
    const sellAvg = p.sellqty > 0 ? p.sellamount / p.sellqty : 0;
    const closed = Math.min(p.buyqty, p.sellqty);
    const net = p.buyqty - p.sellqty;
    const realised = closed * (sellAvg - buyAvg);
    const unrealised = net > 0 ? net * (ltp - buyAvg) : net < 0 ? -net * (sellAvg - ltp) : 0;
    return { realised, unrealised, ltp };
  }

  funds(clientcode: string): { cash: number; blocked: number; available: number; realised: number; unrealised: number; premium: number } {
    let flow = 0;
    let realised = 0;
    let unrealised = 0;
    let premium = 0;
    for (const p of this.positionsOf(clientcode)) {
      flow += p.sellamount - p.buyamount;
      const x = this.pnl(p);
      realised += x.realised;
      unrealised += x.unrealised;
      premium += p.buyamount;
    }
    let blocked = 0;
    for (const list of this.live.values()) {
      for (const o of list) {
        if (o.clientcode !== clientcode || o.transactiontype !== 'BUY') continue;
        blocked += (o.quantity - o.filled) * this.orderValuePrice(o);
      }
    }
    const cash = this.initialCash + this.carriedCash + flow;
    return { cash, blocked, available: cash - blocked, realised, unrealised, premium };
  }

  // ---- internals -------------------------------------------------------------

  private validateShape(body: Record<string, unknown>):
    | { ok: true; inst: SimInstrument; f: { variety: string; ordertype: string; producttype: string; duration: string; transactiontype: string; exchange: string; price: number; triggerprice: number; quantity: number; disclosedquantity: number; ordertag: string } }
    | Refusal {
    const f = {
      variety: str(body.variety).toUpperCase(),
      ordertype: str(body.ordertype).toUpperCase(),
      producttype: str(body.producttype).toUpperCase(),
      duration: str(body.duration || 'DAY').toUpperCase(),
      transactiontype: str(body.transactiontype).toUpperCase(),
      exchange: str(body.exchange).toUpperCase(),
      price: body.price === undefined || body.price === '' ? 0 : num(body.price),
      triggerprice: body.triggerprice === undefined || body.triggerprice === '' ? 0 : num(body.triggerprice),
      quantity: num(body.quantity),
      disclosedquantity: body.disclosedquantity === undefined || body.disclosedquantity === '' ? 0 : num(body.disclosedquantity),
      ordertag: str(body.ordertag),
    };
    const bad = (field: string): Refusal => ({ ok: false, code: 'AB1007', message: `INVALID PARAMETERS: ${field}` });
    if (!VARIETIES.has(f.variety)) return { ok: false, code: 'AB1008', message: 'Invalid Order Variety' };
    if (f.variety === 'ROBO') return { ok: false, code: 'AB2002', message: 'ROBO order is block' };
    if (!PRODUCTS.has(f.producttype)) return { ok: false, code: 'AB1012', message: 'Invalid Product Type' };
    if (f.transactiontype !== 'BUY' && f.transactiontype !== 'SELL') return bad('transactiontype');
    if (!ORDER_TYPES.has(f.ordertype)) return bad('ordertype');
    if ((f.variety === 'STOPLOSS') !== isStop(f.ordertype)) return { ok: false, code: 'AB1008', message: 'Invalid Order Variety' };
    if (!DURATIONS.has(f.duration)) return bad('duration');
    if (!EXCHANGES.has(f.exchange)) return bad('exchange');
    const token = str(body.symboltoken).trim();
    if (token === '') return { ok: false, code: 'AB4018', message: 'Symbol token cannot be empty' };
    const inst = this.byToken.get(token);
    if (inst === undefined) return { ok: false, code: 'AB4006', message: 'Invalid symbol token' };
    if (inst.segment !== f.exchange || (body.tradingsymbol !== undefined && str(body.tradingsymbol) !== inst.symbol)) {
      return { ok: false, code: 'AB1009', message: 'Symbol Not Found' };
    }
    if (f.ordertag.length >= 20) return { ok: false, code: 'AB4008', message: 'ordertag length should be less than 20 characters' };
    if (!Number.isInteger(f.quantity) || f.quantity <= 0) return bad('quantity');
    if (!Number.isFinite(f.price) || f.price < 0) return bad('price');
    if ((f.ordertype === 'LIMIT' || f.ordertype === 'STOPLOSS_LIMIT') && f.price <= 0) return bad('price');
    if (!Number.isFinite(f.triggerprice) || f.triggerprice < 0 || (isStop(f.ordertype) && f.triggerprice <= 0)) return bad('triggerprice');
    if (!Number.isInteger(f.disclosedquantity) || f.disclosedquantity < 0) return bad('disclosedquantity');
    if (inst.type === 'AMXIDX') return { ok: false, code: 'AB1009', message: 'Symbol Not Found' };
    return { ok: true, inst, f };
  }

  /** The exchange/RMS checks; a reason string when the order must be rejected. */
  private exchangeCheck(o: SimOrder, qty: number, price: number, trigger: number, ordertype: string, checkTrigger: boolean): string | undefined {
    const now = this.o.now();
    const inst = o.inst;
    if (now < this.session.openMs || now >= this.session.closeMs) return 'Market is closed: orders are accepted 09:15-15:30 IST only';
    if (qty % inst.lotSize !== 0) return `RMS:Rule: Quantity ${qty} should be a multiple of lot size ${inst.lotSize}`;
    if (inst.freezeQty !== undefined && qty > inst.freezeQty) return `RMS:Rule: Quantity ${qty} exceeds the freeze quantity ${inst.freezeQty}`;
    const limit = ordertype === 'LIMIT' || ordertype === 'STOPLOSS_LIMIT';
    if (limit && !isMultiple(price, inst.tickSize)) return `Price ${price} should be a multiple of tick size ${inst.tickSize}`;
    if (isStop(ordertype) && !isMultiple(trigger, inst.tickSize)) return `Trigger price ${trigger} should be a multiple of tick size ${inst.tickSize}`;
    const q = this.o.quote(inst.token);
    if (q !== undefined && q.upperCircuit > 0) {
      const band = `${q.lowerCircuit.toFixed(2)}-${q.upperCircuit.toFixed(2)}`;
      if (limit && (price < q.lowerCircuit || price > q.upperCircuit)) return `Order price ${price} is outside the day's price band ${band}`;
      if (isStop(ordertype) && (trigger < q.lowerCircuit || trigger > q.upperCircuit)) return `Trigger price ${trigger} is outside the day's price band ${band}`;
    }
    if (isStop(ordertype)) {
      if (ordertype === 'STOPLOSS_LIMIT' && o.transactiontype === 'BUY' && price < trigger) return 'Trigger price should be less than or equal to the limit price for a stop-loss buy order';
      if (ordertype === 'STOPLOSS_LIMIT' && o.transactiontype === 'SELL' && price > trigger) return 'Trigger price should be greater than or equal to the limit price for a stop-loss sell order';
      if (checkTrigger && q !== undefined) {
        if (o.transactiontype === 'BUY' && trigger <= q.ltp) return `Trigger price ${trigger} should be higher than the LTP ${q.ltp} for a stop-loss buy order`;
        if (o.transactiontype === 'SELL' && trigger >= q.ltp) return `Trigger price ${trigger} should be lower than the LTP ${q.ltp} for a stop-loss sell order`;
      }
    }
    if (o.transactiontype === 'BUY') {
      const f = this.funds(o.clientcode);
      const already = this.live.get(o.symboltoken)?.includes(o) === true ? (o.quantity - o.filled) * this.orderValuePrice(o) : 0;
      const pxFor = ordertype === 'MARKET' || ordertype === 'STOPLOSS_MARKET' ? (ordertype === 'STOPLOSS_MARKET' ? trigger : q?.ltp ?? 0) : price;
      const need = (qty - o.filled) * pxFor;
      if (need > f.available + already + 1e-6) return `RMS:Margin Exceeds, Required:${need.toFixed(2)}, Available:${(f.available + already).toFixed(2)}`;
    }
    return undefined;
  }

  private orderValuePrice(o: SimOrder): number {
    if (o.ordertype === 'LIMIT' || o.ordertype === 'STOPLOSS_LIMIT') return o.price;
    if (o.ordertype === 'STOPLOSS_MARKET') return o.triggerprice;
    return this.o.quote(o.symboltoken)?.ltp ?? 0;
  }

  private isMarketable(o: SimOrder): boolean {
    if (o.ordertype !== 'LIMIT') return false;
    const q = this.o.quote(o.symboltoken);
    if (q === undefined) return false;
    return o.transactiontype === 'BUY' ? q.ltp <= o.price : q.ltp >= o.price;
  }

  private match(o: SimOrder, q: SimQuote): void {
    const firstTick = !o.seenTick;
    o.seenTick = true;
    const buy = o.transactiontype === 'BUY';
    if (o.status === 'trigger pending') {
      if (buy ? q.ltp < o.triggerprice : q.ltp > o.triggerprice) return;
      o.status = 'open';
      o.updatedMs = q.ts;
      o.marketable = true;
      this.o.onUpdate({ order: o, code: STATUS_CODE.open });
    }
    let price: number | undefined;
    const tick = o.inst.tickSize;
    if (o.ordertype === 'MARKET' || o.ordertype === 'STOPLOSS_MARKET') {
      const slip = this.slippageTicks * (tick > 0 ? tick : 0.05);
      price = Math.max(tick > 0 ? tick : 0.05, roundTo(buy ? q.ltp + slip : q.ltp - slip, tick));
    } else if (buy ? q.ltp <= o.price : q.ltp >= o.price) {
      price = o.marketable ? (buy ? Math.min(o.price, q.ltp) : Math.max(o.price, q.ltp)) : o.price;
    }
    if (price !== undefined) {
      const remaining = o.quantity - o.filled;
      let qty = remaining;
      if (this.partialFills) {
        const lot = o.inst.lotSize;
        const avail = Math.max(lot, Math.floor(Math.max(q.lastQty, 0) / lot) * lot);
        qty = Math.min(remaining, avail);
      }
      this.fill(o, qty, price, q.ts);
    }
    if (o.duration === 'IOC' && firstTick && isLive(o)) this.finishCancel(o, 'IOC order cancelled: not filled on arrival');
  }

  private fill(o: SimOrder, qty: number, price: number, ms: number): void {
    o.filled += qty;
    o.filledValue += qty * price;
    o.fillid = String(++this.fillSeq).padStart(8, '0');
    o.filltime = fmtClock(ms);
    o.updatedMs = ms;
    o.exchMs = ms;
    this.trades.push({ order: o, fillid: o.fillid, price, qty, ms });
    const key = `${o.clientcode}|${o.symboltoken}|${o.producttype}`;
    let p = this.positions.get(key);
    if (p === undefined) {
      p = { clientcode: o.clientcode, inst: o.inst, exchange: o.exchange, producttype: o.producttype, buyqty: 0, sellqty: 0, buyamount: 0, sellamount: 0 };
      this.positions.set(key, p);
    }
    if (o.transactiontype === 'BUY') {
      p.buyqty += qty;
      p.buyamount += qty * price;
    } else {
      p.sellqty += qty;
      p.sellamount += qty * price;
    }
    if (o.filled >= o.quantity) {
      o.status = 'complete';
      this.removeLive(o);
    }
    this.o.onUpdate({ order: o, code: STATUS_CODE[o.status] });
  }

  private finishCancel(o: SimOrder, text: string): void {
    o.status = 'cancelled';
    o.cancelsize = o.quantity - o.filled;
    o.text = text;
    o.updatedMs = this.o.now();
    this.removeLive(o);
    this.o.onUpdate({ order: o, code: STATUS_CODE.cancelled });
  }

  private addLive(o: SimOrder): void {
    let list = this.live.get(o.symboltoken);
    if (list === undefined) this.live.set(o.symboltoken, (list = []));
    list.push(o);
  }

  private removeLive(o: SimOrder): void {
    const list = this.live.get(o.symboltoken);
    if (list === undefined) return;
    const i = list.indexOf(o);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) this.live.delete(o.symboltoken);
  }

  private nextOrderId(now: number): string {
    const d = new Date(now + 19_800_000).toISOString();
    return `${d.slice(2, 4)}${d.slice(5, 7)}${d.slice(8, 10)}${String(++this.seq).padStart(9, '0')}`;
  }

  private uuid(): string {
    const hex = (n: number): string => {
      let s = '';
      for (let i = 0; i < n; i++) s += Math.floor(this.o.rng() * 16).toString(16);
      return s;
    };
    return `${hex(8)}-${hex(4)}-4${hex(3)}-a${hex(3)}-${hex(12)}`;
  }
}

// ---- wire shapes ------------------------------------------------------------

const avg = (o: SimOrder): number => (o.filled > 0 ? r2(o.filledValue / o.filled) : 0);
const strike = (i: SimInstrument): number => (i.type === 'OPTIDX' && i.strike !== undefined ? i.strike : -1);

/** One order with numbers as numbers (order details endpoint). */
export function orderDetails(o: SimOrder): Record<string, unknown> {
  return {
    variety: o.variety,
    ordertype: o.ordertype,
    producttype: o.producttype,
    duration: o.duration,
    price: o.price,
    triggerprice: o.triggerprice,
    quantity: o.quantity,
    disclosedquantity: o.disclosedquantity,
    squareoff: 0,
    stoploss: 0,
    trailingstoploss: 0,
    tradingsymbol: o.tradingsymbol,
    transactiontype: o.transactiontype,
    exchange: o.exchange,
    symboltoken: o.symboltoken,
    ordertag: o.ordertag,
    instrumenttype: o.inst.type,
    strikeprice: strike(o.inst),
    optiontype: o.inst.optionType ?? '',
    expirydate: fmtExpiry(o.inst.expiry),
    lotsize: o.inst.lotSize,
    cancelsize: o.cancelsize,
    averageprice: avg(o),
    filledshares: o.filled,
    unfilledshares: o.quantity - o.filled,
    orderid: o.orderid,
    text: o.text,
    status: o.status,
    orderstatus: o.status,
    updatetime: fmtOrderTime(o.updatedMs),
    exchtime: o.exchangeorderid === '' ? '' : fmtOrderTime(o.exchMs),
    exchorderupdatetime: o.exchangeorderid === '' ? '' : fmtOrderTime(o.updatedMs),
    fillid: o.fillid,
    filltime: o.filltime,
    parentorderid: '',
    uniqueorderid: o.uniqueorderid,
    exchangeorderid: o.exchangeorderid,
  };
}

const PRICE_FIELDS = new Set(['price', 'triggerprice', 'squareoff', 'stoploss', 'trailingstoploss', 'averageprice']);

/** Order-book row: numbers as strings (prices with two decimals). */
export function orderBookRow(o: SimOrder): Record<string, unknown> {
  const d = orderDetails(o);
  for (const [k, v] of Object.entries(d)) {
    if (typeof v === 'number') d[k] = PRICE_FIELDS.has(k) ? v.toFixed(2) : String(v);
  }
  return d;
}

const STREAM_QTY_FIELDS = new Set(['quantity', 'disclosedquantity', 'lotsize', 'cancelsize', 'filledshares', 'unfilledshares']);

/** order-status socket `orderData`: prices numbers, quantities strings, no uniqueorderid. */
export function streamOrderData(o: SimOrder | undefined): Record<string, unknown> {
  if (o === undefined) {
    const blank: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(streamOrderData(EMPTY_ORDER))) blank[k] = typeof v === 'number' ? 0 : '';
    return blank;
  }
  const d = orderDetails(o);
  delete d.uniqueorderid;
  for (const k of STREAM_QTY_FIELDS) d[k] = String(d[k]);
  return d;
}

export function tradeRow(t: SimTrade): Record<string, unknown> {
  const i = t.order.inst;
  return {
    exchange: t.order.exchange,
    producttype: t.order.producttype,
    tradingsymbol: t.order.tradingsymbol,
    instrumenttype: i.type,
    symbolgroup: 'XX',
    strikeprice: String(strike(i)),
    optiontype: i.optionType ?? '',
    expirydate: fmtExpiry(i.expiry),
    marketlot: String(i.lotSize),
    precision: '2',
    multiplier: '-1',
    tradevalue: (t.price * t.qty).toFixed(2),
    transactiontype: t.order.transactiontype,
    fillprice: t.price.toFixed(2),
    fillsize: String(t.qty),
    orderid: t.order.orderid,
    fillid: t.fillid,
    filltime: fmtClock(t.ms),
  };
}

export function positionRow(p: Position): Record<string, string> {
  const i = p.inst;
  const buyAvg = p.buyqty > 0 ? p.buyamount / p.buyqty : 0;
  const sellAvg = p.sellqty > 0 ? p.sellamount / p.sellqty : 0;
  const net = p.buyqty - p.sellqty;
  const netValue = p.sellamount - p.buyamount;
  const avgNet = net !== 0 ? -netValue / net : 0;
  const s = (x: number): string => x.toFixed(2);
  return {
    exchange: p.exchange,
    symboltoken: i.token,
    producttype: p.producttype,
    tradingsymbol: i.symbol,
    symbolname: i.name,
    instrumenttype: i.type,
    priceden: '1.00',
    pricenum: '1.00',
    genden: '1.00',
    gennum: '1.00',
    precision: '2',
    multiplier: '-1',
    boardlotsize: '1',
    buyqty: String(p.buyqty),
    sellqty: String(p.sellqty),
    buyamount: s(p.buyamount),
    sellamount: s(p.sellamount),
    symbolgroup: 'XX',
    strikeprice: s(strike(i)),
    optiontype: i.optionType ?? '',
    expirydate: fmtExpiry(i.expiry),
    lotsize: String(i.lotSize),
    cfbuyqty: '0',
    cfsellqty: '0',
    cfbuyamount: '0.00',
    cfsellamount: '0.00',
    buyavgprice: s(buyAvg),
    sellavgprice: s(sellAvg),
    avgnetprice: s(avgNet),
    netvalue: s(netValue),
    netqty: String(net),
    totalbuyvalue: s(p.buyamount),
    totalsellvalue: s(p.sellamount),
    cfbuyavgprice: '0.00',
    cfsellavgprice: '0.00',
    totalbuyavgprice: s(buyAvg),
    totalsellavgprice: s(sellAvg),
    netprice: s(avgNet),
  };
}

const EMPTY_ORDER: SimOrder = {
  clientcode: '', orderid: '', uniqueorderid: '', exchangeorderid: '', variety: '', ordertype: '', producttype: '', duration: '',
  transactiontype: 'BUY', exchange: '', tradingsymbol: '', symboltoken: '',
  inst: { token: '', symbol: '', name: '', segment: 'NSE', type: 'AMXIDX', lotSize: 0, tickSize: 0 },
  price: 0, triggerprice: 0, quantity: 0, disclosedquantity: 0, ordertag: '', status: 'open', text: '', filled: 0, filledValue: 0,
  cancelsize: 0, updatedMs: 0, exchMs: 0, fillid: '', filltime: '', marketable: false, seenTick: false,
};
