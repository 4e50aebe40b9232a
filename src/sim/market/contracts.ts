/**
 * Index option contracts as they were on a replayed date: expiries, lot
 * sizes and strike steps from config/calendar/index_fno_specs_2024_2026.csv
 * (plus the monthly-expiry weekday table below, which that file only gives in
 * its notes), holidays from the trading calendar, trading symbols in the
 * broker's pattern (NIFTY04JAN2421700CE) and deterministic tokens.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type TradingCalendar, addDays, parseCsvRecords, weekday } from '../../market/calendar.js';

export type Underlying = 'NIFTY' | 'BANKNIFTY';

export type IndexInfo = {
  readonly name: Underlying;
  readonly token: string;
  readonly symbol: string;
  /** Digit that starts every option token of this underlying. */
  readonly code: number;
  /**
   * Exchange quantity-freeze limit in units (max units per order) in 2024:
   * NIFTY 1800, BANKNIFTY 900, per NSE's index-level table (circular of
   * 2022-07-31: 17,250–27,500 → 1800, 40,000–55,000 → 900) as restated in
   * Angel One's announcement "[03-Apr-23] Quantity Freeze Limits for Indices"
   * (angelone.in/announcements/market/03-apr-23-quantity-freeze-limits-for-indices);
   * both indices stayed inside those bands through Jan–Feb 2024. Not checked
   * against a 2024 circular. The Angel master's `freeze_qty` column, where
   * present, is this limit + 1.
   */
  readonly freezeQty: number;
};

export const INDICES: Readonly<Record<Underlying, IndexInfo>> = {
  NIFTY: { name: 'NIFTY', token: '99926000', symbol: 'Nifty 50', code: 1, freezeQty: 1800 },
  BANKNIFTY: { name: 'BANKNIFTY', token: '99926009', symbol: 'Nifty Bank', code: 2, freezeQty: 900 },
};

export const VIX_INFO = { token: '99926017', symbol: 'India VIX', name: 'INDIA VIX' } as const;

/**
 * Monthly expiry weekday per period (by the month's first day). The specs CSV
 * only carries this in notes, and for BANKNIFTY incompletely: NSE moved
 * BANKNIFTY monthly/quarterly expiry from last Thursday to last Wednesday from
 * trade date 2024-03-01 ("no change to the January and February 2024 monthly
 * contracts"; first Wednesday monthly 2024-03-27 — NSE circular of 2023-12-29
 * as reported by livemint.com and businesstoday.in), and back to Thursday for
 * contracts from 2025-01-01; last Tuesday from September 2025.
 */
const MONTHLY_WEEKDAY: Readonly<Record<Underlying, readonly { from: string; weekday: number }[]>> = {
  NIFTY: [
    { from: '0000-01-01', weekday: 4 },
    { from: '2025-09-01', weekday: 2 },
  ],
  BANKNIFTY: [
    { from: '0000-01-01', weekday: 4 },
    { from: '2024-03-01', weekday: 3 },
    { from: '2025-01-01', weekday: 4 },
    { from: '2025-09-01', weekday: 2 },
  ],
};

const WEEKDAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

type SpecRow = { symbol: string; item: string; value: string; from: string; to: string };

/** '(before 2024)' → open start; '(2023-07)' / '2025-01 (…)' → first of month. */
function specDate(s: string, open: string): string {
  const m = /(\d{4})-(\d{2})(?:-(\d{2}))?/.exec(s);
  if (m === null) return open;
  return `${m[1]}-${m[2]}-${m[3] ?? '01'}`;
}

/** The rows of index_fno_specs_2024_2026.csv that the simulator uses. */
export class FnoSpecs {
  constructor(private readonly rows: readonly SpecRow[]) {}

  static load(dir: string): FnoSpecs {
    const f = join(dir, 'index_fno_specs_2024_2026.csv');
    return FnoSpecs.parse(readFileSync(f, 'utf8'), f);
  }

  static parse(text: string, file = 'index_fno_specs'): FnoSpecs {
    return new FnoSpecs(
      parseCsvRecords(text, file).map((r) => ({
        symbol: r.symbol!, item: r.item!, value: r.value!,
        from: specDate(r.effective_from ?? '', '0000-01-01'),
        to: specDate(r.effective_to ?? '', '9999-12-31'),
      })),
    );
  }

  private find(symbol: string, item: string): SpecRow[] {
    return this.rows.filter((r) => r.symbol === symbol && r.item === item);
  }

  /**
   * Lot size of a contract, chosen by its expiry: the lot_size row whose
   * effective range holds the expiry; where two overlap (a new lot for newly
   * listed contracts while older ones keep theirs) the older row wins. Right
   * for every 2024 contract in the bundled data (NIFTY 50, BANKNIFTY 15).
   */
  lotSize(symbol: Underlying, expiry: string): number {
    const rows = this.find(symbol, 'lot_size').filter((r) => r.from <= expiry && expiry <= r.to).sort((a, b) => (a.from < b.from ? -1 : 1));
    const row = rows[0];
    if (row === undefined) throw new Error(`no ${symbol} lot size in the F&O specs for an expiry on ${expiry}`);
    return Number(row.value);
  }

  /** Near-the-money strike interval (NIFTY 50, BANKNIFTY 100). */
  strikeStep(symbol: Underlying): number {
    const row = this.find(symbol, 'strike_interval')[0];
    if (row === undefined) throw new Error(`no ${symbol} strike interval in the F&O specs`);
    return Number(row.value);
  }

  /** Weekday (0–6) of weekly expiries in force on `date`, or undefined when there are no weeklies. */
  weeklyWeekday(symbol: Underlying, date: string): number | undefined {
    const stop = this.find(symbol, 'weekly_expiry').find((r) => r.value === 'discontinued' && r.from <= date);
    if (stop !== undefined) return undefined;
    const row = this.find(symbol, 'weekly_expiry_weekday').find((r) => r.from <= date && date <= r.to);
    if (row === undefined) return undefined;
    const w = WEEKDAYS.indexOf(row.value);
    if (w < 0) throw new Error(`F&O specs: bad weekday '${row.value}' for ${symbol}`);
    return w;
  }
}

export function monthlyWeekday(symbol: Underlying, monthStart: string): number {
  let w = 4;
  for (const r of MONTHLY_WEEKDAY[symbol]) if (r.from <= monthStart) w = r.weekday;
  return w;
}

/** The monthly expiry of the month holding `date` (last expiry weekday, holiday → previous trading day). */
export function monthlyExpiry(symbol: Underlying, date: string, cal: TradingCalendar): string {
  const monthStart = `${date.slice(0, 7)}-01`;
  const w = monthlyWeekday(symbol, monthStart);
  const next = new Date(`${monthStart}T00:00:00Z`);
  next.setUTCMonth(next.getUTCMonth() + 1);
  let d = addDays(next.toISOString().slice(0, 10), -1);
  while (weekday(d) !== w) d = addDays(d, -1);
  return cal.expiryOn(d);
}

export type Expiry = { date: string; weekly: boolean; monthly: boolean };

/**
 * Contracts listed on `day`: the nearest `weeklies` weekly expiries plus the
 * current monthly (the first monthly expiring on or after `day`), deduplicated
 * (NIFTY's last-Thursday weekly is the monthly) and sorted. A contract is
 * listed through its expiry day.
 */
export function listedExpiries(symbol: Underlying, day: string, specs: FnoSpecs, cal: TradingCalendar, weeklies = 2): Expiry[] {
  const weekly: string[] = [];
  // Walk nominal dates from a week back (a holiday-shifted expiry can land before its nominal day).
  for (let d = addDays(day, -7), i = 0; weekly.length < weeklies && i < 120; d = addDays(d, 1), i++) {
    const w = specs.weeklyWeekday(symbol, d);
    if (w === undefined || weekday(d) !== w) continue;
    const actual = cal.expiryOn(d);
    if (actual >= day && !weekly.includes(actual)) weekly.push(actual);
  }
  let monthly = monthlyExpiry(symbol, day, cal);
  if (monthly < day) monthly = monthlyExpiry(symbol, addDays(`${day.slice(0, 7)}-01`, 32), cal);
  const dates = [...new Set([...weekly, monthly])].sort();
  return dates.map((date) => ({ date, weekly: weekly.includes(date), monthly: date === monthly }));
}

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];

/** Trading symbol in the Angel master's pattern: NAME + DD + MMM + YY + strike + CE/PE. */
export function optionSymbol(name: Underlying, expiry: string, strike: number, type: 'CE' | 'PE'): string {
  const [y, m, d] = expiry.split('-');
  return `${name}${d}${MONTHS[Number(m) - 1]}${y!.slice(2)}${strike}${type}`;
}

/**
 * A deterministic, unique, numeric token: underlying code, expiry YYMMDD,
 * strike (6 digits), 1 = CE / 2 = PE — e.g. NIFTY 2024-01-04 21700 CE →
 * "12401040217001". Stable across replayed days, never clashes with the
 * 8-digit index tokens.
 */
export function optionToken(name: Underlying, expiry: string, strike: number, type: 'CE' | 'PE'): string {
  if (!(Number.isInteger(strike) && strike > 0 && strike < 1_000_000)) throw new RangeError(`strike out of range for a token: ${strike}`);
  return `${INDICES[name].code}${expiry.slice(2, 4)}${expiry.slice(5, 7)}${expiry.slice(8, 10)}${String(strike).padStart(6, '0')}${type === 'CE' ? 1 : 2}`;
}

/** Strikes on the `step` grid from `n` steps below the ATM of `lo` to `n` steps above the ATM of `hi`. */
export function strikesAround(lo: number, hi: number, step: number, n: number): number[] {
  const first = Math.round(lo / step) * step - n * step;
  const last = Math.round(hi / step) * step + n * step;
  const out: number[] = [];
  for (let k = first; k <= last; k += step) if (k > 0) out.push(k);
  return out;
}
