/** §4.1 order endpoints and §5 getPosition. */
import { orderBookRow, orderDetails, positionRow, tradeRow } from './orders.js';
import { type Route, fail, ok } from './rest.js';
import { r2, str } from './util.js';

const ORDER = '/rest/secure/angelbroking/order/v1';

export const orderRoutes: Route[] = [
  {
    method: 'POST',
    path: `${ORDER}/placeOrder`,
    bucket: 'orders',
    auth: true,
    order: true,
    handle({ core, body, session }) {
      const r = core.orders.place(session.clientcode, body);
      if (!r.ok) return fail(r.code, r.message);
      return { ...ok({ script: r.order.tradingsymbol, orderid: r.order.orderid, uniqueorderid: r.order.uniqueorderid }), booked: true };
    },
  },
  {
    method: 'POST',
    path: `${ORDER}/modifyOrder`,
    bucket: 'orders',
    auth: true,
    order: true,
    handle({ core, body, session }) {
      const r = core.orders.modify(session.clientcode, body);
      return r.ok ? ok({ orderid: r.order.orderid, uniqueorderid: r.order.uniqueorderid }) : fail(r.code, r.message);
    },
  },
  {
    method: 'POST',
    path: `${ORDER}/cancelOrder`,
    bucket: 'orders',
    auth: true,
    order: true,
    handle({ core, body, session }) {
      const r = core.orders.cancel(session.clientcode, body);
      return r.ok ? ok({ orderid: r.order.orderid, uniqueorderid: r.order.uniqueorderid }) : fail(r.code, r.message);
    },
  },
  {
    method: 'GET',
    path: `${ORDER}/getOrderBook`,
    bucket: 'getOrderBook',
    auth: true,
    handle({ core, session }) {
      const rows = core.orders.ordersOf(session.clientcode).map(orderBookRow);
      return ok(rows.length === 0 ? null : rows);
    },
  },
  {
    method: 'GET',
    path: `${ORDER}/getTradeBook`,
    bucket: 'getTradeBook',
    auth: true,
    handle({ core, session }) {
      const rows = core.orders.tradesOf(session.clientcode).map(tradeRow);
      return ok(rows.length === 0 ? null : rows);
    },
  },
  {
    method: 'GET',
    path: `${ORDER}/details`,
    prefix: true,
    bucket: 'details',
    auth: true,
    handle({ core, session, tail }) {
      const o = core.orders.byUniqueId(session.clientcode, decodeURIComponent(tail));
      return o === undefined ? fail('AB1013', 'Order not found') : ok(orderDetails(o));
    },
  },
  {
    method: 'POST',
    path: `${ORDER}/getLtpData`,
    bucket: 'getLtpData',
    auth: true,
    handle({ core, body }) {
      const token = str(body.symboltoken);
      if (token === '') return fail('AB4018', 'Symbol token cannot be empty');
      const inst = core.instruments.get(token);
      if (inst === undefined || inst.segment !== str(body.exchange)) return fail('AB4006', 'Invalid symbol token');
      const q = core.market.quote(token);
      if (q === undefined) return fail('AB1004', 'Something Went Wrong, Please Try After Sometime');
      return ok({ exchange: inst.segment, tradingsymbol: inst.symbol, symboltoken: token, open: r2(q.open), high: r2(q.high), low: r2(q.low), close: r2(q.prevClose), ltp: r2(q.ltp) });
    },
  },
  {
    method: 'GET',
    path: `${ORDER}/getPosition`,
    bucket: 'getPosition',
    auth: true,
    handle({ core, session }) {
      const rows = core.orders.positionsOf(session.clientcode).map(positionRow);
      return ok(rows.length === 0 ? null : rows);
    },
  },
];
