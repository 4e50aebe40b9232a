/**
 * History bootstrap: before the entry window, fetch enough closed bars for
 * every stream (instrument × timeframe) a consumer declared it needs, so its
 * indicators are warm.
 *
 * - A consumer declares `{ ref, tf, bars }`; needs for one stream take the
 *   largest.
 * - The range is estimated from trading days (calendar: weekends, holidays,
 *   special sessions) with a margin; if the broker still returns too few bars
 *   (sessions missing at the broker), the range is extended back, at most
 *   `maxRounds` times.
 * - Each range is split by the broker's per-request limit for the timeframe
 *   (1m 30 days, 3m 60, 5m 100, 15m 200, 1h 400, 1d 2000 calendar days,
 *   both ends counted) and requested one chunk at a time per stream, with at
 *   most `concurrency` requests in flight overall: the adapter's rate limiter
 *   paces them, this only keeps hundreds from queueing at once.
 * - Only complete bars (end ≤ now) inside a session are kept; the candle in
 *   progress is not a closed bar. A broker candle with volume 0 has no volume.
 * - History goes into the rings (not the day files) and merges with bars
 *   already there (restored ones win).
 */
import type { Broker, CandleRequest, InstrumentRef } from '../broker/broker.js';
import { istDate, istToMillis } from '../core/clock.js';
import type { Bar } from './bar.js';
import type { BarStore } from './bar-store.js';
import { addDays } from './calendar.js';
import { BARS_PER_SESSION, CANDLE_MAX_DAYS, type SessionClock, type Timeframe } from './timeframes.js';

export type WarmupNeed = { ref: InstrumentRef; tf: Timeframe; bars: number };

export type StreamResult = { ref: InstrumentRef; tf: Timeframe; need: number; bars: number; requests: number; error?: string };

export type BootstrapOptions = {
  broker: Pick<Broker, 'candles'>;
  store: BarStore;
  sessions: SessionClock;
  /** Market time "now": only bars closed by then are history. */
  now: () => number;
  /** Requests in flight at once, across all streams (default 2). */
  concurrency?: number;
  /** Extensions of the range when the broker returns too few bars (default 3). */
  maxRounds?: number;
  /** Called as each stream finishes (warm or not). */
  onStream?: (r: StreamResult) => void;
  /** Stops issuing requests when true (the daemon is stopping). */
  cancelled?: () => boolean;
};

/** Merges needs: one per stream, the largest count. */
export function mergeNeeds(needs: readonly WarmupNeed[]): WarmupNeed[] {
  const byKey = new Map<string, WarmupNeed>();
  for (const n of needs) {
    const k = `${n.ref.exchange}:${n.ref.token}:${n.tf}`;
    const cur = byKey.get(k);
    if (cur === undefined || n.bars > cur.bars) byKey.set(k, { ref: { exchange: n.ref.exchange, token: n.ref.token }, tf: n.tf, bars: n.bars });
  }
  return [...byKey.values()];
}

/** The IST date `sessions` trading days back from `date` (inclusive of `date` if it has a session). */
export function tradingDaysBack(sessions: SessionClock, date: string, count: number): string {
  let d = date;
  let found = 0;
  for (let i = 0; i < 5000; i++) {
    if (sessions.calendar.sessionWindows(d).length > 0 && ++found >= count) return d;
    d = addDays(d, -1);
  }
  return d;
}

/**
 * Splits [from, to] (epoch ms, `to` inclusive, minute resolution) into
 * requests no longer than the timeframe's limit in calendar days, counting
 * both ends' dates: chunk k covers `maxDays` dates from its first.
 */
export function chunkRange(ref: InstrumentRef, tf: Timeframe, from: number, to: number): CandleRequest[] {
  const out: CandleRequest[] = [];
  const maxDays = CANDLE_MAX_DAYS[tf];
  let start = from;
  while (start <= to) {
    const nextDayStart = istToMillis(addDays(istDate(start), maxDays));
    const end = Math.min(to, nextDayStart - 60_000);
    out.push({ exchange: ref.exchange, token: ref.token, interval: tf, from: start, to: end });
    start = nextDayStart;
  }
  return out;
}

/** The requests that fetch `days` trading days of `tf` history up to `now`. */
export function planHistory(need: WarmupNeed, sessions: SessionClock, now: number, days: number): CandleRequest[] {
  const first = tradingDaysBack(sessions, istDate(now), days);
  return chunkRange(need.ref, need.tf, istToMillis(first), now - (now % 60_000));
}

/** Trading days to ask for first: the bars needed over bars per session, plus today and a margin for short sessions. */
export function initialDays(need: WarmupNeed): number {
  return Math.ceil((need.bars / BARS_PER_SESSION[need.tf]) * 1.2) + 2;
}

export class Bootstrap {
  /** Requests issued, in order (for reports and tests). */
  readonly requests: CandleRequest[] = [];
  private inFlight = 0;
  private readonly waiters: (() => void)[] = [];

  constructor(private readonly o: BootstrapOptions) {}

  /** Fetches history for every need; resolves when all streams are done (never rejects: failures are in the results). */
  async run(needs: readonly WarmupNeed[]): Promise<StreamResult[]> {
    return Promise.all(mergeNeeds(needs).filter((n) => n.bars > 0).map((n) => this.stream(n)));
  }

  private async stream(need: WarmupNeed): Promise<StreamResult> {
    const { store, sessions } = this.o;
    const ring = store.ring(need.ref, need.tf);
    const result: StreamResult = { ref: need.ref, tf: need.tf, need: need.bars, bars: ring.length, requests: 0 };
    const now = this.o.now();
    let days = initialDays(need);
    let fetchedFrom = Infinity;
    try {
      for (let round = 0; round <= (this.o.maxRounds ?? 3) && ring.length < need.bars; round++) {
        // Round 0 asks up to now; later rounds only the older stretch not yet asked.
        const plan = planHistory(need, sessions, now, days).filter((r) => r.from < fetchedFrom);
        if (plan.length === 0) break;
        if (fetchedFrom !== Infinity) plan[plan.length - 1]!.to = Math.min(plan[plan.length - 1]!.to, fetchedFrom - 60_000);
        const bars: Omit<Bar, 'token' | 'exchange' | 'tf'>[] = [];
        for (const req of plan) {
          if (this.o.cancelled?.() === true) break;
          const candles = await this.limited(() => this.o.broker.candles(req), req);
          result.requests++;
          for (const c of candles) {
            const k = sessions.bucketOf(need.tf, c.ts);
            if (k === undefined || k.start !== c.ts || k.end > now) continue;
            const bar: Omit<Bar, 'token' | 'exchange' | 'tf'> = { ts: c.ts, end: k.end, open: c.open, high: c.high, low: c.low, close: c.close, ticks: 0, backfilled: false };
            if (c.volume > 0) bar.volume = c.volume;
            bars.push(bar);
          }
        }
        fetchedFrom = plan[0]!.from;
        store.merge(need.ref, need.tf, bars);
        days *= 2;
      }
    } catch (err) {
      result.error = err instanceof Error ? err.message : String(err);
    }
    result.bars = ring.length;
    this.o.onStream?.(result);
    return result;
  }

  private async limited<T>(fn: () => Promise<T>, req: CandleRequest): Promise<T> {
    const max = this.o.concurrency ?? 2;
    while (this.inFlight >= max) await new Promise<void>((r) => this.waiters.push(r));
    this.inFlight++;
    this.requests.push({ ...req });
    try {
      return await fn();
    } finally {
      this.inFlight--;
      this.waiters.shift()?.();
    }
  }
}
