/**
 * zod schemas of every SmartAPI answer Rustro reads. Numbers arrive as numbers
 * or as decimal strings depending on the endpoint (protocol notes §2.2, §15),
 * so numeric fields go through `num` (required) or `numOr0` (empty → 0).
 * Unknown keys are dropped; SmartAPI field names never leave this folder.
 */
import { z } from 'zod';

const NUMERIC = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

/** A finite number, given as a number or a decimal string. */
export const num = z.union([z.number(), z.string()]).transform((v, ctx) => {
  const n = typeof v === 'number' ? v : NUMERIC.test(v.trim()) ? Number(v.trim()) : NaN;
  if (!Number.isFinite(n)) {
    ctx.addIssue({ code: 'custom', message: 'expected a number or a decimal string' });
    return z.NEVER;
  }
  return n;
});

/** Like `num`, but absent, null and "" read as 0 (empty fields of the order-status stream, unfilled orders). */
export const numOr0 = z.union([z.number(), z.string(), z.null(), z.undefined()]).transform((v, ctx) => {
  if (v === null || v === undefined || (typeof v === 'string' && v.trim() === '')) return 0;
  const n = typeof v === 'number' ? v : NUMERIC.test(v.trim()) ? Number(v.trim()) : NaN;
  if (!Number.isFinite(n)) {
    ctx.addIssue({ code: 'custom', message: 'expected a number, a decimal string or ""' });
    return z.NEVER;
  }
  return n;
});

/**
 * Like `numOr0`, but a negative value is refused (a price, a quantity, a fill):
 * a broker row carrying one would make an event the ledger refuses, so it is
 * stopped here, at the edge, with the field named.
 */
export const nonNegOr0 = numOr0.pipe(z.number().min(0, { message: 'must not be negative' }));

/** A string; numbers are stringified, null/absent become "". */
export const str = z.union([z.string(), z.number(), z.null(), z.undefined()]).transform((v) => (v === null || v === undefined ? '' : String(v)));

const nonEmptyStr = z.union([z.string(), z.number()]).transform((v) => String(v)).pipe(z.string().min(1));

// ── envelope ────────────────────────────────────────────────────────────────

const boolish = z.union([z.boolean(), z.enum(['true', 'false', 'TRUE', 'FALSE'])]).transform((v) => v === true || v === 'true' || v === 'TRUE');

/** `{status, message, errorcode, data}` — the normal shape. */
export const envelope = z.object({
  status: boolish,
  message: str,
  errorcode: str,
  data: z.unknown(),
});

/** `{success:false, message, errorCode, data}` — the gateway/auth shape (HTTP 200). */
export const gatewayError = z.object({
  success: boolish,
  message: str,
  errorCode: str,
});

// ── session ─────────────────────────────────────────────────────────────────

export const sessionTokens = z.object({
  jwtToken: nonEmptyStr,
  refreshToken: nonEmptyStr,
  feedToken: nonEmptyStr,
});
export type SessionTokens = z.infer<typeof sessionTokens>;

export const profile = z.object({
  clientcode: str,
  name: str,
  exchanges: z.union([z.array(z.string()), z.string(), z.null()]).optional(),
  products: z.union([z.array(z.string()), z.string(), z.null()]).optional(),
});

export const rms = z.object({
  net: numOr0,
  availablecash: numOr0,
  utiliseddebits: numOr0,
});

// ── orders ──────────────────────────────────────────────────────────────────

export const orderAck = z.object({
  script: str.optional(),
  orderid: nonEmptyStr,
  uniqueorderid: str.optional(),
});

/** One order-book row, order-details answer or order-status `orderData` (§4.5, §12). */
export const orderRow = z.object({
  variety: str,
  ordertype: str,
  producttype: str,
  duration: str,
  price: nonNegOr0,
  triggerprice: nonNegOr0,
  quantity: nonNegOr0,
  tradingsymbol: str,
  transactiontype: str,
  exchange: str,
  symboltoken: str,
  ordertag: str,
  averageprice: nonNegOr0,
  filledshares: nonNegOr0,
  unfilledshares: nonNegOr0,
  orderid: str,
  uniqueorderid: str.optional(),
  text: str,
  status: str,
  orderstatus: str,
  updatetime: str,
  exchorderupdatetime: str.optional(),
});
export type OrderRow = z.infer<typeof orderRow>;

export const tradeRow = z.object({
  exchange: str,
  tradingsymbol: str,
  symboltoken: str.optional(),
  transactiontype: str,
  fillprice: num,
  fillsize: num,
  orderid: str,
  fillid: str,
  filltime: str,
});
export type TradeRow = z.infer<typeof tradeRow>;

export const positionRow = z.object({
  exchange: str,
  symboltoken: str,
  producttype: str,
  tradingsymbol: str,
  buyqty: numOr0,
  sellqty: numOr0,
  netqty: numOr0,
  buyavgprice: numOr0,
  sellavgprice: numOr0,
});
export type PositionRow = z.infer<typeof positionRow>;

/** Lists come as an array, or `null`/`""` when empty (§2.2). */
export const listOf = <T extends z.ZodType>(row: T) =>
  z.union([z.array(row), z.null(), z.literal(''), z.undefined()]).transform((v) => (Array.isArray(v) ? v : []));

// ── market data ─────────────────────────────────────────────────────────────

const depthLevel = z.object({ price: numOr0, quantity: numOr0, orders: numOr0 });

export const quoteItem = z.object({
  exchange: str,
  symbolToken: str,
  ltp: num,
  open: num.optional(),
  high: num.optional(),
  low: num.optional(),
  close: num.optional(),
  tradeVolume: num.optional(),
  opnInterest: num.optional(),
  upperCircuit: num.optional(),
  lowerCircuit: num.optional(),
  depth: z.object({ buy: z.array(depthLevel), sell: z.array(depthLevel) }).optional(),
});
export type QuoteItem = z.infer<typeof quoteItem>;

export const quoteData = z.object({
  fetched: listOf(quoteItem),
  unfetched: listOf(z.object({ exchange: str, symbolToken: str, message: str, errorCode: str })),
});

export const candleRows = listOf(z.tuple([z.string(), num, num, num, num, numOr0]).rest(z.unknown()));

// ── instrument master ───────────────────────────────────────────────────────

/** One row of the instrument master (§10): all values strings; `freeze_qty` only in some files. */
export const masterRow = z.object({
  token: nonEmptyStr,
  symbol: nonEmptyStr,
  name: str,
  expiry: str,
  strike: num,
  lotsize: num,
  instrumenttype: str,
  exch_seg: nonEmptyStr,
  tick_size: num,
  freeze_qty: numOr0.optional(),
});
export type MasterRow = z.infer<typeof masterRow>;

// ── order-status WebSocket (§12) ────────────────────────────────────────────

export const orderStatusMessage = z.object({
  'order-status': str,
  'error-message': str.optional(),
  orderData: orderRow.optional(),
});

/** The first few issues of a failed parse as `path: message`, never the input values. */
export function describeIssues(err: z.ZodError, max = 3): string {
  return err.issues
    .slice(0, max)
    .map((i) => `${i.path.length === 0 ? '(root)' : i.path.join('.')}: ${i.message}`)
    .join('; ') + (err.issues.length > max ? `; … ${err.issues.length - max} more` : '');
}
