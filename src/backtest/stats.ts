/**
 * Backtest statistics: pure functions over closed trades and per-day rows.
 *
 * Money is kept in full floating precision here; rounding to the paisa happens
 * only where numbers are shown (the HTML report, the JSON summary).
 *
 * Definitions (a "trade" is a closed position; its result is its NET P&L,
 * i.e. after charges, unless a field says gross):
 *
 * - trades        number of closed trades.
 * - wins / losses trades with netPnl > 0 / netPnl < 0. A trade with netPnl
 *                 exactly 0 (a scratch) is neither a win nor a loss.
 * - winRate       wins / trades, in 0..1 (scratches count in the denominator);
 *                 0 when there is no trade.
 * - avgWin        mean netPnl of the wins; 0 when there is no win.
 * - avgLoss       mean netPnl of the losses (≤ 0); 0 when there is no loss.
 * - largestWin    the largest netPnl among wins; 0 when there is no win.
 * - largestLoss   the most negative netPnl among losses (≤ 0); 0 when none.
 * - profitFactor  Σ netPnl of wins / |Σ netPnl of losses|. Infinity when
 *                 there are wins but no loss; 0 when there is no win (this
 *                 includes no trade at all and only scratches).
 * - grossPnl, charges, netPnl   sums over the trades.
 * - maxDrawdown   the largest fall, in rupees (≥ 0), from a running peak of
 *                 the equity curve (see equityCurve: capital, then equity
 *                 after each closed trade in exit order) to a later point.
 *                 The running peak starts at the capital. 0 with no trade or
 *                 a curve that never falls.
 * - maxDrawdownPct the largest fall as a FRACTION of the running peak at that
 *                 point, max over the curve of (peak − equity) / peak, in
 *                 0..1 (it may come from a different, earlier dip than the
 *                 rupee maximum, since later peaks are higher). NaN when a
 *                 peak is ≤ 0 (capital ≤ 0).
 * - sharpe        on DAILY returns r_d = day.netPnl / equity at the start of
 *                 the day, where that equity is capital + Σ netPnl of the
 *                 earlier days (days sorted by date; days with no trade count,
 *                 with r = 0). sharpe = mean(r) / sd(r) × √252, risk-free 0,
 *                 sd the SAMPLE standard deviation (n − 1). NaN when there are
 *                 fewer than 2 days, sd = 0, or an equity at a day's start ≤ 0.
 * - sortino       mean(r) / DD × √252 with the downside deviation
 *                 DD = √(mean over ALL days of min(r, 0)²). NaN when there are
 *                 fewer than 2 days, DD = 0 (no losing day), or an equity at a
 *                 day's start ≤ 0.
 * - exposurePct   Σ exposureMs / Σ sessionMs over the days, as a FRACTION in
 *                 0..1. NaN when Σ sessionMs = 0 (no day).
 * - days, winningDays, losingDays   number of day rows, of those with
 *                 netPnl > 0, and with netPnl < 0 (a flat day is neither).
 * - returnPct     netPnl / capital, as a FRACTION (0.05 = +5 %). NaN when
 *                 capital ≤ 0.
 *
 * The "...Pct" fields are fractions, like winRate; the report shows them ×100.
 * NaN means "undefined" and becomes null in JSON (see summaryJson).
 */

export type BacktestTrade = {
  positionId: string;
  strategy: string;
  underlying: string;
  symbol: string;
  /** Epoch ms. */
  entryAt: number;
  /** Epoch ms. */
  exitAt: number;
  qty: number;
  lots: number;
  /** Rupees per unit. */
  entryAvg: number;
  /** Rupees per unit. */
  exitAvg: number;
  /** Rupees. */
  grossPnl: number;
  /** Rupees. */
  charges: number;
  /** Rupees. */
  netPnl: number;
  /** Exit reason, e.g. 'trailing_stop'. */
  reason: string;
};

export type BacktestDay = {
  /** YYYY-MM-DD, IST. */
  date: string;
  trades: number;
  grossPnl: number;
  charges: number;
  netPnl: number;
  /** Time with ≥ 1 position open. */
  exposureMs: number;
  sessionMs: number;
};

export type BacktestStats = {
  trades: number;
  wins: number;
  losses: number;
  /** 0..1 */
  winRate: number;
  avgWin: number;
  /** ≤ 0 */
  avgLoss: number;
  largestWin: number;
  /** ≤ 0 */
  largestLoss: number;
  /** Infinity when no loss; 0 when no win. */
  profitFactor: number;
  grossPnl: number;
  charges: number;
  netPnl: number;
  /** Rupees, ≥ 0. */
  maxDrawdown: number;
  /** Fraction 0..1 of the running peak. */
  maxDrawdownPct: number;
  /** NaN when undefined. */
  sharpe: number;
  /** NaN when undefined. */
  sortino: number;
  /** Fraction 0..1. */
  exposurePct: number;
  days: number;
  winningDays: number;
  losingDays: number;
  /** Fraction: netPnl / capital. */
  returnPct: number;
};

export type EquityPoint = { at: number; equity: number; drawdown: number };

export const TRADING_DAYS_PER_YEAR = 252;

/** Trades in the order they closed (exit time; ties keep their input order). */
export function byExit(trades: readonly BacktestTrade[]): BacktestTrade[] {
  return trades.map((t, i) => ({ t, i })).sort((a, b) => a.t.exitAt - b.t.exitAt || a.i - b.i).map((x) => x.t);
}

/**
 * The equity curve: a first point at the earliest trade entry (0 with no
 * trade) at equity = capital, then one point per closed trade in exit order,
 * at its exit time, with equity = capital + Σ netPnl so far. drawdown is the
 * rupee fall from the running peak (the peak starts at the capital), ≥ 0.
 */
export function equityCurve(trades: readonly BacktestTrade[], capital: number): EquityPoint[] {
  let start = 0;
  for (const [i, t] of trades.entries()) if (i === 0 || t.entryAt < start) start = t.entryAt;
  const points: EquityPoint[] = [{ at: start, equity: capital, drawdown: 0 }];
  let equity = capital;
  let peak = capital;
  for (const t of byExit(trades)) {
    equity += t.netPnl;
    if (equity > peak) peak = equity;
    points.push({ at: t.exitAt, equity, drawdown: peak - equity });
  }
  return points;
}

/** Daily returns, days in date order: netPnl / equity at the day's start (NaN if that equity ≤ 0). */
export function dailyReturns(days: readonly BacktestDay[], capital: number): number[] {
  const sorted = [...days].sort((a, b) => (a.date < b.date ? -1 : a.date > b.date ? 1 : 0));
  const out: number[] = [];
  let equity = capital;
  for (const d of sorted) {
    out.push(equity > 0 ? d.netPnl / equity : NaN);
    equity += d.netPnl;
  }
  return out;
}

const mean = (xs: readonly number[]): number => xs.reduce((s, x) => s + x, 0) / xs.length;

/** Annualised Sharpe of daily returns (sample sd, risk-free 0); NaN when undefined. */
export function sharpeRatio(returns: readonly number[]): number {
  if (returns.length < 2 || returns.some((r) => !Number.isFinite(r))) return NaN;
  const m = mean(returns);
  const sd = Math.sqrt(returns.reduce((s, r) => s + (r - m) ** 2, 0) / (returns.length - 1));
  return sd > 0 ? (m / sd) * Math.sqrt(TRADING_DAYS_PER_YEAR) : NaN;
}

/** Annualised Sortino of daily returns (downside deviation √mean(min(r,0)²), target 0); NaN when undefined. */
export function sortinoRatio(returns: readonly number[]): number {
  if (returns.length < 2 || returns.some((r) => !Number.isFinite(r))) return NaN;
  const dd = Math.sqrt(mean(returns.map((r) => Math.min(r, 0) ** 2)));
  return dd > 0 ? (mean(returns) / dd) * Math.sqrt(TRADING_DAYS_PER_YEAR) : NaN;
}

export function computeStats(trades: readonly BacktestTrade[], days: readonly BacktestDay[], capital: number): BacktestStats {
  let wins = 0, losses = 0, sumWins = 0, sumLosses = 0, largestWin = 0, largestLoss = 0;
  let grossPnl = 0, charges = 0, netPnl = 0;
  for (const t of trades) {
    grossPnl += t.grossPnl;
    charges += t.charges;
    netPnl += t.netPnl;
    if (t.netPnl > 0) {
      wins++;
      sumWins += t.netPnl;
      if (t.netPnl > largestWin) largestWin = t.netPnl;
    } else if (t.netPnl < 0) {
      losses++;
      sumLosses += t.netPnl;
      if (t.netPnl < largestLoss) largestLoss = t.netPnl;
    }
  }

  let maxDrawdown = 0;
  let maxDrawdownPct = capital > 0 ? 0 : NaN;
  for (const p of equityCurve(trades, capital)) {
    if (p.drawdown > maxDrawdown) maxDrawdown = p.drawdown;
    const peak = p.equity + p.drawdown;
    if (peak > 0 && p.drawdown / peak > maxDrawdownPct) maxDrawdownPct = p.drawdown / peak;
  }

  let exposureMs = 0, sessionMs = 0, winningDays = 0, losingDays = 0;
  for (const d of days) {
    exposureMs += d.exposureMs;
    sessionMs += d.sessionMs;
    if (d.netPnl > 0) winningDays++;
    else if (d.netPnl < 0) losingDays++;
  }
  const returns = dailyReturns(days, capital);

  return {
    trades: trades.length,
    wins,
    losses,
    winRate: trades.length > 0 ? wins / trades.length : 0,
    avgWin: wins > 0 ? sumWins / wins : 0,
    avgLoss: losses > 0 ? sumLosses / losses : 0,
    largestWin,
    largestLoss,
    profitFactor: sumWins <= 0 ? 0 : losses === 0 ? Infinity : sumWins / -sumLosses,
    grossPnl,
    charges,
    netPnl,
    maxDrawdown,
    maxDrawdownPct,
    sharpe: sharpeRatio(returns),
    sortino: sortinoRatio(returns),
    exposurePct: sessionMs > 0 ? exposureMs / sessionMs : NaN,
    days: days.length,
    winningDays,
    losingDays,
    returnPct: capital > 0 ? netPnl / capital : NaN,
  };
}
