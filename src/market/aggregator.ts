/**
 * Ticks → bars, per instrument and timeframe, O(1) per tick.
 *
 * Rules (each has a test in test/market/aggregator.test.ts):
 *
 * - **Exchange time.** A tick belongs to the bar its exchange timestamp
 *   (`exchTs`) falls in; bars are session-anchored (timeframes.ts). A tick at
 *   or past a bar's end closes it (`closedBy: 'tick'`) before it opens the
 *   next one.
 * - **Silent feed.** With a clock, a bar still open `graceMs` after its end is
 *   closed by the clock (`closedBy: 'clock'`) — if the instrument's feed is
 *   silent, i.e. no tick of it was received for `graceMs` on the feed clock
 *   (the network's clock: live the same clock; in the demo real time, which
 *   market time outruns). While its ticks keep arriving with older exchange
 *   times, the bar waits for them. At the end of the day the same
 *   rule closes every open bar, the 1d bar included (its end is the close of
 *   the day's last window). `finalize()` closes everything at once (end of a
 *   file, end of a backtest).
 * - **No invented bars.** A bar exists only if a tick (or a backfilled
 *   candle) fell in it; a silent minute leaves a hole, never a flat bar.
 * - **Open and close.** `open` is the first tick received in the bar; `close`
 *   the tick with the latest exchange time (a tick older than the latest one
 *   still counts for high, low and volume, not for the close).
 * - **Late tick.** A tick older than the current minute of the instrument
 *   (the minute of its latest accepted tick), or falling in a bar the clock
 *   has already closed, is dropped and counted (`late`): a closed bar never
 *   changes.
 * - **Duplicate tick.** A tick with the same exchange time, price and
 *   cumulative volume as the latest accepted one is dropped and counted
 *   (`duplicate`): it carries nothing new (the feed re-sends the last tick
 *   after a resubscribe).
 * - **Outside the session.** A tick whose exchange time is in no session
 *   window (pre-open, after the close, a holiday) is dropped and counted
 *   (`outsideSession`).
 * - **Volume** is the rise of the cumulative day volume (`Tick.volume`) since
 *   the previous tick. The first tick of the day seen counts its whole
 *   cumulative volume only if it falls in the session's first minute;
 *   later (a start mid-session) it only sets the baseline. A cumulative
 *   volume that falls is ignored. A bar has a volume only once the
 *   instrument has shown a positive cumulative volume that day: indices,
 *   which send none (or 0), have bars without volume.
 * - **Backfill** (`backfill`): 1-minute candles for minutes that had no tick
 *   (a gap) are folded into the bars: a missing 1m bar is emitted
 *   (`backfilled: true`), an open coarser bar takes the candle's high/low
 *   (and its open/close where the candle is earlier/later than its ticks)
 *   and says `backfilled`, a coarser bar wholly inside the gap is built from
 *   the candles. A bar already closed stays as it was.
 */
import type { Candle, Exchange, InstrumentRef, Tick } from '../broker/broker.js';
import type { Clock, TimerHandle } from '../core/clock.js';
import type { SessionWindow } from './calendar.js';
import type { Bar, ClosedBy } from './bar.js';
import { type SessionClock, TIMEFRAMES, type Timeframe } from './timeframes.js';

const MINUTE = 60_000;

export type DropCounts = { late: number; duplicate: number; outsideSession: number };

export type AggregatorOptions = {
  sessions: SessionClock;
  /** Timeframes to build (default all six), kept in canonical order. */
  timeframes?: readonly Timeframe[];
  /** With a clock, silent bars close `graceMs` after their end; without one (files, benches) only ticks and `finalize` close bars. */
  clock?: Clock;
  /**
   * The clock ticks are received on (default `clock`): a bar due by the clock closes only once its
   * instrument has had no tick for a grace on this clock — except a session's last bars and a stopped
   * instrument's, which close at end + grace on `clock` (see `sweep`).
   */
  feedClock?: Clock;
  graceMs?: number;
  onBarClosed: (bar: Bar, closedBy: ClosedBy) => void;
};

class LiveBar {
  start = 0;
  end = 0;
  open = 0;
  high = 0;
  low = 0;
  close = 0;
  volume = 0;
  ticks = 0;
  /** Exchange time of the earliest data in the bar (for merging candles). */
  firstTs = 0;
  backfilled = false;
}

type Inst = {
  readonly token: string;
  readonly exchange: Exchange;
  win: SessionWindow | undefined;
  /** 00:00 IST of the day of `win`. */
  day: number;
  readonly bars: (LiveBar | undefined)[];
  /** Start of the last closed bar, per timeframe (-Infinity: none). */
  readonly lastClosed: number[];
  /** Ticks with exchTs < minTs are late. */
  minTs: number;
  lastTs: number;
  lastLtp: number;
  lastCum: number;
  /** Cumulative volume baseline (NaN: none yet today). */
  cumBase: number;
  volumeSeen: boolean;
  /** First minute without data when a gap was marked (NaN: no gap open). */
  gapFrom: number;
  /** Minute of the first tick after the gap (NaN: none yet). */
  gapTo: number;
  /** Feed-clock time of the latest accepted tick. */
  lastRecv: number;
  /** Unsubscribed (its feed stopped) and not started again: its bars need not wait for silence, and late stragglers are ignored. */
  unsubscribed: boolean;
};

export class Aggregator {
  readonly timeframes: readonly Timeframe[];
  readonly dropped: DropCounts = { late: 0, duplicate: 0, outsideSession: 0 };
  private readonly sessions: SessionClock;
  private readonly clock: Clock | undefined;
  private readonly feedClock: Clock | undefined;
  private readonly graceMs: number;
  private readonly onBarClosed: (bar: Bar, closedBy: ClosedBy) => void;
  private readonly byExchange = new Map<string, Map<string, Inst>>();
  private readonly all: Inst[] = [];
  private lastInst: Inst | undefined;
  private timer: TimerHandle | undefined;
  private timerAt = Infinity;
  private stopped = false;

  constructor(o: AggregatorOptions) {
    this.sessions = o.sessions;
    this.timeframes = TIMEFRAMES.filter((tf) => (o.timeframes ?? TIMEFRAMES).includes(tf));
    if (this.timeframes.length === 0) throw new RangeError('Aggregator: no timeframes');
    this.clock = o.clock;
    this.feedClock = o.feedClock ?? o.clock;
    this.graceMs = o.graceMs ?? 2000;
    this.onBarClosed = o.onBarClosed;
  }

  /** Ticks accepted so far. */
  accepted = 0;

  onTick(t: Tick): void {
    let inst = this.lastInst;
    if (inst === undefined || inst.token !== t.token || inst.exchange !== t.exchange) inst = this.lastInst = this.inst(t.exchange, t.token);
    // Unsubscribed: a tick already on its way when the request left would change the bars by how many made it,
    // which differs run to run. Not counted as a drop: it is expected, and the feed was told to stop.
    if (inst.unsubscribed) return;
    const ts = t.exchTs;
    let w = inst.win;
    if (w === undefined || ts < w.open || ts >= w.close) {
      w = this.sessions.windowAt(ts);
      if (w === undefined) {
        this.dropped.outsideSession++;
        return;
      }
      if (ts < inst.minTs) {
        this.dropped.late++;
        return;
      }
      this.enterWindow(inst, w);
    } else if (ts < inst.minTs) {
      this.dropped.late++;
      return;
    }
    const ltp = t.ltp;
    const cum = t.volume;
    if (ts === inst.lastTs && ltp === inst.lastLtp && (cum ?? -1) === inst.lastCum) {
      this.dropped.duplicate++;
      return;
    }
    this.accepted++;
    if (this.feedClock !== undefined) inst.lastRecv = this.feedClock.now();
    if (inst.gapFrom === inst.gapFrom && inst.gapTo !== inst.gapTo) inst.gapTo = ts - (ts % MINUTE);

    let dv = 0;
    if (cum !== undefined) {
      if (cum > 0) inst.volumeSeen = true;
      const base = inst.cumBase;
      if (base !== base) {
        inst.cumBase = cum;
        const first = this.sessions.windowsOf(ts)[0];
        if (first !== undefined && ts < first.open + MINUTE) dv = cum;
      } else if (cum > base) {
        dv = cum - base;
        inst.cumBase = cum;
      }
    }
    const newest = ts >= inst.lastTs;
    if (newest) {
      inst.lastTs = ts;
      inst.lastLtp = ltp;
      inst.lastCum = cum ?? -1;
      const m = ts - (ts % MINUTE);
      if (m > inst.minTs) inst.minTs = m;
    }

    const bars = inst.bars;
    const tfs = this.timeframes;
    for (let i = 0; i < tfs.length; i++) {
      let b = bars[i];
      if (b !== undefined && ts >= b.end) {
        this.closeBar(inst, i, b, 'tick');
        b = undefined;
      }
      if (b === undefined) {
        b = new LiveBar();
        const start = this.sessions.barStart(tfs[i]!, ts, w);
        b.start = start;
        b.end = this.sessions.barEnd(tfs[i]!, start, w);
        b.open = b.high = b.low = b.close = ltp;
        b.volume = dv;
        b.ticks = 1;
        b.firstTs = ts;
        bars[i] = b;
        this.schedule(b.end + this.graceMs);
      } else {
        if (ltp > b.high) b.high = ltp;
        else if (ltp < b.low) b.low = ltp;
        if (newest) b.close = ltp;
        b.volume += dv;
        b.ticks++;
      }
    }
  }

  private find(ref: InstrumentRef): Inst | undefined {
    return this.byExchange.get(ref.exchange)?.get(ref.token);
  }

  /** The bar in progress (a copy), or undefined if none is open. */
  partial(ref: InstrumentRef, tf: Timeframe): Bar | undefined {
    const inst = this.find(ref);
    const i = this.timeframes.indexOf(tf);
    const b = inst?.bars[i];
    return inst === undefined || b === undefined ? undefined : this.toBar(inst, i, b);
  }

  /** The latest accepted tick's exchange time for an instrument (undefined: none yet). */
  lastTickAt(ref: InstrumentRef): number | undefined {
    const inst = this.find(ref);
    return inst === undefined || inst.lastTs === -Infinity ? undefined : inst.lastTs;
  }

  /** Instruments seen (or restored) so far. */
  instruments(): InstrumentRef[] {
    return this.all.map((i) => ({ exchange: i.exchange, token: i.token }));
  }

  /**
   * Tells the aggregator that bars up to `lastStart` of `tf` were already
   * closed (restored from the bar store): a backfill will not rebuild them
   * and a tick inside them is late.
   */
  restoreClosed(ref: InstrumentRef, tf: Timeframe, lastStart: number, lastEnd: number): void {
    const i = this.timeframes.indexOf(tf);
    if (i < 0) return;
    const inst = this.inst(ref.exchange, ref.token);
    if (lastStart > inst.lastClosed[i]!) inst.lastClosed[i] = lastStart;
    if (lastEnd > inst.minTs) inst.minTs = lastEnd;
  }

  /**
   * Closes, now, every bar whose end + grace has passed on the clock and whose feed is silent, or that
   * ends with its session, or whose instrument's feed was stopped (what the timer does).
   */
  sweep(now: number): void {
    if (this.timer !== undefined) this.clock?.cancel(this.timer);
    this.timer = undefined;
    this.timerAt = Infinity;
    const grace = this.graceMs;
    const heard = this.feedClock?.now() ?? now;
    let next = Infinity;
    for (const inst of this.all) {
      const silent = heard - inst.lastRecv >= grace;
      for (let i = 0; i < inst.bars.length; i++) {
        const b = inst.bars[i];
        if (b === undefined) continue;
        const due = b.end + grace;
        // A bar that ends with its session closes a grace after the close whatever the feed does: the
        // session has no more ticks to give it, and waiting for the feed's silence (real time in a
        // replay) let a night pass first, closing the day's last bars on a later day.
        const last = inst.win !== undefined && b.end >= inst.win.close;
        if (now >= due && (silent || last || inst.unsubscribed)) this.closeBar(inst, i, b, 'clock');
        else {
          // Due but its ticks still arrive: look again a grace period later.
          const at = now >= due ? now + Math.max(grace, 1) : due;
          if (at < next) next = at;
        }
      }
    }
    if (next !== Infinity) this.schedule(next);
  }

  /**
   * The feed of these instruments was stopped (an option nothing holds any more): their open bars close
   * at their end + grace on the market clock, as a session's last bars do, instead of waiting for the
   * feed's silence — on the feed's clock, which in a sim session is real time, so they closed hours of
   * market time later and at a moment that differed run to run. Their ticks are ignored until
   * `feedStarted`.
   */
  feedStopped(refs: readonly InstrumentRef[]): void {
    for (const r of refs) {
      const inst = this.find(r);
      if (inst === undefined) continue;
      inst.unsubscribed = true;
      // Its minutes from now on are not missing data: nothing asked for them, and no backfill fetches them.
      inst.gapFrom = NaN;
      inst.gapTo = NaN;
    }
  }

  /**
   * Subscribed again: their ticks count from now on. A bar of theirs that ended while they were stopped
   * closes here, now, rather than on whichever tick comes first — the feed's answer to the subscription,
   * whose arrival among the caller's other work (an order's intent and placement) is the network's timing.
   */
  feedStarted(refs: readonly InstrumentRef[]): void {
    const now = this.clock?.now() ?? -Infinity;
    for (const r of refs) {
      const inst = this.find(r);
      if (inst === undefined || !inst.unsubscribed) continue;
      inst.unsubscribed = false;
      for (let i = 0; i < inst.bars.length; i++) {
        const b = inst.bars[i];
        if (b !== undefined && b.end <= now) this.closeBar(inst, i, b, 'clock');
      }
    }
  }

  /** Closes every open bar (end of a file or a backtest; `closedBy: 'final'`). */
  finalize(): void {
    for (const inst of this.all) {
      for (let i = 0; i < inst.bars.length; i++) {
        const b = inst.bars[i];
        if (b !== undefined) this.closeBar(inst, i, b, 'final');
      }
    }
  }

  /** Stops the clock timer; open bars stay open (a restart rebuilds them by backfill). */
  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) this.clock?.cancel(this.timer);
    this.timer = undefined;
    this.timerAt = Infinity;
  }

  /**
   * The feed went down (or the daemon restarted): remembers, per instrument
   * (all streamed ones, or `refs`), the first minute without data — the minute
   * after its latest tick, or `from` — until the first tick after the gap.
   */
  markGap(refs?: readonly InstrumentRef[], from?: number): void {
    const list = refs === undefined ? this.all : refs.map((r) => this.inst(r.exchange, r.token));
    for (const inst of list) {
      if (inst.unsubscribed) continue; // a stopped feed has no gap: its minutes were never asked for
      if (inst.gapFrom === inst.gapFrom && inst.gapTo !== inst.gapTo) continue; // already in a gap
      inst.gapFrom = from ?? (inst.lastTs === -Infinity ? NaN : inst.lastTs - (inst.lastTs % MINUTE) + MINUTE);
      inst.gapTo = NaN;
    }
  }

  /**
   * The minutes to backfill for an instrument, [from, to): from the first
   * minute without data (the marked gap, or `since` when given — a restart)
   * to the minute of the first tick after the gap, or the current minute.
   * Undefined when there is nothing to fill.
   */
  gapOf(ref: InstrumentRef, now: number, since?: number): { from: number; to: number } | undefined {
    const inst = this.find(ref);
    const from = since ?? inst?.gapFrom ?? NaN;
    if (from !== from) return undefined;
    const gapTo = inst?.gapTo ?? NaN;
    const to = Math.min(now - (now % MINUTE), gapTo === gapTo ? gapTo : Infinity);
    return to > from ? { from, to } : undefined;
  }

  /**
   * Folds 1-minute candles of a gap into the bars (see the rules above); only
   * complete minutes in [from, to) with no live tick are used. Returns the
   * minutes used. Clears the instrument's gap.
   */
  backfill(ref: InstrumentRef, candles: readonly Candle[], range: { from: number; to: number }, now: number): number {
    const inst = this.inst(ref.exchange, ref.token);
    const gapTo = inst.gapTo;
    const to = Math.min(range.to, gapTo === gapTo ? gapTo : Infinity, now - (now % MINUTE));
    const from = range.from;
    inst.gapFrom = NaN;
    inst.gapTo = NaN;
    const tfs = this.timeframes;
    const pending: (LiveBar | undefined)[] = tfs.map(() => undefined);
    const flush = (i: number): void => {
      const p = pending[i];
      if (p === undefined) return;
      pending[i] = undefined;
      if (p.start > inst.lastClosed[i]!) this.emit(inst, i, p, 'backfill');
    };
    let used = 0;
    const sorted = [...candles].sort((a, b) => a.ts - b.ts);
    for (const c of sorted) {
      if (c.ts < from || c.ts + MINUTE > to) continue;
      const w = this.sessions.windowAt(c.ts);
      if (w === undefined) continue;
      if (inst.win === undefined || inst.win.open < w.open) this.enterWindow(inst, w);
      used++;
      const vol = c.volume > 0 ? c.volume : 0;
      if (vol > 0) inst.volumeSeen = true;
      for (let i = 0; i < tfs.length; i++) {
        const tf = tfs[i]!;
        const start = this.sessions.barStart(tf, c.ts, w);
        const cur = inst.bars[i];
        if (cur !== undefined && cur.start === start) {
          this.merge(cur, c, vol, inst.lastTs);
        } else if (cur !== undefined && cur.start > start) {
          if (start <= inst.lastClosed[i]!) continue;
          const p = pending[i];
          if (p !== undefined && p.start === start) this.merge(p, c, vol, -Infinity);
          else {
            flush(i);
            pending[i] = this.fromCandle(c, vol, start, this.sessions.barEnd(tf, start, w));
          }
        } else {
          if (start <= inst.lastClosed[i]!) continue;
          if (cur !== undefined) this.closeBar(inst, i, cur, 'backfill');
          const b = this.fromCandle(c, vol, start, this.sessions.barEnd(tf, start, w));
          inst.bars[i] = b;
          this.schedule(b.end + this.graceMs);
        }
      }
      const last = c.ts + MINUTE - 1;
      if (last > inst.lastTs) {
        inst.lastTs = last;
        inst.lastLtp = c.close;
        inst.lastCum = -1;
      }
      if (c.ts + MINUTE > inst.minTs) inst.minTs = c.ts + MINUTE;
    }
    for (let i = 0; i < tfs.length; i++) flush(i);
    if (this.clock !== undefined && used > 0) this.sweep(now);
    return used;
  }

  // ---- internals ------------------------------------------------------------

  private inst(exchange: Exchange, token: string): Inst {
    let m = this.byExchange.get(exchange);
    if (m === undefined) this.byExchange.set(exchange, (m = new Map()));
    let inst = m.get(token);
    if (inst === undefined) {
      const n = this.timeframes.length;
      inst = {
        token, exchange, win: undefined, day: NaN,
        bars: new Array<LiveBar | undefined>(n).fill(undefined),
        lastClosed: new Array<number>(n).fill(-Infinity),
        minTs: -Infinity, lastTs: -Infinity, lastLtp: NaN, lastCum: -1,
        cumBase: NaN, volumeSeen: false, gapFrom: NaN, gapTo: NaN, lastRecv: -Infinity, unsubscribed: false,
      };
      m.set(token, inst);
      this.all.push(inst);
    }
    return inst;
  }

  private enterWindow(inst: Inst, w: SessionWindow): void {
    inst.win = w;
    const day = this.sessions.dayStart(w.open);
    if (day !== inst.day) {
      // A new day: the cumulative volume starts again.
      inst.day = day;
      inst.cumBase = NaN;
      inst.volumeSeen = false;
      inst.lastCum = -1;
    }
  }

  private merge(b: LiveBar, c: Candle, vol: number, latestTs: number): void {
    if (c.high > b.high) b.high = c.high;
    if (c.low < b.low) b.low = c.low;
    if (c.ts < b.firstTs) {
      b.open = c.open;
      b.firstTs = c.ts;
    }
    if (c.ts + MINUTE - 1 > latestTs) b.close = c.close;
    b.volume += vol;
    b.backfilled = true;
  }

  private fromCandle(c: Candle, vol: number, start: number, end: number): LiveBar {
    const b = new LiveBar();
    b.start = start;
    b.end = end;
    b.open = c.open;
    b.high = c.high;
    b.low = c.low;
    b.close = c.close;
    b.volume = vol;
    b.ticks = 0;
    b.firstTs = c.ts;
    b.backfilled = true;
    return b;
  }

  private closeBar(inst: Inst, i: number, b: LiveBar, by: ClosedBy): void {
    inst.bars[i] = undefined;
    if (b.end > inst.minTs) inst.minTs = b.end;
    this.emit(inst, i, b, by);
  }

  private emit(inst: Inst, i: number, b: LiveBar, by: ClosedBy): void {
    if (b.start > inst.lastClosed[i]!) inst.lastClosed[i] = b.start;
    this.onBarClosed(this.toBar(inst, i, b), by);
  }

  private toBar(inst: Inst, i: number, b: LiveBar): Bar {
    const bar: Bar = {
      token: inst.token, exchange: inst.exchange, tf: this.timeframes[i]!, ts: b.start, end: b.end,
      open: b.open, high: b.high, low: b.low, close: b.close, ticks: b.ticks, backfilled: b.backfilled,
    };
    if (inst.volumeSeen) bar.volume = b.volume;
    return bar;
  }

  /** Makes sure the clock looks again no later than `at`. */
  private schedule(at: number): void {
    const clock = this.clock;
    if (clock === undefined || this.stopped) return;
    if (at >= this.timerAt) return;
    if (this.timer !== undefined) clock.cancel(this.timer);
    this.timerAt = at;
    this.timer = clock.setTimer(at, () => {
      this.timer = undefined;
      this.timerAt = Infinity;
      this.sweep(clock.now());
    });
  }
}
