import { describe, expect, it } from 'vitest';
import { decodeTick, isRejection } from '../../../src/broker/smartapi/codec.js';
import type { SimQuote } from '../../../src/sim/market/types.js';
import { FRAME_SIZE, type FrameMode, encodeTick } from '../../../src/sim/server/frames.js';

const quote: SimQuote = {
  token: '12401040217001', ts: 1_704_345_300_250, ltp: 123.45, lastQty: 50, volume: 5_000_123_456, avgPrice: 120.1,
  open: 110.05, high: 130.9, low: 101.2, prevClose: 111.3, oi: 4_294_967_296 + 7,
  bids: [{ price: 123.4, qty: 500, orders: 3 }], asks: [{ price: 123.5, qty: 650, orders: 4 }],
  totBuyQty: 12_500.5, totSellQty: 9_800, upperCircuit: 250.25, lowerCircuit: 0.05, high52: 400.4, low52: 0.05,
  lastTradeTs: 1_704_345_299_000,
};

describe('simulator frames', () => {
  it('round-trips through the adapter codec in every mode, 64-bit fields above 2^32 exact', () => {
    const snap = decodeTick(encodeTick(3, 2, quote, 2 ** 40 + 3));
    expect(snap).toMatchObject({
      token: quote.token, exchange: 'NFO', mode: 'snap', exchTs: quote.ts, ltp: 123.45, volume: 5_000_123_456, oi: 4_294_967_303,
      open: 110.05, high: 130.9, low: 101.2, close: 111.3, lastTradeTs: 1_704_345_299_000,
      upperCircuit: 250.25, high52: 400.4, totBuyQty: 12_500.5,
    });
    expect(decodeTick(encodeTick(1, 1, quote, 1))).toMatchObject({ mode: 'ltp', exchange: 'NSE', ltp: 123.45 });
    expect(decodeTick(encodeTick(2, 1, quote, 1))).toMatchObject({ mode: 'quote', avgPrice: 120.1, lastQty: 50 });
  });

  it('writes into a caller buffer the same bytes as a new one, and refuses one of the wrong size', () => {
    for (const mode of [1, 2, 3] as FrameMode[]) {
      const into = Buffer.alloc(FRAME_SIZE[mode], 0xee); // stale bytes must all be overwritten
      expect(encodeTick(mode, 2, quote, 9, into)).toBe(into);
      expect(into.equals(encodeTick(mode, 2, quote, 9))).toBe(true);
    }
    expect(() => encodeTick(2, 2, quote, 9, Buffer.alloc(FRAME_SIZE[3]))).toThrow(/mode 2 frame is 123 bytes, got a 379-byte buffer/);
  });

  it('a negative field is sent as such, and the codec rejects it by name', () => {
    const r = decodeTick(encodeTick(2, 1, { ...quote, volume: -5 }, 1));
    expect(isRejection(r) && r.rejected).toBe('negative volume -5');
  });
});
