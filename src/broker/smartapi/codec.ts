/**
 * SmartAPI WebSocket 2.0 ("SmartStream") binary tick codec — decode only.
 * Layout: docs/smartapi-protocol.md §11.5 (little-endian, packed):
 * LTP 51 B, Quote 123 B, SnapQuote 379 B; prices in paise (÷100 → rupees),
 * exchange timestamp in epoch ms, last-trade timestamp in epoch s (→ ms),
 * best-five depth split by position (entries 0–4 buys, 5–9 sells).
 *
 * `decodeTick` never throws: any input yields either a `Tick` or a
 * `FrameRejection` naming what was wrong. Integers are read from the bytes
 * directly as two 32-bit halves (exact below 2^53, no BigInt, no DataView
 * allocation); token strings are interned so the hot path allocates only the
 * Tick itself (and its depth levels for SnapQuote).
 */
import type { DepthLevel, Exchange, FeedMode, Tick } from '../broker.js';

export const LTP_PACKET_BYTES = 51;
export const QUOTE_PACKET_BYTES = 123;
export const SNAP_QUOTE_PACKET_BYTES = 379;

/** Wire mode byte → Rustro feed mode (index = byte). */
export const MODE_BY_BYTE: readonly (FeedMode | undefined)[] = [undefined, 'ltp', 'quote', 'snap'];
export const MODE_BYTE: Readonly<Record<FeedMode, 1 | 2 | 3>> = { ltp: 1, quote: 2, snap: 3 };
/** Packet size per mode byte. */
const SIZE_BY_MODE = [0, LTP_PACKET_BYTES, QUOTE_PACKET_BYTES, SNAP_QUOTE_PACKET_BYTES] as const;

/** Wire exchangeType → Rustro exchange. 5 (mcx_fo), 7 (ncx_fo), 13 (cde_fo) are refused: Rustro does not trade them. */
export const EXCHANGE_BY_TYPE: readonly (Exchange | undefined)[] = [undefined, 'NSE', 'NFO', 'BSE', 'BFO'];
export const EXCHANGE_TYPE: Readonly<Record<Exchange, 1 | 2 | 3 | 4>> = { NSE: 1, NFO: 2, BSE: 3, BFO: 4 };

export const TOKEN_OFFSET = 2;
export const TOKEN_BYTES = 25;
export const DEPTH_OFFSET = 147;
export const DEPTH_ENTRY_BYTES = 20;

/** Why a frame was refused. Tick has no `rejected` field, so `'rejected' in r` tells them apart. */
export type FrameRejection = { readonly rejected: string };
export type DecodeResult = Tick | FrameRejection;

export function isRejection(r: DecodeResult): r is FrameRejection {
  return (r as FrameRejection).rejected !== undefined;
}

/** Everything on the wire for one packet, for tools (`rustro feed decode`): the Tick plus fields Rustro never trades on. */
export type FrameDetail = Tick & {
  exchangeType: number;
  /** Wire sequence number; "not meaningful for index feeds" per the docs. */
  sequence: number;
  /** SnapQuote only. The docs call this a dummy field containing garbage: never trade on it. */
  oiChangePctUnreliable?: number;
};

// ── little-endian readers over a Uint8Array (no DataView allocation) ────────

/** i64 LE as a number: exact for |v| < 2^53, rounded beyond (no BigInt). */
function i64(b: Uint8Array, o: number): number {
  const lo = (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0;
  const hi = b[o + 4]! | (b[o + 5]! << 8) | (b[o + 6]! << 16) | (b[o + 7]! << 24);
  return hi * 4294967296 + lo;
}

function i16(b: Uint8Array, o: number): number {
  return ((b[o]! | (b[o + 1]! << 8)) << 16) >> 16;
}

const f64Scratch = new Float64Array(1);
const f64Bytes = new Uint8Array(f64Scratch.buffer);
const hostLittleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function f64(b: Uint8Array, o: number): number {
  if (hostLittleEndian) {
    f64Bytes[0] = b[o]!; f64Bytes[1] = b[o + 1]!; f64Bytes[2] = b[o + 2]!; f64Bytes[3] = b[o + 3]!;
    f64Bytes[4] = b[o + 4]!; f64Bytes[5] = b[o + 5]!; f64Bytes[6] = b[o + 6]!; f64Bytes[7] = b[o + 7]!;
  } else {
    for (let i = 0; i < 8; i++) f64Bytes[7 - i] = b[o + i]!;
  }
  return f64Scratch[0]!;
}

// ── token: ASCII digits up to the first NUL, interned ───────────────────────

/** One cache per digit count (1–9), keyed by the digits' value (a small integer), so lookups never allocate. */
const tokenCache: Map<number, string>[] = Array.from({ length: 10 }, () => new Map<number, string>());
const TOKEN_CACHE_MAX = 50_000;

/** The token string, or undefined when the bytes are not 1–25 ASCII digits followed by NUL padding. */
function readToken(b: Uint8Array): string | undefined {
  let value = 0;
  let len = 0;
  for (; len < TOKEN_BYTES; len++) {
    const c = b[TOKEN_OFFSET + len]!;
    if (c === 0) break;
    const d = c - 48;
    if (d < 0 || d > 9) return undefined;
    value = value * 10 + d;
  }
  if (len === 0) return undefined;
  if (len <= 9) {
    const cache = tokenCache[len]!;
    const hit = cache.get(value);
    if (hit !== undefined) return hit;
    const s = String(value).padStart(len, '0');
    if (cache.size >= TOKEN_CACHE_MAX) cache.clear();
    cache.set(value, s);
    return s;
  }
  let s = '';
  for (let i = 0; i < len; i++) s += String.fromCharCode(b[TOKEN_OFFSET + i]!);
  return s;
}

const hex2 = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** Lower-case hex of the first `max` bytes (for FeedFrameRejected). */
export function hexPrefix(b: Uint8Array, max = 32): string {
  const n = Math.min(b.length, max);
  let s = '';
  for (let i = 0; i < n; i++) s += hex2[b[i]!];
  return s;
}

function reject(reason: string): FrameRejection {
  return { rejected: reason };
}

/** Five depth levels, or undefined when a price, quantity or order count is negative. */
function depth(b: Uint8Array, from: number): DepthLevel[] | undefined {
  const out: DepthLevel[] = new Array(5);
  for (let i = 0; i < 5; i++) {
    const o = from + i * DEPTH_ENTRY_BYTES;
    // o+0: i16 buy/sell flag — ignored: the split is by position (§11.5, SDK-js/java).
    const price = i64(b, o + 10), qty = i64(b, o + 2), orders = i16(b, o + 18);
    if (price < 0 || qty < 0 || orders < 0) return undefined;
    out[i] = { price: price / 100, qty, orders };
  }
  return out;
}

/** Checks header and length; the mode byte (1–3) on success, else the rejection. */
function check(b: Uint8Array): number | FrameRejection {
  const n = b.length;
  if (n === 0) return reject('empty frame');
  const mode = b[0]!;
  if (mode === 4) return reject(`unsupported mode 4 (depth-20), ${n} bytes`);
  if (mode < 1 || mode > 3) return reject(`unknown mode ${mode}`);
  const need = SIZE_BY_MODE[mode as 1 | 2 | 3];
  if (n < need) return reject(`short frame: ${n} bytes for mode ${mode} (needs ${need})`);
  if (n > need) return reject(`long frame: ${n} bytes for mode ${mode} (expects exactly ${need})`);
  const et = b[1]!;
  if (EXCHANGE_BY_TYPE[et] === undefined) return reject(`unsupported exchange type ${et}`);
  return mode;
}

/**
 * Decodes one binary frame (one packet) into a Tick, or says why not.
 * Never throws, whatever the bytes. Implausible values are refused by name:
 * a negative price or quantity, a non-finite total (NaN/±Infinity in the f64
 * fields), an exchange timestamp below 0 or above `maxExchTs` (the feed passes
 * its clock + a tolerance: an upper bound only).
 */
export function decodeTick(b: Uint8Array, maxExchTs = Infinity): DecodeResult {
  const mode = check(b);
  if (typeof mode !== 'number') return mode;
  const token = readToken(b);
  if (token === undefined) return reject(`bad token bytes: ${hexPrefix(b.subarray(TOKEN_OFFSET, TOKEN_OFFSET + TOKEN_BYTES), TOKEN_BYTES)}`);
  const exchange = EXCHANGE_BY_TYPE[b[1]!]!;
  const exchTs = i64(b, 35);
  if (exchTs < 0) return reject(`negative exchange timestamp ${exchTs}`);
  if (exchTs > maxExchTs) return reject(`implausible exchange timestamp ${exchTs}: later than ${maxExchTs}`);
  const ltpRaw = i64(b, 43);
  if (ltpRaw < 0) return reject(`negative ltp ${ltpRaw / 100}`);
  const ltp = ltpRaw / 100;
  if (mode === 1) return { token, exchange, mode: 'ltp', exchTs, ltp };
  const lastQty = i64(b, 51), avg = i64(b, 59), volume = i64(b, 67);
  const totBuyQty = f64(b, 75), totSellQty = f64(b, 83);
  const open = i64(b, 91), high = i64(b, 99), low = i64(b, 107), close = i64(b, 115);
  // Any negative (or NaN: every comparison is false) falls to the named reason.
  if (!(lastQty >= 0 && avg >= 0 && volume >= 0 && open >= 0 && high >= 0 && low >= 0 && close >= 0 && totBuyQty >= 0 && totSellQty >= 0 && totBuyQty !== Infinity && totSellQty !== Infinity)) {
    return reject(quoteReason(lastQty, avg, volume, totBuyQty, totSellQty, open, high, low, close));
  }
  if (mode === 2) {
    return {
      token, exchange, mode: 'quote', exchTs, ltp,
      lastQty, avgPrice: avg / 100, volume, totBuyQty, totSellQty,
      open: open / 100, high: high / 100, low: low / 100, close: close / 100,
    };
  }
  const lastTradeTs = i64(b, 123), oi = i64(b, 131);
  const upper = i64(b, 347), lower = i64(b, 355), high52 = i64(b, 363), low52 = i64(b, 371);
  if (!(lastTradeTs >= 0 && oi >= 0 && upper >= 0 && lower >= 0 && high52 >= 0 && low52 >= 0)) {
    return reject(firstNegative([['lastTradeTs', lastTradeTs], ['oi', oi], ['upperCircuit', upper], ['lowerCircuit', lower], ['high52', high52], ['low52', low52]]));
  }
  const bids = depth(b, DEPTH_OFFSET);
  const asks = depth(b, DEPTH_OFFSET + 5 * DEPTH_ENTRY_BYTES);
  if (bids === undefined || asks === undefined) return reject(`negative depth price, quantity or order count`);
  return {
    token, exchange, mode: 'snap', exchTs, ltp,
    lastQty, avgPrice: avg / 100, volume, totBuyQty, totSellQty,
    open: open / 100, high: high / 100, low: low / 100, close: close / 100,
    lastTradeTs: lastTradeTs * 1000,
    oi,
    // 139: f64 OI change % — a dummy field (docs): kept out of Tick, see decodeFrameDetail.
    bids, asks,
    upperCircuit: upper / 100, lowerCircuit: lower / 100,
    high52: high52 / 100, low52: low52 / 100,
  };
}

/** The reason for a quote block that failed the fast check (cold path). */
function quoteReason(lastQty: number, avg: number, volume: number, tbq: number, tsq: number, open: number, high: number, low: number, close: number): string {
  if (!Number.isFinite(tbq)) return `non-finite totBuyQty ${tbq}`;
  if (!Number.isFinite(tsq)) return `non-finite totSellQty ${tsq}`;
  return firstNegative([['lastQty', lastQty], ['avgPrice', avg], ['volume', volume], ['totBuyQty', tbq], ['totSellQty', tsq], ['open', open], ['high', high], ['low', low], ['close', close]]);
}

function firstNegative(fields: [string, number][]): string {
  for (const [name, v] of fields) if (v < 0) return `negative ${name} ${v}`;
  return 'implausible value';
}

/** Like decodeTick, plus the wire fields Rustro does not trade on (exchangeType, sequence, OI change %). Tools only. */
export function decodeFrameDetail(b: Uint8Array): FrameDetail | FrameRejection {
  const r = decodeTick(b);
  if (isRejection(r)) return r;
  const detail: FrameDetail = { ...r, exchangeType: b[1]!, sequence: i64(b, 27) };
  if (r.mode === 'snap') detail.oiChangePctUnreliable = f64(b, 139);
  return detail;
}
