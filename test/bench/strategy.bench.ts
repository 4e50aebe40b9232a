/**
 * Strategy decision cost, in process: one adx-mtf evaluation per closed
 * hourly bar (SPEC goal ≤ 5 µs) and one supertrend-scalper evaluation per
 * closed 1-minute bar — indicator updates, every check, the event payloads
 * built and handed to `emit` (a no-op here: bus and ledger are measured in
 * their own benches). Bars are a seeded random walk with session-like
 * timestamps, fed through real bar rings as the daemon does.
 */
import { istToMillis } from '../../src/core/clock.js';
import { defaultConfig } from '../../src/core/config.js';
import type { Bar } from '../../src/market/bar.js';
import { BarStore } from '../../src/market/bar-store.js';
import type { Timeframe } from '../../src/market/timeframes.js';
import { AdxMtf } from '../../src/strategy/adx-mtf.js';
import type { Strategy, StrategyContext, Underlying } from '../../src/strategy/strategy.js';
import { SupertrendScalper } from '../../src/strategy/supertrend-scalper.js';
import { type Bench, percentile } from './harness.js';

const NIFTY: Underlying = { name: 'NIFTY', ref: { exchange: 'NSE', token: '99926000' } };

function walk(n: number, tf: Timeframe, stepMs: number, seed: number): Bar[] {
  let s = seed >>> 0;
  const rnd = (): number => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  const out: Bar[] = [];
  let price = 21_000;
  const t0 = istToMillis('2024-02-01', '10:00');
  for (let i = 0; i < n; i++) {
    const open = price;
    const close = open + (rnd() - 0.49) * 20;
    const high = Math.max(open, close) + rnd() * 8;
    const low = Math.min(open, close) - rnd() * 8;
    price = close;
    // Keep every bar inside 10:00–15:00 IST, so the entry window passes and all checks run.
    const ts = t0 + Math.floor(i / 5) * 86_400_000 + (i % 5) * stepMs;
    out.push({ token: NIFTY.ref.token, exchange: 'NSE', tf, ts, end: ts + stepMs, open, high, low, close, ticks: 1, backfilled: false });
  }
  return out;
}

/** Appends each bar to its ring and times the strategy's evaluation of it; returns per-evaluation ns, sorted. */
function timeEvaluations(strategy: Strategy, bars: readonly Bar[], extra: readonly Bar[], warmup: number): Float64Array {
  const store = new BarStore({ capacity: 500 });
  let now = 0;
  let sink = 0;
  const ctx: StrategyContext = {
    emit: (_t, d) => void (sink += (d as { checks?: unknown[] }).checks?.length ?? 1),
    now: () => now,
    bars: (ref, tf) => store.ring(ref, tf),
    vix: () => 15,
    vixBars: (tf) => store.ring({ exchange: 'NSE', token: '99926017' }, tf),
    feedFresh: () => true,
    halted: () => false,
    openPositions: () => 0,
    tradesToday: () => 0,
    lastExitAt: () => undefined,
    isExpiryDay: () => false,
  };
  let k = 0;
  const ns = new Float64Array(bars.length - warmup);
  for (let i = 0; i < bars.length; i++) {
    const bar = bars[i]!;
    while (k < extra.length && extra[k]!.end <= bar.end) store.append(extra[k++]!);
    store.append(bar);
    now = bar.end;
    const t0 = process.hrtime.bigint();
    strategy.onBar(NIFTY, bar, ctx);
    const dt = Number(process.hrtime.bigint() - t0);
    if (i >= warmup) ns[i - warmup] = dt;
  }
  if (sink < 0) console.log('unreachable');
  return ns.sort();
}

const mean = (a: Float64Array): number => a.reduce((s, x) => s + x, 0) / a.length;

const bench: Bench = {
  title: 'Strategies (one evaluation per closed bar)',
  async run(report) {
    const config = defaultConfig().strategy;
    // adx-mtf: the daily bias is decided once; each hourly close runs every check.
    const daily = walk(60, '1d', 86_400_000, 7).map((b, i) => ({ ...b, ts: istToMillis('2023-11-01') + i * 86_400_000, end: istToMillis('2023-11-01') + (i + 1) * 86_400_000 }));
    for (let round = 0; round < 3; round++) {
      const ns = timeEvaluations(new AdxMtf(config.adx_mtf), walk(20_000, '1h', 3_600_000, round), daily, 2_000);
      if (round < 2) continue; // JIT warm-up rounds
      report('strategy.adx_mtf_eval_mean', mean(ns) / 1000, 'µs', 'per closed 1h bar: ADX/RSI/EMA update + 12 checks + events built (goal ≤ 5 µs)');
      report('strategy.adx_mtf_eval_p99', percentile(ns, 99) / 1000, 'µs');
    }
    // supertrend-scalper: every 1m close syncs the 1m and 5m charts and runs the checks.
    for (let round = 0; round < 3; round++) {
      const m1 = walk(100_000, '1m', 60_000, 11 + round);
      const m5 = m1.filter((_, i) => i % 5 === 4).map((b) => ({ ...b, tf: '5m' as const, ts: b.end - 300_000 }));
      const ns = timeEvaluations(new SupertrendScalper(config.supertrend_scalper), m1, m5, 5_000);
      if (round < 2) continue;
      report('strategy.scalper_signal_mean', mean(ns) / 1000, 'µs', 'per closed 1m bar: Supertrend + ADX on 1m and 5m, checks, events built');
      report('strategy.scalper_signal_p99', percentile(ns, 99) / 1000, 'µs');
    }
  },
};

export default bench;
