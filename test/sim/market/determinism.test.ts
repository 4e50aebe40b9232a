import { describe, expect, it } from 'vitest';
import { type MarketOptions, createMarket } from '../../../src/sim/market/market.js';
import type { SimQuote } from '../../../src/sim/market/types.js';
import { StreamHash, candlesFrom } from './helpers.js';

const NIFTY = '99926000';
const VIX = '99926017';
const DAY = '2024-02-14';

function subscribed(opts: MarketOptions): Set<string> {
  const m = createMarket(opts);
  // NIFTY + VIX + the nearest-expiry strikes 21,900 and 21,950 (both sides) + a BANKNIFTY option.
  const inst = m.instruments();
  const nearest = m.expiries.NIFTY[0];
  const toks = inst.filter((i) => i.name === 'NIFTY' && i.expiry === nearest && i.strike! >= 21_900 && i.strike! <= 21_950).map((i) => i.token);
  const bank = inst.filter((i) => i.name === 'BANKNIFTY' && i.expiry === m.expiries.BANKNIFTY[0]).slice(20, 21).map((i) => i.token);
  return new Set([NIFTY, VIX, ...toks, ...bank]);
}

/** The stream up to `untilMin` minutes after the open (default: the whole day), in `chunks` equal steps of advanceTo. */
function run(opts: MarketOptions, chunks = 1, untilMin = 375, only?: Set<string>): { hash: string; count: number; nifty: { ts: number; ltp: number }[]; quotes: SimQuote[] } {
  const m = createMarket(opts);
  const toks = only ?? subscribed(opts);
  const h = new StreamHash();
  const nifty: { ts: number; ltp: number }[] = [];
  const quotes: SimQuote[] = [];
  const span = untilMin * 60_000;
  for (let i = 1; i <= chunks; i++) {
    m.advanceTo(m.openMs + Math.round((span * i) / chunks), toks, (q) => {
      h.add(q);
      if (q.token === NIFTY) nifty.push({ ts: q.ts, ltp: q.ltp });
      if (quotes.length < 5000) quotes.push(q);
    });
  }
  return { hash: h.digest(), count: h.count, nifty, quotes };
}

describe('determinism', () => {
  const a = run({ day: DAY, seed: 42 });

  it('the same seed gives an identical stream (NIFTY, VIX and 5 options, whole day)', () => {
    const b = run({ day: DAY, seed: 42 });
    expect(a.count).toBeGreaterThan(375 * 240 * 5);
    expect(b.hash).toBe(a.hash);
    expect(b.count).toBe(a.count);
  });

  it('the stream does not depend on how advanceTo is chunked', () => {
    const whole = run({ day: DAY, seed: 42 }, 1, 90);
    expect(run({ day: DAY, seed: 42 }, 977, 90).hash).toBe(whole.hash);
    expect(run({ day: DAY, seed: 42 }, 90 * 60 * 4, 90).hash).toBe(whole.hash); // one call per 250 ms
  });

  it('a different seed gives a different stream over the same bars', () => {
    const c = run({ day: DAY, seed: 43 });
    expect(c.hash).not.toBe(a.hash);
    expect(c.count).toBe(a.count);
    expect(c.nifty.map((t) => t.ltp)).not.toEqual(a.nifty.map((t) => t.ltp));
    expect(candlesFrom(c.nifty)).toEqual(candlesFrom(a.nifty));
    const m = createMarket({ day: DAY, seed: 43 });
    m.advanceTo(m.closeMs, new Set(), () => {});
    expect(candlesFrom(c.nifty)).toEqual(m.minuteBars(NIFTY, m.openMs, m.closeMs));
  });

  it('a quote does not depend on what was subscribed before', () => {
    const m1 = createMarket({ day: DAY, seed: 5 });
    const m2 = createMarket({ day: DAY, seed: 5 });
    const tok = [...subscribed({ day: DAY, seed: 5 })][5]!;
    const t = m1.openMs + 3 * 3600_000 + 12_345;
    m1.advanceTo(t, new Set(), () => {});
    let n = 0;
    m2.advanceTo(t, new Set([tok, NIFTY]), () => n++);
    expect(n).toBeGreaterThan(10_000);
    expect(m1.quote(tok)).toEqual(m2.quote(tok));
    expect(m1.quote(NIFTY)).toEqual(m2.quote(NIFTY));
  });
});
