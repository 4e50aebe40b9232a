/**
 * The market-data pipeline on the bus: `Tick` events → aggregator → bar store
 * → `BarClosed`; feed staleness (`FeedStale` / `FeedResumed`); a periodic
 * `TicksDropped`; history bootstrap (`StreamWarm` as each declared stream
 * holds enough bars); backfill after a reconnect and after a restart
 * mid-session (`BarsBackfilled`); the day's bars read back at start
 * (`BarsRestored`).
 *
 * Life: `start()` before the feed connects (so no tick is missed: it only
 * subscribes and restores), `online(broker)` once the broker session is up
 * (backfill of a restart, then history), `stop()` after the feed has stopped
 * and before the ledger closes. Everything runs on the injected clock.
 */
import { join } from 'node:path';
import type { Broker, InstrumentRef, Tick } from '../broker/broker.js';
import type { EventBus, Unsubscribe } from '../core/bus.js';
import { type Clock, type TimerHandle, istDate } from '../core/clock.js';
import { Aggregator } from './aggregator.js';
import { Backfiller, type BackfillReason, type BackfillResult } from './backfill.js';
import type { Bar, ClosedBy } from './bar.js';
import { type BarRing, BarStore, type RestoreReport } from './bar-store.js';
import { Bootstrap, type StreamResult, type WarmupNeed, mergeNeeds } from './bootstrap.js';
import type { TradingCalendar } from './calendar.js';
import { StalenessMonitor } from './staleness.js';
import { SessionClock, type Timeframe } from './timeframes.js';

export type MarketSettings = {
  bar_buffer_size: number;
  bar_close_grace_ms: number;
  feed_stale_sec: number;
  timeframes: readonly Timeframe[];
};

export type MarketPipelineOptions = {
  bus: EventBus;
  /** Market time: bar boundaries, sessions, event stamps. */
  clock: Clock;
  /** The clock the feed's bytes arrive on (default `clock`): feed silence — for FeedStale and for closing bars by the clock — is measured on it. */
  ioClock?: Clock;
  calendar: TradingCalendar;
  settings: MarketSettings;
  /** `<data_dir>`: bars go to `<data_dir>/bars/`; undefined keeps them in memory. */
  dataDir?: string;
  /** Instruments streamed (the active watchlist): restored and backfilled after a restart. */
  watch?: readonly InstrumentRef[];
  /** How long after a dropped tick the counts are reported (default 60 s): drops are reported at most that often. */
  dropReportMs?: number;
  /** Requests in flight at once during the bootstrap (default 2). */
  bootstrapConcurrency?: number;
};

const key = (ref: InstrumentRef, tf: Timeframe): string => `${ref.exchange}:${ref.token}:${tf}`;

export class MarketPipeline {
  readonly sessions: SessionClock;
  readonly aggregator: Aggregator;
  readonly store: BarStore;
  readonly staleness: StalenessMonitor;
  /** What `start()` read back from data/bars/. */
  restored: RestoreReport | undefined;
  private readonly needs = new Map<string, WarmupNeed>();
  private readonly warm = new Set<string>();
  private readonly subs: Unsubscribe[] = [];
  private dropTimer: TimerHandle | undefined;
  private dropsReported = { late: 0, duplicate: 0, outsideSession: 0 };
  private dropsSince = 0;
  private disconnected = false;
  private stopped = false;
  private work: Promise<unknown>[] = [];
  private backfiller: Backfiller | undefined;

  constructor(private readonly o: MarketPipelineOptions) {
    this.sessions = new SessionClock(o.calendar);
    this.store = new BarStore({ capacity: o.settings.bar_buffer_size, ...(o.dataDir === undefined ? {} : { dir: join(o.dataDir, 'bars') }) });
    this.aggregator = new Aggregator({
      sessions: this.sessions,
      timeframes: o.settings.timeframes,
      clock: o.clock,
      feedClock: o.ioClock ?? o.clock,
      graceMs: o.settings.bar_close_grace_ms,
      onBarClosed: (bar, by) => this.closed(bar, by),
    });
    this.staleness = new StalenessMonitor({
      clock: o.ioClock ?? o.clock,
      // One clock (live, a backtest): the monitor can sleep through the night; two: it must keep looking.
      ...(o.ioClock === undefined || o.ioClock === o.clock ? {} : { marketNow: () => o.clock.now() }),
      sessions: this.sessions,
      staleMs: o.settings.feed_stale_sec * 1000,
      onStale: (silentMs, lastTickAt) => o.bus.emit('FeedStale', { silentMs, ...(lastTickAt === undefined ? {} : { lastTickAt }) }),
      onResumed: (staleMs) => o.bus.emit('FeedResumed', { staleMs }),
    });
  }

  /** Declares that a consumer needs `bars` closed bars of a stream before it is warm. Call before `online`. */
  need(...needs: WarmupNeed[]): void {
    for (const n of mergeNeeds([...this.needs.values(), ...needs])) this.needs.set(key(n.ref, n.tf), n);
  }

  /** Restores the day's bars, subscribes to the bus and starts the clocks. No network. */
  start(): void {
    const { bus, clock } = this.o;
    const now = clock.now();
    this.restored = this.store.restore(istDate(now));
    for (const ring of this.store.allRings()) {
      const last = ring.at(-1);
      if (last !== undefined) this.aggregator.restoreClosed(ring, ring.tf, last.ts, last.end);
    }
    if (this.restored.files.length > 0) {
      bus.emit('BarsRestored', { files: this.restored.files.length, bars: this.restored.bars, skippedLines: this.restored.skipped });
    }
    // Started after today's open: the minutes before now are a gap to backfill once the broker is up.
    const first = this.sessions.windowsOf(now)[0];
    if (first !== undefined && now > first.open && (this.o.watch ?? []).length > 0) this.aggregator.markGap(this.o.watch, first.open);

    this.subs.push(bus.on('Tick', (e) => this.onTick(e.data), 'market aggregator'));
    // An instrument the feed let go (an option nothing holds): its bars in progress close on market time,
    // and its stragglers are ignored until it is taken on again.
    this.subs.push(bus.on('FeedUnsubscribed', (e) => this.aggregator.feedStopped(e.data.refs), 'market streams'));
    this.subs.push(bus.on('FeedSubscribed', (e) => this.aggregator.feedStarted(e.data.refs), 'market streams'));
    // Each morning's master: the rings of yesterday's options (and anything else no longer watched
    // or needed) go, or a daemon that runs for months keeps one per contract it ever traded.
    this.subs.push(bus.on('InstrumentsLoaded', () => this.pruneRings(), 'market rings'));
    this.subs.push(bus.on('FeedDisconnected', () => {
      this.disconnected = true;
      this.aggregator.markGap();
    }, 'market gaps'));
    this.subs.push(bus.on('FeedConnected', () => {
      if (!this.disconnected) return;
      this.disconnected = false;
      if (this.backfiller !== undefined) this.track(this.backfill(this.aggregator.instruments(), 'reconnect'));
    }, 'market gaps'));
    this.staleness.start();
    this.dropsSince = now;
  }

  /** Drops rings of instruments neither watched nor needed that have no bar yet today. */
  private pruneRings(): void {
    const kept = new Set([...(this.o.watch ?? []), ...[...this.needs.values()].map((n) => n.ref)].map((r) => `${r.exchange}:${r.token}`));
    const todayOpen = this.sessions.windowsOf(this.o.clock.now())[0]?.open ?? this.o.clock.now();
    this.store.prune((ring) => kept.has(`${ring.exchange}:${ring.token}`) || (ring.at(-1)?.end ?? -Infinity) > todayOpen);
  }

  /**
   * The broker is up: backfills today's missing minutes after a restart, then
   * fetches history for every declared need. Resolves when both are done;
   * never rejects (failures become events).
   */
  async online(broker: Pick<Broker, 'candles'>): Promise<{ backfill: BackfillResult[]; bootstrap: StreamResult[] }> {
    const { clock } = this.o;
    const cancelled = (): boolean => this.stopped;
    this.backfiller = new Backfiller({ broker, aggregator: this.aggregator, now: () => clock.now(), cancelled });
    const backfill = await this.track(this.backfill(this.o.watch ?? [], 'restart'));
    // History stops at today's open: today's bars come from the day file, the backfill and the live feed.
    const first = this.sessions.windowsOf(clock.now())[0];
    const bootstrap = new Bootstrap({
      broker,
      store: this.store,
      sessions: this.sessions,
      now: () => (first === undefined ? clock.now() : Math.min(clock.now(), first.open)),
      concurrency: this.o.bootstrapConcurrency ?? 2,
      cancelled,
      onStream: (r) => {
        if (this.stopped) return;
        if (r.error !== undefined) this.o.bus.emit('HistoryFetchFailed', { token: r.ref.token, exchange: r.ref.exchange, tf: r.tf, error: r.error });
        this.checkWarm(r.ref, r.tf);
      },
    });
    for (const n of this.needs.values()) this.checkWarm(n.ref, n.tf);
    const results = await this.track(bootstrap.run([...this.needs.values()].filter((n) => !this.warm.has(key(n.ref, n.tf)))));
    return { backfill, bootstrap: results };
  }

  /** Closed bars of a stream (the ring indicators read). */
  bars(ref: InstrumentRef, tf: Timeframe): BarRing {
    return this.store.ring(ref, tf);
  }

  /** The bar in progress. */
  partial(ref: InstrumentRef, tf: Timeframe): Bar | undefined {
    return this.aggregator.partial(ref, tf);
  }

  /** Whether a declared stream has its bars. */
  isWarm(ref: InstrumentRef, tf: Timeframe): boolean {
    return this.warm.has(key(ref, tf));
  }

  /**
   * Stops timers and the bus subscriptions and closes the day file. After the
   * day's last close every open bar is finalised first; mid-session open bars
   * stay open (a restart rebuilds them by backfill). Waits for backfill and
   * history work in flight to settle (the broker is closed first, so they end
   * quickly).
   */
  async stop(): Promise<void> {
    if (this.stopped) return;
    const now = this.o.clock.now();
    if (now >= this.sessions.dayEnd(now)) this.aggregator.finalize();
    this.reportDrops();
    this.stopped = true;
    for (const u of this.subs.splice(0)) u();
    if (this.dropTimer !== undefined) this.o.clock.cancel(this.dropTimer);
    this.aggregator.stop();
    this.staleness.stop();
    await Promise.allSettled(this.work);
    this.store.close();
  }

  private onTick(t: Tick): void {
    this.staleness.touch((this.o.ioClock ?? this.o.clock).now());
    const d = this.aggregator.dropped;
    const before = d.late + d.duplicate + d.outsideSession;
    this.aggregator.onTick(t);
    // A report is due a period after the first drop not yet reported: no timer while nothing drops
    // (a minute timer for ever was most of a backtest's nights).
    if (this.dropTimer === undefined && d.late + d.duplicate + d.outsideSession !== before) {
      this.dropTimer = this.o.clock.setTimer(this.o.clock.now() + (this.o.dropReportMs ?? 60_000), () => {
        this.dropTimer = undefined;
        this.reportDrops();
      });
    }
  }

  private closed(bar: Bar, closedBy: ClosedBy): void {
    if (this.stopped || !this.store.append(bar)) return;
    const data = {
      token: bar.token, exchange: bar.exchange, tf: bar.tf, ts: bar.ts, end: bar.end,
      open: bar.open, high: bar.high, low: bar.low, close: bar.close,
      ...(bar.volume === undefined ? {} : { volume: bar.volume }),
      ticks: bar.ticks, backfilled: bar.backfilled, closedBy,
    };
    this.o.bus.emit('BarClosed', data);
    if (this.warm.size < this.needs.size) this.checkWarm(bar, bar.tf);
  }

  private checkWarm(ref: InstrumentRef, tf: Timeframe): void {
    const k = key(ref, tf);
    const need = this.needs.get(k);
    if (need === undefined || this.warm.has(k)) return;
    const bars = this.store.ring(ref, tf).length;
    if (bars < need.bars) return;
    this.warm.add(k);
    this.o.bus.emit('StreamWarm', { token: ref.token, exchange: ref.exchange, tf, bars, need: need.bars });
  }

  private async backfill(refs: readonly InstrumentRef[], reason: BackfillReason): Promise<BackfillResult[]> {
    const results = await this.backfiller!.fill(refs, reason);
    if (!this.stopped) {
      for (const r of results) {
        if (r.error !== undefined) {
          this.o.bus.emit('HistoryFetchFailed', { token: r.ref.token, exchange: r.ref.exchange, tf: '1m', error: `backfill: ${r.error}` });
        } else if (r.minutes > 0) {
          this.o.bus.emit('BarsBackfilled', { token: r.ref.token, exchange: r.ref.exchange, from: r.from, to: r.to, minutes: r.minutes, reason });
        }
      }
    }
    return results;
  }

  private track<T>(p: Promise<T>): Promise<T> {
    const settled = p.catch(() => undefined);
    this.work.push(settled);
    void settled.then(() => {
      this.work = this.work.filter((w) => w !== settled);
    });
    return p;
  }

  private reportDrops(): void {
    if (this.stopped) return;
    const d = this.aggregator.dropped;
    const r = this.dropsReported;
    const late = d.late - r.late;
    const duplicate = d.duplicate - r.duplicate;
    const outsideSession = d.outsideSession - r.outsideSession;
    if (late + duplicate + outsideSession === 0) return;
    this.o.bus.emit('TicksDropped', { late, duplicate, outsideSession, sinceMs: this.dropsSince });
    this.dropsReported = { ...d };
    this.dropsSince = this.o.clock.now();
  }
}
