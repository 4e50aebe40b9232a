/**
 * The report opens in headless Chromium and the equity curve is really drawn:
 * screenshots are decoded and the pixels of the equity line's colour counted.
 *
 * Skips (with a printed reason) when no Chromium binary is found, unless
 * RUSTRO_REQUIRE_BROWSER=1 (CI sets it), when a missing browser fails.
 */
import { describe, expect, it } from 'vitest';
import { EQUITY_LINE_COLOUR, equitySvg, renderReport } from '../../src/backtest/report.js';
import { equityCurve } from '../../src/backtest/stats.js';
import { colourPixels, findChromium, screenshot } from './browser.js';
import { reportInput, syntheticTrades } from './fixtures.js';

const chromium = findChromium();
const required = process.env.RUSTRO_REQUIRE_BROWSER === '1';
const skip = !chromium && !required;
if (skip) {
  console.warn('[report-browser] SKIPPED: no chromium binary found (looked for $RUSTRO_CHROMIUM if set, else /usr/bin/chromium and chromium/google-chrome on $PATH); `apt-get install chromium`, or set RUSTRO_REQUIRE_BROWSER=1 to make this a failure');
}

/** Removes the equity polyline: the negative control, which must show no line. */
const withoutEquityLine = (html: string): string => html.replace(/<polyline id="equity-line"[^>]*\/>/, '');

const W = 1200, H = 900;

describe('report in headless Chromium', () => {
  it.skipIf(skip)('draws the equity curve (and nothing of its colour without it)', { timeout: 120_000 }, async () => {
    expect(chromium, 'RUSTRO_REQUIRE_BROWSER=1 but no chromium binary was found').toBeDefined();
    const browser = chromium!;
    const input = reportInput(syntheticTrades(20));
    const html = renderReport(input);
    expect(withoutEquityLine(html)).not.toContain('id="equity-line"');

    // The equity SVG alone at the page's top-left: its user units are CSS pixels, so the plot's region is known exactly.
    const points = equityCurve(input.trades, input.capital);
    const svg = equitySvg(points, input.capital);
    const alone = `<!doctype html><meta charset="utf-8"><style>html,body{margin:0;background:#fff}svg{display:block}svg text{font:12px sans-serif}</style>${svg}`;

    const t0 = performance.now();
    const [full, noLine, empty, plot] = await Promise.all([
      screenshot(browser, html, W, H),
      screenshot(browser, withoutEquityLine(html), W, H),
      screenshot(browser, renderReport(reportInput([], [])), W, H),
      screenshot(browser, alone, W, 400),
    ]);
    console.log(`[report-browser] 4 screenshots in ${Math.round(performance.now() - t0)} ms with ${browser}`);
    expect([full.width, full.height]).toEqual([W, H]);

    // 1. The whole report, first screen: the line is there, and wide (the plot spans the page).
    const line = colourPixels(full, EQUITY_LINE_COLOUR);
    console.log(`[report-browser] equity-colour pixels: report ${line.count}, without the line ${colourPixels(noLine, EQUITY_LINE_COLOUR).count}, no trades ${colourPixels(empty, EQUITY_LINE_COLOUR).count}`);
    expect(line.count).toBeGreaterThan(1000);
    expect(line.maxX - line.minX).toBeGreaterThan(700);
    expect(line.maxY - line.minY).toBeGreaterThan(60); // not a flat line: the curve moves
    // ... and nothing else on the page has its colour, so the count means the line.
    expect(colourPixels(noLine, EQUITY_LINE_COLOUR).count).toBeLessThan(20);
    expect(colourPixels(empty, EQUITY_LINE_COLOUR).count).toBeLessThan(20);

    // 2. The plot alone: every blue pixel is inside the axes, and the line passes through each equity point.
    const vertices = /<polyline id="equity-line"[^>]*\bpoints="([^"]*)"/.exec(svg)![1]!.split(' ').map((v) => v.split(',').map(Number) as [number, number]);
    expect(vertices).toHaveLength(points.length);
    const inPlot = colourPixels(plot, EQUITY_LINE_COLOUR);
    expect(inPlot.count).toBeGreaterThan(1000);
    const xs = vertices.map(([x]) => x), ys = vertices.map(([, y]) => y);
    expect(inPlot.minX).toBeGreaterThanOrEqual(Math.min(...xs) - 3);
    expect(inPlot.maxX).toBeLessThanOrEqual(Math.max(...xs) + 3);
    expect(inPlot.minY).toBeGreaterThanOrEqual(Math.min(...ys) - 3);
    expect(inPlot.maxY).toBeLessThanOrEqual(Math.max(...ys) + 3);
    const missed = vertices.filter(([x, y]) => {
      const col = [-1, 0, 1].flatMap((dx) => inPlot.columns.get(Math.round(x) + dx) ?? []);
      return !col.some((py) => Math.abs(py - y) <= 3);
    });
    expect(missed, 'equity points the drawn line does not pass through').toEqual([]);
    // The curve rises overall (final equity above capital), so its right end is higher on the screen.
    expect(points[points.length - 1]!.equity).toBeGreaterThan(input.capital);
    expect(vertices[vertices.length - 1]![1]).toBeLessThan(vertices[0]![1]);
  });
});
