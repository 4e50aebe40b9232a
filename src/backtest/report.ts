/**
 * The backtest report: one self-contained HTML document (inline CSS and SVG,
 * no script, nothing fetched from the network) and a JSON summary for
 * scripts. Pure string building; the caller writes the files.
 *
 * Every string that reaches the HTML goes through `escapeHtml`. Money is
 * rounded to the paisa here, at presentation, never in the statistics.
 */
import { istDate, istMinuteOfDay, minutesToHhmm } from '../core/clock.js';
import { rupees } from '../app/narrator.js';
import { byExit, dailyReturns, equityCurve, type BacktestDay, type BacktestStats, type BacktestTrade, type EquityPoint } from './stats.js';

/** What was run: the report's header and the JSON summary's `run`. */
export type RunInfo = {
  title: string;
  /** YYYY-MM-DD */
  from: string;
  /** YYYY-MM-DD */
  to: string;
  strategy: string;
  underlyings: string[];
  /** Rupees. */
  capital: number;
  ledgerFile: string;
  /** sha256 of the ledger, hex. */
  ledgerHash: string;
  /** Number of bars replayed. */
  bars: number;
  /** E.g. "rustro 0.1.0". */
  generatedBy: string;
};

export type ReportInput = RunInfo & { trades: BacktestTrade[]; days: BacktestDay[]; stats: BacktestStats };

/** The stroke colour of the equity line; the browser test looks for it. Used nowhere else in the report. */
export const EQUITY_LINE_COLOUR = '#1f77b4';
const DRAWDOWN_COLOUR = '#d62728';

// ---------------------------------------------------------------- formatting

/** Escapes text for HTML element content and quoted attribute values. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : c === '"' ? '&quot;' : '&#39;'));
}
const esc = escapeHtml;

/** To the paisa; -0 becomes 0. */
const paisa = (x: number): number => Math.round(x * 100) / 100 || 0;

/** ₹1,23,456.78; "—" for undefined (NaN / ±Infinity). */
function money(x: number): string {
  return Number.isFinite(x) ? rupees(paisa(x)) : '—';
}

/** A fraction as a percentage: 0.1234 → "12.34 %". */
function pct(fraction: number, digits = 2): string {
  return Number.isFinite(fraction) ? `${(fraction * 100).toFixed(digits)}%` : '—';
}

function ratio(x: number): string {
  if (x === Infinity) return '∞';
  return Number.isFinite(x) ? x.toFixed(2) : '—';
}

const premium = (x: number): string => (Number.isFinite(x) ? x.toFixed(2) : '—');
const hhmm = (ms: number): string => minutesToHhmm(istMinuteOfDay(ms));
const pnlClass = (x: number): string => (paisa(x) > 0 ? 'pos' : paisa(x) < 0 ? 'neg' : 'zero');
/** Colour class of a fraction as shown by pct() (to 0.01 %). */
const fracClass = (f: number): string => (Math.round(f * 10_000) > 0 ? 'pos' : Math.round(f * 10_000) < 0 ? 'neg' : 'zero');
const signed = (x: number): string => (paisa(x) > 0 ? `+${money(x)}` : money(x));
const reasonText = (r: string): string => r.replace(/_/g, ' ');

/** "YYYY-MM-DD HH:MM:SS" in IST (fixed +05:30; India has no DST). */
function istStamp(ms: number): string {
  return new Date(ms + 19_800_000).toISOString().slice(0, 19).replace('T', ' ');
}

// ---------------------------------------------------------------- plots

const PLOT_W = 1080;
const MARGIN = { left: 96, right: 20, top: 14, bottom: 40 };

/** A "nice" tick step (1, 2, 2.5 or 5 × 10^k) so that about `count` steps cover `range`. */
function niceStep(range: number, count: number): number {
  const raw = range / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const n = raw / mag;
  return (n <= 1 ? 1 : n <= 2 ? 2 : n <= 2.5 ? 2.5 : n <= 5 ? 5 : 10) * mag;
}

/** The y domain rounded out to ticks, and the ticks. */
function yTicks(min: number, max: number, fallbackRange: number): { lo: number; hi: number; step: number; ticks: number[] } {
  if (!(max > min)) {
    const half = fallbackRange / 2;
    min -= half;
    max += half;
  }
  const step = niceStep(max - min, 5);
  const lo = Math.floor(min / step) * step;
  const hi = Math.max(Math.ceil(max / step) * step, lo + step);
  const decimals = Math.max(0, -Math.floor(Math.log10(step)) + 1);
  const ticks: number[] = [];
  for (let v = lo; v <= hi + step / 2; v += step) ticks.push(Number(v.toFixed(decimals)));
  return { lo, hi, step, ticks };
}

/** A tick label: rupees with Indian grouping, without paise unless the step needs them. */
function rupeeTick(v: number, step: number): string {
  const digits = step >= 1 ? 0 : 2;
  const s = Math.abs(v).toLocaleString('en-IN', { minimumFractionDigits: digits, maximumFractionDigits: digits });
  return `${v < 0 && Math.abs(v) >= 10 ** -digits / 2 ? '−' : ''}₹${s}`;
}

/** Up to `count` + 1 evenly spread point indices for x-axis labels. */
function xTickIndices(n: number, count: number): number[] {
  if (n <= 1) return [0];
  const out = new Set<number>();
  const m = Math.min(count, n - 1);
  for (let k = 0; k <= m; k++) out.add(Math.round((k * (n - 1)) / m));
  return [...out];
}

type Frame = { h: number; x: (i: number) => number; y: (v: number) => number; axes: string };

/** Axes, gridlines and labelled ticks for a plot of `n` points (x = point index) and the y domain of `values`. */
function frame(points: readonly EquityPoint[], values: readonly number[], h: number, fallbackRange: number, clampHi?: number): Frame {
  const n = points.length;
  let min = Math.min(...values);
  let max = Math.max(...values);
  if (clampHi !== undefined) max = Math.min(max, clampHi);
  const { lo, hi, step, ticks } = yTicks(min, max, fallbackRange);
  const top = clampHi !== undefined ? Math.min(hi, clampHi) : hi;
  const innerW = PLOT_W - MARGIN.left - MARGIN.right;
  const innerH = h - MARGIN.top - MARGIN.bottom;
  const x = (i: number): number => MARGIN.left + (n <= 1 ? innerW / 2 : (i * innerW) / (n - 1));
  const y = (v: number): number => MARGIN.top + ((top - v) * innerH) / (top - lo);
  const parts: string[] = [];
  for (const t of ticks) {
    if (t > top + step / 1000) continue;
    const ty = y(t).toFixed(1);
    parts.push(`<line class="grid" x1="${MARGIN.left}" x2="${PLOT_W - MARGIN.right}" y1="${ty}" y2="${ty}"/>`);
    parts.push(`<text class="ytick" x="${MARGIN.left - 8}" y="${ty}" dy="0.32em" text-anchor="end">${esc(rupeeTick(t, step))}</text>`);
  }
  const oneDay = n > 0 && istDate(points[0]!.at) === istDate(points[n - 1]!.at);
  for (const i of xTickIndices(n, 6)) {
    const tx = x(i).toFixed(1);
    const at = points[i]!.at;
    const label = n <= 1 && at === 0 ? '' : oneDay ? hhmm(at) : istDate(at);
    parts.push(`<line class="tick" x1="${tx}" x2="${tx}" y1="${h - MARGIN.bottom}" y2="${h - MARGIN.bottom + 5}"/>`);
    parts.push(`<text class="xtick" x="${tx}" y="${h - MARGIN.bottom + 18}" text-anchor="${n > 1 && i === 0 ? 'start' : n > 1 && i === n - 1 ? 'end' : 'middle'}">${esc(label)}</text>`);
  }
  parts.push(`<line class="axis" x1="${MARGIN.left}" x2="${MARGIN.left}" y1="${MARGIN.top}" y2="${h - MARGIN.bottom}"/>`);
  parts.push(`<line class="axis" x1="${MARGIN.left}" x2="${PLOT_W - MARGIN.right}" y1="${h - MARGIN.bottom}" y2="${h - MARGIN.bottom}"/>`);
  const xTitle = n <= 1 ? '' : `closed trades in exit order (${n - 1})${oneDay ? `, ${istDate(points[0]!.at)} IST` : ''}`;
  parts.push(`<text class="xtitle" x="${MARGIN.left + innerW / 2}" y="${h - 4}" text-anchor="middle">${esc(xTitle)}</text>`);
  return { h, x, y, axes: parts.join('') };
}

function noTradesLabel(h: number): string {
  const cx = MARGIN.left + (PLOT_W - MARGIN.left - MARGIN.right) / 2;
  return `<text class="empty" x="${cx}" y="${MARGIN.top + (h - MARGIN.top - MARGIN.bottom) * 0.3}" text-anchor="middle">no trades</text>`;
}

function svgOpen(h: number, label: string): string {
  return `<svg class="plot" viewBox="0 0 ${PLOT_W} ${h}" width="${PLOT_W}" height="${h}" role="img" aria-label="${esc(label)}">`;
}

/** The equity curve: a polyline (id="equity-line") with one vertex per equity point, and a dashed line at the capital. */
export function equitySvg(points: readonly EquityPoint[], capital: number): string {
  const h = 320;
  const f = frame(points, points.map((p) => p.equity), h, Math.abs(capital) * 0.02 || 2);
  const coords = points.map((p, i) => `${f.x(i).toFixed(1)},${f.y(p.equity).toFixed(1)}`).join(' ');
  const cy = f.y(capital).toFixed(1);
  return [
    svgOpen(h, 'equity curve'),
    f.axes,
    `<line class="capital" x1="${MARGIN.left}" x2="${PLOT_W - MARGIN.right}" y1="${cy}" y2="${cy}"/>`,
    `<polyline id="equity-line" fill="none" stroke="${EQUITY_LINE_COLOUR}" stroke-width="2.5" stroke-linejoin="round" stroke-linecap="round" points="${coords}"/>`,
    points.length <= 1 ? noTradesLabel(h) : '',
    '</svg>',
  ].join('');
}

/** The drawdown (rupees below the running peak, drawn below 0) as a filled area (id="drawdown-area"). */
export function drawdownSvg(points: readonly EquityPoint[], capital: number): string {
  const h = 200;
  const values = points.map((p) => -p.drawdown);
  const maxDd = Math.max(0, ...points.map((p) => p.drawdown));
  const f = frame(points, [...values, 0], h, maxDd > 0 ? maxDd : Math.abs(capital) * 0.01 || 2, 0);
  const base = f.y(0).toFixed(1);
  let d = '';
  if (points.length > 0) {
    d = `M${f.x(0).toFixed(1)},${base}`;
    points.forEach((p, i) => (d += `L${f.x(i).toFixed(1)},${f.y(-p.drawdown).toFixed(1)}`));
    d += `L${f.x(points.length - 1).toFixed(1)},${base}Z`;
  }
  return [
    svgOpen(h, 'drawdown'),
    f.axes,
    `<path id="drawdown-area" d="${d}" fill="${DRAWDOWN_COLOUR}" fill-opacity="0.25" stroke="${DRAWDOWN_COLOUR}" stroke-width="1.5" stroke-linejoin="round"/>`,
    points.length <= 1 ? noTradesLabel(h) : '',
    '</svg>',
  ].join('');
}

// ---------------------------------------------------------------- tables

function sortedDays(days: readonly BacktestDay[]): BacktestDay[] {
  return [...days].sort((a, b) => (a.date < b.date ? -1 : a.date > b.date ? 1 : 0));
}

function byEntry(trades: readonly BacktestTrade[]): BacktestTrade[] {
  return trades.map((t, i) => ({ t, i })).sort((a, b) => a.t.entryAt - b.t.entryAt || a.t.exitAt - b.t.exitAt || a.i - b.i).map((x) => x.t);
}

function statsTables(s: BacktestStats): string {
  const row = (label: string, value: string, cls = '', note = ''): string =>
    `<tr><th scope="row">${esc(label)}${note ? `<span class="note">${esc(note)}</span>` : ''}</th><td class="num ${cls}">${esc(value)}</td></tr>`;
  const groups: [string, string[]][] = [
    ['Trades', [
      row('Trades', String(s.trades)),
      row('Wins / losses', `${s.wins} / ${s.losses}`, '', s.trades - s.wins - s.losses > 0 ? `${s.trades - s.wins - s.losses} flat` : ''),
      row('Win rate', pct(s.winRate, 1)),
      row('Average win', money(s.avgWin), pnlClass(s.avgWin)),
      row('Average loss', money(s.avgLoss), pnlClass(s.avgLoss)),
      row('Largest win', money(s.largestWin), pnlClass(s.largestWin)),
      row('Largest loss', money(s.largestLoss), pnlClass(s.largestLoss)),
      row('Profit factor', ratio(s.profitFactor), '', 'net wins ÷ net losses'),
    ]],
    ['P&L', [
      row('Gross P&L', signed(s.grossPnl), pnlClass(s.grossPnl)),
      row('Charges paid', money(s.charges)),
      row('Net P&L', signed(s.netPnl), pnlClass(s.netPnl)),
      row('Return on capital', pct(s.returnPct), fracClass(s.returnPct)),
      row('Days', String(s.days)),
      row('Winning / losing days', `${s.winningDays} / ${s.losingDays}`),
    ]],
    ['Risk', [
      row('Max drawdown', money(s.maxDrawdown), s.maxDrawdown > 0 ? 'neg' : ''),
      row('Max drawdown %', pct(s.maxDrawdownPct), '', 'of the running peak'),
      row('Sharpe', ratio(s.sharpe), '', 'daily, ×√252'),
      row('Sortino', ratio(s.sortino), '', 'daily, ×√252'),
      row('Exposure', pct(s.exposurePct, 1), '', 'time in a position'),
    ]],
  ];
  return `<div class="stats">${groups.map(([h, rows]) => `<table class="kv"><caption>${esc(h)}</caption><tbody>${rows.join('')}</tbody></table>`).join('')}</div>`;
}

function tradesTable(trades: readonly BacktestTrade[]): string {
  if (trades.length === 0) return '<p class="empty">No trades.</p>';
  const manyStrategies = new Set(trades.map((t) => t.strategy)).size > 1;
  const head = ['#', 'Date', 'Entry', 'Exit', ...(manyStrategies ? ['Strategy'] : []), 'Contract', 'Lots', 'Qty', 'Entry ₹', 'Exit ₹', 'Gross', 'Charges', 'Net', 'Exit reason'];
  const numeric = new Set(['#', 'Lots', 'Qty', 'Entry ₹', 'Exit ₹', 'Gross', 'Charges', 'Net']);
  const rows = byEntry(trades).map((t, i) => {
    const result = paisa(t.netPnl) < 0 ? 'loss' : paisa(t.netPnl) > 0 ? 'win' : 'flat';
    const exitDate = istDate(t.exitAt);
    const exit = exitDate === istDate(t.entryAt) ? hhmm(t.exitAt) : `${exitDate} ${hhmm(t.exitAt)}`;
    const cells = [
      `<td class="num">${i + 1}</td>`,
      `<td>${esc(istDate(t.entryAt))}</td>`,
      `<td>${esc(hhmm(t.entryAt))}</td>`,
      `<td>${esc(exit)}</td>`,
      ...(manyStrategies ? [`<td>${esc(t.strategy)}</td>`] : []),
      `<td class="sym" title="${esc(t.underlying)} · ${esc(t.positionId)}">${esc(t.symbol)}</td>`,
      `<td class="num">${t.lots}</td>`,
      `<td class="num">${t.qty}</td>`,
      `<td class="num">${premium(t.entryAvg)}</td>`,
      `<td class="num">${premium(t.exitAvg)}</td>`,
      `<td class="num ${pnlClass(t.grossPnl)}">${esc(signed(t.grossPnl))}</td>`,
      `<td class="num">${esc(money(t.charges))}</td>`,
      `<td class="num ${pnlClass(t.netPnl)}"><b>${esc(signed(t.netPnl))}</b></td>`,
      `<td>${esc(reasonText(t.reason))}</td>`,
    ];
    return `<tr class="trade ${result}">${cells.join('')}</tr>`;
  });
  return `<div class="scroll"><table class="grid trades"><thead><tr>${head.map((h) => `<th${numeric.has(h) ? ' class="num"' : ''}>${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows.join('\n')}</tbody></table></div>`;
}

function daysTable(days: readonly BacktestDay[], capital: number): string {
  if (days.length === 0) return '<p class="empty">No days.</p>';
  const sorted = sortedDays(days);
  const returns = dailyReturns(sorted, capital);
  let equity = capital;
  const rows = sorted.map((d, i) => {
    equity += d.netPnl;
    const result = paisa(d.netPnl) < 0 ? 'loss' : paisa(d.netPnl) > 0 ? 'win' : 'flat';
    const cells = [
      `<td>${esc(d.date)}</td>`,
      `<td class="num">${d.trades}</td>`,
      `<td class="num ${pnlClass(d.grossPnl)}">${esc(signed(d.grossPnl))}</td>`,
      `<td class="num">${esc(money(d.charges))}</td>`,
      `<td class="num ${pnlClass(d.netPnl)}"><b>${esc(signed(d.netPnl))}</b></td>`,
      `<td class="num ${fracClass(returns[i]!)}">${esc(pct(returns[i]!))}</td>`,
      `<td class="num">${esc(pct(d.sessionMs > 0 ? d.exposureMs / d.sessionMs : NaN, 1))}</td>`,
      `<td class="num">${esc(money(equity))}</td>`,
    ];
    return `<tr class="day ${result}">${cells.join('')}</tr>`;
  });
  const head = ['Date', 'Trades', 'Gross', 'Charges', 'Net', 'Return', 'Exposure', 'Equity at close'];
  return `<div class="scroll"><table class="grid days"><thead><tr>${head.map((h, i) => `<th${i > 0 ? ' class="num"' : ''}>${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows.join('\n')}</tbody></table></div>`;
}

const CSS = `
:root{color-scheme:light}
*{box-sizing:border-box}
body{margin:0;background:#f4f5f7;color:#1d2433;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,"Noto Sans",sans-serif}
main{max-width:1160px;margin:0 auto;padding:18px 20px 40px}
h1{font-size:22px;margin:0 0 8px}
h2{font-size:16px;margin:0 0 10px}
h2 small{font-weight:normal;color:#5b6475;margin-left:8px}
.card{background:#fff;border:1px solid #dde1e7;border-radius:8px;padding:14px 16px;margin:0 0 14px}
.run{display:grid;grid-template-columns:repeat(4,auto);gap:2px 22px;margin:0;justify-content:start}
.run div{min-width:0}
.run dt{font-size:11px;text-transform:uppercase;letter-spacing:.04em;color:#6b7385}
.run dd{margin:0 0 4px;font-weight:600;overflow-wrap:anywhere}
.run .wide{grid-column:span 2}
.hash{font:12px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-weight:normal}
.kpis{display:grid;grid-template-columns:repeat(8,1fr);gap:10px;margin:0 0 14px}
.kpi{background:#fff;border:1px solid #dde1e7;border-radius:8px;padding:8px 10px}
.kpi .k{font-size:11px;text-transform:uppercase;letter-spacing:.04em;color:#6b7385}
.kpi .v{font-size:18px;font-weight:650;font-variant-numeric:tabular-nums;white-space:nowrap}
svg.plot{display:block;width:100%;height:auto}
svg.plot text{font:12px system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;fill:#4a5264}
svg.plot .xtitle{fill:#6b7385;font-size:11px}
svg.plot .empty{font-size:16px;fill:#8a91a0}
svg.plot .grid{stroke:#e6e9ee;stroke-width:1}
svg.plot .axis,svg.plot .tick{stroke:#9aa1ae;stroke-width:1}
svg.plot .capital{stroke:#9aa1ae;stroke-width:1;stroke-dasharray:5 4}
.stats{display:grid;grid-template-columns:repeat(3,1fr);gap:18px}
table{border-collapse:collapse;font-variant-numeric:tabular-nums}
table.kv{width:100%}
table.kv caption{text-align:left;font-weight:650;padding:0 0 4px;color:#3a4254}
table.kv th{text-align:left;font-weight:normal;padding:3px 8px 3px 0;border-bottom:1px solid #eef0f3}
table.kv td{padding:3px 0;border-bottom:1px solid #eef0f3;font-weight:600;white-space:nowrap}
.note{display:block;font-size:11px;color:#8a91a0}
.scroll{overflow-x:auto}
table.grid{width:100%;font-size:13px}
table.grid th{position:sticky;top:0;background:#f8f9fb;text-align:left;font-weight:600;padding:5px 8px;border-bottom:2px solid #dde1e7;white-space:nowrap}
table.grid td{padding:4px 8px;border-bottom:1px solid #eef0f3;white-space:nowrap}
table.grid tr.loss td{background:#fdf1f1}
table.grid tr.loss td:first-child{box-shadow:inset 3px 0 0 #c62828}
table.grid tr.win td:first-child{box-shadow:inset 3px 0 0 #2e7d32}
.num{text-align:right}
th.num{text-align:right}
.pos{color:#1b7a34}
.neg{color:#c62828}
.sym{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12px}
.empty{color:#6b7385;font-style:italic;margin:4px 0}
footer{color:#8a91a0;font-size:12px;margin-top:10px}
@media print{body{background:#fff}.card,.kpi{border-color:#ccc}}
`;

/** The whole report: one self-contained HTML document. */
export function renderReport(input: ReportInput): string {
  const { stats: s } = input;
  const points = equityCurve(input.trades, input.capital);
  const ledgerName = input.ledgerFile.split('/').pop() ?? input.ledgerFile;
  const dt = (label: string, value: string, cls = ''): string => `<div${cls ? ` class="${cls}"` : ''}><dt>${esc(label)}</dt><dd>${value}</dd></div>`;
  const kpi = (label: string, value: string, cls = ''): string => `<div class="kpi"><div class="k">${esc(label)}</div><div class="v ${cls}">${esc(value)}</div></div>`;
  const period = input.from === input.to ? input.from : `${input.from} → ${input.to}`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="${esc(input.generatedBy)}">
<title>${esc(input.title)}</title>
<style>${CSS}</style>
</head>
<body>
<main>
<header class="card">
<h1>${esc(input.title)}</h1>
<dl class="run">
${dt('Period (IST)', esc(period))}
${dt('Strategy', esc(input.strategy))}
${dt('Underlyings', esc(input.underlyings.join(', ') || '—'))}
${dt('Capital', esc(money(input.capital)))}
${dt('Bars replayed', esc(input.bars.toLocaleString('en-IN')))}
${dt('Ledger', `<span title="${esc(input.ledgerFile)}">${esc(ledgerName)}</span>`)}
${dt('Ledger sha256', `<span class="hash">${esc(input.ledgerHash)}</span>`, 'wide')}
</dl>
</header>
<section class="kpis">
${kpi('Net P&L', signed(s.netPnl), pnlClass(s.netPnl))}
${kpi('Return', pct(s.returnPct), fracClass(s.returnPct))}
${kpi('Trades', String(s.trades))}
${kpi('Win rate', pct(s.winRate, 1))}
${kpi('Profit factor', ratio(s.profitFactor))}
${kpi('Max drawdown', money(s.maxDrawdown), s.maxDrawdown > 0 ? 'neg' : '')}
${kpi('Sharpe', ratio(s.sharpe))}
${kpi('Sortino', ratio(s.sortino))}
</section>
<section class="card" id="equity">
<h2>Equity<small>capital ${esc(money(input.capital))} (dashed) plus net P&amp;L after each closed trade</small></h2>
${equitySvg(points, input.capital)}
</section>
<section class="card" id="drawdown">
<h2>Drawdown<small>below the running peak · max ${esc(money(s.maxDrawdown))} (${esc(pct(s.maxDrawdownPct))})</small></h2>
${drawdownSvg(points, input.capital)}
</section>
<section class="card" id="statistics">
<h2>Statistics<small>P&amp;L net of charges unless marked gross; Sharpe and Sortino on daily returns, risk-free 0</small></h2>
${statsTables(s)}
</section>
<section class="card" id="trades">
<h2>Trades<small>${input.trades.length === 0 ? 'no trades' : `${input.trades.length} · times IST · losing trades shaded red`}</small></h2>
${tradesTable(input.trades)}
</section>
<section class="card" id="days">
<h2>Days<small>${input.days.length} · return on the equity at the day's start</small></h2>
${daysTable(input.days, input.capital)}
</section>
<footer>Generated by ${esc(input.generatedBy)} from ${esc(input.ledgerFile)}.</footer>
</main>
</body>
</html>
`;
}

// ---------------------------------------------------------------- JSON

/** A number for JSON: NaN and ±Infinity become null. */
const finite = (x: number): number | null => (Number.isFinite(x) ? x : null);
/** Money for JSON: to the paisa; non-finite → null. */
const jsonMoney = (x: number): number | null => (Number.isFinite(x) ? paisa(x) : null);

export type JsonStats = { [K in keyof BacktestStats]: number | null };

/**
 * The JSON summary for scripts. Stable keys; numbers are numbers; rupee
 * amounts are rounded to the paisa, ratios and fractions (winRate, the
 * "...Pct" fields, sharpe, sortino, profitFactor) are not rounded; NaN and
 * ±Infinity are null (so profitFactor with no loss is null — read it with
 * `losses === 0`). Fractions stay fractions (0.05 = 5 %), as in BacktestStats.
 */
export type BacktestSummary = {
  schema: 'rustro.backtest.summary/1';
  run: RunInfo;
  stats: JsonStats;
  days: {
    date: string;
    trades: number;
    grossPnl: number | null;
    charges: number | null;
    netPnl: number | null;
    /** The day's return on the equity at its start (what Sharpe/Sortino use). */
    returnPct: number | null;
    exposureMs: number;
    sessionMs: number;
    exposurePct: number | null;
    /** Equity at the end of the day: capital + net P&L to date. */
    equity: number | null;
  }[];
  /** In exit order, as the equity curve. */
  trades: (Omit<BacktestTrade, 'entryAvg' | 'exitAvg' | 'grossPnl' | 'charges' | 'netPnl'> & {
    /** "YYYY-MM-DD HH:MM:SS", IST */
    entryIst: string;
    exitIst: string;
    entryAvg: number | null;
    exitAvg: number | null;
    grossPnl: number | null;
    charges: number | null;
    netPnl: number | null;
  })[];
};

const MONEY_STATS = new Set<keyof BacktestStats>(['avgWin', 'avgLoss', 'largestWin', 'largestLoss', 'grossPnl', 'charges', 'netPnl', 'maxDrawdown']);

export function summaryJson(input: ReportInput): BacktestSummary {
  const stats = {} as JsonStats;
  for (const key of Object.keys(input.stats) as (keyof BacktestStats)[]) {
    const v = input.stats[key];
    stats[key] = MONEY_STATS.has(key) ? jsonMoney(v) : finite(v);
  }
  const days = sortedDays(input.days);
  const returns = dailyReturns(days, input.capital);
  let equity = input.capital;
  return {
    schema: 'rustro.backtest.summary/1',
    run: {
      title: input.title,
      from: input.from,
      to: input.to,
      strategy: input.strategy,
      underlyings: [...input.underlyings],
      capital: input.capital,
      bars: input.bars,
      ledgerFile: input.ledgerFile,
      ledgerHash: input.ledgerHash,
      generatedBy: input.generatedBy,
    },
    stats,
    days: days.map((d, i) => {
      equity += d.netPnl;
      return {
        date: d.date,
        trades: d.trades,
        grossPnl: jsonMoney(d.grossPnl),
        charges: jsonMoney(d.charges),
        netPnl: jsonMoney(d.netPnl),
        returnPct: finite(returns[i]!),
        exposureMs: d.exposureMs,
        sessionMs: d.sessionMs,
        exposurePct: d.sessionMs > 0 ? d.exposureMs / d.sessionMs : null,
        equity: jsonMoney(equity),
      };
    }),
    trades: byExit(input.trades).map((t) => ({
      positionId: t.positionId,
      strategy: t.strategy,
      underlying: t.underlying,
      symbol: t.symbol,
      entryAt: t.entryAt,
      exitAt: t.exitAt,
      entryIst: istStamp(t.entryAt),
      exitIst: istStamp(t.exitAt),
      qty: t.qty,
      lots: t.lots,
      entryAvg: jsonMoney(t.entryAvg),
      exitAvg: jsonMoney(t.exitAvg),
      grossPnl: jsonMoney(t.grossPnl),
      charges: jsonMoney(t.charges),
      netPnl: jsonMoney(t.netPnl),
      reason: t.reason,
    })),
  };
}

/** The JSON summary as file text (2-space indent, trailing newline). */
export function summaryJsonText(input: ReportInput): string {
  return `${JSON.stringify(summaryJson(input), null, 2)}\n`;
}
