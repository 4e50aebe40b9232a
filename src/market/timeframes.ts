/**
 * Timeframes and session math. Rustro's bars are 1m, 3m, 5m, 15m, 1h and 1d.
 *
 * - Intraday bars are anchored to the open of the session window they fall in
 *   (09:15 IST on a normal day), so live bars match the broker's historical
 *   candles: 1h bars are 09:15–10:15 … 14:15–15:15 and a short 15:15–15:30;
 *   a 15m bar never straddles the close. A bar ends at its span or at the
 *   window's close, whichever is first.
 * - Special sessions (Muhurat, DR drills; `TradingCalendar.sessionWindows`)
 *   anchor each window at its own open: the Muhurat 18:00–19:00 is one 1h
 *   bar; a DR drill's 11:30–12:30 part starts its own grid at 11:30.
 * - A 1d bar is stamped 00:00 IST of its date (as the broker stamps ONE_DAY
 *   candles) and ends at the close of the day's last window.
 *
 * `ts` of a bar is always its start; `end` is exclusive.
 */
import { istDate, istToMillis } from '../core/clock.js';
import { TIMEFRAME_NAMES } from '../core/events.js';
import type { CandleInterval } from '../broker/broker.js';
import type { SessionWindow, TradingCalendar } from './calendar.js';

export type Timeframe = (typeof TIMEFRAME_NAMES)[number];

/** Every timeframe, finest first (the one list lives in core/events.ts). */
export const TIMEFRAMES: readonly Timeframe[] = TIMEFRAME_NAMES;

/** Span in minutes of each intraday timeframe (1d: the day's session, whatever its length). */
export const TF_MINUTES: Readonly<Record<Timeframe, number>> = { '1m': 1, '3m': 3, '5m': 5, '15m': 15, '1h': 60, '1d': 1440 };

/** The broker's per-request range limit (calendar days) for each timeframe's candles. */
export const CANDLE_MAX_DAYS: Readonly<Record<Timeframe, number>> = { '1m': 30, '3m': 60, '5m': 100, '15m': 200, '1h': 400, '1d': 2000 };

/** Bars in a normal 09:15–15:30 session (375 minutes). */
export const BARS_PER_SESSION: Readonly<Record<Timeframe, number>> = { '1m': 375, '3m': 125, '5m': 75, '15m': 25, '1h': 7, '1d': 1 };

export function isTimeframe(s: string): s is Timeframe {
  return (TIMEFRAMES as readonly string[]).includes(s);
}

/** "1m,5m,1h" → ['1m', '5m', '1h'] in canonical order; throws naming a bad entry. */
export function parseTimeframes(text: string): Timeframe[] {
  const parts = text.split(',').map((p) => p.trim()).filter((p) => p !== '');
  if (parts.length === 0) throw new RangeError(`expected a comma-separated list of timeframes (${TIMEFRAMES.join(', ')}), got '${text}'`);
  for (const p of parts) if (!isTimeframe(p)) throw new RangeError(`unknown timeframe '${p}' (expected one of ${TIMEFRAMES.join(', ')})`);
  return TIMEFRAMES.filter((tf) => parts.includes(tf));
}

/** The timeframe as the broker port names its candle interval (the same spelling). */
export function candleInterval(tf: Timeframe): CandleInterval {
  return tf;
}

const MINUTE = 60_000;

/** Session windows by day, cached; the aggregator asks once per window change, not per tick. */
export class SessionClock {
  private readonly days = new Map<string, { windows: readonly SessionWindow[]; dayStart: number; dayEnd: number }>();

  constructor(readonly calendar: TradingCalendar) {}

  private day(date: string) {
    let d = this.days.get(date);
    if (d === undefined) {
      const windows = this.calendar.sessionWindows(date);
      d = { windows, dayStart: istToMillis(date), dayEnd: windows.length === 0 ? NaN : windows[windows.length - 1]!.close };
      this.days.set(date, d);
    }
    return d;
  }

  /**
   * The IST day `ms` falls in. Every tick asks, nearly always about the day
   * asked last: an IST day is exactly 24 h (no DST), so that one is kept and
   * the date string is only made when the day changes.
   */
  private dayOf(ms: number) {
    const l = this.last;
    if (l !== undefined && ms >= l.dayStart && ms < l.dayStart + 86_400_000) return l;
    return (this.last = this.day(istDate(ms)));
  }

  private last: ReturnType<SessionClock['day']> | undefined;

  /** The window `ms` falls in, or undefined outside every session. */
  windowAt(ms: number): SessionWindow | undefined {
    for (const w of this.dayOf(ms).windows) if (ms >= w.open && ms < w.close) return w;
    return undefined;
  }

  /** The windows of `ms`'s IST day. */
  windowsOf(ms: number): readonly SessionWindow[] {
    return this.dayOf(ms).windows;
  }

  /** 00:00 IST of `ms`'s date: the 1d bar's stamp. */
  dayStart(ms: number): number {
    return this.dayOf(ms).dayStart;
  }

  /** Close of the last window of `ms`'s date (NaN on a day without a session). */
  dayEnd(ms: number): number {
    return this.dayOf(ms).dayEnd;
  }

  /** Start of the `tf` bar holding `ms`, which must be inside window `w`. */
  barStart(tf: Timeframe, ms: number, w: SessionWindow): number {
    if (tf === '1d') return this.dayStart(ms);
    const span = TF_MINUTES[tf] * MINUTE;
    return w.open + Math.floor((ms - w.open) / span) * span;
  }

  /** End (exclusive) of the `tf` bar starting at `start` in window `w`. */
  barEnd(tf: Timeframe, start: number, w: SessionWindow): number {
    if (tf === '1d') return this.dayEnd(w.open);
    const end = start + TF_MINUTES[tf] * MINUTE;
    return end < w.close ? end : w.close;
  }

  /**
   * The bar of `tf` a candle or bar starting at `ts` belongs to, or undefined
   * outside every session (a 1d candle stamped 00:00 IST maps to its day).
   */
  bucketOf(tf: Timeframe, ts: number): { start: number; end: number } | undefined {
    if (tf === '1d') {
      const ws = this.windowsOf(ts);
      if (ws.length === 0) return undefined;
      return { start: this.dayStart(ts), end: this.dayEnd(ts) };
    }
    const w = this.windowAt(ts);
    if (w === undefined) return undefined;
    const start = this.barStart(tf, ts, w);
    return { start, end: this.barEnd(tf, start, w) };
  }
}
