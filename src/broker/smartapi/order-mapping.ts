/**
 * SmartAPI order rows (§4.5) and trade rows (§4.6) → the port's `Order`,
 * `OrderState` and `Trade`. Shared by the REST order calls, the order-status
 * socket and the order-book poller, so all three report the same state for
 * the same row.
 */
import { DateTime } from 'luxon';
import type { Exchange, Order, OrderState, OrderType, Side, Trade } from '../broker.js';
import { IST_ZONE, istDate, istToMillis } from '../../core/clock.js';
import type { OrderRow, TradeRow } from './schemas.js';
import { EXCHANGES } from '../../core/events.js';

const EXCHANGE_SET: ReadonlySet<string> = new Set(EXCHANGES);

export function asExchange(s: string): Exchange | undefined {
  const u = s.toUpperCase();
  return EXCHANGE_SET.has(u) ? (u as Exchange) : undefined;
}

/** Statuses of orders still live at the exchange while a change is in flight. */
const LIVE_IN_FLUX = new Set(['modify pending', 'modify validation pending', 'modified', 'not modified', 'cancel pending', 'not cancelled']);
/** Statuses of orders not (yet) at the exchange. */
const PENDING = new Set([
  'open pending',
  'validation pending',
  'put order req received',
  'after market order req received',
  'modify after market order req received',
]);

/**
 * The port's state for a broker status (§4.5, §12). Unknown words map to
 * `pending` — the conservative reading: not yet live, not finished.
 */
export function mapOrderState(rawStatus: string, filledQty: number, qty: number): OrderState {
  const s = rawStatus.trim().toLowerCase();
  switch (s) {
    case 'complete':
      return 'filled';
    case 'rejected':
      return 'rejected';
    case 'cancelled':
    case 'cancelled after market order':
      return 'cancelled';
    case 'open':
    case 'trigger pending':
      return filledQty > 0 && filledQty < qty ? 'partially_filled' : 'open';
  }
  if (LIVE_IN_FLUX.has(s)) return filledQty > 0 && filledQty < qty ? 'partially_filled' : 'open';
  if (PENDING.has(s)) return 'pending';
  return 'pending';
}

/** `dd-MMM-yyyy HH:mm:ss` in IST (§2.3) → epoch ms, or undefined. */
export function parseBrokerTime(text: string | undefined): number | undefined {
  if (text === undefined || text.trim() === '') return undefined;
  const t = text.trim();
  const dt = DateTime.fromFormat(t, 'dd-MMM-yyyy HH:mm:ss', { zone: IST_ZONE, locale: 'en' });
  if (dt.isValid) return dt.toMillis();
  const iso = DateTime.fromISO(t, { zone: IST_ZONE });
  return iso.isValid ? iso.toMillis() : undefined;
}

/** The broker's order type in Rustro's terms (SL-M and MARKET are market orders). */
export function orderType(raw: string): OrderType {
  return raw.toUpperCase().includes('MARKET') ? 'MARKET' : 'LIMIT';
}

function side(raw: string): Side {
  return raw.toUpperCase() === 'SELL' ? 'SELL' : 'BUY';
}

/** The status word: `status`, else `orderstatus`. */
export function rawStatusOf(row: Pick<OrderRow, 'status' | 'orderstatus'>): string {
  return row.status !== '' ? row.status : row.orderstatus;
}

/** An order row as the port's `Order`; undefined for exchanges Rustro does not trade (MCX, CDS…). */
export function toOrder(row: OrderRow, nowMs: number): Order | undefined {
  const exchange = asExchange(row.exchange);
  if (exchange === undefined || row.orderid === '') return undefined;
  const rawStatus = rawStatusOf(row);
  const qty = row.quantity;
  const filledQty = row.filledshares;
  const state = mapOrderState(rawStatus, filledQty, qty);
  const order: Order = {
    orderId: row.orderid,
    token: row.symboltoken,
    symbol: row.tradingsymbol,
    exchange,
    side: side(row.transactiontype),
    orderType: orderType(row.ordertype),
    qty,
    price: row.price,
    filledQty,
    avgFillPrice: row.averageprice,
    state,
    rawStatus,
    updatedAt: parseBrokerTime(row.exchorderupdatetime) ?? parseBrokerTime(row.updatetime) ?? nowMs,
  };
  if (row.ordertag !== '') order.tag = row.ordertag;
  if (row.text !== '' && (state === 'rejected' || state === 'cancelled')) order.reason = row.text;
  return order;
}

/** A trade row as the port's `Trade`; `filltime` is HH:mm:ss of today (IST). */
export function toTrade(row: TradeRow, nowMs: number, tokenOf: (symbol: string, exchange: string) => string | undefined): Trade {
  const day = istDate(nowMs);
  let time = nowMs;
  if (/^\d{2}:\d{2}:\d{2}$/.test(row.filltime)) time = istToMillis(day, row.filltime);
  else time = parseBrokerTime(row.filltime) ?? nowMs;
  return {
    orderId: row.orderid,
    fillId: row.fillid,
    token: row.symboltoken !== undefined && row.symboltoken !== '' ? row.symboltoken : tokenOf(row.tradingsymbol, row.exchange) ?? '',
    symbol: row.tradingsymbol,
    side: side(row.transactiontype),
    qty: row.fillsize,
    price: row.fillprice,
    time,
  };
}
