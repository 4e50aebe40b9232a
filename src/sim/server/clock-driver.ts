/**
 * Moves simulated time. A `SimClock` holds sim time; this driver is the only
 * place in the simulator that uses real timers. At speed X sim time runs X×
 * real time; at `max` it runs as fast as the slowest market-data client reads
 * (it holds back while any socket has more than `highWaterBytes` queued);
 * speed 0 is paused. Sim time stays inside the replayed day's session
 * (`openMs..closeMs`); reaching the close fires `onSessionEnd` once.
 * `advanceTo` moves time on demand (admin endpoint, tests) whatever the speed.
 */
import { SimClock } from '../../core/clock.js';
import type { SimMarket, SimQuote } from '../market/types.js';

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
};

/** Sim ms per market step at `max` speed and in `advanceTo`. */
export const STEP_MS = 250;
/** Real ms one loop turn may run before yielding to I/O. */
const SLICE_MS = 8;

export class ClockDriver {
  readonly clock: SimClock;
  private speedValue: Speed;
  private timer: NodeJS.Timeout | NodeJS.Immediate | undefined;
  private lastWall: number;
  private manual = 0;
  private closed = false;
  private ended = false;

  constructor(private readonly o: ClockDriverOptions) {
    const start = Math.min(Math.max(o.startMs, o.market.openMs), o.market.closeMs);
    this.clock = new SimClock(start);
    // Bring the market to the start time; no tokens, so nothing is priced or sent.
    if (start > o.market.openMs) o.market.advanceTo(start, new Set(), () => {});
    this.speedValue = o.speed;
    this.lastWall = o.wallNow();
    if (start >= o.market.closeMs) this.ended = true;
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

  /** Advances sim time to `targetMs` (clamped to the session), respecting backpressure and stalls. */
  async advanceTo(targetMs: number): Promise<void> {
    const target = Math.min(targetMs, this.o.market.closeMs);
    this.manual++;
    try {
      let sliceStart = this.o.wallNow();
      while (!this.closed && this.clock.now() < target) {
        if (this.o.stalled() || this.o.backlogged()) {
          await new Promise((r) => setTimeout(r, 1));
          sliceStart = this.o.wallNow();
          continue;
        }
        this.step(Math.min(target, this.clock.now() + STEP_MS));
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
      const close = this.o.market.closeMs;
      while (this.clock.now() < close && this.o.wallNow() - wall < SLICE_MS && !this.o.backlogged() && this.o.requestsInFlight?.() !== true) {
        this.step(Math.min(close, this.clock.now() + STEP_MS));
      }
    } else {
      const target = Math.min(this.o.market.closeMs, this.clock.now() + (wall - this.lastWall) * this.speedValue);
      if (target > this.clock.now()) this.step(target);
    }
    this.lastWall = wall;
    this.schedule();
  }

  private step(target: number): void {
    if (target <= this.clock.now()) return;
    const clock = this.clock;
    this.o.market.advanceTo(target, this.o.tokens(), (q) => {
      if (q.ts > clock.now()) clock.advanceTo(q.ts);
      this.o.onTick(q);
    });
    clock.advanceTo(target);
    if (target >= this.o.market.closeMs && !this.ended) {
      this.ended = true;
      this.o.onSessionEnd();
    }
  }
}
