/**
 * INDIA VIX for a replayed day. The bundled INDIA VIX file (Yahoo daily,
 * 2025-08 → 2026-08) does not cover the bundled 2024 minute data, so the
 * level is a proxy from NIFTY's realised volatility over the bundled sessions
 * before the replayed day — no look-ahead:
 *
 *   rv    = sqrt(mean(cc², intra²)) of what is available, where
 *           cc    = close-to-close log-return vol of up to 20 prior sessions (needs >= 3 returns),
 *           intra = 1-minute log-return vol of up to 10 prior sessions (overnight gaps excluded),
 *           both annualised with 252 sessions;
 *   proxy = clamp(1.3 × rv × 100, 10, 35)   (1.3: implied vol usually exceeds realised).
 *
 * With k < 10 prior sessions the proxy is blended k/10 with the default level
 * (the median close of the real VIX file, 12.36), so the first days of the
 * data do not swing on one or two sessions; with none, the default itself.
 * If the previous session is in the real VIX file, its close is used instead. Intraday the level leans against NIFTY (leverage effect):
 * vix(m) = base × (open_m / open_0)^-4, clamped to [0.7, 1.5] × base, rounded to 0.01, one value per minute.
 * BANKNIFTY's ATM IV is VIX × clamp(rv_bank / rv_nifty, 1.0, 1.8) (1.25 without history).
 */
import type { BarSeries, DailyRow } from './bars.js';

export const VIX_FLOOR = 10;
export const VIX_CAP = 35;
export const VIX_PREMIUM = 1.3;
const LEVERAGE = 4;
/** With fewer prior sessions than this, the proxy is blended toward the default level. */
export const SHRINK_SESSIONS = 10;
const ANNUAL = 252;

/** Per series and session: every day's market asks for a few, and a backtest builds one market a day. */
const realisedCache = new WeakMap<BarSeries, Map<number, number | undefined>>();

/** Realised vol (annualised, fraction) of `series` over sessions before `dayIdx`, or undefined if none. */
export function realisedVol(series: BarSeries, dayIdx: number): number | undefined {
  let byDay = realisedCache.get(series);
  if (byDay === undefined) realisedCache.set(series, (byDay = new Map()));
  if (!byDay.has(dayIdx)) byDay.set(dayIdx, computeRealisedVol(series, dayIdx));
  return byDay.get(dayIdx);
}

function computeRealisedVol(series: BarSeries, dayIdx: number): number | undefined {
  const days = series.days;
  const terms: number[] = [];
  // Close-to-close over up to 20 prior sessions.
  const c0 = Math.max(0, dayIdx - 21);
  const closes: number[] = [];
  for (let i = c0; i < dayIdx; i++) {
    const bars = series.byDay.get(days[i]!)!;
    closes.push(bars[bars.length - 1]!.close);
  }
  if (closes.length >= 4) {
    let s = 0;
    for (let i = 1; i < closes.length; i++) s += Math.log(closes[i]! / closes[i - 1]!) ** 2;
    terms.push((s / (closes.length - 1)) * ANNUAL);
  }
  // Intraday 1-minute over up to 10 prior sessions.
  let sum = 0;
  let n = 0;
  for (let i = Math.max(0, dayIdx - 10); i < dayIdx; i++) {
    const bars = series.byDay.get(days[i]!)!;
    let s = 0;
    for (let j = 1; j < bars.length; j++) s += Math.log(bars[j]!.close / bars[j - 1]!.close) ** 2;
    sum += s;
    n++;
  }
  if (n > 0) terms.push((sum / n) * ANNUAL);
  if (terms.length === 0) return undefined;
  return Math.sqrt(terms.reduce((a, b) => a + b, 0) / terms.length);
}

export type VixBase = { level: number; source: string };

/** The day's base VIX level and where it came from. */
export function vixBase(nifty: BarSeries, dayIdx: number, realVix: readonly DailyRow[], override?: number): VixBase {
  if (override !== undefined) {
    if (!(override > 0 && override < 200)) throw new RangeError(`vixLevel must be in (0, 200), got ${override}`);
    return { level: override, source: `configured level ${override} (vixLevel option)` };
  }
  const prevDay = dayIdx > 0 ? nifty.days[dayIdx - 1] : undefined;
  const real = prevDay === undefined ? undefined : realVix.find((r) => r.day === prevDay);
  if (real !== undefined) return { level: real.close, source: `INDIA VIX close of ${prevDay} (bundled indiavix_1d file)` };
  const closes = realVix.map((r) => r.close).sort((a, b) => a - b);
  const fallback = closes.length > 0 ? closes[closes.length >> 1]! : 14;
  const rv = realisedVol(nifty, dayIdx);
  if (rv === undefined) {
    return { level: fallback, source: `default ${fallback}: no bundled session before this day (median close of the bundled INDIA VIX daily file${closes.length > 0 ? '' : ' — absent, so 14'})` };
  }
  const proxy = Math.min(VIX_CAP, Math.max(VIX_FLOOR, VIX_PREMIUM * rv * 100));
  const w = Math.min(dayIdx, SHRINK_SESSIONS) / SHRINK_SESSIONS;
  const level = Math.round((w * proxy + (1 - w) * fallback) * 100) / 100;
  return {
    level,
    source:
      `proxy ${level}: ${VIX_PREMIUM} × NIFTY realised vol ${(rv * 100).toFixed(2)}% of ${Math.min(dayIdx, 20)} prior bundled sessions, clamped [${VIX_FLOOR}, ${VIX_CAP}]` +
      (w < 1 ? `, blended ${Math.round(w * 100)}/${Math.round((1 - w) * 100)} with the default ${fallback} (fewer than ${SHRINK_SESSIONS} prior sessions)` : ''),
  };
}

/** One VIX value per minute bar of the day, from the base and NIFTY's bar opens. */
export function vixPerMinute(base: number, niftyBars: readonly { open: number }[]): Float64Array {
  const out = new Float64Array(niftyBars.length);
  const o0 = niftyBars[0]?.open ?? 1;
  for (let m = 0; m < niftyBars.length; m++) {
    const v = base * Math.pow(niftyBars[m]!.open / o0, -LEVERAGE);
    out[m] = Math.round(Math.min(base * 1.5, Math.max(base * 0.7, v)) * 100) / 100;
  }
  return out;
}

/** BANKNIFTY ATM IV over NIFTY's (VIX): ratio of their realised vols before the replayed day. */
export function bankVolRatio(nifty: BarSeries, niftyIdx: number, bank: BarSeries, bankIdx: number): number {
  const a = realisedVol(nifty, niftyIdx);
  const b = realisedVol(bank, bankIdx);
  if (a === undefined || b === undefined || a === 0) return 1.25;
  return Math.min(1.8, Math.max(1.0, b / a));
}
