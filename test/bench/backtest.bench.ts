/**
 * Backtest throughput (issue 9 goal: one year of 1-minute NIFTY bars, about
 * 94,000, with adx-mtf in ≤ 3 s). The bundled sessions (Jan–Feb 2024, 42
 * days, 15,750 NIFTY bars) are backtested for NIFTY with adx-mtf through
 * `runBacktest` — one daemon through the days, on the replayed market — at
 * 4 ticks per bar (open, the two extremes, close: a bar backtest's pace),
 * again and again (each time into a fresh directory) until a year's worth
 * of bars has run: the time of that year is measured, not projected. Finer
 * paces are timed over the first bundled week for comparison: 60 ticks a
 * bar (1 a second) and 240 (the simulator's 4 a second, at which a day
 * trades as a paper session of it). adx-mtf makes no trade in those months,
 * so the bundled days are also run once with supertrend-scalper, which
 * trades all day: the cost of a backtest that trades. RSS after the run.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runBacktest } from '../../src/backtest/engine.js';
import { type Config, defaultConfig } from '../../src/core/config.js';
import { silentLogger } from '../../src/core/log.js';
import { bundledSessions } from '../../src/sim/market/market.js';
import { type Bench, rssMiB } from './harness.js';

const YEAR_BARS = 94_000;
const BAR_PACE = 4;

const bench: Bench = {
  title: `backtest (bundled NIFTY sessions, adx-mtf, ${BAR_PACE} ticks a bar)`,
  async run(report) {
    const sessions = bundledSessions();
    const dir = mkdtempSync(join(tmpdir(), 'rustro-bench-backtest-'));
    const base = defaultConfig();
    const config: Config = { ...base, strategy: { ...base.strategy, active: 'adx-mtf', underlyings: ['NIFTY'] } };
    const log = silentLogger();
    let run = 0;
    const backtest = (to: string, ticksPerBar: number, strategy: Config['strategy'] = config.strategy) =>
      runBacktest({ config: { ...config, strategy, app: { ...config.app, data_dir: join(dir, String(run++)) } }, from: sessions[0]!, to, seed: 1, ticksPerBar, log });
    const secondsOf = async (f: () => Promise<unknown>): Promise<number> => {
      const t0 = process.hrtime.bigint();
      await f();
      return Number(process.hrtime.bigint() - t0) / 1e9;
    };
    try {
      let niftyBars = 0;
      let days = 0;
      let trades = 0;
      let firstRunS = 0;
      const t0 = process.hrtime.bigint();
      while (niftyBars < YEAR_BARS) {
        const r = await backtest(sessions.at(-1)!, BAR_PACE);
        if (firstRunS === 0) firstRunS = Number(process.hrtime.bigint() - t0) / 1e9;
        niftyBars += r.days.reduce((n, d) => n + Math.round(d.sessionMs / 60_000), 0);
        days += r.days.length;
        trades += r.trades.length;
      }
      const s = Number(process.hrtime.bigint() - t0) / 1e9;
      report('backtest.bundled_run_s', firstRunS, 's', `the ${sessions.length} bundled sessions once`);
      report('backtest.year_days', days, 'days', 'the bundled sessions repeated');
      report('backtest.year_nifty_bars', niftyBars, 'bars');
      report('backtest.year_s', s, 's', `${niftyBars} NIFTY bars with adx-mtf at ${BAR_PACE} ticks a bar (goal ≤ 3 s)`);
      report('backtest.bars_per_s', niftyBars / s, 'bars/s');
      report('backtest.year_trades', trades, 'trades');
      const week = sessions[4]!;
      report('backtest.day_ms_60_ticks_per_bar', (await secondsOf(() => backtest(week, 60))) * 200, 'ms', 'per day, first bundled week, 1 tick a second');
      report('backtest.day_ms_240_ticks_per_bar', (await secondsOf(() => backtest(week, 240))) * 200, 'ms', "per day, first bundled week, the simulator's pace");
      // adx-mtf makes no trade in the bundled months (daily ADX stays under 20): a strategy that trades
      // also pays for its orders, fills and the options it streams.
      const t1 = process.hrtime.bigint();
      const scalper = await backtest(sessions.at(-1)!, BAR_PACE, { ...config.strategy, active: 'supertrend-scalper' });
      const scalperS = Number(process.hrtime.bigint() - t1) / 1e9;
      report('backtest.scalper_day_ms', (scalperS * 1000) / scalper.days.length, 'ms', `per day, supertrend-scalper on NIFTY, the ${scalper.days.length} bundled sessions at ${BAR_PACE} ticks a bar`);
      report('backtest.scalper_trades', scalper.trades.length, 'trades');
      report('backtest.rss_mib', rssMiB(), 'MiB');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
export default bench;
