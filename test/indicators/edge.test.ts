/** Edge cases a user would check by hand: period 1, flat series, IST midnight, bars without volume, bad arguments. */
import { describe, expect, it } from 'vitest';
import { Adx } from '../../src/indicators/adx.js';
import { Atr } from '../../src/indicators/atr.js';
import { Ema } from '../../src/indicators/ema.js';
import { Rsi } from '../../src/indicators/rsi.js';
import { Sma } from '../../src/indicators/sma.js';
import { Supertrend } from '../../src/indicators/supertrend.js';
import { SessionVwap } from '../../src/indicators/vwap.js';

const ist = (iso: string): number => Date.parse(`${iso}+05:30`);

describe('before any bar', () => {
  it('every value reads NaN and nothing is warm', () => {
    for (const i of [new Ema(3), new Sma(3), new Rsi(3), new Atr(3)]) {
      expect(i.value).toBeNaN();
      expect(i.warm).toBe(false);
    }
    const adx = new Adx(3);
    expect([adx.adx, adx.plusDI, adx.minusDI, adx.warm, adx.diWarm]).toEqual([NaN, NaN, NaN, false, false]);
    const st = new Supertrend();
    expect([st.value, st.direction, st.upper, st.lower, st.warm, st.period, st.multiplier]).toEqual([NaN, 0, NaN, NaN, false, 10, 3]);
    expect(new SessionVwap().value).toBeNaN();
  });
});

describe('period 1', () => {
  const closes = [10, 12, 11, 11, 15];
  it('EMA(1) and SMA(1) are the input', () => {
    const [ema, sma] = [new Ema(1), new Sma(1)];
    expect(closes.map((c) => ema.update(c))).toEqual(closes);
    expect(closes.map((c) => sma.update(c))).toEqual(closes);
  });
  it('RSI(1) is 100 on an up bar, 0 on a down or flat bar (TA-Lib refuses period 1)', () => {
    const rsi = new Rsi(1);
    expect(closes.map((c) => rsi.update(c))).toEqual([NaN, 100, 0, 0, 100]);
  });
  it('ATR(1) is the true range, ADX(1) the DX, from bar 1', () => {
    const atr = new Atr(1);
    const adx = new Adx(1);
    const bars = [[10, 9, 9.5], [11, 9.5, 10.5], [10.5, 8, 9]] as const;
    const trs = bars.map(([h, l, c]) => atr.update(h, l, c));
    expect(trs).toEqual([NaN, 1.5, 2.5]);
    adx.update(...bars[0]);
    expect(adx.diWarm).toBe(false);
    adx.update(...bars[1]); // +DM 1, −DM 0 (low rose), TR 1.5
    expect([adx.plusDI, adx.minusDI, adx.adx, adx.warm]).toEqual([100 * (1 / 1.5), 0, 100, true]);
    adx.update(...bars[2]); // up −0.5, down 1.5: −DM 1.5, TR 2.5
    expect([adx.plusDI, adx.minusDI, adx.adx]).toEqual([0, 60, 100]);
  });
});

describe('flat stretches', () => {
  it('a constant series: RSI 0, ATR 0, ADX and both DI 0 and defined', () => {
    const [rsi, atr, adx] = [new Rsi(14), new Atr(14), new Adx(14)];
    for (let i = 0; i < 100; i++) {
      rsi.update(100);
      atr.update(100, 100, 100);
      adx.update(100, 100, 100);
    }
    expect([rsi.value, atr.value, adx.adx, adx.plusDI, adx.minusDI]).toEqual([0, 0, 0, 0, 0]);
  });

  it('ADX stays defined, and ends unchanged, through hundreds of identical bars after a trend', () => {
    const adx = new Adx(14);
    for (let i = 0; i < 60; i++) adx.update(100 + i + 1, 100 + i, 100 + i + 0.5); // steady uptrend
    const trending = adx.adx;
    expect(trending).toBeGreaterThan(50);
    const seen: number[] = [];
    for (let i = 0; i < 700; i++) {
      adx.update(161, 159, 160);
      seen.push(adx.adx);
    }
    expect(seen.every((x) => Number.isFinite(x))).toBe(true);
    // +DM decays to nothing, so the DI sum falls under TA_IS_ZERO and DX stops: ADX holds its last value.
    expect(adx.plusDI + adx.minusDI).toBeLessThan(1e-14);
    expect(new Set(seen.slice(-100)).size).toBe(1);
  });
});

describe('long runs', () => {
  it('SMA does not drift: after 200,000 bars it equals the plain mean of the last 20 to 1e-12', () => {
    const sma = new Sma(20);
    const xs: number[] = [];
    let x = 20_000;
    for (let i = 0; i < 200_000; i++) {
      x += ((i * 7919) % 41) * 0.05 - 1;
      xs.push(x);
      sma.update(x);
    }
    const last = xs.slice(-20).reduce((a, b) => a + b, 0) / 20;
    expect(Math.abs(sma.value - last) / last).toBeLessThan(1e-12);
  });
});

describe('session VWAP', () => {
  it('restarts at IST midnight (18:30 UTC), not at UTC midnight', () => {
    const v = new SessionVwap();
    expect(v.update(ist('2024-01-01T23:55:00'), 12, 9, 9, 100)).toBe(10);
    expect(v.update(ist('2024-01-02T00:00:00'), 21, 21, 21, 50)).toBe(21); // new IST day: only this bar
    // 05:15 IST is still 2024-01-01 in UTC: same IST day, so it accumulates.
    expect(v.update(ist('2024-01-02T05:15:00'), 30, 30, 30, 50)).toBe(25.5);
  });

  it('an index (no volume) stays NaN; zero volume adds nothing; a day opening without volume is NaN until volume comes', () => {
    const v = new SessionVwap();
    expect(v.update(ist('2024-01-01T09:15:00'), 101, 99, 100)).toBeNaN();
    expect(v.warm).toBe(false);
    expect(v.update(ist('2024-01-01T09:16:00'), 101, 99, 100, 0)).toBeNaN();
    expect(v.update(ist('2024-01-01T09:17:00'), 11, 8, 8, 10)).toBe(9);
    expect(v.update(ist('2024-01-01T09:18:00'), 500, 500, 500, 0)).toBe(9);
    expect(v.update(ist('2024-01-02T09:15:00'), 101, 99, 100)).toBeNaN();
    expect(v.warm).toBe(false);
  });
});

describe('bad arguments', () => {
  it('constructors name the argument and the value', () => {
    expect(() => new Ema(0)).toThrow(new RangeError('Ema: period must be an integer >= 1, got 0'));
    expect(() => new Sma(2.5)).toThrow(/Sma: period .* got 2.5/);
    expect(() => new Rsi(NaN)).toThrow(/Rsi: period .* got NaN/);
    expect(() => new Atr(-1)).toThrow(RangeError);
    expect(() => new Adx(0)).toThrow(/Adx: period/);
    expect(() => new Supertrend(0)).toThrow(/Supertrend: period .* got 0/);
    expect(() => new Supertrend(10, 0)).toThrow(new RangeError('Supertrend: multiplier must be a finite number > 0, got 0'));
  });

  it('non-finite inputs throw, naming the input', () => {
    expect(() => new Ema(3).update(NaN)).toThrow(new RangeError('Ema.update: x must be a finite number, got NaN'));
    expect(() => new Rsi(3).update(Infinity)).toThrow(/Rsi.update: close .* Infinity/);
    expect(() => new Atr(3).update(1, NaN, 1)).toThrow(/Atr.update: low/);
    expect(() => new Adx(3).update(1, 1, -Infinity)).toThrow(/Adx.update: close/);
    expect(() => new Supertrend().update(NaN, 1, 1)).toThrow(/Supertrend.update: high/);
    expect(() => new SessionVwap().update(NaN, 1, 1, 1)).toThrow(/SessionVwap.update: ts/);
    expect(() => new SessionVwap().update(0, 1, 1, 1, -5)).toThrow(/volume .* got -5/);
    expect(() => new SessionVwap().update(0, 1, 1, 1, NaN)).toThrow(/volume .* got NaN/);
  });
});
