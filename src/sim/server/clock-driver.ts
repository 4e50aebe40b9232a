/**
 * Moves simulated time. A `SimClock` holds sim time; this driver is the only
 * place in the simulator that uses real timers. At speed X sim time runs X×
 * real time; at `max` it runs as fast as the slowest market-data client reads
 * (it holds back while any socket has more than `highWaterBytes` queued);
 * speed 0 is paused. Sim time stays inside the replayed day's session
 * (`openMs..closeMs`); reaching the close fires `onSessionEnd` once.
 * `advanceTo` moves time on demand (admin endpoint, tests) whatever the speed.
 *
 * Consecutive days (`nextMarket`): after a close time runs on through the
 * night — weekends and holidays included, as calendar time with nothing
 * trading — to the next day's open. The next day's market takes over at the
 * IST midnight that starts that day (`onNewDay`: its instrument master,
 * quotes and candles; the broker's sessions die at that same midnight). At
 * `max` speed a night moves from one timer of the clock to the next (at most
 * `NIGHT_STEP_MS` at a time), checking the holds between them, so an
 * in-process client's night work (its morning login) happens at its own
 * market time and finishes before time moves on. `onSessionEnd` fires at every
 * close; `sessionOver` only once the last day has closed.
 */
import { SimClock } from '../../core/clock.js';
import type { SimMarket, SimQuote } from '../market/types.js';
import { istDayStart } from './util.js';

export type Speed = number | 'max';

export type ClockDriverOptions = {
  market: SimMarket;
  startMs: number;
  speed: Speed;
  wallNow: () => number;
  /** Tokens the market must price (subscriptions, live orders, positions). */
  tokens: () => ReadonlySet<string>;
  onTick: (q: SimQuote) => void;
  /** True while a client is behind: the driver waits. */
  backlogged: () => boolean;
  /**
   * True while REST requests are being answered (or an in-process client says
   * it is busy). At `max` speed the market waits for them too, so a client's
   * quotes and orders take no market time however fast the replay runs, as
   * against a broker that answers at once. At a set speed time runs on (a
   * slow answer costs market time, as live).
   */
  requestsInFlight?: () => boolean;
  /** True while a feed-stall fault holds time still. */
  stalled: () => boolean;
  onSessionEnd: () => void;
  /**
   * Consecutive days: the market of the trading day after the one that just
   * closed, or undefined when the replay ends there. Called once per close.
   * Without it (default) the replay is the one day.
   */
  nextMarket?: () => SimMarket | undefined;
  /** The next day's market took over (at the IST midnight that starts its day). */
  onNewDay?: (market: SimMarket) => void;
};

/** Sim ms per market step at `max` speed and in `advanceTo`. */
export const STEP_MS = 250;
/** Longest sim step between two timers at night (no ticks then), at `max` speed and in `advanceTo`. */
export const NIGHT_STEP_MS = 60_000;
/** Real ms one loop turn may run before yielding to I/O. */
const SLICE_MS = 8;

export class ClockDriver {
  readonly clock: SimClock;
  private speedValue: Speed;
  private timer: NodeJS.Timeout | NodeJS.Immediate | undefined;
  private lastWall: number;
  private manual = 0;
  private closed = false;
  /** The last day has closed: the replay is over. */
  private ended = false;
  /** The current day's market (the replayed day; with consecutive days, the latest to take over). */
  private market: SimMarket;
  /** The current day has closed (onSessionEnd fired). */
  private dayOver = false;
  /** After a close: the next day's market, waiting for its midnight. */
  private upcoming: SimMarket | undefined;

  constructor(private readonly o: ClockDriverOptions) {
    this.market = o.market;
    const start = Math.min(Math.max(o.startMs, o.market.openMs), o.market.closeMs);
    this.clock = new SimClock(start);
    // Bring the market to the start time; no tokens, so nothing is priced or sent.
    if (start > o.market.openMs) o.market.advanceTo(start, new Set(), () => {});
    this.speedValue = o.speed;
    this.lastWall = o.wallNow();
    if (start >= o.market.closeMs) {
      // Nothing was booked yet, so there is nothing for onSessionEnd to cancel.
      this.dayOver = true;
      this.upcoming = o.nextMarket?.();
      if (this.upcoming === undefined) this.ended = true;
    }
  }

  /** The current day's market. */
  get current(): SimMarket {
    return this.market;
  }

  /** Between a close and the next open (always false for a one-day replay). */
  get night(): boolean {
    return this.dayOver || this.clock.now() < this.market.openMs;
  }

  get speed(): Speed {
    return this.speedValue;
  }

  get sessionOver(): boolean {
    return this.ended;
  }

  now(): number {
    return this.clock.now();
  }

  setSpeed(s: Speed): void {
    if (s !== 'max' && !(Number.isFinite(s) && s >= 0)) throw new RangeError(`speed must be a number ≥ 0 or 'max', got ${String(s)}`);
    this.speedValue = s;
    this.lastWall = this.o.wallNow();
    this.cancelTimer();
    this.schedule();
  }

  start(): void {
    this.schedule();
  }

  stop(): void {
    this.closed = true;
    this.cancelTimer();
  }

  /** Advances sim time to `targetMs` (clamped to the session; with consecutive days, to the last one's close), respecting backpressure and stalls. */
  async advanceTo(targetMs: number): Promise<void> {
    const target = this.o.nextMarket === undefined ? Math.min(targetMs, this.o.market.closeMs) : targetMs;
    this.manual++;
    try {
      let sliceStart = this.o.wallNow();
      while (!this.closed && !this.ended && this.clock.now() < target) {
        if (this.o.stalled() || this.o.backlogged()) {
          await new Promise((r) => setTimeout(r, 1));
          sliceStart = this.o.wallNow();
          continue;
        }
        this.step(this.nextTarget(target));
        if (this.o.wallNow() - sliceStart > SLICE_MS) {
          await new Promise((r) => setImmediate(r));
          sliceStart = this.o.wallNow();
        }
      }
    } finally {
      this.manual--;
      this.lastWall = this.o.wallNow();
    }
  }

  private schedule(): void {
    if (this.closed || this.ended || this.timer !== undefined || this.speedValue === 0) return;
    if (this.speedValue === 'max') this.timer = setImmediate(() => this.loop());
    else this.timer = setTimeout(() => this.loop(), 10);
  }

  private cancelTimer(): void {
    if (this.timer === undefined) return;
    clearTimeout(this.timer as NodeJS.Timeout);
    clearImmediate(this.timer as NodeJS.Immediate);
    this.timer = undefined;
  }

  private loop(): void {
    this.timer = undefined;
    if (this.closed || this.ended || this.speedValue === 0) return;
    const wall = this.o.wallNow();
    if (this.manual > 0 || this.o.stalled() || this.o.backlogged()) {
      // Time lost to a stall or a slow reader is not made up afterwards.
      this.lastWall = wall;
      this.timer = setTimeout(() => this.loop(), 1);
      return;
    }
    if (this.speedValue === 'max' && this.o.requestsInFlight?.() === true) {
      // Waiting for a client's work: look again on the next turn of the event loop (after its I/O), not a timer's millisecond later.
      this.timer = setImmediate(() => this.loop());
      return;
    }
    if (this.speedValue === 'max') {
      while (!this.ended && this.o.wallNow() - wall < SLICE_MS && !this.o.backlogged() && this.o.requestsInFlight?.() !== true) {
        this.step(this.nextTarget(Infinity));
      }
    } else {
      const limit = this.upcoming === undefined && !this.night ? this.market.closeMs : Infinity;
      const target = Math.min(limit, this.clock.now() + (wall - this.lastWall) * this.speedValue);
      if (target > this.clock.now()) this.step(target);
    }
    this.lastWall = wall;
    this.schedule();
  }

  /**
   * The next step's end, at most `limit`: `STEP_MS` in session (never past the
   * close); at night the next timer of the clock, the next day's midnight or
   * open, or `NIGHT_STEP_MS`, whichever comes first.
   */
  private nextTarget(limit: number): number {
    const now = this.clock.now();
    if (!this.night) return Math.min(limit, this.market.closeMs, now + STEP_MS);
    let t = Math.min(limit, now + NIGHT_STEP_MS, this.upcoming === undefined ? this.market.openMs : istDayStart(this.upcoming.openMs));
    const timer = this.clock.nextTimerAt();
    if (timer !== undefined && timer > now && timer < t) t = timer;
    return t;
  }

  /** Moves time to `target`, stopping at each boundary on the way (the close, the next day's midnight). */
  private step(target: number): void {
    while (!this.ended && this.clock.now() < target) {
      let seg = target;
      if (!this.dayOver && this.market.closeMs > this.clock.now()) seg = Math.min(seg, this.market.closeMs);
      if (this.upcoming !== undefined) seg = Math.min(seg, istDayStart(this.upcoming.openMs));
      this.segment(seg);
    }
  }

  private segment(target: number): void {
    const clock = this.clock;
    const market = this.market;
    // Before its open a day's market has nothing to send (and cannot be moved to a time before its start).
    if (target >= market.openMs) {
      market.advanceTo(target, this.o.tokens(), (q) => {
        if (q.ts > clock.now()) clock.advanceTo(q.ts);
        this.o.onTick(q);
      });
    }
    clock.advanceTo(target);
    if (!this.dayOver && target >= market.closeMs) {
      this.dayOver = true;
      this.o.onSessionEnd();
      this.upcoming = this.o.nextMarket?.();
      if (this.upcoming === undefined) this.ended = true;
    }
    if (this.upcoming !== undefined && target >= istDayStart(this.upcoming.openMs)) {
      this.market = this.upcoming;
      this.upcoming = undefined;
      this.dayOver = false;
      this.o.onNewDay?.(this.market);
    }
  }
}
