/**
 * Feed staleness: no tick at all for `staleMs` during the session → stale
 * (`FeedStale`: entries pause); the next tick → resumed (`FeedResumed`).
 *
 * Two clocks, as in the daemon: the session is judged on market time
 * (`marketNow`), the silence is measured on `clock` — the clock that paces
 * the network (real time live, where the two are one; in the demo market
 * time runs ahead of delivery, and silence there means no bytes for real
 * seconds). Silence counts from the later of the last tick and the moment
 * the session opened, so the night and the pre-open never count. Outside the
 * session nothing is checked; a stale state that lasts past the close ends
 * with the next tick. One timer at a time, set for the moment the feed would
 * turn stale: a tick costs one store.
 */
import type { Clock, TimerHandle } from '../core/clock.js';
import type { SessionClock } from './timeframes.js';

export type StalenessOptions = {
  /** Measures the silence and runs the timers. */
  clock: Clock;
  /** Market time, for the session windows (default: `clock`). */
  marketNow?: () => number;
  sessions: SessionClock;
  staleMs: number;
  onStale: (silentMs: number, lastTickAt: number | undefined) => void;
  onResumed: (staleMs: number) => void;
};

export class StalenessMonitor {
  private lastTick = -Infinity;
  private staleFrom: number | undefined;
  private timer: TimerHandle | undefined;
  private running = false;
  /** `clock` time at which the current session window opened (undefined: out of session at the last check). */
  private openedAt: number | undefined;

  constructor(private readonly o: StalenessOptions) {}

  get isStale(): boolean {
    return this.staleFrom !== undefined;
  }

  start(): void {
    this.running = true;
    this.check();
  }

  stop(): void {
    this.running = false;
    if (this.timer !== undefined) this.o.clock.cancel(this.timer);
    this.timer = undefined;
  }

  /** A tick arrived now. */
  touch(now: number): void {
    this.lastTick = now;
    if (this.staleFrom !== undefined) {
      const from = this.staleFrom;
      this.staleFrom = undefined;
      this.o.onResumed(Math.max(0, now - from));
      if (this.running && this.timer === undefined) this.check();
    }
  }

  private check(): void {
    this.timer = undefined;
    if (!this.running) return;
    const { clock, sessions, staleMs } = this.o;
    const now = clock.now();
    const market = this.o.marketNow?.() ?? now;
    const w = sessions.windowAt(market);
    if (w === undefined) {
      this.openedAt = undefined;
      const next = sessions.calendar.nextWindowAfter(market);
      if (next === undefined) return;
      // One clock (live): exact, the night passes in one timer. Two: market time may run ahead of this
      // clock (the demo), so look again at least every minute.
      const wait = Math.max(1, next.open + staleMs - market);
      this.arm(now + (this.o.marketNow === undefined ? wait : Math.min(60_000, wait)));
      return;
    }
    this.openedAt ??= now - (market - w.open);
    if (this.staleFrom !== undefined) return; // stale: the next tick re-arms
    const silentFrom = Math.max(this.lastTick, this.openedAt);
    if (now - silentFrom >= staleMs) {
      this.staleFrom = silentFrom;
      this.o.onStale(now - silentFrom, this.lastTick === -Infinity ? undefined : this.lastTick);
      return;
    }
    this.arm(now + Math.min(silentFrom + staleMs - now, Math.max(1, w.close - market)));
  }

  private arm(at: number): void {
    this.timer = this.o.clock.setTimer(at, () => this.check());
  }
}
