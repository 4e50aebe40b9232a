/**
 * SmartStream binary tick packets, written from smartapi-protocol.md §11.5 on
 * purpose without sharing code with the adapter's decoder: little-endian,
 * packed. LTP = 51 bytes, Quote = 123, SnapQuote = 379. Prices in paise,
 * exchange timestamp in epoch ms, last-trade timestamp in epoch seconds,
 * best five: buys first (flag 1, best first), then sells (flag 0); empty
 * levels all zero.
 */
import type { SimLevel, SimQuote } from '../market/types.js';

export const MODE_LTP = 1;
export const MODE_QUOTE = 2;
export const MODE_SNAP = 3;
export type FrameMode = 1 | 2 | 3;

export const FRAME_SIZE: Record<FrameMode, number> = { 1: 51, 2: 123, 3: 379 };

const TWO32 = 4294967296;

/**
 * i64 LE without BigInt on the hot path (exact for |v| < 2^53), in byte stores: Buffer's
 * writeUInt32LE checks its arguments on every call, ~70% of a backtest's frame encoding.
 */
function writeI64(buf: Buffer, off: number, v: number): void {
  v = Math.trunc(v);
  if (v >= 0 && v <= Number.MAX_SAFE_INTEGER) {
    const lo = v % TWO32;
    const hi = (v - lo) / TWO32;
    buf[off] = lo & 0xff;
    buf[off + 1] = (lo >>> 8) & 0xff;
    buf[off + 2] = (lo >>> 16) & 0xff;
    buf[off + 3] = lo >>> 24;
    buf[off + 4] = hi & 0xff;
    buf[off + 5] = (hi >>> 8) & 0xff;
    buf[off + 6] = (hi >>> 16) & 0xff;
    buf[off + 7] = 0;
  } else {
    buf.writeBigInt64LE(BigInt(Number.isFinite(v) ? v : 0), off);
  }
}

const paise = (rupees: number): number => Math.round(rupees * 100);

function writeLevel(buf: Buffer, off: number, flag: number, level: SimLevel | undefined): void {
  if (level === undefined || (level.qty === 0 && level.price === 0)) {
    buf.fill(0, off, off + 20);
    return;
  }
  buf.writeInt16LE(flag, off);
  writeI64(buf, off + 2, level.qty);
  writeI64(buf, off + 10, paise(level.price));
  buf.writeInt16LE(Math.min(32767, level.orders), off + 18);
}

/**
 * Encodes one tick in `mode` for a token of `exchangeType`: into `into`, exactly the mode's frame size
 * (for a caller that decodes it at once, as the backtest's link does), or a new Buffer (ws may hold it).
 */
export function encodeTick(mode: FrameMode, exchangeType: number, q: SimQuote, seq: number, into?: Buffer): Buffer {
  if (into !== undefined && into.length !== FRAME_SIZE[mode]) throw new RangeError(`encodeTick: a mode ${mode} frame is ${FRAME_SIZE[mode]} bytes, got a ${into.length}-byte buffer`);
  const buf = into ?? Buffer.allocUnsafe(FRAME_SIZE[mode]);
  buf[0] = mode;
  buf[1] = exchangeType;
  // The token, NUL-padded to 25 bytes: char by char, as Buffer.write's argument checks cost more than the copy.
  const token = q.token;
  const n = Math.min(token.length, 25);
  for (let i = 0; i < n; i++) buf[2 + i] = token.charCodeAt(i) & 0xff;
  buf.fill(0, 2 + n, 27);
  writeI64(buf, 27, seq);
  writeI64(buf, 35, q.ts);
  writeI64(buf, 43, paise(q.ltp));
  if (mode === MODE_LTP) return buf;
  writeI64(buf, 51, q.lastQty);
  writeI64(buf, 59, paise(q.avgPrice));
  writeI64(buf, 67, q.volume);
  buf.writeDoubleLE(q.totBuyQty, 75);
  buf.writeDoubleLE(q.totSellQty, 83);
  writeI64(buf, 91, paise(q.open));
  writeI64(buf, 99, paise(q.high));
  writeI64(buf, 107, paise(q.low));
  writeI64(buf, 115, paise(q.prevClose));
  if (mode === MODE_QUOTE) return buf;
  writeI64(buf, 123, Math.floor(q.lastTradeTs / 1000));
  writeI64(buf, 131, q.oi);
  // Open-interest change %: a dummy field on the real feed; we send 0.0.
  buf.writeDoubleLE(0, 139);
  for (let i = 0; i < 5; i++) writeLevel(buf, 147 + i * 20, 1, q.bids[i]);
  for (let i = 0; i < 5; i++) writeLevel(buf, 247 + i * 20, 0, q.asks[i]);
  writeI64(buf, 347, paise(q.upperCircuit));
  writeI64(buf, 355, paise(q.lowerCircuit));
  writeI64(buf, 363, paise(q.high52));
  writeI64(buf, 371, paise(q.low52));
  return buf;
}

/** WebSocket exchangeType of a master segment (§11.2). */
export function exchangeTypeOf(segment: string): number {
  switch (segment) {
    case 'NSE': return 1;
    case 'NFO': return 2;
    case 'BSE': return 3;
    case 'BFO': return 4;
    case 'MCX': return 5;
    default: return 0;
  }
}

/** A garbage frame for fault injection: random bytes, or a valid frame cut short. */
export function garbageFrame(rng: () => number, sample: SimQuote | undefined): Buffer {
  if (sample !== undefined && rng() < 0.5) {
    const full = encodeTick(MODE_SNAP, 1, sample, 0);
    return full.subarray(0, 1 + Math.floor(rng() * (full.length - 2)));
  }
  const len = 1 + Math.floor(rng() * 400);
  const buf = Buffer.allocUnsafe(len);
  for (let i = 0; i < len; i++) buf[i] = Math.floor(rng() * 256);
  return buf;
}
