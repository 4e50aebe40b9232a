/**
 * Streaming equals batch: each indicator class, fed bar by bar, matches the
 * index-based batch reference (reference/batch.ts) on random series — random
 * walks on a 0.05 grid with repeated bars and flat runs, lengths 1–400,
 * periods 1–30, timestamps that cross IST midnights, volume missing / zero /
 * positive.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Adx } from '../../src/indicators/adx.js';
import { Atr } from '../../src/indicators/atr.js';
import { Ema } from '../../src/indicators/ema.js';
import { Rsi } from '../../src/indicators/rsi.js';
import { Sma } from '../../src/indicators/sma.js';
import { Supertrend } from '../../src/indicators/supertrend.js';
import { SessionVwap } from '../../src/indicators/vwap.js';
import * as batch from './reference/batch.js';
import { compare } from './support.js';

type Series = { ts: number[]; high: number[]; low: number[]; close: number[]; volume: (number | undefined)[] };

const tick = (k: number): number => Math.round(k * 5) / 100; // k × 0.05, exact on the grid

/** Segments of 1–40 identical bars; each segment moves the close by −3..3 ticks. */
const series: fc.Arbitrary<Series> = fc
  .record({
    segments: fc.array(
      fc.record({
        step: fc.integer({ min: -3, max: 3 }),
        up: fc.constantFrom(0, 0, 1, 2),
        down: fc.constantFrom(0, 0, 1, 2),
        repeat: fc.oneof(fc.constant(1), fc.constant(1), fc.integer({ min: 2, max: 40 })),
        gapMin: fc.oneof(fc.constant(1), fc.integer({ min: 1, max: 600 })),
        volume: fc.oneof(fc.constant(undefined), fc.constant(0), fc.integer({ min: 1, max: 10_000 })),
      }),
      { minLength: 1, maxLength: 400 },
    ),
    length: fc.integer({ min: 1, max: 400 }),
  })
  .map(({ segments, length }) => {
    const s: Series = { ts: [], high: [], low: [], close: [], volume: [] };
    let price = 2000; // in ticks
    let ts = Date.parse('2024-01-01T09:15:00+05:30');
    for (const g of segments) {
      const open = price;
      price += g.step;
      for (let r = 0; r < g.repeat && s.ts.length < length; r++) {
        s.ts.push((ts += g.gapMin * 60_000));
        s.high.push(tick(Math.max(open, price) + g.up));
        s.low.push(tick(Math.min(open, price) - g.down));
        s.close.push(tick(price));
        s.volume.push(g.volume);
      }
    }
    return s;
  });

const period = fc.integer({ min: 1, max: 30 });

function check(actual: number[], expected: number[], label: string): void {
  const c = compare(actual, expected, label);
  expect(c.ok, c.message).toBe(true);
}

describe('streaming equals the batch reference', () => {
  it('EMA, SMA, RSI (close only)', () => {
    fc.assert(
      fc.property(series, period, (s, n) => {
        const [ema, sma, rsi] = [new Ema(n), new Sma(n), new Rsi(n)];
        check(s.close.map((c) => ema.update(c)), batch.ema(s.close, n), `EMA(${n})`);
        check(s.close.map((c) => sma.update(c)), batch.sma(s.close, n), `SMA(${n})`);
        check(s.close.map((c) => rsi.update(c)), batch.rsi(s.close, n), `RSI(${n})`);
      }),
    );
  });

  it('ATR and ADX / +DI / −DI', () => {
    fc.assert(
      fc.property(series, period, (s, n) => {
        const atr = new Atr(n);
        check(s.close.map((c, i) => atr.update(s.high[i]!, s.low[i]!, c)), batch.atr(s.high, s.low, s.close, n), `ATR(${n})`);
        const adx = new Adx(n);
        const got = { adx: [] as number[], plusDI: [] as number[], minusDI: [] as number[] };
        s.close.forEach((c, i) => {
          adx.update(s.high[i]!, s.low[i]!, c);
          got.adx.push(adx.adx);
          got.plusDI.push(adx.plusDI);
          got.minusDI.push(adx.minusDI);
        });
        const want = batch.dmi(s.high, s.low, s.close, n);
        check(got.adx, want.adx, `ADX(${n})`);
        check(got.plusDI, want.plusDI, `+DI(${n})`);
        check(got.minusDI, want.minusDI, `-DI(${n})`);
      }),
    );
  });

  it('Supertrend', () => {
    fc.assert(
      fc.property(series, period, fc.constantFrom(0.5, 1, 2, 3), (s, n, m) => {
        const st = new Supertrend(n, m);
        const got = { value: [] as number[], direction: [] as number[], upper: [] as number[], lower: [] as number[] };
        s.close.forEach((c, i) => {
          st.update(s.high[i]!, s.low[i]!, c);
          got.value.push(st.value);
          got.direction.push(st.direction);
          got.upper.push(st.upper);
          got.lower.push(st.lower);
        });
        const want = batch.supertrend(s.high, s.low, s.close, n, m);
        check(got.value, want.value, `Supertrend(${n}, ${m}) value`);
        check(got.upper, want.upper, `Supertrend(${n}, ${m}) upper`);
        check(got.lower, want.lower, `Supertrend(${n}, ${m}) lower`);
        expect(got.direction).toEqual(want.direction);
      }),
    );
  });

  it('session VWAP', () => {
    fc.assert(
      fc.property(series, (s) => {
        const vwap = new SessionVwap();
        check(s.close.map((c, i) => vwap.update(s.ts[i]!, s.high[i]!, s.low[i]!, c, s.volume[i])), batch.sessionVwap(s.ts, s.high, s.low, s.close, s.volume), 'VWAP');
      }),
    );
  });
});
