/**
 * `rustro backtest`: history through the very pipeline that trades live.
 *
 * Each trading day in range runs the daemon itself (`Daemon`: ledger,
 * market pipeline, strategy, trading desk, paper broker) on a `SimClock`,
 * against the simulator's market generator through an in-process link
 * (`replay-link.ts`) — no sockets. The driver moves the market the way the
 * simulator does at full speed, in lock-step: one 250 ms market step at a
 * time, the clock first (timers due fire), then that step's ticks, then it
 * waits until the daemon has finished what they set off (fsyncs, picks,
 * orders). So a backtest day makes the same decisions as a paper session of
 * the same day and seed against `rustro sim`, and the same inputs write a
 * byte-identical ledger (its sha256 is the run's fingerprint).
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Daemon } from '../app/daemon.js';
import { simWatchlist } from '../app/sim-session.js';
import { BUILTIN_INDICES } from '../broker/smartapi/instrument-index.js';
import { SimClock, istDate, istToMillis } from '../core/clock.js';
import type { Config } from '../core/config.js';
import { UNDERLYINGS } from '../core/config-schema.js';
import type { Payload, RustroEvent } from '../core/events.js';
import type { Logger } from '../core/log.js';
import { DEFAULT_CALENDAR_DIR, TradingCalendar } from '../market/calendar.js';
import { createMarket } from '../sim/market/market.js';
import type { SimQuote } from '../sim/market/types.js';
import { STEP_MS } from '../sim/server/clock-driver.js';
import type { BacktestDay, BacktestTrade } from './stats.js';
import { ReplayLink } from './replay-link.js';

export type BacktestOptions = {
  /** The daemon's config; the data dir is where the backtest's ledger goes. */
  config: Config;
  from: string;
  to: string;
  seed: number;
  log: Logger;
  /** Index ticks per second of the generated market (the simulator's default is 4). */
  ticksPerSecond?: number;
  /** Folder with the bundled bars (default: the repo's data/market). */
  barsDir?: string;
  /** A user's 1-minute bar file for one index instead of the bundled one (`--bars`). */
  bars?: { underlying: 'NIFTY' | 'BANKNIFTY'; file: string };
  calendar?: TradingCalendar;
  /** After each day: for a progress bar. */
  onDay?: (p: { day: string; done: number; total: number; trades: number; netPnl: number }) => void;
};

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
function backtestConfig(c: Config): Config {
  const traded = new Set<string>(c.strategy.underlyings);
  const untraded = new Set(BUILTIN_INDICES.filter((i) => (UNDERLYINGS as readonly string[]).includes(i.name) && !traded.has(i.name)).map((i) => i.token));
  return {
    ...c,
    trading: { ...c.trading, enable_paper_trading: true },
    retention: { ...c.retention, compress_after_days: 0, delete_after_days: 0 },
    health: { ...c.health, enabled: false },
    watchlist: simWatchlist(c.watchlist).map((w) => (untraded.has(w.token) ? { ...w, active: false } : w)),
  };
}

export async function runBacktest(o: BacktestOptions): Promise<BacktestResult> {
  const calendar = o.calendar ?? TradingCalendar.load(DEFAULT_CALENDAR_DIR);
  const config = backtestConfig(o.config);
  const days = tradingDays(calendar, o.from, o.to);
  const result: BacktestResult = { days: [], trades: [], ledgerFiles: [], ledgerHash: '', bars: 0, skipped: [] };
  let done = 0;
  for (const day of days) {
    let market;
    try {
      market = createMarket({ day, seed: o.seed, ...(o.ticksPerSecond === undefined ? {} : { ticksPerSecond: o.ticksPerSecond }), ...(o.barsDir === undefined ? {} : { dataDir: o.barsDir }), ...(o.bars === undefined ? {} : { bars: o.bars }) });
    } catch (err) {
      result.skipped.push({ day, reason: (err as Error).message });
      continue;
    }
    const r = await runDay(market, config, calendar, o.log);
    result.days.push(r.day);
    result.trades.push(...r.trades);
    result.bars += r.bars;
    const file = join(config.app.data_dir, 'ledger', `${day}.jsonl`);
    if (existsSync(file)) result.ledgerFiles.push(file);
    o.onDay?.({ day, done: ++done, total: days.length, trades: r.trades.length, netPnl: r.day.netPnl });
  }
  const h = createHash('sha256');
  for (const f of result.ledgerFiles) h.update(readFileSync(f));
  result.ledgerHash = h.digest('hex');
  return result;
}

type DayRun = { day: BacktestDay; trades: BacktestTrade[]; bars: number };

async function runDay(market: ReturnType<typeof createMarket>, config: Config, calendar: TradingCalendar, log: Logger): Promise<DayRun> {
  const clock = new SimClock(market.openMs);
  const facts = new DayFacts(market.openMs, market.closeMs);
  let link: ReplayLink | undefined;
  const daemon = await Daemon.start({
    config, clock, log, calendar, pid: 1, operatorFiles: false,
    link: ({ bus }) => (link = new ReplayLink(market, config, bus, clock)),
    onEvent: (e) => facts.apply(e),
  });
  const feed = link!.feed;
  const settle = async (): Promise<void> => {
    // Snapshots owed to new subscriptions first (a socket sends them before the next step), then the work they set off.
    while (feed.flushSnapshots() || daemon.busy) await new Promise((r) => setImmediate(r));
  };
  try {
    await daemon.marketReady;
    await settle();
    const step: SimQuote[] = [];
    while (clock.now() < market.closeMs) {
      const target = Math.min(market.closeMs, clock.now() + STEP_MS);
      // As the simulator's clock driver: time moves to each tick (timers due fire on the way), then to the step's end.
      market.advanceTo(target, feed.tokens(), (q) => {
        if (q.ts > clock.now()) clock.advanceTo(q.ts);
        step.push(q);
      });
      clock.advanceTo(target);
      feed.deliver(step);
      step.length = 0;
      if (daemon.busy || feed.flushSnapshots()) await settle();
    }
  } finally {
    await daemon.stop('backtest: the day is over');
  }
  return { day: facts.day(istDate(market.openMs)), trades: facts.trades, bars: Math.round((market.closeMs - market.openMs) / 60_000) * link!.watchlist().length };
}

/** The day's trades and exposure, from the daemon's own events. */
class DayFacts {
  readonly trades: BacktestTrade[] = [];
  private readonly lotSize = new Map<string, number>();
  /** Entry intents: which position is on which option (for its lot size), and which fill opens it. */
  private readonly entries = new Map<string, { positionId: string; token: string }>();
  private readonly tokenOf = new Map<string, string>();
  private readonly openedAt = new Map<string, number>();
  private open = 0;
  private exposedSince = 0;
  private exposureMs = 0;

  constructor(private readonly openMs: number, private readonly closeMs: number) {}

  apply(e: RustroEvent): void {
    if (e.type === 'OptionPicked') this.lotSize.set(e.data.token, e.data.lotSize);
    if (e.type === 'OrderIntentRecorded' && e.data.purpose === 'entry') {
      this.entries.set(e.data.intentId, e.data);
      this.tokenOf.set(e.data.positionId, e.data.token);
    }
    if (e.type === 'OrderFilled') {
      const i = this.entries.get(e.data.intentId);
      if (i !== undefined && !this.openedAt.has(i.positionId)) {
        this.openedAt.set(i.positionId, e.ts);
        if (this.open++ === 0) this.exposedSince = e.ts;
      }
    }
    if (e.type === 'PositionClosed') {
      const c = e.data;
      const entryAt = this.openedAt.get(c.positionId) ?? e.ts;
      const token = this.tokenOf.get(c.positionId);
      const lot = (token === undefined ? undefined : this.lotSize.get(token)) ?? 0;
      this.trades.push(tradeOf(c, entryAt, e.ts, lot > 0 ? Math.round(c.qty / lot) : 0));
      if (this.openedAt.delete(c.positionId) && --this.open === 0) this.exposureMs += e.ts - this.exposedSince;
    }
  }

  day(date: string): BacktestDay {
    const exposureMs = this.exposureMs + (this.open > 0 ? this.closeMs - this.exposedSince : 0);
    const sum = (f: (t: BacktestTrade) => number): number => this.trades.reduce((s, t) => s + f(t), 0);
    return { date, trades: this.trades.length, grossPnl: sum((t) => t.grossPnl), charges: sum((t) => t.charges), netPnl: sum((t) => t.netPnl), exposureMs, sessionMs: this.closeMs - this.openMs };
  }
}

function tradeOf(c: Payload<'PositionClosed'>, entryAt: number, exitAt: number, lots: number): BacktestTrade {
  return {
    positionId: c.positionId, strategy: c.strategy, underlying: c.underlying, symbol: c.symbol, entryAt, exitAt,
    qty: c.qty, lots, entryAvg: c.entryAvg, exitAvg: c.exitAvg, grossPnl: c.grossPnl, charges: c.charges, netPnl: c.netPnl, reason: c.reason,
  };
}
