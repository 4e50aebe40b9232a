import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bundledSessions, createMarket } from '../../../src/sim/market/market.js';
import { MIN_TICKS_PER_SECOND, MinutePath, minuteTicks, ticksPerMinute } from '../../../src/sim/market/ticks.js';
import type { SimBar } from '../../../src/sim/market/types.js';
import { candlesFrom } from './helpers.js';

const NIFTY = '99926000';
const BANKNIFTY = '99926009';
const days = bundledSessions();

/** Runs a whole day for the two indices and returns their tick streams. */
function dayTicks(day: string, seed: number, ticksPerSecond?: number) {
  const m = createMarket({ day, seed, ...(ticksPerSecond === undefined ? {} : { ticksPerSecond }) });
  const ticks = new Map<string, { ts: number; ltp: number; volume: number }[]>([[NIFTY, []], [BANKNIFTY, []]]);
  m.advanceTo(m.closeMs, new Set([NIFTY, BANKNIFTY]), (q) => ticks.get(q.token)!.push({ ts: q.ts, ltp: q.ltp, volume: q.volume }));
  return { m, ticks };
}

describe('index ticks from 1-minute bars', () => {
  it('bundles 42 sessions, 2024-01-01 → 2024-02-29, each with 375 bars per index', () => {
    expect(days.length).toBe(42);
    expect(days[0]).toBe('2024-01-01');
    expect(days[days.length - 1]).toBe('2024-02-29');
    expect(days).toContain('2024-01-20'); // the Saturday session
    expect(days).not.toContain('2024-02-01'); // missing from the source
  });

  it('on EVERY bundled day, candles rebuilt from the ticks equal the source bars exactly', () => {
    for (const [i, day] of days.entries()) {
      const { m, ticks } = dayTicks(day, 1000 + i, 1);
      for (const token of [NIFTY, BANKNIFTY]) {
        const src = m.minuteBars(token, m.openMs, m.closeMs);
        expect(src.length).toBe(375);
        const t = ticks.get(token)!;
        expect(t.length).toBe(375 * 60);
        expect(candlesFrom(t)).toEqual(src);
        expect(t.every((x) => x.volume === 0)).toBe(true);
      }
    }
  });

  it('property: over seeds and days, rebuilt candles equal the source bars (default 4 ticks/s)', () => {
    fc.assert(
      fc.property(fc.integer({ min: -(2 ** 31), max: 2 ** 32 }), fc.constantFrom(...days), (seed, day) => {
        const { m, ticks } = dayTicks(day, seed);
        for (const token of [NIFTY, BANKNIFTY]) {
          const t = ticks.get(token)!;
          expect(candlesFrom(t)).toEqual(m.minuteBars(token, m.openMs, m.closeMs));
          for (let i = 1; i < t.length; i++) if (!(t[i]!.ts > t[i - 1]!.ts)) throw new Error(`ts not increasing at ${i}`);
        }
      }),
      { numRuns: 6 },
    );
  });

  it('property: any bar, any rate: O first at the bar start, C last, H and L touched, ticks on the grid, ts strictly inside the minute', () => {
    const px = fc.integer({ min: 100_000, max: 1_200_000 }).map((k) => k / 20); // 5,000 … 60,000 on the 0.05 grid
    const offGrid = fc.integer({ min: 500_000, max: 6_000_000 }).map((k) => k / 100); // 2-decimal values off the grid
    const bar = fc.tuple(fc.oneof(px, offGrid), fc.oneof(px, offGrid), fc.oneof(px, offGrid), fc.oneof(px, offGrid), fc.boolean()).map(([a, b, c, d, flat]): SimBar => {
      const v = flat ? [a, a, a, a] : [a, b, c, d];
      const hi = Math.max(...v);
      const lo = Math.min(...v);
      return { ts: 1_704_166_500_000 + 60_000 * (Math.round(b) % 500), open: v[0]!, high: hi, low: lo, close: v[3]!, volume: 0 };
    });
    fc.assert(
      fc.property(bar, fc.integer(), fc.double({ min: MIN_TICKS_PER_SECOND, max: 50, noNaN: true }), (b, seed, tps) => {
        const { ts, price } = minuteTicks(b, seed, tps);
        const n = ticksPerMinute(tps);
        expect(ts.length).toBe(n);
        expect(ts[0]).toBe(b.ts);
        expect(price[0]).toBe(b.open);
        expect(price[n - 1]).toBe(b.close);
        expect(Math.max(...price)).toBe(b.high);
        expect(Math.min(...price)).toBe(b.low);
        for (let i = 1; i < n; i++) if (!(ts[i]! > ts[i - 1]!)) throw new Error(`ts not increasing at ${i}`);
        expect(ts[n - 1]! < b.ts + 60_000).toBe(true);
        for (const p of price) {
          const onGrid = Math.round(p * 20) / 20 === p;
          if (!(onGrid || p === b.open || p === b.close || p === b.high || p === b.low)) throw new Error(`price ${p} neither on the grid nor a bar value`);
        }
      }),
      { numRuns: 400 },
    );
  });

  it('the same seed gives the same path; a different seed a different one', () => {
    const b: SimBar = { ts: 1_704_166_500_000, open: 21727.75, high: 21737.35, low: 21701.8, close: 21712, volume: 0 };
    expect(minuteTicks(b, 7)).toEqual(minuteTicks(b, 7));
    expect(minuteTicks(b, 7).price).not.toEqual(minuteTicks(b, 8).price);
  });

  it('refuses rates it cannot honour', () => {
    expect(() => ticksPerMinute(0)).toThrow(/ticksPerSecond/);
    expect(() => ticksPerMinute(5000)).toThrow(/ticksPerSecond/);
    expect(() => new MinutePath(3)).toThrow();
  });
});
