import { describe, expect, it } from 'vitest';
import { createMarket } from '../../../src/sim/market/market.js';
import {
  BsFixed, RISK_FREE_RATE, bidAsk, bookAround, bsPrice, ltpOf, normCdf, smileIv, yearsToExpiry,
} from '../../../src/sim/market/options.js';
import { istToMillis } from '../../../src/core/clock.js';

const DAY = '2024-01-10';
const NIFTY = '99926000';
const onGrid = (p: number): boolean => Math.round(p * 20) / 20 === p;

describe('Black–Scholes pieces', () => {
  it('normCdf matches known values and is symmetric', () => {
    expect(normCdf(0)).toBe(0.5);
    expect(normCdf(1.96)).toBeCloseTo(0.9750021048517795, 14);
    expect(normCdf(-1)).toBeCloseTo(0.15865525393145707, 14);
    for (const x of [0.1, 0.7, 2.5, 5, 9]) expect(normCdf(x) + normCdf(-x)).toBeCloseTo(1, 15);
  });

  it('premiums move the right way with spot, volatility and time', () => {
    const T = yearsToExpiry(istToMillis('2024-01-02', '10:00'), istToMillis('2024-01-04', '15:30'));
    const K = 21700;
    for (const S of [21400, 21650, 21700, 21750, 22000]) {
      // Spot up: call up, put down.
      expect(bsPrice('CE', S + 10, K, T, 0.12)).toBeGreaterThan(bsPrice('CE', S, K, T, 0.12));
      expect(bsPrice('PE', S + 10, K, T, 0.12)).toBeLessThan(bsPrice('PE', S, K, T, 0.12));
      // IV up: both up.
      expect(bsPrice('CE', S, K, T, 0.16)).toBeGreaterThan(bsPrice('CE', S, K, T, 0.12));
      expect(bsPrice('PE', S, K, T, 0.16)).toBeGreaterThan(bsPrice('PE', S, K, T, 0.12));
      // Nearer expiry, same spot and IV: both down (near the money).
      expect(bsPrice('CE', S, K, T / 3, 0.12)).toBeLessThan(bsPrice('CE', S, K, T, 0.12));
      expect(bsPrice('PE', S, K, T / 3, 0.12)).toBeLessThan(bsPrice('PE', S, K, T, 0.12));
    }
    // The fixed-T/σ pricer agrees with the plain formula.
    const f = new BsFixed(true, K).set(T, 0.12);
    expect(f.price(21712.35)).toBeCloseTo(bsPrice('CE', 21712.35, K, T, 0.12), 10);
  });

  it('time to expiry runs to 15:30 IST of the expiry day, floored at five minutes', () => {
    const close = istToMillis('2024-01-04', '15:30');
    expect(yearsToExpiry(close - 86_400_000, close)).toBeCloseTo(1 / 365, 12);
    expect(yearsToExpiry(close - 60_000, close)).toBeCloseTo(5 / (365 * 1440), 12);
  });

  it('smile: IV rises for OTM puts (strikes below spot), less for OTM calls, and not at all at the money', () => {
    const T = 7 / 365;
    const S = 21700;
    expect(smileIv(0.12, S, S, T)).toBeCloseTo(0.12, 12);
    for (const d of [100, 300, 600]) {
      const below = smileIv(0.12, S - d, S, T);
      const above = smileIv(0.12, S + d, S, T);
      expect(below).toBeGreaterThan(above);
      expect(above).toBeGreaterThan(0.12);
      expect(smileIv(0.12, S - d - 100, S, T)).toBeGreaterThan(below);
    }
  });

  it('bid/ask on the grid, bid >= 0.05, bid <= LTP <= ask, wider for cheap and far strikes', () => {
    for (const theo of [0.001, 0.04, 0.5, 3.33, 47.1234, 150, 1234.5]) {
      for (const x of [0, 1, 3, 6]) {
        const { bid, ask } = bidAsk(theo, x);
        const ltp = ltpOf(theo);
        expect(onGrid(bid) && onGrid(ask) && onGrid(ltp)).toBe(true);
        expect(bid).toBeGreaterThanOrEqual(0.05);
        expect(bid).toBeLessThanOrEqual(ltp);
        expect(ltp).toBeLessThanOrEqual(ask);
        expect(ask).toBeGreaterThan(bid);
      }
    }
    const rel = (t: number, x: number): number => { const { bid, ask } = bidAsk(t, x); return (ask - bid) / t; };
    expect(rel(2, 0)).toBeGreaterThan(rel(150, 0));
    expect(bidAsk(150, 5).ask - bidAsk(150, 5).bid).toBeGreaterThan(bidAsk(150, 0).ask - bidAsk(150, 0).bid);
  });

  it('best five: quantities in whole lots, prices a tick apart, empty levels are zeros', () => {
    const b = bookAround(0.15, 0.25, 50, 10, 1, 2, 3);
    expect(b.bids.map((l) => l.price)).toEqual([0.15, 0.1, 0.05, 0, 0]);
    expect(b.bids[3]).toEqual({ price: 0, qty: 0, orders: 0 });
    expect(b.asks.map((l) => l.price)).toEqual([0.25, 0.3, 0.35, 0.4, 0.45]);
    for (const l of [...b.bids, ...b.asks]) {
      expect(l.qty % 50).toBe(0);
      if (l.qty > 0) expect(l.orders).toBeGreaterThanOrEqual(1);
      expect(l.orders).toBeLessThanOrEqual(Math.max(1, l.qty / 50));
    }
    expect(b.totBuyQty % 50).toBe(0);
    expect(b.totSellQty).toBeGreaterThan(b.asks.reduce((s, l) => s + l.qty, 0));
  });
});

describe('options in the market', () => {
  const m = createMarket({ day: DAY, seed: 9 });
  const chain = (name: string, expiry: string) => m.instruments().filter((i) => i.name === name && i.expiry === expiry);

  it('put–call parity holds at every strike at several moments (theoretical exactly, LTPs within one tick)', () => {
    const moments = ['09:15', '10:47:13', '13:02:59.750', '15:29:59'];
    for (const hhmm of moments) {
      const [hh, mm, ss = '0'] = hhmm.split(':');
      const t = istToMillis(DAY, `${hh}:${mm}`) + Number(ss) * 1000;
      m.advanceTo(t, new Set(), () => {});
      for (const name of ['NIFTY', 'BANKNIFTY']) {
        for (const expiry of m.expiries[name as 'NIFTY' | 'BANKNIFTY']) {
          const ces = chain(name, expiry).filter((i) => i.optionType === 'CE');
          expect(ces.length).toBeGreaterThanOrEqual(21);
          for (const ce of ces) {
            const pe = chain(name, expiry).find((i) => i.optionType === 'PE' && i.strike === ce.strike)!;
            const c = m.theo(ce.token)!;
            const p = m.theo(pe.token)!;
            expect(p.spot).toBe(c.spot);
            const rhs = c.spot - ce.strike! * Math.exp(-RISK_FREE_RATE * c.years);
            expect(Math.abs(c.price - p.price - rhs)).toBeLessThan(1e-6);
            const qc = m.quote(ce.token)!;
            const qp = m.quote(pe.token)!;
            // Rounding each LTP to the grid moves it at most half a tick (deep OTM ones are floored at one tick).
            if (c.price > 0.05 && p.price > 0.05) expect(Math.abs(qc.ltp - qp.ltp - rhs)).toBeLessThanOrEqual(0.05 + 1e-9);
          }
        }
      }
    }
  });

  it('both premiums rise with INDIA VIX (same seed, same moment)', () => {
    const lo = createMarket({ day: DAY, seed: 3, vixLevel: 12 });
    const hi = createMarket({ day: DAY, seed: 3, vixLevel: 20 });
    expect(lo.vixSource).toMatch(/vixLevel/);
    const t = istToMillis(DAY, '11:00');
    lo.advanceTo(t, new Set(), () => {});
    hi.advanceTo(t, new Set(), () => {});
    for (const i of lo.instruments().filter((x) => x.type === 'OPTIDX')) {
      const a = lo.theo(i.token)!;
      const b = hi.theo(i.token)!;
      expect(b.spot).toBe(a.spot);
      expect(b.iv).toBeGreaterThan(a.iv);
      expect(b.price).toBeGreaterThan(a.price);
    }
    expect(hi.quote('99926017')!.ltp).toBeGreaterThan(lo.quote('99926017')!.ltp);
  });

  it('ticks: call up and put down when the underlying ticks up, within a minute', () => {
    const mk = createMarket({ day: DAY, seed: 4 });
    const near = mk.expiries.NIFTY[0]!;
    const atm = Math.round(mk.quote(NIFTY)!.ltp / 50) * 50;
    const ce = mk.instruments().find((i) => i.name === 'NIFTY' && i.expiry === near && i.strike === atm && i.optionType === 'CE')!;
    const pe = mk.instruments().find((i) => i.name === 'NIFTY' && i.expiry === near && i.strike === atm && i.optionType === 'PE')!;
    let last: { s: number; c: number; p: number; minute: number } | undefined;
    let s = 0;
    let c = 0;
    let checked = 0;
    mk.advanceTo(mk.openMs + 30 * 60_000, new Set([NIFTY, ce.token, pe.token]), (q) => {
      if (q.token === NIFTY) s = q.ltp;
      else if (q.token === ce.token) c = mk.theo(ce.token)!.price;
      else {
        const p = mk.theo(pe.token)!.price;
        const minute = Math.floor(q.ts / 60_000);
        if (last !== undefined && last.minute === minute && s > last.s) {
          expect(c).toBeGreaterThan(last.c);
          expect(p).toBeLessThan(last.p);
          checked++;
        }
        last = { s, c, p, minute };
      }
    });
    expect(checked).toBeGreaterThan(500);
  });

  it('time decay: with the same spot and IV, a premium falls as expiry nears', () => {
    const near = m.expiries.NIFTY[0]!;
    const closeMs = istToMillis(near, '15:30');
    const spot = 21600;
    for (const K of [21500, 21600, 21700]) {
      for (const type of ['CE', 'PE'] as const) {
        let prev = Infinity;
        for (const hhmm of ['09:15', '12:00', '15:00']) {
          const T = yearsToExpiry(istToMillis(DAY, hhmm), closeMs);
          const v = bsPrice(type, spot, K, T, smileIv(0.13, K, spot, T));
          expect(v).toBeLessThan(prev);
          prev = v;
        }
      }
    }
  });

  it('option quotes: LTP on the grid, volume and depth in whole lots, volume never falls, OI larger near the money', () => {
    const mk = createMarket({ day: DAY, seed: 11 });
    const near = mk.expiries.NIFTY[0]!;
    const opts = mk.instruments().filter((i) => i.name === 'NIFTY' && i.expiry === near);
    const toks = new Set(opts.map((i) => i.token));
    const lastVol = new Map<string, number>();
    let n = 0;
    mk.advanceTo(mk.openMs + 20 * 60_000, toks, (q) => {
      n++;
      const lot = 50;
      if (!onGrid(q.ltp) || q.ltp < 0.05) throw new Error(`ltp ${q.ltp}`);
      if (q.volume % lot !== 0 || q.lastQty % lot !== 0 || q.oi % lot !== 0) throw new Error('not in lots');
      if (q.volume < (lastVol.get(q.token) ?? 0)) throw new Error('volume fell');
      lastVol.set(q.token, q.volume);
      if (!(q.bids[0]!.price <= q.ltp && q.ltp <= q.asks[0]!.price)) throw new Error('ltp outside the touch');
      if (!(q.low <= q.ltp && q.ltp <= q.high)) throw new Error('ltp outside the day range');
      if (q.lowerCircuit !== 0.05 || !(q.upperCircuit > q.high)) throw new Error('circuit');
      for (const l of [...q.bids, ...q.asks]) if (l.qty % lot !== 0) throw new Error('depth not in lots');
    });
    expect(n).toBe((20 * 60 * 4 + 1) * opts.length); // (open - 1 ms, open + 20 min]: the 09:35:00.000 tick included
    const spot = mk.quote(NIFTY)!.ltp;
    const oiAt = (k: number, t: 'CE' | 'PE') => mk.quote(opts.find((i) => i.strike === k && i.optionType === t)!.token)!.oi;
    const atm = Math.round(spot / 50) * 50;
    const strikes = opts.map((i) => i.strike!);
    const far = (t: 'CE' | 'PE') => (t === 'CE' ? Math.max(...strikes) : Math.min(...strikes));
    for (const t of ['CE', 'PE'] as const) expect(oiAt(atm, t)).toBeGreaterThan(oiAt(far(t), t));
  });
});
