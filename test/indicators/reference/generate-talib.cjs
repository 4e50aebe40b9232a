/**
 * Writes the TA-Lib reference fixtures `test/fixtures/indicators/<name>.talib.csv.gz`
 * that test/indicators/talib.test.ts checks the streaming indicators against.
 *
 * The values come from the real TA-Lib C library through its Node binding,
 * the npm package `talib` (1.1.6, which bundles TA-Lib C 0.6.0-dev). The
 * binding needs a native build, so it is NOT a dependency of this repo; to
 * regenerate, install it in a scratch folder:
 *
 *   mkdir -p /tmp/talibref && cd /tmp/talibref && npm init -y && npm install talib
 *   cd node_modules/talib && npx -y node-gyp configure && npx -y node-gyp build   # if install did not build it
 *   cd /work/main && NODE_PATH=/tmp/talibref/node_modules node test/indicators/reference/generate-talib.cjs
 *
 * Then regenerate the Supertrend/VWAP reference, which reads these files:
 *   python3 test/indicators/reference/supertrend_vwap.py
 *
 * Each output file is a gzip'd CSV: the input bars (ts,open,high,low,close,volume,
 * copied so the tests read only the repo) followed by one column per TA-Lib
 * call, named FUNC_PERIOD (EMA_9, ADX_14, …). A cell is empty where TA-Lib has
 * no output (before its begIndex); numbers are JS String(x), which round-trips.
 * Default settings: unstable period 0, compatibility default.
 *
 * Inputs: (a) 5 NIFTY 1-minute sessions from data/market, (b) NIFTY daily from
 * /work/shared/data, (c) NIFTY futures 5-minute with volume from /work/shared/data,
 * (d) a crafted series with long flat stretches, DM ties and a zero-range
 * stretch (TA-Lib's TA_IS_ZERO and "ADX unchanged" paths).
 */
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const zlib = require('node:zlib');
const talib = require('talib');

const root = path.resolve(__dirname, '../../..');
const outDir = path.join(root, 'test/fixtures/indicators');
const SHARED = '/work/shared/data';
const HEADER = 'ts,open,high,low,close,volume';

/** The standard set every input gets. */
const STANDARD = [
  ['EMA', 9], ['EMA', 21], ['SMA', 20], ['RSI', 14], ['ATR', 14], ['ATR', 10],
  ['ADX', 14], ['PLUS_DI', 14], ['MINUS_DI', 14],
];
/** Short periods reach the near-zero branches within a few bars of a flat stretch. */
const SHORT = [['RSI', 2], ['ATR', 2], ['ADX', 2], ['PLUS_DI', 2], ['MINUS_DI', 2], ['ADX', 5], ['PLUS_DI', 5], ['MINUS_DI', 5]];

function readCsv(file) {
  const buf = fs.readFileSync(file);
  const text = (file.endsWith('.gz') ? zlib.gunzipSync(buf) : buf).toString('utf8');
  const [header, ...lines] = text.trim().split('\n');
  const cols = header.trim().split(',');
  if (cols.slice(0, 6).join(',') !== HEADER) throw new Error(`${file}: unexpected header ${header}`);
  return lines.map((l) => {
    const c = l.trim().split(',');
    return { ts: c[0], open: +c[1], high: +c[2], low: +c[3], close: +c[4], volume: c[5] };
  });
}

/** IST ISO-8601 of epoch ms, e.g. 2024-01-01T09:15:00+05:30. */
const ist = (ms) => new Date(ms + 19_800_000).toISOString().replace(/\.\d{3}Z$/, '+05:30');

/** Deterministic crafted series: random walk on the 0.05 grid between degenerate stretches. */
function crafted() {
  let seed = 12345;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  const tick = (x) => Math.round(x * 20) / 20;
  const bars = [];
  let c = 100;
  const push = (o, h, l, cl) => bars.push({ open: tick(o), high: tick(h), low: tick(l), close: tick(cl) });
  const walk = (n) => {
    for (let i = 0; i < n; i++) {
      const o = c;
      c = tick(c + (Math.floor(rnd() * 7) - 3) * 0.05 * (rnd() < 0.2 ? 0 : 1));
      push(o, Math.max(o, c) + Math.floor(rnd() * 3) * 0.05, Math.min(o, c) - Math.floor(rnd() * 3) * 0.05, c);
    }
  };
  const repeat = (n, o, h, l, cl) => { for (let i = 0; i < n; i++) push(o, h, l, cl); c = cl; };
  walk(80);
  repeat(40, c, c, c, c); // zero range, 40 bars
  walk(60);
  repeat(600, c, c + 1, c - 1, c); // identical bars with a range: DM decays to ~0, DI sum under TA_IS_ZERO
  // DM ties: symmetric expanding bars (up-move == down-move > 0) alternating with symmetric inside bars.
  for (let i = 0; i < 40; i++) { const w = i % 2 === 0 ? 2 : 1; push(c, c + w, c - w, c); }
  walk(60);
  repeat(600, c, c, c, c); // zero range: smoothed TR decays under TA_IS_ZERO, DI become 0
  walk(80);
  repeat(35, c, c + 0.5, c - 0.5, c);
  walk(40);
  // 5-minute bars around the clock from 2024-01-01 09:15 IST, so the series crosses IST midnights;
  // volume empty, zero or positive so VWAP sees days that start without volume.
  const t0 = Date.parse('2024-01-01T09:15:00+05:30');
  return bars.map((b, i) => ({
    ...b,
    ts: ist(t0 + i * 300_000),
    volume: i % 7 === 0 ? '' : i % 5 === 0 ? '0' : String(100 + ((i * 37) % 900)),
  }));
}

function run(name, bars, spec) {
  const n = bars.length;
  const high = bars.map((b) => b.high);
  const low = bars.map((b) => b.low);
  const close = bars.map((b) => b.close);
  const cols = spec.map(([fn, period]) => {
    const hlc = fn !== 'EMA' && fn !== 'SMA' && fn !== 'RSI';
    const r = talib.execute({
      name: fn, startIdx: 0, endIdx: n - 1, optInTimePeriod: period,
      ...(hlc ? { high, low, close } : { inReal: close }),
    });
    const cells = new Array(n).fill('');
    r.result.outReal.forEach((v, i) => { cells[r.begIndex + i] = String(v); });
    return { name: `${fn}_${period}`, cells, begIndex: r.begIndex };
  });
  const lines = [[HEADER, ...cols.map((c) => c.name)].join(',')];
  bars.forEach((b, i) => lines.push([b.ts, b.open, b.high, b.low, b.close, b.volume, ...cols.map((c) => c.cells[i])].join(',')));
  const file = path.join(outDir, `${name}.talib.csv.gz`);
  fs.writeFileSync(file, zlib.gzipSync(lines.join('\n') + '\n', { level: 9 }));
  console.log(`${path.relative(root, file)}: ${n} bars, ${cols.map((c) => `${c.name}@${c.begIndex}`).join(' ')}`);
}

fs.mkdirSync(outDir, { recursive: true });
console.log(`TA-Lib via npm talib ${talib.version}`);
const minute = readCsv(path.join(root, 'data/market/nifty50_1m_2024-01_2024-02.csv.gz'))
  .filter((b) => b.ts >= '2024-01-01' && b.ts < '2024-01-06');
run('nifty50_1m_2024-01-01_2024-01-05', minute, STANDARD);
run('nifty50_1d_2024-08_2026-08', readCsv(path.join(SHARED, 'nifty50_1d_2024-08_2026-08.csv')), STANDARD);
run('niftyfut_5m_2026-09-30_2026-10-05', readCsv(path.join(SHARED, 'niftyfut_5m_2026-09-30_2026-10-05.csv')), STANDARD);
run('crafted_flat_ties', crafted(), [...STANDARD, ...SHORT]);
