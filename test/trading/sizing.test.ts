import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Config, defaultConfig } from '../../src/core/config.js';
import { type Sizing, type SizingInput, sizeEntry } from '../../src/trading/sizing.js';

/** The SPEC defaults, spelled out so the tests don't move when a default does. */
const T: Config['trading'] = {
  ...defaultConfig().trading,
  capital: 500_000,
  risk_per_trade_pct: 1,
  max_lots: 10,
  capital_alloc_pct: 25,
  vix_scale_from: 20,
  vix_scale: 0.5,
  dte_scale_days: 0,
  dte_scale: 0.5,
};

const base: SizingInput = { premium: 120, lotSize: 75, stopPct: 20, vix: 14, daysToExpiry: 3, outlayOnUnderlying: 0 };
const size = (over: Partial<SizingInput> = {}, t: Partial<Config['trading']> = {}): Sizing => sizeEntry({ ...base, ...over }, { ...T, ...t });

function expectRecordable(values: Sizing['values']): void {
  for (const [k, v] of Object.entries(values)) {
    const ok = v === null || typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v));
    expect(ok, `values.${k} = ${String(v)}`).toBe(true);
  }
}

describe('sizeEntry: the SPEC formula', () => {
  it('worked example: ₹5,00,000 capital, premium 120, stop 20%, lot 75', () => {
    const s = size();
    // budget = 500000 × 1% = 5000
    // riskPerLot = 120 × 20% × 75 = 1800
    // rawLots = floor(5000 / 1800) = floor(2.78) = 2
    // allocLots = floor((500000 × 25% − 0) / (120 × 75)) = floor(125000 / 9000) = 13
    // baseLots = min(2, max_lots 10, 13) = 2; VIX 14 < 20 and 3 days > 0: no scaling
    expect(s.skip).toBeUndefined();
    expect(s.lots).toBe(2);
    expect(s.qty).toBe(150);
    expect(s.values).toMatchObject({
      budget: 5000, riskPerLot: 1800, rawLots: 2, allocCap: 125_000, allocLeft: 125_000, lotOutlay: 9000, allocLots: 13,
      baseLots: 2, binding: 'risk_budget', vixFactor: 1, dteFactor: 1, scaledLots: 2, lots: 2, qty: 150,
      outlay: 18_000, riskAtStop: 3600,
    });
    expectRecordable(s.values);
  });

  it('floors survive binary fractions: 3 lots exactly fit, not 2.9999…', () => {
    // budget 3 (capital 1000 × 0.3%), riskPerLot 0.1 × 100% × 1 = 0.1: 3 / 0.1 = 29.999999999999996 in floating point
    const s = sizeEntry({ premium: 0.1, lotSize: 1, stopPct: 100, daysToExpiry: 5, outlayOnUnderlying: 0 }, { ...T, capital: 1000, risk_per_trade_pct: 0.3, max_lots: 1000, capital_alloc_pct: 100 });
    expect(s.lots).toBe(30);
  });
});

describe('sizeEntry: each cap binding', () => {
  it('max_lots', () => {
    // riskPerLot = 10 × 20% × 75 = 150 → raw 33; alloc 125000 / 750 = 166; max 10
    const s = size({ premium: 10 });
    expect(s.values).toMatchObject({ rawLots: 33, allocLots: 166, baseLots: 10, binding: 'max_lots' });
    expect(s.lots).toBe(10);
  });

  it('capital_alloc_pct, after what is already committed on the underlying', () => {
    // 125000 allowed − 120000 committed = 5000 left; one lot = 20 × 75 = 1500 → 3; raw = 5000 / 300 = 16
    const s = size({ premium: 20, outlayOnUnderlying: 120_000 });
    expect(s.values).toMatchObject({ allocLeft: 5000, allocLots: 3, rawLots: 16, baseLots: 3, binding: 'allocation' });
    expect(s.lots).toBe(3);
  });

  it('the risk budget', () => {
    expect(size().values['binding']).toBe('risk_budget');
  });
});

describe('sizeEntry: VIX and days-to-expiry scaling', () => {
  const ten = { premium: 10 }; // 10 lots before scaling (max_lots binds)

  it('VIX at or above vix_scale_from scales by vix_scale', () => {
    expect(size({ ...ten, vix: 19.99 }).lots).toBe(10);
    expect(size({ ...ten, vix: 20 }).lots).toBe(5);
    expect(size({ ...ten, vix: 35 }).values).toMatchObject({ vixHigh: true, vixFactor: 0.5, lots: 5 });
  });

  it('an unknown VIX does not scale, and the record says so', () => {
    const s = size({ ...ten, vix: undefined });
    expect(s.lots).toBe(10);
    expect(s.values).toMatchObject({ vix: null, vixKnown: false, vixFactor: 1 });
  });

  it('days to expiry at or below dte_scale_days scales by dte_scale', () => {
    expect(size({ ...ten, daysToExpiry: 0 }).values).toMatchObject({ nearExpiry: true, dteFactor: 0.5, lots: 5 });
    expect(size({ ...ten, daysToExpiry: 1 }).lots).toBe(10);
    expect(size({ ...ten, daysToExpiry: 2 }, { dte_scale_days: 2, dte_scale: 0.3 }).lots).toBe(3);
  });

  it('both factors multiply, and the floor comes once, after both', () => {
    expect(size({ ...ten, vix: 25, daysToExpiry: 0 }).values).toMatchObject({ vixFactor: 0.5, dteFactor: 0.5, scaledLots: 2.5, lots: 2 });
    // 3 lots × 0.6 × 0.6 = 1.08 → 1 (flooring in between would give floor(1.8) × 0.6 → 0)
    const s = size({ ...ten, vix: 25, daysToExpiry: 0 }, { max_lots: 3, vix_scale: 0.6, dte_scale: 0.6 });
    expect(s.lots).toBe(1);
  });
});

describe('sizeEntry: zero lots is a recorded skip', () => {
  it('the risk of one lot exceeds the budget', () => {
    const s = size({ premium: 400 }); // 400 × 20% × 75 = 6000 > 5000
    expect(s).toMatchObject({ lots: 0, qty: 0, skip: { reason: 'zero_lots' } });
    expect(s.skip?.detail).toMatch(/risk budget ₹5000 is less than the risk of one lot ₹6000/);
    expect(s.skip?.detail).not.toMatch(/allocation/);
    expectRecordable(s.values);
  });

  it('the allocation on the underlying is used up', () => {
    const s = size({ outlayOnUnderlying: 125_000 });
    expect(s.skip?.reason).toBe('zero_lots');
    expect(s.skip?.detail).toMatch(/allocation left on the underlying ₹0/);
    expect(s.skip?.detail).not.toMatch(/risk budget/);
    const over = size({ outlayOnUnderlying: 200_000 }); // over the cap already (e.g. after the capital was lowered)
    expect(over.values).toMatchObject({ allocLeft: -75_000, allocLots: 0, lots: 0 });
  });

  it('scaling floors one lot to zero', () => {
    const s = size({ premium: 300, vix: 22 }); // 5000 / 4500 = 1 lot; × 0.5 → 0
    expect(s.values).toMatchObject({ baseLots: 1, scaledLots: 0.5, lots: 0 });
    expect(s.skip?.reason).toBe('zero_lots');
    expect(s.skip?.detail).toMatch(/1 lot\(s\) scaled by VIX 22 ≥ 20: × 0.5 = 0.5 floors to 0/);
  });

  it('names every cause when more than one is zero', () => {
    const s = size({ premium: 400, outlayOnUnderlying: 125_000 });
    expect(s.skip?.detail).toMatch(/risk budget.*; allocation left/);
  });
});

describe('sizeEntry: bad input is a skip, never a throw', () => {
  const cases: [string, Partial<SizingInput>, RegExp][] = [
    ['premium 0', { premium: 0 }, /premium 0/],
    ['negative premium', { premium: -5 }, /premium -5/],
    ['NaN premium', { premium: Number.NaN }, /premium NaN/],
    ['infinite premium', { premium: Infinity }, /premium Infinity/],
    ['lot size 0', { lotSize: 0 }, /lotSize 0/],
    ['fractional lot size', { lotSize: 37.5 }, /lotSize 37.5 \(must be a positive integer\)/],
    ['stop 0%', { stopPct: 0 }, /stopPct 0/],
    ['negative stop', { stopPct: -10 }, /stopPct -10/],
    ['negative days to expiry', { daysToExpiry: -1 }, /daysToExpiry -1/],
    ['NaN VIX', { vix: Number.NaN }, /vix NaN/],
    ['NaN outlay', { outlayOnUnderlying: Number.NaN }, /outlayOnUnderlying NaN/],
  ];
  for (const [name, over, detail] of cases) {
    it(name, () => {
      const s = size(over);
      expect(s).toMatchObject({ lots: 0, qty: 0, skip: { reason: 'bad_input' } });
      expect(s.skip?.detail).toMatch(detail);
      expectRecordable(s.values);
    });
  }

  it('a premium × stop × lot size that overflows or underflows', () => {
    expect(size({ lotSize: 2 ** 60 }).skip?.detail).toMatch(/lotSize 1152921504606847000 \(must be a positive integer\)/); // not a safe integer
    const under = size({ premium: 5e-324, lotSize: 1, stopPct: 1 });
    expect(under.skip).toMatchObject({ reason: 'bad_input' });
    expect(under.skip?.detail).toMatch(/out of range/);
    const over = size({ premium: 1e300, lotSize: 1e9 });
    expect(over.skip?.detail).toMatch(/out of range/);
    expectRecordable(over.values);
  });

  it('a tiny risk per lot leaves the uncapped counts out of the record, not Infinity', () => {
    const s = size({ premium: 1e-320, lotSize: 1e6, stopPct: 100 }); // risk per lot 1e-314: 5000 / 1e-314 overflows
    expect(s.lots).toBe(10);
    expect(s.values).toMatchObject({ rawLots: null, allocLots: null, baseLots: 10, binding: 'max_lots' });
    expectRecordable(s.values);
  });

  it('names every bad value at once', () => {
    const s = size({ premium: Number.NaN, lotSize: 0, stopPct: -1 });
    expect(s.skip?.detail.split('; ')).toHaveLength(3);
    expect(s.values).toMatchObject({ premium: null, lotSize: 0, stopPct: -1 });
  });
});

describe('sizeEntry: properties', () => {
  const trading = fc.record({
    capital: fc.integer({ min: 1000, max: 100_000_000 }),
    risk_per_trade_pct: fc.double({ min: 0.01, max: 100, noNaN: true }),
    max_lots: fc.integer({ min: 1, max: 1000 }),
    capital_alloc_pct: fc.double({ min: 0.1, max: 100, noNaN: true }),
    vix_scale_from: fc.double({ min: 0, max: 200, noNaN: true }),
    vix_scale: fc.double({ min: 0, max: 1, noNaN: true }),
    dte_scale_days: fc.integer({ min: 0, max: 30 }),
    dte_scale: fc.double({ min: 0, max: 1, noNaN: true }),
  }).map((t): Config['trading'] => ({ ...T, ...t }));
  const premium = fc.integer({ min: 5, max: 5_000_000 }).map((p) => p / 100); // ₹0.05 … ₹50,000 in paise
  const input = fc.record({
    premium,
    lotSize: fc.integer({ min: 1, max: 2000 }),
    stopPct: fc.double({ min: 0.5, max: 100, noNaN: true }),
    vix: fc.option(fc.double({ min: 0, max: 100, noNaN: true }), { nil: undefined }),
    daysToExpiry: fc.integer({ min: 0, max: 60 }),
    outlayOnUnderlying: fc.double({ min: 0, max: 50_000_000, noNaN: true }),
  });
  const TOL = 1e-6; // the floors allow 1e-9 lot of binary rounding

  it('never exceeds max_lots, the allocation or the risk budget; a skip iff zero lots', () => {
    fc.assert(fc.property(input, trading, (i, t) => {
      const s = sizeEntry(i, t);
      expect(s.skip?.reason).toBe(s.lots === 0 ? 'zero_lots' : undefined); // all inputs are valid here
      expect(Number.isInteger(s.lots) && s.lots >= 0).toBe(true);
      expect(s.qty).toBe(s.lots * i.lotSize);
      expect(s.lots).toBeLessThanOrEqual(t.max_lots);
      const budget = (t.capital * t.risk_per_trade_pct) / 100;
      const riskPerLot = (i.premium * i.stopPct * i.lotSize) / 100;
      expect(s.lots * riskPerLot).toBeLessThanOrEqual(budget * (1 + TOL));
      const allocation = (t.capital * t.capital_alloc_pct) / 100;
      expect(i.outlayOnUnderlying + s.lots * i.premium * i.lotSize).toBeLessThanOrEqual(Math.max(allocation, i.outlayOnUnderlying) * (1 + TOL));
      expect(s.lots).toBeLessThanOrEqual(s.values['baseLots'] as number); // scaling only shrinks
      expectRecordable(s.values);
    }), { numRuns: 500 });
  });

  it('is monotone non-increasing in the premium', () => {
    fc.assert(fc.property(input, premium, trading, (i, p2, t) => {
      const [lo, hi] = i.premium <= p2 ? [i.premium, p2] : [p2, i.premium];
      expect(sizeEntry({ ...i, premium: lo }, t).lots).toBeGreaterThanOrEqual(sizeEntry({ ...i, premium: hi }, t).lots);
    }), { numRuns: 500 });
  });

  it('never throws, whatever the numbers', () => {
    const any = fc.oneof(fc.double(), fc.integer(), fc.constantFrom(Number.NaN, Infinity, -Infinity, 0, -0));
    fc.assert(fc.property(any, any, any, fc.option(any, { nil: undefined }), any, any, (premium, lotSize, stopPct, vix, daysToExpiry, outlayOnUnderlying) => {
      const s = sizeEntry({ premium, lotSize, stopPct, vix, daysToExpiry, outlayOnUnderlying }, T);
      expect(s.lots === 0 ? s.skip !== undefined : s.skip === undefined).toBe(true);
      expectRecordable(s.values);
    }), { numRuns: 300 });
  });
});
