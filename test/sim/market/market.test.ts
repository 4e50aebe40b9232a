import { describe, expect, it } from 'vitest';
import { istToMillis } from '../../../src/core/clock.js';
import { createMarket } from '../../../src/sim/market/market.js';
import type { SimQuote } from '../../../src/sim/market/types.js';
import { candlesFrom } from './helpers.js';

const NIFTY = '99926000';
const BANK = '99926009';
const VIX = '99926017';
const DAY = '2024-02-15';

describe('the simulated market', () => {
  it('lists the index rows as the Angel master does, and no SENSEX (no bundled data)', () => {
    const m = createMarket({ day: DAY, seed: 1 });
    const idx = m.instruments().filter((i) => i.type === 'AMXIDX');
    expect(idx).toEqual([
      { token: NIFTY, symbol: 'Nifty 50', name: 'NIFTY', segment: 'NSE', type: 'AMXIDX', lotSize: 1, tickSize: 0 },
      { token: BANK, symbol: 'Nifty Bank', name: 'BANKNIFTY', segment: 'NSE', type: 'AMXIDX', lotSize: 1, tickSize: 0 },
      { token: VIX, symbol: 'India VIX', name: 'INDIA VIX', segment: 'NSE', type: 'AMXIDX', lotSize: 1, tickSize: 0 },
    ]);
    expect(m.instruments().some((i) => i.name === 'SENSEX')).toBe(false);
    expect(m.openMs).toBe(istToMillis(DAY, '09:15'));
    expect(m.closeMs).toBe(istToMillis(DAY, '15:30'));
  });

  it('ticks arrive in time order across instruments; each option tick follows its underlying tick at the same timestamp', () => {
    const m = createMarket({ day: DAY, seed: 2 });
    const ce = m.instruments().find((i) => i.name === 'NIFTY' && i.strike === 21900 && i.optionType === 'CE')!;
    const bce = m.instruments().find((i) => i.name === 'BANKNIFTY' && i.strike === 46000 && i.optionType === 'PE')!;
    const got: SimQuote[] = [];
    m.advanceTo(m.openMs + 10 * 60_000, new Set([NIFTY, BANK, VIX, ce.token, bce.token, 'nonsense']), (q) => got.push(q));
    for (let i = 1; i < got.length; i++) expect(got[i]!.ts).toBeGreaterThanOrEqual(got[i - 1]!.ts);
    const byTok = (t: string) => got.filter((q) => q.token === t);
    expect(byTok(NIFTY).length).toBe(10 * 240 + 1);
    expect(byTok(ce.token).length).toBe(byTok(NIFTY).length);
    expect(byTok(bce.token).length).toBe(byTok(BANK).length);
    expect(byTok(VIX).length).toBe(11); // one per minute, at the bar start
    got.forEach((q, i) => {
      if (q.token === ce.token) {
        expect(got[i - 1]!.token).toBe(NIFTY);
        expect(got[i - 1]!.ts).toBe(q.ts);
      }
    });
    // Unsubscribed tokens cost nothing and are not reported.
    expect(got.some((q) => q.token === 'nonsense')).toBe(false);
  });

  it('optionTickEvery thins option ticks to every Nth underlying tick', () => {
    const m = createMarket({ day: DAY, seed: 2, optionTickEvery: 4 });
    const ce = m.instruments().find((i) => i.name === 'NIFTY' && i.optionType === 'CE')!;
    let n = 0;
    m.advanceTo(m.openMs + 60_000 - 1, new Set([ce.token]), () => n++);
    expect(n).toBe(60);
  });

  it('index quotes: volume 0, no depth, day OHLC from the bars so far, circuits ±20% of the previous close, 52-week range from the bundled days', () => {
    const m = createMarket({ day: DAY, seed: 3 });
    const t = istToMillis(DAY, '12:34') + 30_000;
    m.advanceTo(t, new Set(), () => {});
    const q = m.quote(NIFTY)!;
    const bars = m.minuteBars(NIFTY, m.openMs, m.closeMs);
    expect(bars.length).toBe(199); // 09:15 … 12:33 complete; 12:34 is in progress
    expect(q.volume).toBe(0);
    expect(q.oi).toBe(0);
    expect(q.bids).toHaveLength(5);
    expect(q.asks.every((l) => l.price === 0 && l.qty === 0)).toBe(true);
    expect(q.open).toBe(bars[0]!.open);
    expect(q.high).toBeGreaterThanOrEqual(Math.max(...bars.map((b) => b.high)));
    expect(q.low).toBeLessThanOrEqual(Math.min(...bars.map((b) => b.low)));
    expect(q.ts).toBeLessThanOrEqual(t);
    expect(q.ts).toBeGreaterThan(t - 1000);
    const prev = m.minuteBars(NIFTY, istToMillis('2024-02-14', '09:15'), istToMillis('2024-02-14', '15:30'));
    expect(q.prevClose).toBe(prev[prev.length - 1]!.close);
    expect(q.upperCircuit).toBeCloseTo(q.prevClose * 1.2, 1);
    expect(q.lowerCircuit).toBeCloseTo(q.prevClose * 0.8, 1);
    const all = m.minuteBars(NIFTY, 0, Number.MAX_SAFE_INTEGER);
    expect(q.high52).toBe(Math.max(q.high, ...all.map((b) => b.high)));
    expect(q.low52).toBe(Math.min(q.low, ...all.map((b) => b.low)));
  });

  it('minuteBars: history across bundled days up to the market time, never beyond it', () => {
    const m = createMarket({ day: '2024-01-10', seed: 4 });
    const all0 = m.minuteBars(BANK, 0, Number.MAX_SAFE_INTEGER);
    expect(all0.length).toBe(7 * 375); // Jan 1–9: seven sessions; nothing of today before the open
    m.advanceTo(istToMillis('2024-01-10', '10:00'), new Set(), () => {});
    const all = m.minuteBars(BANK, 0, Number.MAX_SAFE_INTEGER);
    expect(all.length).toBe(7 * 375 + 45);
    expect(all[all.length - 1]!.ts).toBe(istToMillis('2024-01-10', '09:59'));
    expect(m.minuteBars(BANK, istToMillis('2024-01-08', '09:15'), istToMillis('2024-01-08', '09:20')).map((b) => b.ts))
      .toEqual([0, 1, 2, 3, 4].map((i) => istToMillis('2024-01-08', '09:15') + i * 60_000));
    expect(m.minuteBars('12345', 0, Number.MAX_SAFE_INTEGER)).toEqual([]);
    // The returned bars are copies: mutating them changes nothing.
    all[0]!.close = -1;
    expect(m.minuteBars(BANK, 0, Number.MAX_SAFE_INTEGER)[0]!.close).not.toBe(-1);
  });

  it('option minute bars match what the tick stream shows', () => {
    const m = createMarket({ day: DAY, seed: 5 });
    const pe = m.instruments().find((i) => i.name === 'BANKNIFTY' && i.expiry === m.expiries.BANKNIFTY[0] && i.strike === 46000 && i.optionType === 'PE')!;
    const ticks: { ts: number; ltp: number; volume: number }[] = [];
    m.advanceTo(m.openMs + 15 * 60_000 - 1, new Set([pe.token]), (q) => ticks.push({ ts: q.ts, ltp: q.ltp, volume: q.volume }));
    expect(m.minuteBars(pe.token, 0, Number.MAX_SAFE_INTEGER).length).toBe(14); // 09:29 completes at 09:30:00
    m.advanceTo(m.openMs + 15 * 60_000, new Set([pe.token]), (q) => ticks.push({ ts: q.ts, ltp: q.ltp, volume: q.volume }));
    const bars = m.minuteBars(pe.token, 0, Number.MAX_SAFE_INTEGER);
    expect(bars.length).toBe(15);
    expect(candlesFrom(ticks).slice(0, 15).map(({ volume: _, ...b }) => b)).toEqual(bars.map(({ volume: _, ...b }) => b));
    const q = m.quote(pe.token)!;
    expect(q.high).toBe(Math.max(q.ltp, ...bars.map((b) => b.high)));
    expect(q.low).toBe(Math.min(q.ltp, ...bars.map((b) => b.low)));
    expect(q.open).toBe(bars[0]!.open);
    expect(bars.reduce((s, b) => s + b.volume, 0)).toBe(q.volume);
    expect(q.avgPrice).toBeGreaterThanOrEqual(q.low);
    expect(q.avgPrice).toBeLessThanOrEqual(q.high);
  });

  it('INDIA VIX: a proxy from realised volatility (source exposed), one value per minute, leaning against NIFTY', () => {
    const first = createMarket({ day: '2024-01-01', seed: 1 });
    expect(first.vixSource).toMatch(/^default/);
    const m = createMarket({ day: DAY, seed: 1 });
    expect(m.vixSource).toMatch(/^proxy .*realised vol/);
    expect(m.vixBaseLevel).toBeGreaterThanOrEqual(10);
    expect(m.vixBaseLevel).toBeLessThanOrEqual(35);
    const vix: SimQuote[] = [];
    const nifty: SimQuote[] = [];
    m.advanceTo(m.closeMs, new Set([VIX, NIFTY]), (q) => (q.token === VIX ? vix : nifty).push(q));
    expect(vix.length).toBe(375);
    expect(vix.every((q) => Math.round(q.ltp * 100) / 100 === q.ltp)).toBe(true);
    const open = nifty[0]!.ltp;
    const dn = vix.findIndex((_, i) => nifty[i * 240]!.ltp < open * 0.997);
    const up = vix.findIndex((_, i) => nifty[i * 240]!.ltp > open * 1.003);
    if (dn >= 0) expect(vix[dn]!.ltp).toBeGreaterThan(vix[0]!.ltp);
    if (up >= 0) expect(vix[up]!.ltp).toBeLessThan(vix[0]!.ltp);
    expect(m.quote(VIX)!.prevClose).toBeGreaterThan(0);
    expect(m.minuteBars(VIX, m.openMs, m.closeMs).map((b) => b.close)).toEqual(vix.map((q) => q.ltp));
    // BANKNIFTY's ATM IV sits above NIFTY's.
    expect(m.bankIvRatio).toBeGreaterThanOrEqual(1);
  });

  it('before the first tick, quotes show the previous close; time never goes back; no re-entry from onTick', () => {
    const m = createMarket({ day: DAY, seed: 6 });
    const q = m.quote(NIFTY)!;
    expect(q.ltp).toBe(q.prevClose);
    const o = m.instruments()[10]!;
    expect(m.quote(o.token)!.ltp).toBe(m.quote(o.token)!.prevClose);
    expect(m.quote('nope')).toBeUndefined();
    m.advanceTo(m.openMs + 1000, new Set([NIFTY]), () => {});
    expect(() => m.advanceTo(m.openMs, new Set(), () => {})).toThrow(/cannot go back/);
    expect(() => m.advanceTo(m.openMs + 5000, new Set([NIFTY]), () => m.advanceTo(m.openMs + 6000, new Set(), () => {}))).toThrow(/inside onTick/);
    // After the close the last state stays.
    m.advanceTo(m.closeMs + 3600_000, new Set(), () => {});
    const bars = m.minuteBars(NIFTY, m.openMs, m.closeMs);
    expect(m.quote(NIFTY)!.ltp).toBe(bars[bars.length - 1]!.close);
  });
});
