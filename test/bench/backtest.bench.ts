/**
 * Backtest throughput (issue 9 goal: one year of 1-minute NIFTY bars, about
 * 94,000, with adx-mtf in ≤ 3 s). Runs every bundled session (Jan–Feb 2024)
 * for NIFTY with adx-mtf through `runBacktest` — the daemon itself, day by
 * day, on the replayed market — at one index tick per second (a backtest's
 * coarser pace; the simulator's default is 4), and reports the time, NIFTY
 * bars per second and the year it implies at that rate. RSS after the run.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { runBacktest } from '../../src/backtest/engine.js';
import { defaultConfig } from '../../src/core/config.js';
import { createLogger } from '../../src/core/log.js';
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
        ...base, app: { ...base.app, data_dir: dir }, strategy: { ...base.strategy, active: 'adx-mtf' as const, underlyings: ['NIFTY' as const] },
        watchlist: base.watchlist.map((w) => (w.token === '99926009' ? { ...w, active: false } : w)),
      };
      const t0 = process.hrtime.bigint();
      const r = await runBacktest({
        config, from: sessions[0]!, to: sessions[sessions.length - 1]!, seed: 1, ticksPerSecond: 1,
        log: createLogger({ level: 'fatal', format: 'json', destination: new Writable({ write: (_c, _e, cb) => cb() }) as never, isTty: false }),
      });
      const s = Number(process.hrtime.bigint() - t0) / 1e9;
      const niftyBars = r.days.reduce((n, d) => n + Math.round(d.sessionMs / 60_000), 0);
      report('backtest.days', r.days.length, 'days');
      report('backtest.nifty_bars', niftyBars, 'bars');
      report('backtest.run_s', s, 's');
      report('backtest.bars_per_s', niftyBars / s, 'bars/s');
      report('backtest.year_s_at_this_rate', (YEAR_BARS / niftyBars) * s, 's', `${YEAR_BARS} bars (goal ≤ 3 s)`);
      report('backtest.trades', r.trades.length, 'trades');
      report('backtest.rss_mib', rssMiB(), 'MiB');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
export default bench;
