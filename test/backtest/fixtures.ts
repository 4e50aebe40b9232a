/**
 * Hand-built backtest trades and days for the stats and report tests, and the
 * sample report. Deterministic (a small LCG, no Math.random).
 */
import type { BacktestDay, BacktestTrade } from '../../src/backtest/stats.js';
import { computeStats } from '../../src/backtest/stats.js';
import type { ReportInput } from '../../src/backtest/report.js';

const IST_OFFSET_MS = 19_800_000;
const SESSION_MS = 375 * 60_000; // 09:15–15:30

/** Epoch ms of an IST wall time. */
export function ist(date: string, hhmm: string): number {
  return Date.parse(`${date}T${hhmm}:00Z`) - IST_OFFSET_MS;
}

export function trade(p: Partial<BacktestTrade> & { date: string; entry: string; exit: string; netPnl: number }): BacktestTrade {
  const charges = p.charges ?? 60;
  const qty = p.qty ?? 15;
  const entryAvg = p.entryAvg ?? 200;
  const grossPnl = p.grossPnl ?? p.netPnl + charges;
  return {
    positionId: p.positionId ?? `pos-${p.date}-${p.entry}`,
    strategy: p.strategy ?? 'adx-mtf',
    underlying: p.underlying ?? 'BANKNIFTY',
    symbol: p.symbol ?? 'BANKNIFTY28FEB2446500CE',
    entryAt: ist(p.date, p.entry),
    exitAt: ist(p.date, p.exit),
    qty,
    lots: p.lots ?? 1,
    entryAvg,
    exitAvg: p.exitAvg ?? entryAvg + grossPnl / qty,
    grossPnl,
    charges,
    netPnl: p.netPnl,
    reason: p.reason ?? (p.netPnl >= 0 ? 'trailing_stop' : 'stop_loss'),
  };
}

/** One row per IST date the trades close on (plus any extra dates, flat), exposure = union of open intervals. */
export function daysFor(trades: readonly BacktestTrade[], extraDates: string[] = []): BacktestDay[] {
  const byDate = new Map<string, BacktestTrade[]>();
  for (const d of extraDates) byDate.set(d, []);
  for (const t of trades) {
    const d = new Date(t.exitAt + IST_OFFSET_MS).toISOString().slice(0, 10);
    byDate.set(d, [...(byDate.get(d) ?? []), t]);
  }
  return [...byDate.entries()]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([date, ts]) => {
      const spans = ts.map((t) => [t.entryAt, t.exitAt] as const).sort((a, b) => a[0] - b[0]);
      let exposureMs = 0, end = -Infinity;
      for (const [s, e] of spans) {
        if (e <= end) continue;
        exposureMs += e - Math.max(s, end);
        end = e;
      }
      return {
        date,
        trades: ts.length,
        grossPnl: ts.reduce((s, t) => s + t.grossPnl, 0),
        charges: ts.reduce((s, t) => s + t.charges, 0),
        netPnl: ts.reduce((s, t) => s + t.netPnl, 0),
        exposureMs,
        sessionMs: SESSION_MS,
      };
    });
}

/** Weekdays from `from`, `n` of them. */
function weekdays(from: string, n: number): string[] {
  const out: string[] = [];
  for (let t = Date.parse(`${from}T00:00:00Z`); out.length < n; t += 86_400_000) {
    const d = new Date(t);
    if (d.getUTCDay() !== 0 && d.getUTCDay() !== 6) out.push(d.toISOString().slice(0, 10));
  }
  return out;
}

/**
 * `n` trades over trading days from 2024-01-01, one or two a day, drifting up
 * with losses in between (so the equity curve rises from left to right with
 * visible dips). Deterministic for a given n and seed.
 */
export function syntheticTrades(n: number, seed = 7): BacktestTrade[] {
  let s = seed >>> 0;
  const rnd = (): number => ((s = (Math.imul(s, 1_664_525) + 1_013_904_223) >>> 0) / 2 ** 32);
  const dates = weekdays('2024-01-01', n);
  const trades: BacktestTrade[] = [];
  let day = 0;
  while (trades.length < n) {
    const date = dates[day++]!;
    const perDay = rnd() < 0.3 ? 2 : 1;
    for (let k = 0; k < perDay && trades.length < n; k++) {
      const startMin = 10 * 60 + 15 + k * 150 + Math.floor(rnd() * 60);
      const hold = 10 + Math.floor(rnd() * 110);
      const hhmm = (m: number): string => `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;
      const underlying = rnd() < 0.5 ? 'NIFTY' : 'BANKNIFTY';
      const lotSize = underlying === 'NIFTY' ? 50 : 15;
      const lots = 1 + Math.floor(rnd() * 3);
      const qty = lots * lotSize;
      const entryAvg = Math.round((80 + rnd() * 220) * 20) / 20;
      const win = rnd() < 0.55;
      const move = win ? 4 + rnd() * 30 : -(3 + rnd() * 18);
      const exitAvg = Math.max(0.05, Math.round((entryAvg + move) * 20) / 20);
      const grossPnl = (exitAvg - entryAvg) * qty;
      const charges = 40 + qty * 0.12 + (entryAvg + exitAvg) * qty * 0.0006;
      const strike = underlying === 'NIFTY' ? 21_500 + 50 * Math.floor(rnd() * 20) : 46_000 + 100 * Math.floor(rnd() * 20);
      const right = rnd() < 0.5 ? 'CE' : 'PE';
      trades.push({
        positionId: `pos-${trades.length + 1}`,
        strategy: 'adx-mtf',
        underlying,
        symbol: `${underlying}25JAN24${strike}${right}`,
        entryAt: ist(date, hhmm(startMin)),
        exitAt: ist(date, hhmm(Math.min(startMin + hold, 15 * 60 + 20))),
        qty,
        lots,
        entryAvg,
        exitAvg,
        grossPnl,
        charges,
        netPnl: grossPnl - charges,
        reason: win ? (rnd() < 0.7 ? 'trailing_stop' : 'target') : rnd() < 0.8 ? 'stop_loss' : 'session_end',
      });
    }
  }
  return trades;
}

export function reportInput(trades: BacktestTrade[], days: BacktestDay[] = daysFor(trades), capital = 5_00_000): ReportInput {
  const from = days[0]?.date ?? '2024-01-01';
  const to = days[days.length - 1]?.date ?? from;
  return {
    title: `Backtest: adx-mtf ${from} → ${to}`,
    from,
    to,
    strategy: 'adx-mtf',
    underlyings: ['NIFTY', 'BANKNIFTY'],
    capital,
    ledgerFile: 'data/backtest/ledger-2024.jsonl',
    ledgerHash: '9f2c6b1a0e8d4c7b3a5f1e2d6c9b8a7f0e1d2c3b4a5f6e7d8c9b0a1f2e3d4c5b',
    bars: days.length * 375 * 2,
    trades,
    days,
    stats: computeStats(trades, days, capital),
    generatedBy: 'rustro 0.1.0 (test)',
  };
}
