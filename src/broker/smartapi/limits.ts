/**
 * Client-side rate limits per endpoint group (protocol notes §9).
 *
 * Each group has up to three windows (per second, per minute, per hour), each
 * a count of tokens in use against its cap; a request leaves only when every
 * window of its group has room, in FIFO order per group. A token is handed
 * back one window (+ a small margin) after the request's ANSWER (or failure)
 * — a sliding window, not a fixed one, counted from a moment the broker had
 * certainly seen the request, so no stretch of `window` ms at the broker ever
 * sees more than the cap, whatever the broker's own counting and the network
 * latency. The hand-back timers run on the Clock.
 *
 * A request with room leaves synchronously, without a timer: an order must
 * not wait for the limiter when there is nothing to wait for. (Bottleneck,
 * used here before, yields through setTimeout on every step; three chained
 * windows cost 9–12 ms per order — `trading.signal_to_wire` in
 * test/bench/trading.bench.ts measured it against a 2 ms goal.)
 */
import type { Clock, TimerHandle } from '../../core/clock.js';

export type LimitGroup =
  | 'login'
  | 'generateTokens'
  | 'profile'
  | 'logout'
  | 'rms'
  /** placeOrder + modifyOrder + cancelOrder share one budget. */
  | 'orders'
  | 'orderBook'
  | 'tradeBook'
  | 'orderDetails'
  | 'ltp'
  | 'positions'
  | 'convertPosition'
  | 'searchScrip'
  | 'holdings'
  | 'quote'
  | 'margin'
  | 'candles'
  | 'optionGreek';

/** Caps of one group; an absent window has no cap. */
export type WindowCaps = { perSecond?: number; perMinute?: number; perHour?: number };

export type RateLimits = {
  groups: Record<LimitGroup, WindowCaps>;
  /** Window lengths; tests shrink them. */
  windowMs: { second: number; minute: number; hour: number };
  /** Added to every window before a token is handed back (broker clock granularity). */
  marginMs: number;
};

/** §9 "current docs" table; quote at 1/s (the Live-Market-Data page's safe reading, not the table's 10/s). */
export const DEFAULT_LIMITS: RateLimits = {
  groups: {
    login: { perSecond: 1 },
    generateTokens: { perSecond: 1, perHour: 1000 },
    profile: { perSecond: 3, perHour: 1000 },
    logout: { perSecond: 1 },
    rms: { perSecond: 2 },
    orders: { perSecond: 9, perMinute: 500, perHour: 1000 },
    orderBook: { perSecond: 1 },
    tradeBook: { perSecond: 1 },
    orderDetails: { perSecond: 10, perMinute: 500, perHour: 5000 },
    ltp: { perSecond: 10, perMinute: 500, perHour: 5000 },
    positions: { perSecond: 1 },
    convertPosition: { perSecond: 10, perMinute: 500, perHour: 5000 },
    searchScrip: { perSecond: 1 },
    holdings: { perSecond: 1 },
    quote: { perSecond: 1 },
    margin: { perSecond: 10, perMinute: 500, perHour: 5000 },
    candles: { perSecond: 3, perMinute: 180, perHour: 5000 },
    optionGreek: { perSecond: 1 },
  },
  windowMs: { second: 1000, minute: 60_000, hour: 3_600_000 },
  marginMs: 25,
};

/** Deep-merges a partial override (e.g. from config) onto the defaults. */
export function resolveLimits(over?: {
  groups?: Partial<Record<LimitGroup, WindowCaps>>;
  windowMs?: Partial<RateLimits['windowMs']>;
  marginMs?: number;
}): RateLimits {
  const groups = { ...DEFAULT_LIMITS.groups };
  for (const [g, caps] of Object.entries(over?.groups ?? {}) as [LimitGroup, WindowCaps][]) groups[g] = { ...caps };
  for (const [g, caps] of Object.entries(groups)) {
    for (const [w, n] of Object.entries(caps)) {
      if (n !== undefined && !(Number.isInteger(n) && n > 0)) throw new RangeError(`rate limit ${g}.${w} must be a positive integer, got ${n}`);
    }
  }
  return {
    groups,
    windowMs: { ...DEFAULT_LIMITS.windowMs, ...over?.windowMs },
    marginMs: over?.marginMs ?? DEFAULT_LIMITS.marginMs,
  };
}

/**
 * One sliding window of a group: `inUse` tokens out, each handed back at its
 * time in `releases` (a FIFO: requests end in time order), by ONE timer set
 * for the earliest — not a timer per request, which in an hour's window
 * would keep a thousand alive.
 */
type Window = { cap: number; ms: number; inUse: number; releases: number[]; head: number; timer: TimerHandle | undefined };
type Waiting = { start: () => void; drop: (err: Error) => void };
type Group = { windows: Window[]; queue: Waiting[] };

export class RateLimiter {
  private readonly groups = new Map<LimitGroup, Group>();
  private stopped = false;

  constructor(
    readonly limits: RateLimits,
    private readonly clock: Clock,
  ) {
    for (const [group, caps] of Object.entries(limits.groups) as [LimitGroup, WindowCaps][]) {
      const windows: Window[] = [];
      const add = (cap: number | undefined, ms: number): void => {
        if (cap !== undefined) windows.push({ cap, ms: ms + limits.marginMs, inUse: 0, releases: [], head: 0, timer: undefined });
      };
      add(caps.perSecond, limits.windowMs.second);
      add(caps.perMinute, limits.windowMs.minute);
      add(caps.perHour, limits.windowMs.hour);
      this.groups.set(group, { windows, queue: [] });
    }
  }

  /** Runs `fn` (which sends one request) as soon as every window of `group` has room. FIFO per group. */
  schedule<T>(group: LimitGroup, fn: () => Promise<T>): Promise<T> {
    if (this.stopped) return Promise.reject(new Error(`rate limiter stopped; ${group} request not sent`));
    const g = this.groups.get(group);
    if (g === undefined || g.windows.length === 0) return fn();
    return new Promise<T>((resolve, reject) => {
      const start = (): void => {
        for (const w of g.windows) w.inUse++;
        let run: Promise<T>;
        try {
          run = fn();
        } catch (err) {
          run = Promise.reject(err);
        }
        run.then(resolve, reject).finally(() => this.handBack(g));
      };
      if (g.queue.length === 0 && this.hasRoom(g)) start();
      else g.queue.push({ start, drop: reject });
    });
  }

  /** Hand-back timers pending: at most one per window with tokens out. */
  get pendingHandBacks(): number {
    let n = 0;
    for (const g of this.groups.values()) for (const w of g.windows) if (w.timer !== undefined) n++;
    return n;
  }

  /** Requests waiting for room in `group`. */
  queued(group: LimitGroup): number {
    return this.groups.get(group)?.queue.length ?? 0;
  }

  /** Drops waiting requests and cancels the hand-back timers. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const g of this.groups.values()) {
      for (const w of g.windows) {
        if (w.timer !== undefined) this.clock.cancel(w.timer);
        w.timer = undefined;
      }
    }
    // What still waits was never sent: it fails loudly rather than hanging.
    for (const [group, g] of this.groups) for (const w of g.queue.splice(0)) w.drop(new Error(`rate limiter stopped; ${group} request not sent`));
  }

  private hasRoom(g: Group): boolean {
    for (const w of g.windows) if (w.inUse >= w.cap) return false;
    return true;
  }

  /**
   * Counted from the END of the request: the broker saw it somewhere between
   * start and answer, so handing the token back one window after the answer
   * holds the cap at the broker whatever the latency was.
   */
  private handBack(g: Group): void {
    if (this.stopped) return;
    const at = this.clock.now();
    for (const w of g.windows) {
      w.releases.push(at + w.ms);
      if (w.timer === undefined) this.arm(g, w);
    }
  }

  /** Sets the window's timer for its earliest hand-back; on firing, hands back every token due and lets the queue go. */
  private arm(g: Group, w: Window): void {
    w.timer = this.clock.setTimer(w.releases[w.head]!, () => {
      w.timer = undefined;
      const now = this.clock.now();
      while (w.head < w.releases.length && w.releases[w.head]! <= now) {
        w.head++;
        w.inUse--;
      }
      if (w.head === w.releases.length) {
        w.releases.length = 0;
        w.head = 0;
      } else {
        if (w.head > 1024) {
          w.releases.splice(0, w.head);
          w.head = 0;
        }
        this.arm(g, w);
      }
      while (g.queue.length > 0 && this.hasRoom(g) && !this.stopped) g.queue.shift()!.start();
    });
  }
}
