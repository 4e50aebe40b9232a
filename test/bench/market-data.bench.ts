/**
 * Market data: aggregator throughput (one instrument × all six timeframes,
 * ticks from a real bundled session) and the memory of a 500-bar ring buffer.
 */
import type { Tick } from '../../src/broker/broker.js';
import { Aggregator } from '../../src/market/aggregator.js';
import { BarRing } from '../../src/market/bar-store.js';
import { DEFAULT_CALENDAR_DIR, TradingCalendar } from '../../src/market/calendar.js';
import { SessionClock } from '../../src/market/timeframes.js';
import { bundledSessions, createMarket } from '../../src/sim/market/market.js';
import type { Bench } from './harness.js';

const NIFTY = '99926000';

/** Pre-built ticks of several sessions (generation is not what is measured). */
function ticksOf(days: string[], tps: number): Tick[] {
  const out: Tick[] = [];
  for (const day of days) {
    const m = createMarket({ day, seed: 1, ticksPerSecond: tps, strikesAround: 0 });
    m.advanceTo(m.closeMs, new Set([NIFTY]), (q) => out.push({ token: q.token, exchange: 'NSE', mode: 'quote', exchTs: q.ts, ltp: q.ltp, volume: q.volume }));
  }
  return out;
}

const gc = (): void => (globalThis as { gc?: () => void }).gc?.();

const bench: Bench = {
  title: 'Market data (ticks → bars, ring buffers)',
  async run(report) {
    const sessions = new SessionClock(TradingCalendar.load(DEFAULT_CALENDAR_DIR));
    const ticks = ticksOf(bundledSessions().slice(0, 5), 10); // 5 sessions × 225,000 ticks
    let bars = 0;
    const make = () => new Aggregator({ sessions, onBarClosed: () => void bars++ });
    // Warm the JIT, then take the best of 5 passes over all the ticks.
    for (let i = 0; i < 2; i++) { const a = make(); for (const t of ticks) a.onTick(t); a.finalize(); }
    let best = 0;
    for (let r = 0; r < 5; r++) {
      const a = make();
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < ticks.length; i++) a.onTick(ticks[i]!);
      a.finalize();
      const s = Number(process.hrtime.bigint() - t0) / 1e9;
      best = Math.max(best, ticks.length / s);
    }
    report('market.aggregate_1instr_6tf', Math.round(best), 'ticks/s', `goal ≥ 3,000,000; ${ticks.length.toLocaleString('en-US')} ticks of 5 real sessions, 1m 3m 5m 15m 1h 1d, best of 5`);

    // Memory: heap delta over many full rings, per ring.
    const N = 2000;
    const rings: BarRing[] = [];
    gc();
    const h0 = process.memoryUsage();
    for (let k = 0; k < N; k++) {
      const r = new BarRing(String(k), 'NSE', '1m', 500);
      for (let i = 0; i < 500; i++) r.push({ ts: i * 60_000, end: (i + 1) * 60_000, open: 1, high: 2, low: 0.5, close: 1.5, volume: i, ticks: 10, backfilled: false });
      rings.push(r);
    }
    gc();
    const h1 = process.memoryUsage();
    const perRing = (h1.heapUsed + h1.arrayBuffers - h0.heapUsed - h0.arrayBuffers) / N;
    report('market.ring_buffer_500_bytes', Math.round(perRing), 'bytes', `heap + array buffers per ring of 500 bars, over ${N} rings${typeof (globalThis as { gc?: unknown }).gc === 'function' ? '' : ' (no --expose-gc: noisier)'}`);
    if (rings.length !== N || bars === 0) throw new Error('unreachable');
  },
};
export default bench;
