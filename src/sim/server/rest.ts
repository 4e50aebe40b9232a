/**
 * REST plumbing shared by the rest-*.ts handlers: the response envelopes of
 * smartapi-protocol.md §2.2 and the route shape.
 */
import type { SimInstrument, SimMarket } from '../market/types.js';
import type { Auth, Session } from './auth.js';
import type { ClockDriver } from './clock-driver.js';
import type { OrderBook } from './orders.js';

export type RestReply = { status: number; contentType: string; body: string; /** placeOrder booked an order. */ booked?: boolean };

export type SimCore = {
  market: SimMarket;
  instruments: ReadonlyMap<string, SimInstrument>;
  auth: Auth;
  orders: OrderBook;
  driver: ClockDriver;
};

export type RestCtx = {
  core: SimCore;
  body: Record<string, unknown>;
  /** Set on routes with `auth: true`. */
  session: Session;
  /** The tail after a prefix route (details/{uniqueorderid}). */
  tail: string;
};

export type Route = {
  method: 'GET' | 'POST';
  path: string;
  /** Match `path` + '/' + anything (the tail goes to ctx.tail). */
  prefix?: boolean;
  /** §9 rate-limit bucket. */
  bucket: string;
  auth: boolean;
  /** place/modify/cancel: subject to the ack-delay fault. */
  order?: boolean;
  handle(ctx: RestCtx): RestReply;
};

const json = (status: number, value: unknown): RestReply => ({ status, contentType: 'application/json', body: JSON.stringify(value) });

export const ok = (data: unknown): RestReply => json(200, { status: true, message: 'SUCCESS', errorcode: '', data });
export const fail = (errorcode: string, message: string): RestReply => json(200, { status: false, message, errorcode, data: null });
/** The gateway's own shape (AG8001 and friends): `success`/`errorCode`, HTTP 200. */
export const gatewayFail = (errorCode: string, message: string): RestReply => json(200, { success: false, message, errorCode, data: '' });
export const text = (status: number, body: string): RestReply => ({ status, contentType: 'text/plain', body });
export const raw = json;
