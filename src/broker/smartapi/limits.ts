/**
 * Client-side rate limits per endpoint group (protocol notes §9).
 *
 * Each group has up to three windows (per second, per minute, per hour). Each
 * window is one Bottleneck limiter whose reservoir is the window's cap; the
 * limiters of a group are chained, so a request leaves only when every window
 * has room. A reservoir token is handed back one window (+ a small margin)
 * after the request's ANSWER (or failure) — a sliding window, not a fixed one,
 * counted from a moment the broker had certainly seen the request, so no
 * stretch of `window` ms at the broker ever sees more than the cap, whatever
 * the broker's own counting and the network latency. The cost is one round
 * trip per window. The hand-back timers run on the Clock.
 */
import Bottleneck from 'bottleneck';
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

type Window = { limiter: Bottleneck; ms: number };

export class RateLimiter {
  private readonly chains = new Map<LimitGroup, Window[]>();
  private readonly timers = new Set<TimerHandle>();
  private readonly waiting = new Map<LimitGroup, number>();
  private stopped = false;

  constructor(
    readonly limits: RateLimits,
    private readonly clock: Clock,
  ) {
    for (const [group, caps] of Object.entries(limits.groups) as [LimitGroup, WindowCaps][]) {
      const windows: Window[] = [];
      const add = (cap: number | undefined, ms: number, label: string): void => {
        if (cap === undefined) return;
        windows.push({ limiter: new Bottleneck({ reservoir: cap, id: `${group}-${label}` }), ms: ms + limits.marginMs });
      };
      add(caps.perSecond, limits.windowMs.second, 's');
      add(caps.perMinute, limits.windowMs.minute, 'min');
      add(caps.perHour, limits.windowMs.hour, 'h');
      for (let i = 0; i + 1 < windows.length; i++) windows[i]!.limiter.chain(windows[i + 1]!.limiter);
      this.chains.set(group, windows);
    }
  }

  /** Runs `fn` (which sends one request) as soon as every window of `group` has room. FIFO per group. */
  schedule<T>(group: LimitGroup, fn: () => Promise<T>): Promise<T> {
    if (this.stopped) return Promise.reject(new Error(`rate limiter stopped; ${group} request not sent`));
    const windows = this.chains.get(group);
    if (windows === undefined || windows.length === 0) return fn();
    this.waiting.set(group, (this.waiting.get(group) ?? 0) + 1);
    const job = async (): Promise<T> => {
      this.waiting.set(group, (this.waiting.get(group) ?? 1) - 1);
      try {
        return await fn();
      } finally {
        // Counted from the END of the request: the broker saw it somewhere between start and answer,
        // so handing the token back one window after the answer holds the cap at the broker whatever
        // the latency (a new TLS connection vs a reused one) was.
        const at = this.clock.now();
        if (!this.stopped) {
          for (const w of windows) {
            const h: TimerHandle = this.clock.setTimer(at + w.ms, () => {
              this.timers.delete(h);
              void w.limiter.incrementReservoir(1);
            });
            this.timers.add(h);
          }
        }
      }
    };
    return windows[0]!.limiter.schedule(job);
  }

  /** Requests waiting for room in `group`. */
  queued(group: LimitGroup): number {
    return this.waiting.get(group) ?? 0;
  }

  /** Drops waiting requests and cancels the hand-back timers. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const h of this.timers) this.clock.cancel(h);
    this.timers.clear();
    await Promise.all(
      [...this.chains.values()].flat().map((w) => w.limiter.stop({ dropWaitingJobs: true, dropErrorMessage: 'rate limiter stopped' }).catch(() => {})),
    );
  }
}
