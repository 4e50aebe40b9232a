import { describe, expect, it } from 'vitest';
import { computeStats, dailyReturns, equityCurve, type BacktestDay } from '../../src/backtest/stats.js';
import { summaryJson } from '../../src/backtest/report.js';
import { daysFor, ist, reportInput, trade } from './fixtures.js';

const MIN = 60_000;
const SESSION = 375 * MIN; // 09:15–15:30

/*
 * The hand-built book: capital ₹1,00,000, charges ₹60 a trade.
 *
 *   day         trade  open–close   net        equity after   peak      drawdown
 *   2024-02-21  T1     09:30–10:00  +1,500     1,01,500       1,01,500  0
 *               T2     10:30–11:00    −500     1,01,000       1,01,500  500
 *   2024-02-22  T3     09:30–10:30  −2,520       98,480       1,01,500  3,020  ← max
 *               T4     11:00–11:30    +500       98,980       1,01,500  2,520
 *   2024-02-23  T5     10:00–10:15       0       98,980       1,01,500  2,520  (scratch)
 *               T6     13:00–14:00  +2,969.40  1,01,949.40   1,01,949.40  0
 *   2024-02-26  (no trade)
 *
 * Day nets: +1,000, −2,020, +2,969.40, 0 — chosen so the daily returns on the
 * equity at each day's start are round:
 *   r1 =  1,000    / 1,00,000    =  0.01
 *   r2 = −2,020    / 1,01,000    = −0.02
 *   r3 =  2,969.40 /   98,980    =  0.03
 *   r4 =  0        / 1,01,949.40 =  0
 */
const T = [
  trade({ positionId: 'T1', date: '2024-02-21', entry: '09:30', exit: '10:00', netPnl: 1500 }),
  trade({ positionId: 'T2', date: '2024-02-21', entry: '10:30', exit: '11:00', netPnl: -500 }),
  trade({ positionId: 'T3', date: '2024-02-22', entry: '09:30', exit: '10:30', netPnl: -2520 }),
  trade({ positionId: 'T4', date: '2024-02-22', entry: '11:00', exit: '11:30', netPnl: 500 }),
  trade({ positionId: 'T5', date: '2024-02-23', entry: '10:00', exit: '10:15', netPnl: 0 }),
  trade({ positionId: 'T6', date: '2024-02-23', entry: '13:00', exit: '14:00', netPnl: 2969.4 }),
];
// Exposure by hand: day 1 30+30 = 60 min, day 2 60+30 = 90, day 3 15+60 = 75, day 4 0.
const D: BacktestDay[] = [
  { date: '2024-02-21', trades: 2, grossPnl: 1120, charges: 120, netPnl: 1000, exposureMs: 60 * MIN, sessionMs: SESSION },
  { date: '2024-02-22', trades: 2, grossPnl: -1900, charges: 120, netPnl: -2020, exposureMs: 90 * MIN, sessionMs: SESSION },
  { date: '2024-02-23', trades: 2, grossPnl: 3089.4, charges: 120, netPnl: 2969.4, exposureMs: 75 * MIN, sessionMs: SESSION },
  { date: '2024-02-26', trades: 0, grossPnl: 0, charges: 0, netPnl: 0, exposureMs: 0, sessionMs: SESSION },
];
const CAPITAL = 1_00_000;

describe('computeStats on a hand-built book', () => {
  const s = computeStats(T, D, CAPITAL);

  it('counts trades, wins and losses (a scratch is neither)', () => {
    expect(s.trades).toBe(6);
    expect(s.wins).toBe(3); // T1, T4, T6
    expect(s.losses).toBe(2); // T2, T3
    expect(s.winRate).toBe(0.5); // 3 / 6: the scratch counts in the denominator
  });

  it('averages and extremes of wins and losses', () => {
    expect(s.avgWin).toBeCloseTo((1500 + 500 + 2969.4) / 3, 9); // 1,656.4666…
    expect(s.avgLoss).toBe(-1510); // (−500 − 2,520) / 2
    expect(s.largestWin).toBe(2969.4);
    expect(s.largestLoss).toBe(-2520);
  });

  it('profit factor = net wins / |net losses|', () => {
    expect(s.profitFactor).toBeCloseTo(4969.4 / 3020, 12); // 1.6455…
  });

  it('sums P&L and charges', () => {
    expect(s.netPnl).toBeCloseTo(1949.4, 9);
    expect(s.charges).toBe(360); // 6 × 60
    expect(s.grossPnl).toBeCloseTo(2309.4, 9); // net + charges
    expect(s.returnPct).toBeCloseTo(0.019494, 12); // 1,949.40 / 1,00,000
  });

  it('max drawdown in rupees and as a fraction of the peak', () => {
    expect(s.maxDrawdown).toBeCloseTo(3020, 9); // 1,01,500 → 98,480
    expect(s.maxDrawdownPct).toBeCloseTo(3020 / 101_500, 12); // 2.975 %
  });

  it('daily returns on the equity at the start of each day', () => {
    const r = dailyReturns(D, CAPITAL);
    expect(r.map((x) => Number(x.toFixed(12)))).toEqual([0.01, -0.02, 0.03, 0]);
    // days out of order are sorted by date first
    expect(dailyReturns([D[2]!, D[0]!, D[3]!, D[1]!], CAPITAL).map((x) => Number(x.toFixed(12)))).toEqual([0.01, -0.02, 0.03, 0]);
  });

  it('Sharpe: mean / sample sd × √252', () => {
    // mean = (0.01 − 0.02 + 0.03 + 0) / 4 = 0.005
    // deviations 0.005, −0.025, 0.025, −0.005 → squares sum 0.000025 + 0.000625 + 0.000625 + 0.000025 = 0.0013
    // sample variance 0.0013 / 3; sd = √0.000433… = 0.0208167
    // Sharpe = 0.005 / 0.0208167 × 15.8745 = 3.81300
    expect(s.sharpe).toBeCloseTo((0.005 / Math.sqrt(0.0013 / 3)) * Math.sqrt(252), 9);
    expect(s.sharpe).toBeCloseTo(3.813, 3);
  });

  it('Sortino: mean / √mean(min(r,0)²) × √252', () => {
    // downside squares 0, 0.0004, 0, 0 → mean 0.0001 → DD = 0.01
    // Sortino = 0.005 / 0.01 × √252 = 0.5 × 15.8745 = 7.93725
    expect(s.sortino).toBeCloseTo(0.5 * Math.sqrt(252), 9);
    expect(s.sortino).toBeCloseTo(7.93725, 4);
  });

  it('exposure and day counts', () => {
    expect(s.exposurePct).toBeCloseTo(225 / 1500, 12); // (60 + 90 + 75) / (4 × 375) = 0.15
    expect(s.days).toBe(4);
    expect(s.winningDays).toBe(2);
    expect(s.losingDays).toBe(1); // the flat day is neither
  });

  it('the fixture helper derives the same day rows from the trades', () => {
    const derived = daysFor(T, ['2024-02-26']);
    expect(derived.map((d) => [d.date, d.trades, d.exposureMs])).toEqual(D.map((d) => [d.date, d.trades, d.exposureMs]));
    derived.forEach((d, i) => expect(d.netPnl).toBeCloseTo(D[i]!.netPnl, 9));
  });
});

describe('equityCurve', () => {
  it('starts at the capital at the first entry, then one point per trade in exit order', () => {
    const shuffled = [T[5]!, T[2]!, T[0]!, T[4]!, T[1]!, T[3]!];
    const curve = equityCurve(shuffled, CAPITAL);
    expect(curve).toHaveLength(7);
    expect(curve[0]).toEqual({ at: ist('2024-02-21', '09:30'), equity: CAPITAL, drawdown: 0 });
    expect(curve.slice(1).map((p) => p.at)).toEqual(T.map((t) => t.exitAt));
    expect(curve.map((p) => Number(p.equity.toFixed(2)))).toEqual([100000, 101500, 101000, 98480, 98980, 98980, 101949.4]);
    expect(curve.map((p) => Number(p.drawdown.toFixed(2)))).toEqual([0, 0, 500, 3020, 2520, 2520, 0]);
  });

  it('with no trades: one point at 0', () => {
    expect(equityCurve([], 5000)).toEqual([{ at: 0, equity: 5000, drawdown: 0 }]);
  });

  it('a drawdown below the starting capital counts from the capital', () => {
    const curve = equityCurve([trade({ date: '2024-02-21', entry: '09:30', exit: '09:45', netPnl: -250 })], 1000);
    expect(curve[1]).toMatchObject({ equity: 750, drawdown: 250 });
  });
});

describe('computeStats edge cases', () => {
  it('max drawdown % is the largest fraction, which may be an earlier, smaller dip', () => {
    // capital 1,000: −100 (1,000 → 900: 10 % of the peak), +10,100 (→ 11,000, new peak), −500 (→ 10,500: 4.5 %)
    const ts = [
      trade({ date: '2024-02-21', entry: '09:30', exit: '09:40', netPnl: -100 }),
      trade({ date: '2024-02-21', entry: '10:00', exit: '10:10', netPnl: 10_100 }),
      trade({ date: '2024-02-21', entry: '11:00', exit: '11:10', netPnl: -500 }),
    ];
    const s = computeStats(ts, daysFor(ts), 1000);
    expect(s.maxDrawdown).toBe(500);
    expect(s.maxDrawdownPct).toBeCloseTo(0.1, 12);
  });

  it('no trades and no days: zeros, and undefined ratios are NaN → null in JSON', () => {
    const s = computeStats([], [], CAPITAL);
    expect(s).toMatchObject({ trades: 0, wins: 0, losses: 0, winRate: 0, avgWin: 0, avgLoss: 0, largestWin: 0, largestLoss: 0, profitFactor: 0 });
    expect(s).toMatchObject({ grossPnl: 0, charges: 0, netPnl: 0, maxDrawdown: 0, maxDrawdownPct: 0, days: 0, winningDays: 0, losingDays: 0, returnPct: 0 });
    expect(s.sharpe).toBeNaN();
    expect(s.sortino).toBeNaN();
    expect(s.exposurePct).toBeNaN();
    const json = summaryJson({ ...reportInput([], []), stats: s });
    expect(json.stats).toMatchObject({ sharpe: null, sortino: null, exposurePct: null, profitFactor: 0, trades: 0 });
    expect(json.trades).toEqual([]);
    expect(json.days).toEqual([]);
  });

  it('no trades on two flat days: exposure 0, Sharpe and Sortino undefined (sd = 0)', () => {
    const flat = (date: string): BacktestDay => ({ date, trades: 0, grossPnl: 0, charges: 0, netPnl: 0, exposureMs: 0, sessionMs: SESSION });
    const s = computeStats([], [flat('2024-02-21'), flat('2024-02-22')], CAPITAL);
    expect(s.exposurePct).toBe(0);
    expect(s.sharpe).toBeNaN();
    expect(s.sortino).toBeNaN();
  });

  it('all wins: profit factor Infinity (null in JSON), Sortino undefined (no downside)', () => {
    const ts = [
      trade({ date: '2024-02-21', entry: '09:30', exit: '10:00', netPnl: 1000 }),
      trade({ date: '2024-02-22', entry: '09:30', exit: '10:00', netPnl: 3000 }),
      trade({ date: '2024-02-23', entry: '09:30', exit: '10:00', netPnl: 2000 }),
    ];
    const input = reportInput(ts, daysFor(ts), CAPITAL);
    const s = input.stats;
    expect(s.wins).toBe(3);
    expect(s.winRate).toBe(1);
    expect(s.avgLoss).toBe(0);
    expect(s.largestLoss).toBe(0);
    expect(s.profitFactor).toBe(Infinity);
    expect(s.maxDrawdown).toBe(0);
    expect(Number.isFinite(s.sharpe)).toBe(true);
    expect(s.sortino).toBeNaN();
    const json = summaryJson(input);
    expect(json.stats.profitFactor).toBeNull();
    expect(json.stats.sortino).toBeNull();
    expect(JSON.parse(JSON.stringify(json)).stats.profitFactor).toBeNull();
  });

  it('only scratches: profit factor 0, no wins or losses', () => {
    const ts = [trade({ date: '2024-02-21', entry: '09:30', exit: '10:00', netPnl: 0 })];
    const s = computeStats(ts, daysFor(ts), CAPITAL);
    expect(s).toMatchObject({ trades: 1, wins: 0, losses: 0, winRate: 0, profitFactor: 0 });
  });

  it('one day: Sharpe and Sortino undefined → null', () => {
    const ts = [
      trade({ date: '2024-02-21', entry: '09:30', exit: '10:00', netPnl: 1000 }),
      trade({ date: '2024-02-21', entry: '11:00', exit: '11:30', netPnl: -400 }),
    ];
    const input = reportInput(ts, daysFor(ts), CAPITAL);
    expect(input.stats.days).toBe(1);
    expect(input.stats.sharpe).toBeNaN();
    expect(input.stats.sortino).toBeNaN();
    expect(summaryJson(input).stats).toMatchObject({ sharpe: null, sortino: null, profitFactor: 2.5, days: 1 });
  });

  it('no capital: return undefined', () => {
    expect(computeStats([], [], 0).returnPct).toBeNaN();
  });
});

describe('summaryJson', () => {
  it('stable keys, numbers as numbers, money to the paisa, days with returns and equity', () => {
    const input = reportInput(T, D, CAPITAL);
    const json = summaryJson(input);
    expect(Object.keys(json)).toEqual(['schema', 'run', 'stats', 'days', 'trades']);
    expect(Object.keys(json.stats).sort()).toEqual(Object.keys(input.stats).sort());
    for (const v of Object.values(json.stats)) expect(typeof v).toBe('number');
    expect(json.stats.netPnl).toBe(1949.4);
    expect(json.run).toMatchObject({ capital: CAPITAL, strategy: 'adx-mtf', from: '2024-02-21', to: '2024-02-26' });
    expect(json.days.map((d) => d.returnPct === null ? null : Number(d.returnPct.toFixed(12)))).toEqual([0.01, -0.02, 0.03, 0]);
    expect(json.days.map((d) => d.equity)).toEqual([101000, 98980, 101949.4, 101949.4]);
    expect(json.trades.map((t) => t.positionId)).toEqual(['T1', 'T2', 'T3', 'T4', 'T5', 'T6']);
    expect(json.trades[0]).toMatchObject({ entryIst: '2024-02-21 09:30:00', exitIst: '2024-02-21 10:00:00', netPnl: 1500, charges: 60 });
    // Round-trips through JSON unchanged (no NaN / Infinity to lose).
    expect(JSON.parse(JSON.stringify(json))).toEqual(json);
  });
});
