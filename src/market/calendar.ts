/**
 * The NSE/BSE calendar: trading holidays and special sessions
 * (config/calendar/*.csv, with their sources), used by the daemon to know
 * when the session is open and by the simulator to place expiries. Dates are
 * IST calendar dates (YYYY-MM-DD) and date arithmetic is on plain dates.
 */
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { istDate, istToMillis } from '../core/clock.js';

/** The repo's config/calendar, found from this module (src/market or dist/market). */
export const DEFAULT_CALENDAR_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../config/calendar');

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

export class TradingCalendar {
  constructor(
    /** Weekday dates on which the exchange is shut (kind trading_holiday). */
    readonly holidays: ReadonlySet<string>,
    /** Weekend dates with a full-day live session (e.g. Sat 2024-01-20). */
    readonly weekendSessions: ReadonlySet<string> = new Set(),
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
    return new TradingCalendar(holidays, weekend);
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
   * Whether the market is in session at `ms`: a trading day between 09:15
   * and 15:30 IST. Short special sessions (Muhurat, DR drills) are not
   * modelled yet: on those days this reads the normal hours.
   */
  isSessionOpen(ms: number): boolean {
    const day = istDate(ms);
    return this.isTradingDay(day) && ms >= istToMillis(day, SESSION_OPEN_IST) && ms < istToMillis(day, SESSION_CLOSE_IST);
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
