/**
 * The streaming indicators against real TA-Lib output (fixtures written by
 * reference/generate-talib.cjs from TA-Lib C via npm `talib`), and
 * Supertrend / session VWAP against the independent numpy reference
 * (reference/supertrend_vwap.py). Every value within 1e-9·max(1, |ref|), and
 * NaN exactly where the reference has no value (so the first defined index is
 * TA-Lib's begIndex).
 */
import { describe, expect, it } from 'vitest';
import { Adx } from '../../src/indicators/adx.js';
import { Atr } from '../../src/indicators/atr.js';
import { Ema } from '../../src/indicators/ema.js';
import { Rsi } from '../../src/indicators/rsi.js';
import { Sma } from '../../src/indicators/sma.js';
import { Supertrend } from '../../src/indicators/supertrend.js';
import { SessionVwap } from '../../src/indicators/vwap.js';
import { type Fixture, compare, fixtureFiles, readFixture } from './support.js';

/** Runs the streaming indicator a TA-Lib column (FUNC_PERIOD) names over the fixture's bars. */
function stream(f: Fixture, column: string): { values: number[]; warm: boolean[] } {
  const [, fn, p] = /^(.+)_(\d+)$/.exec(column)!;
  const period = Number(p);
  const values: number[] = [];
  const warm: boolean[] = [];
  const closeOnly = { EMA: Ema, SMA: Sma, RSI: Rsi }[fn as string];
  if (closeOnly !== undefined) {
    const ind = new closeOnly(period);
    for (const c of f.close) {
      values.push(ind.update(c));
      warm.push(ind.warm);
    }
    return { values, warm };
  }
  if (fn === 'ATR') {
    const ind = new Atr(period);
    f.close.forEach((c, i) => {
      values.push(ind.update(f.high[i]!, f.low[i]!, c));
      warm.push(ind.warm);
    });
    return { values, warm };
  }
  const ind = new Adx(period);
  f.close.forEach((c, i) => {
    ind.update(f.high[i]!, f.low[i]!, c);
    values.push(fn === 'ADX' ? ind.adx : fn === 'PLUS_DI' ? ind.plusDI : ind.minusDI);
    warm.push(fn === 'ADX' ? ind.warm : ind.diWarm);
  });
  return { values, warm };
}

const INPUTS = new Set(['ts', 'open', 'high', 'low', 'close', 'volume']);

describe.each(fixtureFiles('talib'))('TA-Lib fixture %s', (file) => {
  const f = readFixture(file);
  const columns = [...f.col.keys()].filter((c) => !INPUTS.has(c));

  it('has the standard set of TA-Lib columns', () => {
    expect(columns).toEqual(expect.arrayContaining(['EMA_9', 'EMA_21', 'SMA_20', 'RSI_14', 'ATR_14', 'ATR_10', 'ADX_14', 'PLUS_DI_14', 'MINUS_DI_14']));
  });

  it.each(columns)('%s equals TA-Lib', (column) => {
    const { values, warm } = stream(f, column);
    const c = compare(values, f.col.get(column)!, `${file} ${column}`);
    expect(c.ok, c.message).toBe(true);
    expect(warm, `${column}: warm is true exactly where the value is defined`).toEqual(values.map((v) => !Number.isNaN(v)));
  });
});

describe.each(fixtureFiles('stvwap'))('numpy reference %s', (file) => {
  const ref = readFixture(file);
  const bars = readFixture(file.replace('.stvwap.', '.talib.'));

  it('Supertrend(10, 3): value, direction and both final bands', () => {
    const st = new Supertrend(10, 3);
    const out = { value: [] as number[], dir: [] as number[], upper: [] as number[], lower: [] as number[] };
    bars.close.forEach((c, i) => {
      st.update(bars.high[i]!, bars.low[i]!, c);
      out.value.push(st.value);
      out.dir.push(st.direction === 0 ? NaN : st.direction);
      out.upper.push(st.upper);
      out.lower.push(st.lower);
      expect(st.warm).toBe(st.direction !== 0);
    });
    for (const [mine, col] of [[out.value, 'st10_3'], [out.upper, 'st10_3_upper'], [out.lower, 'st10_3_lower']] as const) {
      const c = compare(mine, ref.col.get(col)!, `${file} ${col}`);
      expect(c.ok, c.message).toBe(true);
    }
    expect(out.dir).toEqual(ref.col.get('st10_3_dir'));
  });

  it('session VWAP', () => {
    const vwap = new SessionVwap();
    const mine = bars.close.map((c, i) => vwap.update(bars.ts[i]!, bars.high[i]!, bars.low[i]!, c, bars.volume[i]));
    const c = compare(mine, ref.col.get('vwap')!, `${file} vwap`);
    expect(c.ok, c.message).toBe(true);
  });
});
