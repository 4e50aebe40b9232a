import { describe, expect, it } from 'vitest';
import type { Candle, CandleRequest } from '../../src/broker/broker.js';
import { istToMillis } from '../../src/core/clock.js';
import { BarStore } from '../../src/market/bar-store.js';
import { Bootstrap, chunkRange } from '../../src/market/bootstrap.js';
import { CANDLE_MAX_DAYS, TF_MINUTES, TIMEFRAMES, type Timeframe } from '../../src/market/timeframes.js';
import { NIFTY, sessions } from './helpers.js';

const REF = { exchange: 'NSE' as const, token: NIFTY };
const istDay = (ms: number): string => new Date(ms + 19_800_000).toISOString().slice(0, 10);
const datesSpanned = (r: CandleRequest): number => (Date.parse(istDay(r.to)) - Date.parse(istDay(r.from))) / 86_400_000 + 1;

/** A fake broker: every session minute's candle (bucketed to the interval) exists; records each request. */
function fakeBroker(opts: { inFlight?: { now: number; max: number } } = {}) {
  const requests: CandleRequest[] = [];
  return {
    requests,
    async candles(req: CandleRequest): Promise<Candle[]> {
      requests.push(req);
      const f = opts.inFlight;
      if (f !== undefined) f.max = Math.max(f.max, ++f.now);
      await new Promise((r) => setImmediate(r));
      if (f !== undefined) f.now--;
      expect(datesSpanned(req)).toBeLessThanOrEqual(CANDLE_MAX_DAYS[req.interval as Timeframe]);
      const out: Candle[] = [];
      const tf = req.interval as Timeframe;
      for (let d = req.from - (req.from % 86_400_000) - 86_400_000; d <= req.to; d += 86_400_000) {
        for (const w of sessions.windowsOf(d + 43_200_000)) {
          if (tf === '1d') {
            const ts = sessions.dayStart(w.open);
            if (ts >= req.from && ts <= req.to && !out.some((c) => c.ts === ts)) out.push({ ts, open: 1, high: 2, low: 0, close: 1, volume: 0 });
            continue;
          }
          for (let t = w.open; t < w.close; t += TF_MINUTES[tf] * 60_000) {
            if (t >= req.from && t <= req.to) out.push({ ts: t, open: 1, high: 2, low: 0, close: 1, volume: 0 });
          }
        }
      }
      return out.sort((a, b) => a.ts - b.ts);
    },
  };
}

describe('history bootstrap', () => {
  it('chunkRange splits a range by the per-request limit in calendar days, both ends counted', () => {
    const from = istToMillis('2024-01-01');
    const to = istToMillis('2024-03-15', '15:29');
    const parts = chunkRange(REF, '1m', from, to);
    expect(parts.map((p) => [istDay(p.from), istDay(p.to)])).toEqual([
      ['2024-01-01', '2024-01-30'],
      ['2024-01-31', '2024-02-29'],
      ['2024-03-01', '2024-03-15'],
    ]);
    expect(parts.every((p, i) => i === 0 || p.from === parts[i - 1]!.to + 60_000)).toBe(true);
    expect(chunkRange(REF, '1d', from, to)).toHaveLength(1);
  });

  it('fetches enough bars for every declared need, chunked by range limits, and reports each stream', async () => {
    const broker = fakeBroker();
    const store = new BarStore({ capacity: 500 });
    const now = istToMillis('2024-06-14', '09:00'); // before the open
    const done: string[] = [];
    const boot = new Bootstrap({ broker, store, sessions, now: () => now, onStream: (r) => done.push(`${r.tf}:${r.bars}/${r.need}:${r.requests}`) });
    const needs = TIMEFRAMES.map((tf) => ({ ref: REF, tf, bars: tf === '1d' ? 200 : 500 }));
    const results = await boot.run([...needs, { ref: REF, tf: '1m', bars: 100 }]); // the larger need wins
    expect(results.map((r) => [r.tf, r.need, r.bars >= r.need, r.error])).toEqual(TIMEFRAMES.map((tf) => [tf, tf === '1d' ? 200 : 500, true, undefined]));
    // Each request within its timeframe's limit (checked in the fake), and counted:
    const count = (tf: Timeframe) => broker.requests.filter((r) => r.interval === tf).length;
    expect({ m1: count('1m'), m3: count('3m'), m5: count('5m'), m15: count('15m'), h1: count('1h'), d1: count('1d') })
      .toEqual({ m1: 1, m3: 1, m5: 1, m15: 1, h1: 1, d1: 1 });
    // 500 15m bars = 20 sessions of 25: inside one 200-day request; 500 1h bars ≈ 72 sessions: one 400-day request.
    expect(broker.requests.find((r) => r.interval === '15m')).toMatchObject({ to: now - (now % 60_000) });
    // Only complete bars before now, newest last.
    const ring = store.get(REF, '1m')!;
    expect(ring.at(-1)!.end).toBeLessThanOrEqual(now);
    expect(done).toHaveLength(6);
  });

  it('a long need is split into several requests, in order, and never more than `concurrency` in flight', async () => {
    const inFlight = { now: 0, max: 0 };
    const broker = fakeBroker({ inFlight });
    const store = new BarStore({ capacity: 20_000 });
    const now = istToMillis('2024-06-14', '09:00');
    const boot = new Bootstrap({ broker, store, sessions, now: () => now, concurrency: 2 });
    const refs = ['1', '2', '3', '4'].map((token) => ({ exchange: 'NSE' as const, token }));
    await boot.run(refs.map((ref) => ({ ref, tf: '1m' as const, bars: 375 * 50 }))); // 50 sessions of 1m: > 2 months
    expect(inFlight.max).toBe(2);
    const mine = broker.requests.filter((r) => r.token === '1');
    expect(mine.length).toBeGreaterThanOrEqual(3);
    for (const r of mine) expect(datesSpanned(r)).toBeLessThanOrEqual(30);
    for (let i = 1; i < mine.length; i++) expect(mine[i]!.from).toBeGreaterThan(mine[i - 1]!.to);
    expect(store.get(refs[0]!, '1m')!.length).toBeGreaterThanOrEqual(375 * 50);
  });

  it('extends the range back when the broker has fewer bars than planned, and reports a failure without throwing', async () => {
    const broker = fakeBroker();
    const store = new BarStore({ capacity: 500 });
    const now = istToMillis('2024-06-14', '09:00');
    // The broker lacks the most recent 10 days of 1h candles.
    const gappy = { candles: async (r: CandleRequest) => (await broker.candles(r)).filter((c) => c.ts < now - 14 * 86_400_000) };
    const r1 = await new Bootstrap({ broker: gappy, store, sessions, now: () => now }).run([{ ref: REF, tf: '1h', bars: 70 }]);
    expect(r1[0]!.bars).toBeGreaterThanOrEqual(70);
    expect(r1[0]!.requests).toBeGreaterThan(1);
    const failing = { candles: async () => { throw new Error('AB1004 something'); } };
    const r2 = await new Bootstrap({ broker: failing, store: new BarStore({ capacity: 10 }), sessions, now: () => now }).run([{ ref: REF, tf: '5m', bars: 10 }]);
    expect(r2[0]).toMatchObject({ bars: 0, error: 'AB1004 something' });
  });
});
