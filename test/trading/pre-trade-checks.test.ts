import { describe, expect, it } from 'vitest';
import type { Instrument } from '../../src/broker/broker.js';
import { parsePayload } from '../../src/core/events.js';
import { CHECK_ORDER, checkOrder, onTickGrid, withinBand, type CheckName, type CheckResult, type OrderCheckInput } from '../../src/trading/pre-trade-checks.js';

const NOW = 1_767_000_000_000;

const option: Instrument = {
  token: '45000',
  symbol: 'NIFTY30JAN2624000CE',
  name: 'NIFTY',
  exchange: 'NFO',
  kind: 'option',
  expiry: '2026-01-30',
  strike: 24000,
  optionType: 'CE',
  lotSize: 75,
  tickSize: 0.05,
  freezeQty: 1800,
};

/** A BUY LIMIT entry that passes every check. */
function input(over: Partial<OrderCheckInput> = {}): OrderCheckInput {
  return {
    purpose: 'entry',
    now: NOW,
    sessionOpen: true,
    inEntryWindow: true,
    instrument: option,
    today: '2026-01-29',
    side: 'BUY',
    orderType: 'LIMIT',
    qty: 150,
    price: 100.25,
    ltp: 100,
    lastTickAt: NOW - 2000,
    maxQuoteAgeMs: 10_000,
    fatFingerPct: 5,
    upperCircuit: 200,
    lowerCircuit: 0.05,
    availableFunds: 100_000,
    estimatedCharges: 60,
    riskBlocksEntries: false,
    keyUsed: false,
    key: 'I-abc-0',
    ...over,
  };
}

const exit = (over: Partial<OrderCheckInput> = {}) => input({ purpose: 'exit', side: 'SELL', price: 99.75, ...over });

function failure(r: CheckResult): Extract<CheckResult, { ok: false }> {
  if (r.ok) throw new Error('expected a failure');
  return r;
}

/** The result is a refusal by `check` whose event the ledger accepts. */
function expectRefused(r: CheckResult, check: CheckName, detail?: RegExp) {
  const f = failure(r);
  expect(f.check).toBe(check);
  if (detail !== undefined) expect(f.detail).toMatch(detail);
  expect(parsePayload('OrderRefused', { intentKey: 'I-abc-0', purpose: 'entry', check: f.check, detail: f.detail, values: f.values })).toMatchObject({ ok: true });
  return f;
}

describe('checkOrder', () => {
  it('passes a good entry and a good exit', () => {
    expect(checkOrder(input())).toEqual({ ok: true, skipped: [] });
    expect(checkOrder(exit())).toEqual({ ok: true, skipped: ['entry_window', 'funds', 'risk'] });
    expect(checkOrder(exit({ orderType: 'MARKET', price: 0 }))).toEqual({ ok: true, skipped: ['entry_window', 'data_fresh', 'funds', 'risk'] });
  });

  it('1 session: refuses when the market is closed', () => {
    const f = expectRefused(checkOrder(input({ sessionOpen: false })), 'session', /closed/);
    expect(f.values).toEqual({ sessionOpen: false, today: '2026-01-29', now: NOW });
    expectRefused(checkOrder(exit({ sessionOpen: false })), 'session');
  });

  it('2 entry_window: refuses an entry outside the window', () => {
    const f = expectRefused(checkOrder(input({ inEntryWindow: false })), 'entry_window');
    expect(f.values).toMatchObject({ inEntryWindow: false });
  });

  it('3 instrument: unknown, not an F&O option, bad lot or tick size, no expiry, expired', () => {
    expect(expectRefused(checkOrder(input({ instrument: undefined })), 'instrument', /unknown/).values).toEqual({ instrument: null });
    expectRefused(checkOrder(input({ instrument: { ...option, kind: 'index', exchange: 'NSE' } })), 'instrument', /not an index option/);
    expectRefused(checkOrder(input({ instrument: { ...option, exchange: 'NSE' } })), 'instrument', /not an index option/);
    expectRefused(checkOrder(input({ instrument: { ...option, lotSize: 0 } })), 'instrument', /lot size/);
    expectRefused(checkOrder(input({ instrument: { ...option, tickSize: 0 } })), 'instrument', /tick size/);
    const { expiry: _e, ...noExpiry } = option;
    expectRefused(checkOrder(input({ instrument: noExpiry })), 'instrument', /no valid expiry/);
    const f = expectRefused(checkOrder(input({ today: '2026-01-31' })), 'instrument', /expired on 2026-01-30/);
    expect(f.values).toMatchObject({ expiry: '2026-01-30', today: '2026-01-31', symbol: option.symbol });
    // expiry day itself trades
    expect(checkOrder(input({ today: '2026-01-30' })).ok).toBe(true);
    // exits are not exempt
    expectRefused(checkOrder(exit({ today: '2026-02-02' })), 'instrument');
  });

  it('4 quantity: positive whole multiple of the lot, at most the freeze quantity', () => {
    for (const qty of [0, -75, 74.5, Number.NaN]) expectRefused(checkOrder(input({ qty })), 'quantity', /positive whole/);
    const f = expectRefused(checkOrder(input({ qty: 100 })), 'quantity', /not a multiple of the lot size 75/);
    expect(f.values).toEqual({ qty: 100, lotSize: 75, freezeQty: 1800 });
    expectRefused(checkOrder(input({ qty: 1875, availableFunds: 1e9 })), 'quantity', /exceeds the freeze quantity 1800/);
    expect(checkOrder(input({ qty: 1800, availableFunds: 1e9 })).ok).toBe(true); // exactly the freeze quantity
    const { freezeQty: _f, ...noFreeze } = option;
    expect(checkOrder(input({ qty: 7500, availableFunds: 1e9, instrument: noFreeze })).ok).toBe(true);
    expectRefused(checkOrder(exit({ qty: 80 })), 'quantity');
    // NaN is recorded as text: the ledger takes finite numbers only
    expect(failure(checkOrder(input({ qty: Number.NaN }))).values.qty).toBe('NaN');
  });

  it('5 price: LIMIT price positive, on the tick grid, inside the circuits, inside the fat-finger band', () => {
    expectRefused(checkOrder(input({ price: 0 })), 'price', /positive/);
    expectRefused(checkOrder(input({ price: Number.POSITIVE_INFINITY })), 'price', /positive/);
    const grid = expectRefused(checkOrder(input({ price: 100.27 })), 'price', /tick size 0.05/);
    expect(grid.values).toMatchObject({ price: 100.27, tickSize: 0.05, ltp: 100 });
    expect(checkOrder(input({ price: 100.1 + 0.2 })).ok).toBe(true); // 100.30000000000001: on the grid within tolerance
    expectRefused(checkOrder(input({ price: 104, upperCircuit: 103.5 })), 'price', /above the upper circuit 103.5/);
    expectRefused(checkOrder(input({ price: 96, lowerCircuit: 96.5 })), 'price', /below the lower circuit 96.5/);
    const band = expectRefused(checkOrder(input({ price: 105.05 })), 'price', /fat-finger band of 5%/);
    expect(band.values).toMatchObject({ price: 105.05, ltp: 100, fatFingerPct: 5 });
    expect(band.values.deviationPct).toBeCloseTo(5.05, 9);
    expectRefused(checkOrder(input({ price: 94.95 })), 'price', /fat-finger/);
    // exits are not exempt for LIMIT prices
    expectRefused(checkOrder(exit({ price: 90 })), 'price', /fat-finger/);
  });

  it('5 price: exactly on the fat-finger band passes, on both sides, with awkward floats', () => {
    expect(checkOrder(input({ price: 105 })).ok).toBe(true);
    expect(checkOrder(input({ price: 95 })).ok).toBe(true);
    // 123.45 × 1.05 = 129.6225: 129.60 is inside, 129.65 outside
    expect(checkOrder(input({ ltp: 123.45, price: 129.6, availableFunds: 1e6 })).ok).toBe(true);
    expect(failure(checkOrder(input({ ltp: 123.45, price: 129.65, availableFunds: 1e6 }))).check).toBe('price');
    expect(withinBand(129.6, 123.45, 5)).toBe(true);
    expect(withinBand(0.3, 0.2, 50)).toBe(true); // 0.1 / 0.2 = 0.5 exactly, in floats 0.49999…/0.5000…
    expect(withinBand(110, 100, 10)).toBe(true);
    expect(withinBand(110.05, 100, 10)).toBe(false);
    expect(onTickGrid(0.15, 0.05)).toBe(true);
    expect(onTickGrid(0.1 + 0.2, 0.05)).toBe(true);
    expect(onTickGrid(0.31, 0.05)).toBe(false);
  });

  it('5 price: MARKET orders skip grid and band; a MARKET entry at its circuit is refused, a MARKET exit never', () => {
    expect(checkOrder(input({ orderType: 'MARKET', price: 0 })).ok).toBe(true);
    expectRefused(checkOrder(input({ orderType: 'MARKET', price: Number.NaN })), 'price', /finite/);
    expectRefused(checkOrder(input({ orderType: 'MARKET', price: 0, ltp: 200, upperCircuit: 200 })), 'price', /upper circuit/);
    expectRefused(checkOrder(input({ orderType: 'MARKET', price: 0, side: 'SELL', ltp: 0.05, lowerCircuit: 0.05 })), 'price', /lower circuit/);
    expect(checkOrder(exit({ orderType: 'MARKET', price: 0, ltp: 0.05, lowerCircuit: 0.05 })).ok).toBe(true);
  });

  it('6 data_fresh: a last price at most max age old; exactly the maximum passes', () => {
    expect(checkOrder(input({ lastTickAt: NOW - 10_000 })).ok).toBe(true);
    const f = expectRefused(checkOrder(input({ lastTickAt: NOW - 10_001 })), 'data_fresh', /10001 ms old/);
    expect(f.values).toEqual({ ltp: 100, lastTickAt: NOW - 10_001, now: NOW, ageMs: 10_001, maxQuoteAgeMs: 10_000 });
    expectRefused(checkOrder(input({ lastTickAt: undefined })), 'data_fresh', /no last price/);
    expectRefused(checkOrder(input({ ltp: 0 })), 'data_fresh', /no last price/);
    // without a last price the band cannot be judged: refused as data_fresh, the root cause, not as price
    expectRefused(checkOrder(input({ ltp: undefined, lastTickAt: undefined })), 'data_fresh');
    expectRefused(checkOrder(input({ orderType: 'MARKET', price: 0, ltp: undefined, lastTickAt: undefined })), 'data_fresh');
    // a LIMIT exit needs a fresh price; a MARKET exit does not
    expectRefused(checkOrder(exit({ lastTickAt: NOW - 60_000 })), 'data_fresh');
    expect(checkOrder(exit({ orderType: 'MARKET', price: 0, ltp: undefined, lastTickAt: undefined })).ok).toBe(true);
  });

  it('7 funds: premium plus charges within the available funds for BUY entries', () => {
    // 150 × 100.25 = 15037.5, + 60 = 15097.5
    expect(checkOrder(input({ availableFunds: 15_097.5 })).ok).toBe(true);
    const f = expectRefused(checkOrder(input({ availableFunds: 15_097.49 })), 'funds', /exceeds the available/);
    expect(f.values).toMatchObject({ premium: 15_037.5, estimatedCharges: 60, required: 15_097.5, availableFunds: 15_097.49 });
    // MARKET buy: the last price raised by the band (100 × 1.05 × 150 = 15750), capped at the upper circuit
    expect(failure(checkOrder(input({ orderType: 'MARKET', price: 0, availableFunds: 15_800 }))).values).toMatchObject({ refPrice: 105, premium: 15_750 });
    expect(checkOrder(input({ orderType: 'MARKET', price: 0, availableFunds: 15_810 })).ok).toBe(true);
    expect(failure(checkOrder(input({ orderType: 'MARKET', price: 0, upperCircuit: 102, availableFunds: 100 }))).values).toMatchObject({ refPrice: 102 });
    expectRefused(checkOrder(input({ estimatedCharges: -1 })), 'funds', /cannot be estimated/);
    expectRefused(checkOrder(input({ side: 'SELL' })), 'funds', /margin/);
    // an exit needs no funds
    expect(checkOrder(exit({ availableFunds: 0 })).ok).toBe(true);
  });

  it('8 risk: refuses entries while a risk limit blocks them; exits go', () => {
    const f = expectRefused(checkOrder(input({ riskBlocksEntries: true, riskReason: 'daily_loss_limit' })), 'risk', /daily_loss_limit/);
    expect(f.values).toEqual({ riskBlocksEntries: true, riskReason: 'daily_loss_limit' });
    expectRefused(checkOrder(input({ riskBlocksEntries: true })), 'risk');
    expect(checkOrder(exit({ riskBlocksEntries: true })).ok).toBe(true);
  });

  it('9 idempotency: refuses a used or empty key, for exits too', () => {
    const f = expectRefused(checkOrder(input({ keyUsed: true })), 'idempotency', /already used/);
    expect(f.values).toEqual({ key: 'I-abc-0', keyUsed: true });
    expectRefused(checkOrder(exit({ keyUsed: true })), 'idempotency');
    expectRefused(checkOrder(input({ key: '' })), 'idempotency', /no idempotency key/);
  });

  it('exits skip entry window, risk and funds together', () => {
    expect(checkOrder(exit({ inEntryWindow: false, riskBlocksEntries: true, availableFunds: 0 }))).toMatchObject({ ok: true });
  });

  it('runs the checks in the SPEC order: each failure hides the ones after it', () => {
    expect(CHECK_ORDER).toEqual(['session', 'entry_window', 'instrument', 'quantity', 'price', 'data_fresh', 'funds', 'risk', 'idempotency']);
    // everything broken at once; fix one check at a time, in order, and the next one reports
    const breaks: Record<CheckName, Partial<OrderCheckInput>> = {
      session: { sessionOpen: false },
      entry_window: { inEntryWindow: false },
      instrument: { today: '2027-01-01' },
      quantity: { qty: 10 },
      price: { price: 100.01 },
      data_fresh: { lastTickAt: NOW - 60_000 },
      funds: { availableFunds: 1 },
      risk: { riskBlocksEntries: true },
      idempotency: { keyUsed: true },
    };
    const fixes: Record<CheckName, Partial<OrderCheckInput>> = {
      session: { sessionOpen: true },
      entry_window: { inEntryWindow: true },
      instrument: { today: '2026-01-29' },
      quantity: { qty: 150 },
      price: { price: 100.25 },
      data_fresh: { lastTickAt: NOW - 2000 },
      funds: { availableFunds: 100_000 },
      risk: { riskBlocksEntries: false },
      idempotency: { keyUsed: false },
    };
    let i = input(Object.assign({}, ...CHECK_ORDER.map((c) => breaks[c])));
    for (const c of CHECK_ORDER) {
      expect(failure(checkOrder(i)).check).toBe(c);
      i = { ...i, ...fixes[c] };
    }
    expect(checkOrder(i).ok).toBe(true);
  });
});
