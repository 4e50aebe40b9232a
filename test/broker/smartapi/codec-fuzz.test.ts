import { describe, expect, it } from 'vitest';
import { decodeFrameDetail, decodeTick, isRejection } from '../../../src/broker/smartapi/codec.js';
import { buildFrame, ltpFrame, sampleQuote, sampleSnap } from './support/frames.js';

/** xorshift32: deterministic, so a failure is reproducible from the seed. */
function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    return s;
  };
}

describe('codec fuzz', () => {
  it('1,000,000+ random and mutated frames: never throws, every result is a Tick or a reason', () => {
    const next = rng(0xc0ffee);
    const seeds = [ltpFrame(), buildFrame(sampleQuote()), buildFrame(sampleSnap()), ltpFrame('43650', 999n, 2)];
    const sizes = [0, 1, 2, 26, 27, 50, 51, 52, 122, 123, 124, 378, 379, 380, 443, 1024];
    const pool = new Uint8Array(2048);
    let ticks = 0;
    let rejections = 0;
    const N = 1_050_000;
    for (let i = 0; i < N; i++) {
      let frame: Uint8Array;
      const kind = i & 3;
      if (kind === 0) {
        // pure random bytes, random (often protocol-relevant) length
        const n = (next() & 1) ? sizes[next() % sizes.length]! : next() % 600;
        for (let j = 0; j < n; j++) pool[j] = next() & 0xff;
        frame = pool.subarray(0, n);
      } else {
        // a valid frame with 1–8 random byte mutations, sometimes truncated/extended
        const seed = seeds[next() % seeds.length]!;
        const n = kind === 3 ? Math.max(0, seed.length + ((next() % 5) - 2)) : seed.length;
        pool.fill(0, 0, n);
        pool.set(seed.subarray(0, Math.min(n, seed.length)));
        const m = 1 + (next() % 8);
        for (let k = 0; k < m && n > 0; k++) {
          const at = next() % n;
          // bias mutations towards the header (mode, exchange, token)
          pool[(next() & 1) ? at % 27 : at] = next() & 0xff;
        }
        frame = pool.subarray(0, n);
      }
      const r = decodeTick(frame);
      if (isRejection(r)) {
        rejections++;
        if (typeof r.rejected !== 'string' || r.rejected.length === 0) throw new Error('empty reason');
      } else {
        ticks++;
        if (typeof r.token !== 'string' || !/^[0-9]+$/.test(r.token) || !Number.isFinite(r.ltp)) throw new Error(`bad tick ${JSON.stringify(r)}`);
      }
      if ((i & 1023) === 0) decodeFrameDetail(frame);
    }
    expect(ticks + rejections).toBe(N);
    expect(ticks).toBeGreaterThan(100_000);
    expect(rejections).toBeGreaterThan(100_000);
  });
});
