/**
 * `rustro backtest`: history through the very pipeline that trades live.
 *
 * The trading days in range are played by one daemon (`replay-run.ts`), as
 * it runs live for weeks — nights, mornings and all — on a `SimClock`,
 * against the simulator's market generator through an in-process link, no
 * sockets; a trading day without bars is a day it was off, and the next day
 * with bars starts it afresh. A backtest day makes the same decisions as a
 * paper session of the same day and seed against `rustro sim`, and the same
 * inputs write a byte-identical ledger (its sha256 is the run's fingerprint).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { simWatchlist } from '../app/sim-session.js';
import { BUILTIN_INDICES } from '../broker/smartapi/instrument-index.js';
import { istDate, istToMillis } from '../core/clock.js';
import type { Config } from '../core/config.js';
import { UNDERLYINGS } from '../core/config-schema.js';
import { ledgerFiles } from '../core/ledger.js';
import type { Logger } from '../core/log.js';
import { DEFAULT_CALENDAR_DIR, TradingCalendar } from '../market/calendar.js';
import { createMarket } from '../sim/market/market.js';
import { DEFAULT_TICKS_PER_SECOND } from '../sim/market/ticks.js';
import { STEP_MS } from '../sim/server/clock-driver.js';
import { ReplayRun } from './replay-run.js';
import type { BacktestDay, BacktestTrade } from './stats.js';

export type BacktestOptions = {
  /** The daemon's config; the data dir is where the backtest's ledger goes. */
  config: Config;
  from: string;
  to: string;
  seed: number;
  log: Logger;
  /**
   * Index ticks generated per 1-minute bar (default 240: the simulator's 4 a second). The coarsest, 4,
   * is the bar itself — open, the two extremes, close — and the fastest.
   */
  ticksPerBar?: number;
  /** Folder with the bundled bars (default: the repo's data/market). */
  barsDir?: string;
  /** A user's 1-minute bar file for one index instead of the bundled one (`--bars`). */
  bars?: { underlying: 'NIFTY' | 'BANKNIFTY'; file: string };
  calendar?: TradingCalendar;
  /** After each day: for a progress bar. */
  onDay?: (p: { day: string; done: number; total: number; trades: number; netPnl: number }) => void;
};

/** The simulator's pace, as ticks in a minute bar. */
export const DEFAULT_TICKS_PER_BAR = DEFAULT_TICKS_PER_SECOND * 60;

export type BacktestResult = {
  days: BacktestDay[];
  trades: BacktestTrade[];
  /** Ledger day files written, in order, and the sha256 of their bytes in that order. */
  ledgerFiles: string[];
  ledgerHash: string;
  /** Index minute bars replayed (each index counted). */
  bars: number;
  /** Trading days in range without bundled bars (skipped, named). */
  skipped: { day: string; reason: string }[];
};

/** The trading days in [from, to] by the calendar. */
export function tradingDays(calendar: TradingCalendar, from: string, to: string): string[] {
  const days: string[] = [];
  for (let t = istToMillis(from); istDate(t) <= to; t += 86_400_000) {
    const d = istDate(t);
    if (calendar.sessionWindows(d).length > 0) days.push(d);
  }
  return days;
}

/**
 * A backtest trades on paper, never compresses its own earlier days mid-run,
 * serves no health endpoint, and streams only what the simulator replays and
 * the strategy trades (an index no underlying needs costs ticks for nothing;
 * INDIA VIX stays: the risk rules read it).
 */
function backtestConfig(c: Config, ticksPerBar: number): Config {
  const traded = new Set<string>(c.strategy.underlyings);
  const untraded = new Set(BUILTIN_INDICES.filter((i) => (UNDERLYINGS as readonly string[]).includes(i.name) && !traded.has(i.name)).map((i) => i.token));
  return {
    ...c,
    trading: { ...c.trading, enable_paper_trading: true },
    retention: { ...c.retention, compress_after_days: 0, delete_after_days: 0 },
    health: { ...c.health, enabled: false },
    // The generator's silences are its pace, not a feed outage: at a coarse pace two index ticks can be
    // up to two tick slots apart, and a tick reaches the daemon at the end of its 250 ms lock-step, after
    // the staleness timer due at that instant. Neither must pause entries as a silent feed does.
    market: { ...c.market, feed_stale_sec: Math.max(c.market.feed_stale_sec, Math.ceil((2 * 60) / ticksPerBar + STEP_MS / 1000)) },
    watchlist: simWatchlist(c.watchlist).map((w) => (untraded.has(w.token) ? { ...w, active: false } : w)),
  };
}

export async function runBacktest(o: BacktestOptions): Promise<BacktestResult> {
  const calendar = o.calendar ?? TradingCalendar.load(DEFAULT_CALENDAR_DIR);
  const ticksPerBar = o.ticksPerBar ?? DEFAULT_TICKS_PER_BAR;
  const config = backtestConfig(o.config, ticksPerBar);
  const days = tradingDays(calendar, o.from, o.to);
  const result: BacktestResult = { days: [], trades: [], ledgerFiles: [], ledgerHash: '', bars: 0, skipped: [] };
  let run: ReplayRun | undefined;
  let done = 0;
  try {
    for (const day of days) {
      let market;
      try {
        market = createMarket({ day, seed: o.seed, ticksPerSecond: ticksPerBar / 60, ...(o.barsDir === undefined ? {} : { dataDir: o.barsDir }), ...(o.bars === undefined ? {} : { bars: o.bars }) });
      } catch (err) {
        result.skipped.push({ day, reason: (err as Error).message });
        // A trading day without bars is a day the daemon was off: the next day with bars starts it afresh.
        await run?.stop();
        run = undefined;
        continue;
      }
      run ??= await ReplayRun.start(market, config, calendar, o.log);
      const r = await run.play(market);
      result.days.push(r.day);
      result.trades.push(...r.trades);
      result.bars += r.bars;
      o.onDay?.({ day, done: ++done, total: days.length, trades: r.trades.length, netPnl: r.day.netPnl });
    }
  } finally {
    await run?.stop();
  }
  const ledgerDir = join(config.app.data_dir, 'ledger');
  result.ledgerFiles = ledgerFiles(ledgerDir);
  const h = createHash('sha256');
  for (const f of result.ledgerFiles) h.update(readFileSync(f));
  result.ledgerHash = h.digest('hex');
  return result;
}
