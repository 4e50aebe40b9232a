/**
 * Backtest throughput (issue 9 goal: one year of 1-minute NIFTY bars, about
 * 94,000, with adx-mtf in ≤ 3 s). The bundled sessions (Jan–Feb 2024, 42
 * days, 15,750 NIFTY bars) are backtested for NIFTY with adx-mtf through
 * `runBacktest` — the daemon itself, day by day, on the replayed market — at
 * one index tick per second (a backtest's coarser pace; the simulator's
 * default is 4), again and again (each time into a fresh directory) until a
 * year's worth of bars has run: the time of that year is measured, not
 * projected. RSS after the run.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runBacktest } from '../../src/backtest/engine.js';
import { defaultConfig } from '../../src/core/config.js';
import { silentLogger } from '../../src/core/log.js';
import { bundledSessions } from '../../src/sim/market/market.js';
import { type Bench, rssMiB } from './harness.js';

const YEAR_BARS = 94_000;

const bench: Bench = {
  title: 'backtest (bundled NIFTY sessions, adx-mtf, 1 tick/s)',
  async run(report) {
    const sessions = bundledSessions();
    const dir = mkdtempSync(join(tmpdir(), 'rustro-bench-backtest-'));
    try {
      const base = defaultConfig();
      const config = {
        ...base, strategy: { ...base.strategy, active: 'adx-mtf' as const, underlyings: ['NIFTY' as const] },
      };
      const log = silentLogger();
      let niftyBars = 0;
      let days = 0;
      let trades = 0;
      let firstRunS = 0;
      const t0 = process.hrtime.bigint();
      for (let run = 0; niftyBars < YEAR_BARS; run++) {
        const r = await runBacktest({ config: { ...config, app: { ...config.app, data_dir: join(dir, String(run)) } }, from: sessions[0]!, to: sessions[sessions.length - 1]!, seed: 1, ticksPerSecond: 1, log });
        if (run === 0) firstRunS = Number(process.hrtime.bigint() - t0) / 1e9;
        niftyBars += r.days.reduce((n, d) => n + Math.round(d.sessionMs / 60_000), 0);
        days += r.days.length;
        trades += r.trades.length;
      }
      const s = Number(process.hrtime.bigint() - t0) / 1e9;
      report('backtest.bundled_run_s', firstRunS, 's', `the ${sessions.length} bundled sessions once`);
      report('backtest.year_days', days, 'days', 'the bundled sessions repeated');
      report('backtest.year_nifty_bars', niftyBars, 'bars');
      report('backtest.year_s', s, 's', `${niftyBars} NIFTY bars with adx-mtf (goal ≤ 3 s)`);
      report('backtest.bars_per_s', niftyBars / s, 'bars/s');
      report('backtest.year_trades', trades, 'trades');
      report('backtest.rss_mib', rssMiB(), 'MiB');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
export default bench;
