import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Tick } from '../../../src/broker/broker.js';
import {
  decodeFrameDetail, decodeTick, hexPrefix, isRejection, type DecodeResult,
} from '../../../src/broker/smartapi/codec.js';
import { buildFrame, ltpFrame, sampleQuote, sampleSnap, type WireFrame, type WireSnap } from './support/frames.js';

const EXCH = ['', 'NSE', 'NFO', 'BSE', 'BFO'];
const tick = (r: DecodeResult): Tick => {
  if (isRejection(r)) throw new Error(`unexpected rejection: ${r.rejected}`);
  return r;
};
const rejected = (r: DecodeResult): string => {
  if (!isRejection(r)) throw new Error(`expected a rejection, got ${JSON.stringify(r)}`);
  return r.rejected;
};

/** i64 values the decoder reads exactly: |v| < 2^53. */
const exactI64 = fc.bigInt({ min: -(2n ** 53n) + 1n, max: 2n ** 53n - 1n });
const nonNegI64 = fc.bigInt({ min: 0n, max: 2n ** 53n - 1n });
/** Prices and quantities a plausible frame carries: never negative (negatives are refused, see below). */
const paise = fc.bigInt({ min: 0n, max: 10n ** 12n });
const qty = nonNegI64;
const token = fc.stringMatching(/^[0-9]{1,25}$/);
const exchangeType = fc.integer({ min: 1, max: 4 });
const f64 = fc.double({ noNaN: true });
const total = fc.double({ noNaN: true, noDefaultInfinity: true, min: 0 });
const i16 = fc.integer({ min: -32768, max: 32767 });
const orders = fc.integer({ min: 0, max: 32767 });

const ltpArb = fc.record({
  mode: fc.constant(1 as const), exchangeType, token, sequence: exactI64, exchTsMs: nonNegI64, ltpPaise: paise,
});
const quoteArb = fc.record({
  mode: fc.constant(2 as const), exchangeType, token, sequence: exactI64, exchTsMs: nonNegI64, ltpPaise: paise,
  lastQty: qty, avgPaise: paise, volume: qty, totBuyQty: total, totSellQty: total,
  openPaise: paise, highPaise: paise, lowPaise: paise, closePaise: paise,
});
const snapArb = fc.record({
  mode: fc.constant(3 as const), exchangeType, token, sequence: exactI64, exchTsMs: nonNegI64, ltpPaise: paise,
  lastQty: qty, avgPaise: paise, volume: qty, totBuyQty: total, totSellQty: total,
  openPaise: paise, highPaise: paise, lowPaise: paise, closePaise: paise,
  lastTradeTsSec: fc.bigInt({ min: 0n, max: 10n ** 10n }), oi: qty, oiChangePct: f64,
  depth: fc.array(fc.record({ flag: i16, qty, pricePaise: paise, orders }), { minLength: 10, maxLength: 10 }),
  upperPaise: paise, lowerPaise: paise, high52Paise: paise, low52Paise: paise,
});

const rupees = (p: bigint): number => Number(p) / 100;

function expectHeader(t: Tick, f: WireFrame): void {
  expect(t.token).toBe(f.token);
  expect(t.exchange).toBe(EXCH[f.exchangeType]);
  expect(t.mode).toBe(['', 'ltp', 'quote', 'snap'][f.mode]);
  expect(t.exchTs).toBe(Number(f.exchTsMs));
  expect(t.ltp).toBe(rupees(f.ltpPaise));
}

describe('codec round trip (frames built from the byte layout, decoded, compared field by field)', () => {
  it('LTP (51 B)', () => {
    fc.assert(fc.property(ltpArb, (f) => {
      const t = tick(decodeTick(buildFrame(f)));
      expectHeader(t, f);
      expect(Object.keys(t).sort()).toEqual(['exchTs', 'exchange', 'ltp', 'mode', 'token']);
    }), { numRuns: 2000 });
  });

  it('Quote (123 B)', () => {
    fc.assert(fc.property(quoteArb, (f) => {
      const t = tick(decodeTick(buildFrame(f)));
      expectHeader(t, f);
      expect(t.lastQty).toBe(Number(f.lastQty));
      expect(t.avgPrice).toBe(rupees(f.avgPaise));
      expect(t.volume).toBe(Number(f.volume));
      expect(t.totBuyQty).toBe(f.totBuyQty);
      expect(t.totSellQty).toBe(f.totSellQty);
      expect(t.open).toBe(rupees(f.openPaise));
      expect(t.high).toBe(rupees(f.highPaise));
      expect(t.low).toBe(rupees(f.lowPaise));
      expect(t.close).toBe(rupees(f.closePaise));
      expect(t.bids).toBeUndefined();
      expect(t.lastTradeTs).toBeUndefined();
    }), { numRuns: 2000 });
  });

  it('SnapQuote (379 B), depth split by position, OI change kept out of Tick', () => {
    fc.assert(fc.property(snapArb, (f) => {
      const frame = buildFrame(f);
      const t = tick(decodeTick(frame));
      expectHeader(t, f);
      expect(t.lastQty).toBe(Number(f.lastQty));
      expect(t.avgPrice).toBe(rupees(f.avgPaise));
      expect(t.volume).toBe(Number(f.volume));
      expect(t.totBuyQty).toBe(f.totBuyQty);
      expect(t.totSellQty).toBe(f.totSellQty);
      expect([t.open, t.high, t.low, t.close]).toEqual([f.openPaise, f.highPaise, f.lowPaise, f.closePaise].map(rupees));
      expect(t.lastTradeTs).toBe(Number(f.lastTradeTsSec) * 1000);
      expect(t.oi).toBe(Number(f.oi));
      const lvl = (d: WireSnap['depth'][number]) => ({ price: rupees(d.pricePaise), qty: Number(d.qty), orders: d.orders });
      expect(t.bids).toEqual(f.depth.slice(0, 5).map(lvl));
      expect(t.asks).toEqual(f.depth.slice(5).map(lvl));
      expect([t.upperCircuit, t.lowerCircuit, t.high52, t.low52]).toEqual([f.upperPaise, f.lowerPaise, f.high52Paise, f.low52Paise].map(rupees));
      expect(t).not.toHaveProperty('oiChangePctUnreliable');
      const d = decodeFrameDetail(frame);
      if (isRejection(d)) throw new Error(d.rejected);
      expect(d.sequence).toBe(Number(f.sequence));
      expect(d.exchangeType).toBe(f.exchangeType);
      expect(Object.is(d.oiChangePctUnreliable, f.oiChangePct)).toBe(true);
    }), { numRuns: 1000 });
  });
});

/** Little-endian writers for the hand-built frame: explicit offsets, no builder. */
function putI64(b: Uint8Array, off: number, v: number): void {
  let x = BigInt.asUintN(64, BigInt(v));
  for (let i = 0; i < 8; i++) { b[off + i] = Number(x & 0xffn); x >>= 8n; }
}
function putI16(b: Uint8Array, off: number, v: number): void {
  b[off] = v & 0xff;
  b[off + 1] = (v >> 8) & 0xff;
}

describe('codec against frames written byte by byte', () => {
  it('SnapQuote for NIFTY 50 (token 99926000, LTP 2171235 paise → 21712.35)', () => {
    const b = new Uint8Array(379);
    b[0] = 3; // mode SnapQuote
    b[1] = 1; // nse_cm
    '99926000'.split('').forEach((c, i) => { b[2 + i] = c.charCodeAt(0); }); // 2..26, NUL padded
    putI64(b, 27, 123456); // sequence
    putI64(b, 35, 1737356263000); // exchange ts, ms
    putI64(b, 43, 2171235); // LTP paise
    putI64(b, 51, 0); // last traded qty
    putI64(b, 59, 2170010); // ATP
    putI64(b, 67, 0); // volume
    new DataView(b.buffer).setFloat64(75, 605175.0, true); // total buy qty
    new DataView(b.buffer).setFloat64(83, 398012.0, true); // total sell qty
    putI64(b, 91, 2160000); // open
    putI64(b, 99, 2180050); // high
    putI64(b, 107, 2155525); // low
    putI64(b, 115, 2165010); // close
    putI64(b, 123, 1737356261); // last trade ts, seconds
    putI64(b, 131, 0); // OI
    // 139: OI change % f64 = 0x3FDE000000000000 (0.46875), garbage per the docs
    [0, 0, 0, 0, 0, 0, 0xde, 0x3f].forEach((x, i) => { b[139 + i] = x; });
    // best five: first buy level at 147, first sell level at 247; the rest zero
    putI16(b, 147, 1); putI64(b, 149, 75); putI64(b, 157, 2171200); putI16(b, 165, 3);
    putI16(b, 247, 0); putI64(b, 249, 150); putI64(b, 257, 2171300); putI16(b, 265, 4);
    putI64(b, 347, 2388400); // upper circuit
    putI64(b, 355, 5); // lower circuit ₹0.05
    putI64(b, 363, 2627750); // 52w high
    putI64(b, 371, 2109420); // 52w low
    const t = tick(decodeTick(b));
    const zero = { price: 0, qty: 0, orders: 0 };
    expect(t).toEqual({
      token: '99926000', exchange: 'NSE', mode: 'snap', exchTs: 1737356263000, ltp: 21712.35,
      lastQty: 0, avgPrice: 21700.1, volume: 0, totBuyQty: 605175, totSellQty: 398012,
      open: 21600, high: 21800.5, low: 21555.25, close: 21650.1,
      lastTradeTs: 1737356261000, oi: 0,
      bids: [{ price: 21712, qty: 75, orders: 3 }, zero, zero, zero, zero],
      asks: [{ price: 21713, qty: 150, orders: 4 }, zero, zero, zero, zero],
      upperCircuit: 23884, lowerCircuit: 0.05, high52: 26277.5, low52: 21094.2,
    });
    const d = decodeFrameDetail(b);
    expect(d).toMatchObject({ sequence: 123456, exchangeType: 1, oiChangePctUnreliable: 0.46875 });
  });

  it('LTP in 51 bytes, NFO option token', () => {
    const b = new Uint8Array(51);
    b[0] = 1; b[1] = 2;
    b.set([0x34, 0x33, 0x36, 0x35, 0x30], 2); // "43650"
    putI64(b, 35, 1737356263123);
    putI64(b, 43, 12345);
    expect(decodeTick(b)).toEqual({ token: '43650', exchange: 'NFO', mode: 'ltp', exchTs: 1737356263123, ltp: 123.45 });
  });

  it('Quote: all four exchanges mapped, i64 read as signed', () => {
    for (const [et, ex] of [[1, 'NSE'], [2, 'NFO'], [3, 'BSE'], [4, 'BFO']] as const) {
      const q = { ...sampleQuote('1', et), lastQty: 2n ** 33n + 1n, volume: 2n ** 40n + 3n };
      const t = tick(decodeTick(buildFrame(q)));
      expect(t.exchange).toBe(ex);
      expect(t.lastQty).toBe(2 ** 33 + 1);
      expect(t.volume).toBe(2 ** 40 + 3);
      // Signed: a -1 on the wire is read as -1 (and refused), not as 2^64 - 1.
      expect(rejected(decodeTick(buildFrame({ ...q, lastQty: -1n })))).toBe('negative lastQty -1');
    }
  });

  it('tokens with leading zeros and 25 digits survive the token cache', () => {
    for (const tok of ['0', '00', '007', '7', '123456789', '1234567890', '0000000000000000000000001', '9999999999999999999999999']) {
      expect(tick(decodeTick(ltpFrame(tok))).token).toBe(tok);
      expect(tick(decodeTick(ltpFrame(tok))).token).toBe(tok);
    }
  });
});

describe('codec: no Tick ever carries a negative or non-finite number', () => {
  const wide = fc.bigInt({ min: -(10n ** 12n), max: 10n ** 12n });
  const anyQuote = fc.record({
    mode: fc.constant(2 as const), exchangeType, token, sequence: exactI64, exchTsMs: nonNegI64, ltpPaise: wide,
    lastQty: exactI64, avgPaise: wide, volume: exactI64, totBuyQty: fc.double(), totSellQty: fc.double(),
    openPaise: wide, highPaise: wide, lowPaise: wide, closePaise: wide,
  });
  it('Quote frames with any values: a rejection, or a Tick whose numbers are all finite and >= 0', () => {
    fc.assert(fc.property(anyQuote, (f) => {
      const r = decodeTick(buildFrame(f));
      if (isRejection(r)) return;
      for (const v of [r.ltp, r.lastQty, r.avgPrice, r.volume, r.totBuyQty, r.totSellQty, r.open, r.high, r.low, r.close]) {
        expect(Number.isFinite(v) && v! >= 0).toBe(true);
      }
    }), { numRuns: 2000 });
  });
});

describe('codec rejections (reasons, never throws)', () => {
  const ltp = ltpFrame();
  it.each([
    ['empty', new Uint8Array(0), 'empty frame'],
    ['short LTP', ltp.subarray(0, 50), 'short frame: 50 bytes for mode 1 (needs 51)'],
    ['long LTP', new Uint8Array([...ltp, 0]), 'long frame: 52 bytes for mode 1 (expects exactly 51)'],
    ['short Quote', buildFrame(sampleQuote()).subarray(0, 122), 'short frame: 122 bytes for mode 2 (needs 123)'],
    ['short Snap', buildFrame(sampleSnap()).subarray(0, 123), 'short frame: 123 bytes for mode 3 (needs 379)'],
    ['long Snap', new Uint8Array(400).fill(3, 0, 1), 'long frame: 400 bytes for mode 3 (expects exactly 379)'],
    ['unknown mode', Uint8Array.from([9, ...ltp.subarray(1)]), 'unknown mode 9'],
    ['mode 0', new Uint8Array(51), 'unknown mode 0'],
    ['depth-20', new Uint8Array(443).fill(4, 0, 1), 'unsupported mode 4 (depth-20), 443 bytes'],
    ['mcx', ltpFrame('1', 1n, 5), 'unsupported exchange type 5'],
    ['exchange 0', ltpFrame('1', 1n, 0), 'unsupported exchange type 0'],
    ['cde', ltpFrame('1', 1n, 13), 'unsupported exchange type 13'],
  ])('%s', (_name, frame, reason) => {
    expect(rejected(decodeTick(frame))).toBe(reason);
  });

  it('bad token bytes: letters, empty, high bytes', () => {
    expect(rejected(decodeTick(ltpFrame('12a4')))).toMatch(/^bad token bytes: 31326134/);
    expect(rejected(decodeTick(ltpFrame('')))).toMatch(/^bad token bytes/);
    const b = ltpFrame('123');
    b[3] = 0xff;
    expect(rejected(decodeTick(b))).toMatch(/^bad token bytes/);
  });

  it('negative exchange timestamp', () => {
    expect(rejected(decodeTick(ltpFrame('1', 1n, 1, -5n)))).toBe('negative exchange timestamp -5');
  });

  it('implausible values are refused by name: non-finite totals, negative prices and quantities', () => {
    const q = sampleQuote();
    expect(rejected(decodeTick(buildFrame({ ...q, totBuyQty: Number.NaN })))).toBe('non-finite totBuyQty NaN');
    expect(rejected(decodeTick(buildFrame({ ...q, totSellQty: Number.POSITIVE_INFINITY })))).toBe('non-finite totSellQty Infinity');
    expect(rejected(decodeTick(buildFrame({ ...q, totBuyQty: Number.NEGATIVE_INFINITY })))).toBe('non-finite totBuyQty -Infinity');
    expect(rejected(decodeTick(buildFrame({ ...q, totSellQty: -1 })))).toBe('negative totSellQty -1');
    expect(rejected(decodeTick(buildFrame({ ...q, volume: -10n })))).toBe('negative volume -10');
    expect(rejected(decodeTick(buildFrame({ ...q, closePaise: -100n })))).toBe('negative close -100');
    expect(rejected(decodeTick(ltpFrame('1', -5n)))).toBe('negative ltp -0.05');
    const snap = sampleSnap();
    expect(rejected(decodeTick(buildFrame({ ...snap, oi: -1n })))).toBe('negative oi -1');
    const depth = snap.depth.map((d, i) => (i === 7 ? { ...d, pricePaise: -5n } : d));
    expect(rejected(decodeTick(buildFrame({ ...snap, depth })))).toBe('negative depth price, quantity or order count');
    // Large but valid values (above 2^31) still decode.
    expect(tick(decodeTick(buildFrame({ ...q, volume: 3_000_000_000n }))).volume).toBe(3_000_000_000);
  });

  it('an exchange timestamp beyond the bound given is refused; without a bound, any time decodes', () => {
    const frame = ltpFrame('1', 100n, 1, 1_737_356_263_000n);
    expect(rejected(decodeTick(frame, 1_737_356_262_999))).toBe('implausible exchange timestamp 1737356263000: later than 1737356262999');
    expect(tick(decodeTick(frame, 1_737_356_263_000)).exchTs).toBe(1_737_356_263_000);
    expect(tick(decodeTick(frame)).exchTs).toBe(1_737_356_263_000);
  });

  it('hexPrefix', () => {
    expect(hexPrefix(Uint8Array.from([0, 1, 0xab, 0xff]), 3)).toBe('0001ab');
  });
});
