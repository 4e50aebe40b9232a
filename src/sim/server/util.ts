/**
 * Small helpers shared by the simulator's server files: a seeded RNG, the
 * broker's time and number formats, and lenient request-value parsing.
 * Formats follow smartapi-protocol.md §2.3; everything is IST (+05:30, no DST).
 */

const IST_OFFSET_MS = 19_800_000;
const DAY_MS = 86_400_000;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'] as const;

/** mulberry32: tiny, fast, good enough for fault dice and ids; the same seed gives the same sequence. */
export function seededRng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const pad2 = (n: number): string => (n < 10 ? '0' + n : String(n));

function istParts(ms: number): Date {
  return new Date(ms + IST_OFFSET_MS);
}

/** `dd-MMM-yyyy HH:mm:ss` in IST, e.g. `20-Oct-2020 13:10:59` (order times, quote feed times). */
export function fmtOrderTime(ms: number): string {
  const d = istParts(ms);
  return `${pad2(d.getUTCDate())}-${MONTHS[d.getUTCMonth()]}-${d.getUTCFullYear()} ${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}:${pad2(d.getUTCSeconds())}`;
}

/** `HH:mm:ss` in IST (trade book `filltime`). */
export function fmtClock(ms: number): string {
  const d = istParts(ms);
  return `${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}:${pad2(d.getUTCSeconds())}`;
}

/** ISO-8601 with +05:30 and no millis, e.g. `2023-09-06T11:15:00+05:30` (candles). */
export function fmtIsoIst(ms: number): string {
  return istParts(ms).toISOString().slice(0, 19) + '+05:30';
}

/** `YYYY-MM-DD` → `DDMMMYYYY` upper case (`27NOV2025`). */
export function fmtExpiry(date: string | undefined): string {
  if (date === undefined || date === '') return '';
  const [y, m, d] = date.split('-');
  return `${d}${MONTHS[Number(m) - 1]!.toUpperCase()}${y}`;
}

/** Epoch ms of 00:00 IST on the IST day containing `ms`. */
export function istDayStart(ms: number): number {
  return Math.floor((ms + IST_OFFSET_MS) / DAY_MS) * DAY_MS - IST_OFFSET_MS;
}

/** `yyyy-MM-dd HH:mm` (IST) → epoch ms, or undefined when malformed. */
export function parseIstMinute(s: unknown): number | undefined {
  if (typeof s !== 'string') return undefined;
  const m = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2})$/.exec(s.trim());
  if (m === null) return undefined;
  const [y, mo, d, h, mi] = [Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5])];
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59) return undefined;
  const ms = Date.UTC(y, mo - 1, d, h, mi) - IST_OFFSET_MS;
  // Reject dates that rolled over (31 Feb).
  return istParts(ms).getUTCDate() === d ? ms : undefined;
}

/** Rupees rounded to paise, to keep float noise out of JSON. */
export const r2 = (x: number): number => Math.round(x * 100) / 100;
/** Rupees as the order book writes them: `"194.00"`. */
export const money = (x: number): string => r2(x).toFixed(2);

/** A request value that may be a number or a decimal string; NaN when it is neither. */
export function num(v: unknown): number {
  if (typeof v === 'number') return Number.isFinite(v) ? v : NaN;
  if (typeof v === 'string' && /^\s*-?\d+(\.\d+)?\s*$/.test(v)) return Number(v);
  return NaN;
}

/** A request value that should be a string (numbers are stringified). */
export function str(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return '';
}

/** True when `x` is a whole multiple of `step` (both in rupees), tolerant of float noise. */
export function isMultiple(x: number, step: number): boolean {
  if (!(step > 0)) return true;
  const q = x / step;
  return Math.abs(q - Math.round(q)) < 1e-6;
}

/** Rounds to the nearest multiple of `step` (no-op for step 0). */
export function roundTo(x: number, step: number): number {
  if (!(step > 0)) return r2(x);
  return r2(Math.round(x / step) * step);
}
