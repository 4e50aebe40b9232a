/**
 * `rustro status` as data: what the data directory says about the daemon,
 * with or without one running. Two sources, both read-only:
 *
 * - the lock file (`data/rustro.lock`): is a daemon running now (its pid alive,
 *   same boot, same process start), or is the lock a stale leftover;
 * - the ledger: the day file (the newest, or a chosen date) is replayed through
 *   the daemon's own folds — the order book, the position book and the risk
 *   book, exactly as a restart restores them (`app/restore.ts`) — so positions,
 *   working orders, realised P&L and halts are what the daemon itself would
 *   know. The rest (lifecycle, feed, warm-up, bias, signals) are facts listed
 *   from their events.
 *
 * What the ledger cannot say: the price of an open option now. Ticks are not
 * ledgered, so a position is valued at its last fill, and the report says so.
 *
 * A daemon that runs across midnight has its `DaemonStarted` in an older day
 * file: when the day file has none, older files (at most LOOKBACK_FILES) are
 * read for the daemon's and the feed's facts only; the books fold the day
 * file alone, as a restart does (a new IST day starts clean).
 *
 * A damaged tail (a torn last line, a corrupt line) stops the replay there:
 * everything before it is reported, and `ledger.damaged` names the line. With
 * a daemon running this may be a line being written at that moment.
 */
import { existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import { BUILTIN_INDICES } from '../broker/smartapi/instrument-index.js';
import { istDate } from '../core/clock.js';
import type { Config } from '../core/config.js';
import type { Payload, RustroEvent } from '../core/events.js';
import { LedgerReadError, ledgerFiles, replay } from '../core/ledger.js';
import { type TradingCalendar, weekday } from '../market/calendar.js';
import { OrderBook } from '../trading/order-book.js';
import { PositionBook, entryAvg, openQty, unrealised } from '../trading/positions.js';
import { RiskBook } from '../trading/risk.js';
import { exitRules } from '../trading/trading-desk.js';
import { LOCK_FILE, isAlive, readLockFile } from './lock.js';
import { KILL_FILE } from './money-path.js';

/** How many older day files are read back to find the running daemon's start. */
export const LOOKBACK_FILES = 10;
/** Signals listed in full (the count covers them all). */
const MAX_SIGNALS = 10;

export type StatusOptions = {
  /** The data directory (ledger/, rustro.lock, KILL). */
  dataDir: string;
  /** Risk limits, capital and exit rules (`defaultConfig()` without a config file). */
  config: Config;
  calendar: TradingCalendar;
  /** "Now", epoch ms: the session, the lag, whether the ledger is today's. */
  now: number;
  /** YYYY-MM-DD: that day's ledger file instead of the newest. */
  date?: string;
};

export type DaemonState =
  /** The lock is held by a live process. */
  | 'running'
  /** Not running; the last start in the ledger ended with `DaemonStopped`. */
  | 'stopped'
  /** Not running; the last start has no `DaemonStopped` after it (killed, crashed, power lost). */
  | 'ended_without_stop'
  /** No live lock and no start in the ledger. */
  | 'not_started';

export type StatusReport = {
  now: number;
  dataDir: string;
  ledger: {
    dir: string;
    /** The day file read, or null when there is none. */
    file: string | null;
    day: string | null;
    /** Whether `day` is today's IST date. When not, day state (risk, positions) is as of the file's end. */
    isToday: boolean;
    /** Records read from the day file (all good ones before any damage). */
    records: number;
    firstSeq: number | null;
    lastSeq: number | null;
    /** The first bad line: replay stopped there. */
    damaged: { line: number; problem: string } | null;
    /** Older day files read for the daemon's start (0 when the day file has it). */
    olderFilesRead: number;
  };
  daemon: {
    state: DaemonState;
    running: boolean;
    /** The lock file's holder (running or not). */
    lock: { pid: number; startedAt: string; alive: boolean } | null;
    /** A lock file that exists but cannot be read. */
    lockUnreadable: boolean;
    /** The last `DaemonStarted` in the ledger. */
    lastStart: { at: number; seq: number; mode: 'live' | 'paper'; pid: number; version: string; file: string } | null;
    /** `DaemonStopping` after the last start (a stop in progress when running). */
    stopping: { at: number; reason: string } | null;
    /** `DaemonStopped` after the last start. */
    stopped: { at: number; reason: string; uptimeMs: number } | null;
    /** `StateRestored` after the last start: what the daemon read back at its start. */
    restored: Payload<'StateRestored'> & { at: number } | null;
  };
  session: {
    at: number;
    date: string;
    state: 'open' | 'closed' | 'holiday';
    /** What kind of day `date` is. */
    day: 'trading' | 'special' | 'weekend' | 'holiday';
    /** The window `at` is in, else the day's next one, else null. */
    window: { open: number; close: number } | null;
    nextOpen: number | null;
    /** False when the holiday files do not cover the year (every weekday then looks like a trading day). */
    calendarCovers: boolean;
  };
  feed: {
    /** Last `FeedConnected` vs `FeedDisconnected` since the last start; null: neither seen. */
    connected: boolean | null;
    since: number | null;
    disconnectReason: string | null;
    /** `FeedStale` without a `FeedResumed` after it. */
    stale: { since: number; silentMs: number } | null;
    /** The latest intraday bar end seen (`BarClosed`, 1d bars left out: they end at midnight). */
    lastBar: { token: string; exchange: string; name: string | null; tf: string; end: number; closedAt: number } | null;
    /** now − lastBar.end */
    lagMs: number | null;
    /** lastEvent.ts − lastBar.end: the lag as the ledger left it (the useful one when nothing runs). */
    lagAtLastEventMs: number | null;
    /** `StreamWarm` since the last start, one per stream. */
    warm: { token: string; exchange: string; name: string | null; tf: string; bars: number; need: number; at: number }[];
  };
  strategy: {
    /** Latest `DailyBiasDecided` per strategy and underlying for the ledger's day. */
    bias: { strategy: string; underlying: string; date: string; bias: 'CE' | 'PE' | 'none'; at: number }[];
    signals: number;
    entrySignals: number;
    /** The last MAX_SIGNALS signals, oldest first. */
    recentSignals: { at: number; signalId: string; strategy: string; underlying: string; action: 'entry' | 'exit'; side: 'CE' | 'PE'; reason: string }[];
  };
  positions: {
    open: {
      positionId: string;
      strategy: string;
      underlying: string;
      symbol: string;
      token: string;
      /** Units held now (0 while the entry has not filled yet). */
      qty: number;
      entryAvg: number | null;
      /** The position's last fill price: ticks are not ledgered, so this is the last price the ledger knows. */
      lastFillPrice: number | null;
      lastFillAt: number | null;
      /** Unrealised P&L at lastFillPrice (gross, before charges). */
      unrealisedAtLastFill: number;
      stop: number | null;
      entryWorking: boolean;
      /** An exit was triggered and is working: its reason. */
      exiting: string | null;
      openedAt: number;
    }[];
    /** Σ net P&L of today's `PositionClosed` (the risk book's realised P&L). */
    realisedToday: number;
    trades: { positionId: string; symbol: string; qty: number; entryAvg: number; exitAvg: number; netPnl: number; reason: string; at: number }[];
  };
  orders: {
    working: {
      intentId: string;
      orderId: string | null;
      symbol: string;
      side: 'BUY' | 'SELL';
      purpose: 'entry' | 'exit';
      qty: number;
      filledQty: number;
      orderType: 'LIMIT' | 'MARKET';
      price: number;
      state: string;
      cancelRequested: string | null;
    }[];
  };
  risk: {
    /** The risk book's verdict: a halt or the kill switch is on for the day. */
    halted: boolean;
    /** Every `RiskHalted` of the day, in order. */
    halts: { at: number; scope: 'entries' | 'all'; reason: string; detail: Record<string, string | number | boolean> }[];
    killSwitch: { at: number; source: 'signal' | 'file'; detail: string } | null;
    /** A KILL file in the data directory (a running daemon turns it into the kill switch within a second). */
    killFilePresent: boolean;
    realisedToday: number;
    /** The daily loss limit in rupees (a positive number). */
    dailyLossLimit: number;
    dailyLossLimitPct: number;
    losingStreak: number;
    maxConsecutiveLosses: number;
  };
  lastEvent: { type: string; seq: number; at: number } | null;
  /** Things a reader should know about how to read the report. */
  notes: string[];
};

/** A data directory that does not exist: nothing to report on. */
export class NoDataDirError extends Error {
  override name = 'NoDataDirError';
  constructor(readonly dataDir: string) {
    super(`data directory ${dataDir} does not exist`);
  }
}

/** No ledger file for the date asked for. */
export class NoLedgerForDateError extends Error {
  override name = 'NoLedgerForDateError';
  constructor(readonly dir: string, readonly date: string) {
    super(`no ledger file for ${date} in ${dir}`);
  }
}

const indexName = (exchange: string, token: string): string | null =>
  BUILTIN_INDICES.find((i) => i.exchange === exchange && i.token === token)?.name ?? null;

const finiteOrNull = (x: number): number | null => (Number.isFinite(x) ? x : null);

/** Facts about the daemon run and its feed, from the events since the last `DaemonStarted`. */
class RunFacts {
  lastStart: StatusReport['daemon']['lastStart'] = null;
  stopping: StatusReport['daemon']['stopping'] = null;
  stopped: StatusReport['daemon']['stopped'] = null;
  restored: StatusReport['daemon']['restored'] = null;
  connected: boolean | null = null;
  since: number | null = null;
  disconnectReason: string | null = null;
  stale: { since: number; silentMs: number } | null = null;
  lastBar: StatusReport['feed']['lastBar'] = null;
  readonly warm = new Map<string, StatusReport['feed']['warm'][number]>();

  /** Event types this fold reads: the ones worth carrying over from older day files. */
  static readonly TYPES: ReadonlySet<string> = new Set([
    'DaemonStarted', 'DaemonStopping', 'DaemonStopped', 'StateRestored',
    'FeedConnected', 'FeedDisconnected', 'FeedStale', 'FeedResumed', 'StreamWarm', 'BarClosed',
  ]);

  apply(e: RustroEvent, seq: number, file: string): void {
    switch (e.type) {
      case 'DaemonStarted':
        // A new process: its own feed, its own warm-up.
        this.lastStart = { at: e.ts, seq, mode: e.data.mode, pid: e.data.pid, version: e.data.version, file: basename(file) };
        this.stopping = this.stopped = this.restored = null;
        this.connected = this.since = this.disconnectReason = null;
        this.stale = null;
        this.warm.clear();
        return;
      case 'DaemonStopping':
        this.stopping = { at: e.ts, reason: e.data.reason };
        return;
      case 'DaemonStopped':
        this.stopped = { at: e.ts, reason: e.data.reason, uptimeMs: e.data.uptimeMs };
        return;
      case 'StateRestored':
        this.restored = { ...e.data, at: e.ts };
        return;
      case 'FeedConnected':
        this.connected = true;
        this.since = e.ts;
        this.disconnectReason = null;
        return;
      case 'FeedDisconnected':
        this.connected = false;
        this.since = e.ts;
        this.disconnectReason = e.data.reason;
        return;
      case 'FeedStale':
        this.stale = { since: e.ts, silentMs: e.data.silentMs };
        return;
      case 'FeedResumed':
        this.stale = null;
        return;
      case 'StreamWarm': {
        const d = e.data;
        this.warm.set(`${d.exchange}:${d.token}:${d.tf}`, { token: d.token, exchange: d.exchange, name: indexName(d.exchange, d.token), tf: d.tf, bars: d.bars, need: d.need, at: e.ts });
        return;
      }
      case 'BarClosed': {
        const d = e.data;
        if (d.tf === '1d' || (this.lastBar !== null && d.end < this.lastBar.end)) return;
        this.lastBar = { token: d.token, exchange: d.exchange, name: indexName(d.exchange, d.token), tf: d.tf, end: d.end, closedAt: e.ts };
        return;
      }
      default:
    }
  }
}

/** Facts of the day for the strategy and risk sections that the books do not keep. */
class DayFacts {
  readonly bias = new Map<string, StatusReport['strategy']['bias'][number]>();
  signals = 0;
  entrySignals = 0;
  readonly recentSignals: StatusReport['strategy']['recentSignals'] = [];
  readonly halts: StatusReport['risk']['halts'] = [];
  killSwitch: StatusReport['risk']['killSwitch'] = null;
  readonly trades: StatusReport['positions']['trades'] = [];

  constructor(private readonly day: string) {}

  apply(e: RustroEvent): void {
    switch (e.type) {
      case 'DailyBiasDecided': {
        const d = e.data;
        if (d.date === this.day) this.bias.set(`${d.strategy}:${d.underlying}`, { strategy: d.strategy, underlying: d.underlying, date: d.date, bias: d.bias, at: e.ts });
        return;
      }
      case 'SignalRaised': {
        const d = e.data;
        this.signals++;
        if (d.action === 'entry') this.entrySignals++;
        this.recentSignals.push({ at: e.ts, signalId: d.signalId, strategy: d.strategy, underlying: d.underlying, action: d.action, side: d.side, reason: d.reason });
        if (this.recentSignals.length > MAX_SIGNALS) this.recentSignals.shift();
        return;
      }
      case 'RiskHalted':
        this.halts.push({ at: e.ts, scope: e.data.scope, reason: e.data.reason, detail: e.data.detail });
        return;
      case 'KillSwitchActivated':
        this.killSwitch ??= { at: e.ts, source: e.data.source, detail: e.data.detail };
        return;
      case 'PositionClosed': {
        const d = e.data;
        this.trades.push({ positionId: d.positionId, symbol: d.symbol, qty: d.qty, entryAvg: d.entryAvg, exitAvg: d.exitAvg, netPnl: d.netPnl, reason: d.reason, at: e.ts });
        return;
      }
      default:
    }
  }
}

type ReadResult = { records: number; firstSeq: number | null; lastSeq: number | null; last: { type: string; seq: number; at: number } | null; damaged: { line: number; problem: string } | null };

/** Replays one day file into `sink`; a bad line ends the replay and is returned, not thrown. */
async function replayFile(file: string, sink: (e: RustroEvent, seq: number) => void): Promise<ReadResult> {
  const out: ReadResult = { records: 0, firstSeq: null, lastSeq: null, last: null, damaged: null };
  try {
    for await (const r of replay(file)) {
      out.records++;
      out.firstSeq ??= r.seq;
      out.lastSeq = r.seq;
      out.last = { type: r.type, seq: r.seq, at: r.ts };
      sink({ type: r.type, ts: r.ts, data: r.data } as RustroEvent, r.seq);
    }
  } catch (err) {
    if (!(err instanceof LedgerReadError)) throw err;
    out.damaged = { line: err.line, problem: err.problem };
  }
  return out;
}

/**
 * The events of older files that RunFacts reads, oldest first, from the
 * newest older file holding a `DaemonStarted` on (at most LOOKBACK_FILES).
 */
async function lookBack(older: readonly string[], notes: string[]): Promise<{ events: { e: RustroEvent; seq: number; file: string }[]; files: number }> {
  const chunks: { e: RustroEvent; seq: number; file: string }[][] = [];
  let files = 0;
  for (let i = older.length - 1; i >= 0 && files < LOOKBACK_FILES; i--) {
    const file = older[i]!;
    files++;
    const chunk: { e: RustroEvent; seq: number; file: string }[] = [];
    let started = false;
    const r = await replayFile(file, (e, seq) => {
      if (!RunFacts.TYPES.has(e.type)) return;
      chunk.push({ e, seq, file });
      if (e.type === 'DaemonStarted') started = true;
    });
    if (r.damaged !== null) notes.push(`older ledger file ${basename(file)} is damaged at line ${r.damaged.line}: read up to there`);
    chunks.push(chunk);
    if (started) break;
  }
  return { events: chunks.reverse().flat(), files };
}

function sessionAt(calendar: TradingCalendar, at: number): StatusReport['session'] {
  const date = istDate(at);
  const windows = calendar.sessionWindows(date);
  const current = calendar.windowAt(at);
  const nextToday = windows.find((w) => w.open > at);
  const next = calendar.nextWindowAfter(at);
  const wd = weekday(date);
  const day: StatusReport['session']['day'] = calendar.shortSessions.has(date) || calendar.weekendSessions.has(date)
    ? 'special'
    : calendar.isRegularTradingDay(date) ? 'trading' : wd === 0 || wd === 6 ? 'weekend' : 'holiday';
  const w = current ?? nextToday;
  return {
    at,
    date,
    state: current !== undefined ? 'open' : windows.length === 0 ? 'holiday' : 'closed',
    day,
    window: w === undefined ? null : { open: w.open, close: w.close },
    nextOpen: next?.open ?? null,
    calendarCovers: calendar.covers(date),
  };
}

/** Builds the status report. Throws NoDataDirError, NoLedgerForDateError; never writes anything. */
export async function buildStatus(o: StatusOptions): Promise<StatusReport> {
  const { dataDir, config, now } = o;
  if (!existsSync(dataDir)) throw new NoDataDirError(dataDir);
  const notes: string[] = [];
  const ledgerDir = join(dataDir, 'ledger');
  const files = ledgerFiles(ledgerDir);
  let file: string | undefined;
  if (o.date !== undefined) {
    file = files.find((f) => basename(f) === `${o.date}.jsonl`);
    if (file === undefined) throw new NoLedgerForDateError(ledgerDir, o.date);
  } else file = files.at(-1);
  const day = file === undefined ? null : basename(file, '.jsonl');
  const isToday = day === istDate(now);

  // ── the folds: the daemon's own books, as a restart rebuilds them ──────────
  const book = new OrderBook();
  const positions = new PositionBook((s) => exitRules(config.strategy, s));
  const risk = new RiskBook(config.risk, config.trading.capital);
  const run = new RunFacts();
  const dayFacts = new DayFacts(day ?? '');

  /** Option symbols by exchange:token, to name their bars. */
  const symbols = new Map<string, string>();
  let olderFilesRead = 0;
  let read: ReadResult = { records: 0, firstSeq: null, lastSeq: null, last: null, damaged: null };
  if (file !== undefined) {
    const dayFile = file;
    let runEvents: { e: RustroEvent; seq: number; file: string }[] = [];
    read = await replayFile(dayFile, (e, seq) => {
      book.apply(e);
      positions.apply(e);
      risk.apply(e);
      dayFacts.apply(e);
      if (e.type === 'OptionPicked' || e.type === 'OrderIntentRecorded') symbols.set(`${e.data.exchange}:${e.data.token}`, e.data.symbol);
      if (RunFacts.TYPES.has(e.type)) runEvents.push({ e, seq, file: dayFile });
    });
    const older = files.slice(0, files.indexOf(dayFile));
    if (!runEvents.some((x) => x.e.type === 'DaemonStarted') && older.length > 0) {
      // Only the day file holds the day's state; older files are read for the daemon's start (and its feed).
      const back = await lookBack(older, notes);
      olderFilesRead = back.files;
      runEvents = back.events.concat(runEvents);
      if (!back.events.some((x) => x.e.type === 'DaemonStarted')) {
        notes.push(`no DaemonStarted in ${basename(dayFile)} nor in the ${back.files} day file(s) before it`);
      }
    }
    for (const x of runEvents) run.apply(x.e, x.seq, x.file);
  }

  // Day state is asked of the books at "now" for today's file; for an older day, as of the file's end
  // (asked at "now", the risk book would roll over to a new day and forget the halts).
  const asOf = isToday || read.last === null ? now : read.last.at;

  // ── daemon ─────────────────────────────────────────────────────────────────
  const lockInfo = readLockFile(dataDir);
  const lockUnreadable = lockInfo === undefined && existsSync(join(dataDir, LOCK_FILE));
  const alive = lockInfo !== undefined && isAlive(lockInfo);
  const running = alive;
  const state: DaemonState = running
    ? 'running'
    : run.lastStart === null ? 'not_started' : run.stopped !== null ? 'stopped' : 'ended_without_stop';
  if (lockInfo !== undefined && !alive) notes.push(`stale lock file: pid ${lockInfo.pid} (started ${lockInfo.startedAt}) is not running; the next start takes it over`);
  if (lockUnreadable) notes.push(`the lock file ${join(dataDir, LOCK_FILE)} cannot be read`);
  if (running && run.lastStart !== null && run.lastStart.pid !== lockInfo!.pid) {
    notes.push(`the lock's pid ${lockInfo!.pid} is not the pid of the last DaemonStarted (${run.lastStart.pid}): a daemon starting up, or a ledger from elsewhere`);
  }
  if (running && run.lastStart === null && file !== undefined) notes.push('a daemon holds the lock but has not recorded its start in the ledger yet');
  if (olderFilesRead > 0 && run.lastStart !== null && run.lastStart.file !== basename(file!)) {
    notes.push(`the daemon's last start is in ${run.lastStart.file}`);
  }
  if (read.damaged !== null) {
    notes.push(running
      ? `the ledger's tail is damaged at line ${read.damaged.line} (the daemon may have been writing it: run status again); the report stops there`
      : `the ledger's tail is damaged at line ${read.damaged.line}: the report stops there; the next start moves it to a .corrupt file`);
  }
  if (file !== undefined && !isToday) notes.push(`the ledger is of ${day}, not today (${istDate(now)}): its state is as of its last event`);

  // ── positions and orders ───────────────────────────────────────────────────
  const lastFills = new Map<string, { price: number; at: number }>();
  for (const ord of book.all()) {
    for (const f of ord.fills) {
      const prev = lastFills.get(ord.intent.positionId);
      if (prev === undefined || f.filledAt >= prev.at) lastFills.set(ord.intent.positionId, { price: f.price, at: f.filledAt });
    }
  }
  const open = positions.open().map((p) => {
    const last = lastFills.get(p.id);
    // Ticks are not in the ledger: value the position at its last fill (the book's own formula).
    if (last !== undefined) p.ltp = last.price;
    return {
      positionId: p.id,
      strategy: p.strategy,
      underlying: p.underlying,
      symbol: p.symbol,
      token: p.token,
      qty: openQty(p),
      entryAvg: finiteOrNull(entryAvg(p)),
      lastFillPrice: last?.price ?? null,
      lastFillAt: last?.at ?? null,
      unrealisedAtLastFill: unrealised(p),
      stop: finiteOrNull(p.stop),
      entryWorking: p.entryWorking,
      exiting: p.exiting ?? null,
      openedAt: p.openedAt,
    };
  });
  if (open.length > 0) notes.push('open positions are valued at their last fill: ticks are not in the ledger');
  const working = book.working().map((w) => ({
    intentId: w.intent.intentId,
    orderId: w.orderId ?? null,
    symbol: w.intent.symbol,
    side: w.intent.side,
    purpose: w.intent.purpose,
    qty: w.intent.qty,
    filledQty: w.filledQty,
    orderType: w.orderType,
    price: w.price,
    state: w.state,
    cancelRequested: w.cancelRequested?.reason ?? null,
  }));
  if (!running && (open.length > 0 || working.length > 0) && state !== 'not_started') {
    notes.push('no daemon is running: the positions and orders above are as the ledger left them; the broker may know more');
  }

  const lastBar = run.lastBar;
  if (lastBar !== null) lastBar.name ??= symbols.get(`${lastBar.exchange}:${lastBar.token}`) ?? null;

  return {
    now,
    dataDir,
    ledger: {
      dir: ledgerDir,
      file: file ?? null,
      day,
      isToday,
      records: read.records,
      firstSeq: read.firstSeq,
      lastSeq: read.lastSeq,
      damaged: read.damaged,
      olderFilesRead,
    },
    daemon: {
      state,
      running,
      lock: lockInfo === undefined ? null : { pid: lockInfo.pid, startedAt: lockInfo.startedAt, alive },
      lockUnreadable,
      lastStart: run.lastStart,
      stopping: run.stopping,
      stopped: run.stopped,
      restored: run.restored,
    },
    session: sessionAt(o.calendar, now),
    feed: {
      connected: run.connected,
      since: run.since,
      disconnectReason: run.disconnectReason,
      stale: run.stale,
      lastBar,
      lagMs: lastBar === null ? null : now - lastBar.end,
      lagAtLastEventMs: lastBar === null || read.last === null ? null : Math.max(read.last.at, lastBar.closedAt) - lastBar.end,
      warm: [...run.warm.values()],
    },
    strategy: {
      bias: [...dayFacts.bias.values()],
      signals: dayFacts.signals,
      entrySignals: dayFacts.entrySignals,
      recentSignals: dayFacts.recentSignals,
    },
    positions: {
      open,
      realisedToday: risk.realisedToday,
      trades: dayFacts.trades,
    },
    orders: { working },
    risk: {
      halted: risk.halted(asOf),
      halts: dayFacts.halts,
      killSwitch: dayFacts.killSwitch,
      killFilePresent: existsSync(join(dataDir, KILL_FILE)),
      realisedToday: risk.realisedToday,
      dailyLossLimit: risk.lossLimit,
      dailyLossLimitPct: config.risk.daily_loss_limit_pct,
      losingStreak: risk.losingStreak,
      maxConsecutiveLosses: config.risk.max_consecutive_losses,
    },
    lastEvent: read.last,
    notes,
  };
}

