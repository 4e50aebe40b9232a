import { describe, expect, it } from 'vitest';
import { escapeHtml, renderReport } from '../../src/backtest/report.js';
import { equityCurve } from '../../src/backtest/stats.js';
import { daysFor, reportInput, syntheticTrades, trade } from './fixtures.js';

const count = (html: string, re: RegExp): number => html.match(re)?.length ?? 0;

/** The vertices of the polyline with id="equity-line". */
function equityVertices(html: string): string[] {
  const m = /<polyline id="equity-line"[^>]*\bpoints="([^"]*)"/.exec(html);
  if (!m) throw new Error('no equity polyline');
  return m[1]!.trim() === '' ? [] : m[1]!.trim().split(/\s+/);
}

function expectSelfContained(html: string): void {
  expect(html.startsWith('<!doctype html>')).toBe(true);
  expect(html).not.toMatch(/\b(?:src|href|xlink:href)\s*=\s*["']?\s*(?:https?:)?\/\//i);
  expect(html).not.toMatch(/<script\b/i);
  expect(html).not.toMatch(/<link\b/i);
  expect(html).not.toMatch(/@import|url\(/i);
  expect(html).not.toMatch(/<(?:iframe|object|embed|img)\b/i);
}

describe('renderReport', () => {
  it('is one self-contained document with every section', () => {
    const html = renderReport(reportInput(syntheticTrades(20)));
    expectSelfContained(html);
    for (const id of ['equity', 'drawdown', 'statistics', 'trades', 'days']) expect(html).toContain(`id="${id}"`);
    expect(count(html, /<svg\b/g)).toBe(2);
    expect(count(html, /id="equity-line"/g)).toBe(1);
    expect(count(html, /id="drawdown-area"/g)).toBe(1);
    expect(html).toContain('stroke="#1f77b4"');
    expect(html).toContain('9f2c6b1a0e8d4c7b3a5f1e2d6c9b8a7f0e1d2c3b4a5f6e7d8c9b0a1f2e3d4c5b');
    expect(html).toContain('₹5,00,000.00'); // capital, Indian grouping
  });

  it('one row per trade and per day; the equity polyline has one vertex per equity point', () => {
    const input = reportInput(syntheticTrades(20));
    const html = renderReport(input);
    expect(count(html, /<tr class="trade /g)).toBe(20);
    expect(count(html, /<tr class="day /g)).toBe(input.days.length);
    expect(equityVertices(html)).toHaveLength(equityCurve(input.trades, input.capital).length); // 21
    // the drawdown path: a move, one line per equity point, back to the baseline, close
    const d = /<path id="drawdown-area" d="([^"]*)"/.exec(html)![1]!;
    expect(count(d, /L/g)).toBe(21 + 1);
    // losing rows are marked
    expect(count(html, /<tr class="trade loss"/g)).toBe(input.trades.filter((t) => Math.round(t.netPnl * 100) < 0).length);
    expect(count(html, /<tr class="trade loss"/g)).toBeGreaterThan(0);
  });

  it('the equity line goes up the page when equity rises', () => {
    const ts = [
      trade({ date: '2024-02-21', entry: '09:30', exit: '10:00', netPnl: 1000 }),
      trade({ date: '2024-02-21', entry: '10:30', exit: '11:00', netPnl: -500 }),
      trade({ date: '2024-02-21', entry: '11:30', exit: '12:00', netPnl: 2000 }),
    ];
    const ys = equityVertices(renderReport(reportInput(ts))).map((v) => Number(v.split(',')[1]));
    expect(ys).toHaveLength(4);
    expect(ys[1]!).toBeLessThan(ys[0]!); // +1000: higher on the page (smaller y)
    expect(ys[2]!).toBeGreaterThan(ys[1]!); // −500
    expect(ys[3]!).toBeLessThan(ys[1]!); // +2000
  });

  it('escapes hostile strings everywhere', () => {
    const evil = '<img src=x onerror="alert(1)">&\'';
    const ts = [trade({ date: '2024-02-21', entry: '09:30', exit: '10:00', netPnl: -100, symbol: evil, underlying: evil, positionId: evil, reason: evil, strategy: evil })];
    const input = { ...reportInput(ts), title: evil, strategy: evil, underlyings: [evil], ledgerFile: evil, ledgerHash: evil, generatedBy: evil };
    const html = renderReport(input);
    expect(html).not.toContain('<img');
    expect(html).not.toContain('onerror="');
    expect(html).toContain('&lt;img src=x onerror=&quot;alert(1)&quot;&gt;&amp;&#39;');
    expectSelfContained(html);
    expect(escapeHtml('a<b>"c"&\'d\'')).toBe('a&lt;b&gt;&quot;c&quot;&amp;&#39;d&#39;');
  });

  it('renders with no trades: says so, and draws no line', () => {
    const html = renderReport(reportInput([], []));
    expectSelfContained(html);
    expect(html).toContain('No trades.');
    expect(html).toContain('>no trades</text>');
    expect(count(html, /<tr class="trade /g)).toBe(0);
    expect(equityVertices(html)).toHaveLength(1); // the starting capital alone: nothing to stroke
    expect(html).not.toMatch(/NaN|Infinity|undefined/);
  });

  it('renders one trade', () => {
    const ts = [trade({ date: '2024-02-21', entry: '09:30', exit: '10:00', netPnl: 1234.5, symbol: 'NIFTY29FEB2422000CE', reason: 'trailing_stop' })];
    const html = renderReport(reportInput(ts));
    expect(count(html, /<tr class="trade win"/g)).toBe(1);
    expect(count(html, /<tr class="day /g)).toBe(1);
    expect(equityVertices(html)).toHaveLength(2);
    expect(html).toContain('NIFTY29FEB2422000CE');
    expect(html).toContain('trailing stop');
    expect(html).toContain('<td>09:30</td><td>10:00</td>');
    expect(html).toContain('+₹1,234.50');
    expect(html).not.toMatch(/NaN|undefined/);
    expect(html).toContain('∞'); // profit factor with no loss
  });

  it('renders a year (~1000 trades) quickly and completely', () => {
    const input = reportInput(syntheticTrades(1000));
    const t0 = performance.now();
    const html = renderReport(input);
    const ms = performance.now() - t0;
    expect(ms).toBeLessThan(1000);
    expect(count(html, /<tr class="trade /g)).toBe(1000);
    expect(equityVertices(html)).toHaveLength(1001);
    expect(html.length).toBeLessThan(2_000_000);
    expect(html).not.toMatch(/NaN|undefined/);
  });

  it('Indian digit grouping for large amounts, negatives and paise', () => {
    const ts = [
      trade({ date: '2024-02-21', entry: '09:30', exit: '10:00', netPnl: 123456.789 }),
      trade({ date: '2024-02-22', entry: '09:30', exit: '10:00', netPnl: -1234567.891 }),
    ];
    const html = renderReport(reportInput(ts, daysFor(ts), 1_00_00_000));
    expect(html).toContain('+₹1,23,456.79');
    expect(html).toContain('-₹12,34,567.89');
    expect(html).toContain('₹1,00,00,000.00');
  });
});
