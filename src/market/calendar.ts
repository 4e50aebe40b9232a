/**
 * The NSE/BSE calendar: trading holidays and special sessions
 * (config/calendar/*.csv, with their sources), used by the daemon to know
 * when the session is open and by the simulator to place expiries. Dates are
 * IST calendar dates (YYYY-MM-DD) and date arithmetic is on plain dates.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { istDate, istToMillis } from '../core/clock.js';
import { findRepoPath } from '../core/repo-path.js';

/** The repo's config/calendar. */
export const DEFAULT_CALENDAR_DIR = findRepoPath('config/calendar');

/** The normal NSE/BSE session, IST. */
export const SESSION_OPEN_IST = '09:15';
export const SESSION_CLOSE_IST = '15:30';

const DAY_MS = 86_400_000;

/** Day of week of an ISO date, 0 = Sunday … 6 = Saturday. */
export function weekday(date: string): number {
  return new Date(`${date}T00:00:00Z`).getUTCDay();
}

/** The ISO date `n` days after `date` (n may be negative). */
export function addDays(date: string, n: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + n * DAY_MS).toISOString().slice(0, 10);
}

/** Splits one CSV line, honouring double-quoted fields with commas. */
export function splitCsvLine(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let q = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (q) {
      if (ch === '"' && line[i + 1] === '"') { cur += '"'; i++; }
      else if (ch === '"') q = false;
      else cur += ch;
    } else if (ch === '"') q = true;
    else if (ch === ',') { out.push(cur); cur = ''; }
    else cur += ch;
  }
  out.push(cur);
  return out;
}

/** Parses a CSV with a header row into records keyed by column name. */
export function parseCsvRecords(text: string, file: string): Record<string, string>[] {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  const head = splitCsvLine(lines[0] ?? '');
  return lines.slice(1).map((l, i) => {
    const cells = splitCsvLine(l);
    if (cells.length !== head.length) throw new Error(`${file}:${i + 2}: expected ${head.length} columns, got ${cells.length}`);
    return Object.fromEntries(head.map((h, j) => [h, cells[j]!]));
  });
}

/** One continuous trading window of a day, IST wall times 'HH:MM' (close exclusive). */
export type SessionHours = { readonly open: string; readonly close: string };
/** One continuous trading window as epoch ms, [open, close). */
export type SessionWindow = { readonly open: number; readonly close: number };

/** Special-session kinds whose hours replace the normal 09:15–15:30 for the day. */
const SHORT_SESSION_KINDS = new Set(['special_live_session_dr_drill', 'muhurat']);
const HHMM = /^([01]\d|2[0-3]):[0-5]\d$/;

export class TradingCalendar {
  private readonly windowCache = new Map<string, readonly SessionWindow[]>();

  constructor(
    /** Weekday dates on which the exchange is shut (kind trading_holiday). */
    readonly holidays: ReadonlySet<string>,
    /** Weekend dates with a full-day live session (e.g. Sat 2024-01-20). */
    readonly weekendSessions: ReadonlySet<string> = new Set(),
    /**
     * Days whose session is not the normal one: Muhurat and DR-drill sessions
     * (possibly several windows a day), replacing the normal hours — and
     * holding a session even on a holiday (Muhurat falls on Diwali).
     */
    readonly shortSessions: ReadonlyMap<string, readonly SessionHours[]> = new Map(),
  ) {}

  /** Loads market_holidays_2024_2026.csv and market_special_sessions_2024_2026.csv from `dir`. */
  static load(dir: string): TradingCalendar {
    const hf = join(dir, 'market_holidays_2024_2026.csv');
    const sf = join(dir, 'market_special_sessions_2024_2026.csv');
    const holidays = new Set(parseCsvRecords(readFileSync(hf, 'utf8'), hf).filter((r) => r.kind === 'trading_holiday').map((r) => r.date!));
    const weekend = new Set(
      parseCsvRecords(readFileSync(sf, 'utf8'), sf)
        .filter((r) => r.kind === 'special_live_session_full_day' && [0, 6].includes(weekday(r.date!)))
        .map((r) => r.date!),
    );
    const short = new Map<string, SessionHours[]>();
    for (const r of parseCsvRecords(readFileSync(sf, 'utf8'), sf)) {
      // 'TBA' hours (a Muhurat not yet notified) cannot be traded on: the day keeps its normal reading.
      if (!SHORT_SESSION_KINDS.has(r.kind!) || !HHMM.test(r.start_ist ?? '') || !HHMM.test(r.end_ist ?? '')) continue;
      const list = short.get(r.date!) ?? [];
      list.push({ open: r.start_ist!, close: r.end_ist! });
      short.set(r.date!, list.sort((a, b) => a.open.localeCompare(b.open)));
    }
    return new TradingCalendar(holidays, weekend, short);
  }

  /** Whether the holiday files cover `date`'s year; beyond them every weekday would look like a trading day. */
  covers(date: string): boolean {
    const years = [...this.holidays].map((d) => d.slice(0, 4));
    return years.includes(date.slice(0, 4));
  }

  /** A regular trading day: Monday–Friday and not a trading holiday. */
  isRegularTradingDay(date: string): boolean {
    const w = weekday(date);
    return w !== 0 && w !== 6 && !this.holidays.has(date);
  }

  /** Any day with a full live session (regular days plus weekend special sessions). */
  isTradingDay(date: string): boolean {
    return this.isRegularTradingDay(date) || this.weekendSessions.has(date);
  }

  /**
   * The day's trading windows, earliest first, as epoch ms [open, close):
   * a short special session's own windows (Muhurat, DR drill — several a
   * day possible) where the special-sessions file has them, else 09:15–15:30
   * on a trading day, else none.
   */
  sessionWindows(date: string): readonly SessionWindow[] {
    let w = this.windowCache.get(date);
    if (w === undefined) {
      const hours = this.shortSessions.get(date) ?? (this.isTradingDay(date) ? [{ open: SESSION_OPEN_IST, close: SESSION_CLOSE_IST }] : []);
      w = hours.map((h) => ({ open: istToMillis(date, h.open), close: istToMillis(date, h.close) }));
      this.windowCache.set(date, w);
    }
    return w;
  }

  /** The window `ms` falls in, or undefined outside every session. */
  windowAt(ms: number): SessionWindow | undefined {
    for (const w of this.sessionWindows(istDate(ms))) if (ms >= w.open && ms < w.close) return w;
    return undefined;
  }

  /** The first window opening after `ms` (within `maxDays` days), or undefined. */
  nextWindowAfter(ms: number, maxDays = 15): SessionWindow | undefined {
    let day = istDate(ms);
    for (let i = 0; i <= maxDays; i++, day = addDays(day, 1)) {
      for (const w of this.sessionWindows(day)) if (w.open > ms) return w;
    }
    return undefined;
  }

  /**
   * Whether the market is in session at `ms`: inside one of the day's
   * windows (normally 09:15–15:30 IST; Muhurat and DR-drill days have their
   * own short windows).
   */
  isSessionOpen(ms: number): boolean {
    return this.windowAt(ms) !== undefined;
  }

  /**
   * Where a contract whose nominal expiry is `date` actually expires: `date`
   * itself if it is a regular trading day, else the previous one (NSE/BSE
   * rule "if the expiry day is a trading holiday, the previous trading day").
   * Weekend special sessions are not expiry days.
   */
  expiryOn(date: string): string {
    let d = date;
    for (let i = 0; i < 15 && !this.isRegularTradingDay(d); i++) d = addDays(d, -1);
    return d;
  }
}
