/**
 * The aggregator against the real bundled sessions: the simulator's ticks pass
 * exactly through each real 1-minute bar, so aggregating them must give back
 * exactly those bars, and exactly the session-anchored resampling of them on
 * every coarser timeframe.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Aggregator } from '../../src/market/aggregator.js';
import { type Bar, resample } from '../../src/market/bar.js';
import { TIMEFRAMES } from '../../src/market/timeframes.js';
import { bundledSessions, createMarket } from '../../src/sim/market/market.js';
import { BANKNIFTY, NIFTY, sessions, tickOf } from './helpers.js';

const days = bundledSessions();

function aggregateDay(day: string, seed: number, ticksPerSecond: number): { bars: Bar[]; market: ReturnType<typeof createMarket>; ticks: number } {
  const market = createMarket({ day, seed, ticksPerSecond, strikesAround: 0 });
  const bars: Bar[] = [];
  const agg = new Aggregator({ sessions, onBarClosed: (b) => bars.push(b) });
  let ticks = 0;
  market.advanceTo(market.closeMs, new Set([NIFTY, BANKNIFTY]), (q) => {
    ticks++;
    agg.onTick(tickOf(q));
  });
  agg.finalize();
  expect(agg.dropped).toEqual({ late: 0, duplicate: 0, outsideSession: 0 });
  return { bars, market, ticks };
}

describe('aggregator over every bundled session (property)', () => {
  it(`rebuilds the source 1m bars and their session-anchored 3m/5m/15m/1h/1d resamples, ${days.length} days × 2 indices`, () => {
    expect(days.length).toBe(42);
    let i = 0;
    fc.assert(
      fc.property(fc.nat(), fc.constantFrom(0.2, 0.5, 1), (seed, tps) => {
        const day = days[i++ % days.length]!;
        const { bars, market } = aggregateDay(day, seed, tps);
        for (const token of [NIFTY, BANKNIFTY]) {
          const src = market.minuteBars(token, market.openMs, market.closeMs);
          expect(src.length).toBe(375);
          for (const tf of TIMEFRAMES) {
            const want = resample(src.map((b) => ({ ts: b.ts, open: b.open, high: b.high, low: b.low, close: b.close })), tf, sessions);
            const got = bars.filter((b) => b.token === token && b.tf === tf);
            expect(got.map((b) => ({ ts: b.ts, end: b.end, open: b.open, high: b.high, low: b.low, close: b.close })), `${day} ${token} ${tf}`).toEqual(want);
            // Indices have no volume.
            expect(got.every((b) => b.volume === undefined && !b.backfilled)).toBe(true);
          }
        }
      }),
      { numRuns: days.length, seed: 5, endOnFailure: true },
    );
  });

  it('the 1h bars of a normal day are 09:15–10:15 … 14:15–15:15 and a short 15:15–15:30; the 1d bar is stamped 00:00 IST', () => {
    const { bars } = aggregateDay('2024-02-15', 1, 0.2);
    const hours = bars.filter((b) => b.token === NIFTY && b.tf === '1h');
    const hhmm = (ms: number): string => new Date(ms + 19_800_000).toISOString().slice(11, 16);
    expect(hours.map((b) => `${hhmm(b.ts)}-${hhmm(b.end)}`)).toEqual([
      '09:15-10:15', '10:15-11:15', '11:15-12:15', '12:15-13:15', '13:15-14:15', '14:15-15:15', '15:15-15:30',
    ]);
    const daily = bars.filter((b) => b.token === NIFTY && b.tf === '1d');
    expect(daily.map((b) => `${hhmm(b.ts)}-${hhmm(b.end)}`)).toEqual(['00:00-15:30']);
  });

  it('option volume: the bars split the cumulative day volume exactly, on every timeframe', () => {
    const market = createMarket({ day: '2024-02-15', seed: 3, ticksPerSecond: 0.5, strikesAround: 1 });
    const opt = market.instruments().find((x) => x.type === 'OPTIDX')!;
    const bars: Bar[] = [];
    const agg = new Aggregator({ sessions, onBarClosed: (b) => bars.push(b) });
    let lastCum = 0;
    market.advanceTo(market.closeMs, new Set([opt.token]), (q) => {
      lastCum = q.volume;
      agg.onTick(tickOf(q, 'NFO'));
    });
    agg.finalize();
    expect(lastCum).toBeGreaterThan(0);
    for (const tf of TIMEFRAMES) {
      const total = bars.filter((b) => b.tf === tf).reduce((s, b) => s + (b.volume ?? NaN), 0);
      expect(total, tf).toBe(lastCum);
    }
  });
});
