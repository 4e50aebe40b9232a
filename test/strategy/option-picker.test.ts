/**
 * The option picker against the contracts the daemon would see: the
 * simulator's instrument list for a bundled day (or, for dates past the
 * bundled data, the same contract generator over the real calendar), written
 * as the broker's master JSON (`buildMaster`) and read back through the
 * SmartAPI adapter's parser (`parseMaster`) into an `InstrumentIndex`.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { Instrument } from '../../src/broker/broker.js';
import { InstrumentIndex } from '../../src/broker/smartapi/instrument-index.js';
import { parseMaster } from '../../src/broker/smartapi/instruments.js';
import { istToMillis } from '../../src/core/clock.js';
import { DEFAULT_CALENDAR_DIR, TradingCalendar, weekday } from '../../src/market/calendar.js';
import { FnoSpecs, INDICES, type Underlying, listedExpiries, optionSymbol, optionToken, strikesAround } from '../../src/sim/market/contracts.js';
import { createMarket } from '../../src/sim/market/market.js';
import type { SimInstrument } from '../../src/sim/market/types.js';
import { buildMaster } from '../../src/sim/server/instrument-master.js';
import { type OptionQuote, type Pick, type PickReason, type PickerSettings, atmStrike, fallbackOffsets, pickOption } from '../../src/strategy/option-picker.js';

const SETTINGS: PickerSettings = {
  expiryDayCutoff: '14:00',
  strikeStep: { NIFTY: 50, BANKNIFTY: 100, SENSEX: 100 },
  maxSpreadPct: 3,
  minOi: 1000,
  fallbackStrikes: 2,
};

async function indexOf(instruments: readonly SimInstrument[]): Promise<InstrumentIndex> {
  const { instruments: parsed, stats } = await parseMaster([buildMaster(instruments)]);
  expect(stats.bad).toBe(0);
  return new InstrumentIndex(parsed);
}

/** The day's master as the simulator serves it, parsed as the adapter parses it. */
const dayCache = new Map<string, Promise<InstrumentIndex>>();
function masterOn(day: string): Promise<InstrumentIndex> {
  let p = dayCache.get(day);
  if (p === undefined) dayCache.set(day, (p = indexOf(createMarket({ day, seed: 7 }).instruments())));
  return p;
}

/**
 * Contracts listed on a day past the bundled bars (no replayable market),
 * from the simulator's own generator over the real holiday calendar.
 */
function syntheticMaster(day: string, around: Readonly<Record<Underlying, number>>): Promise<InstrumentIndex> {
  const cal = TradingCalendar.load(DEFAULT_CALENDAR_DIR);
  const specs = FnoSpecs.load(DEFAULT_CALENDAR_DIR);
  const list: SimInstrument[] = [];
  for (const u of ['NIFTY', 'BANKNIFTY'] as const) {
    for (const e of listedExpiries(u, day, specs, cal)) {
      for (const k of strikesAround(around[u], around[u], specs.strikeStep(u), 10)) {
        for (const type of ['CE', 'PE'] as const) {
          list.push({
            token: optionToken(u, e.date, k, type), symbol: optionSymbol(u, e.date, k, type), name: u, segment: 'NFO', type: 'OPTIDX',
            expiry: e.date, strike: k, optionType: type, lotSize: specs.lotSize(u, e.date), tickSize: 0.05, underlyingToken: INDICES[u].token,
          });
        }
      }
    }
  }
  return indexOf(list);
}

const at = (day: string, time: string): number => istToMillis(day, time);

function ok(p: Pick): Extract<Pick, { ok: true }> {
  if (!p.ok) throw new Error(`expected a pick, got ${p.reason}: ${p.detail}`);
  return p;
}
function notOk(p: Pick): Extract<Pick, { ok: false }> {
  if (p.ok) throw new Error(`expected no pick, got ${p.instrument.symbol}`);
  return p;
}
const checks = (p: Pick, check: string): PickReason[] => p.reasons.filter((r) => r.check === check);

describe('ATM and offsets', () => {
  it('rounds spot to the nearest strike, half-way up', () => {
    expect(atmStrike(21725, 50)).toBe(21750);
    expect(atmStrike(21724.99, 50)).toBe(21700);
    expect(atmStrike(21774.95, 50)).toBe(21750);
    expect(atmStrike(21700, 50)).toBe(21700);
    expect(atmStrike(45150, 100)).toBe(45200);
    expect(atmStrike(45149.95, 100)).toBe(45100);
  });

  it('exactly half-way spot picks the upper strike for both CE and PE at ATM', async () => {
    const ix = await masterOn('2024-02-15');
    for (const optionType of ['CE', 'PE'] as const) {
      const p = ok(pickOption(ix, { underlying: 'NIFTY', optionType, spot: 21825, now: at('2024-02-15', '10:00'), otmSteps: 0 }, SETTINGS));
      expect(p.atm).toBe(21850);
      expect(p.strike).toBe(21850);
      expect(p.instrument.symbol).toBe(`NIFTY15FEB2421850${optionType}`);
    }
  });

  it('CE one strike above ATM, PE one strike below (the scalper); ATM for offset 0 (adx-mtf)', async () => {
    const ix = await masterOn('2024-02-15');
    const req = { underlying: 'NIFTY', spot: 21808.35, now: at('2024-02-15', '10:00') };
    const ce1 = ok(pickOption(ix, { ...req, optionType: 'CE', otmSteps: 1 }, SETTINGS));
    const pe1 = ok(pickOption(ix, { ...req, optionType: 'PE', otmSteps: 1 }, SETTINGS));
    const ce0 = ok(pickOption(ix, { ...req, optionType: 'CE', otmSteps: 0 }, SETTINGS));
    const pe2 = ok(pickOption(ix, { ...req, optionType: 'PE', otmSteps: 2 }, SETTINGS));
    expect([ce1.atm, ce1.strike, ce1.instrument.symbol]).toEqual([21800, 21850, 'NIFTY15FEB2421850CE']);
    expect([pe1.atm, pe1.strike, pe1.instrument.symbol]).toEqual([21800, 21750, 'NIFTY15FEB2421750PE']);
    expect(ce0.strike).toBe(21800);
    expect(pe2.strike).toBe(21700);
    expect(ce1.instrument).toMatchObject({ exchange: 'NFO', kind: 'option', lotSize: 50, expiry: '2024-02-15', optionType: 'CE', strike: 21850 });
  });

  it('uses the underlying\'s own step (BANKNIFTY 100), case-insensitively', async () => {
    const ix = await masterOn('2024-02-13');
    const ce = ok(pickOption(ix, { underlying: 'banknifty', optionType: 'CE', spot: 45049.5, now: at('2024-02-13', '11:00'), otmSteps: 1 }, SETTINGS));
    const pe = ok(pickOption(ix, { underlying: 'BANKNIFTY', optionType: 'PE', spot: 45050, now: at('2024-02-13', '11:00'), otmSteps: 1 }, SETTINGS));
    expect([ce.atm, ce.strike, ce.instrument.symbol, ce.instrument.lotSize]).toEqual([45000, 45100, 'BANKNIFTY14FEB2445100CE', 15]);
    expect([pe.atm, pe.strike, pe.instrument.symbol]).toEqual([45100, 45000, 'BANKNIFTY14FEB2445000PE']);
  });
});

describe('fallback order', () => {
  it('nearest first, toward ATM before away, never into the money', () => {
    expect(fallbackOffsets(0, 2)).toEqual([1, 2]);
    expect(fallbackOffsets(1, 2)).toEqual([0, 2]);
    expect(fallbackOffsets(1, 3)).toEqual([0, 2, 3]);
    expect(fallbackOffsets(2, 4)).toEqual([1, 3, 0, 4]);
    expect(fallbackOffsets(-1, 2)).toEqual([0, 1]);
    expect(fallbackOffsets(3, 0)).toEqual([]);
  });
});

describe('expiry choice', () => {
  it('the listed expiries of the test days are the real 2024 ones', async () => {
    expect((await masterOn('2024-02-15')).expiries('NIFTY')).toEqual(['2024-02-15', '2024-02-22', '2024-02-29']);
    expect((await masterOn('2024-02-14')).expiries('BANKNIFTY')).toEqual(['2024-02-14', '2024-02-21', '2024-02-29']);
    expect((await masterOn('2024-01-24')).expiries('BANKNIFTY')).toEqual(['2024-01-24', '2024-01-25', '2024-01-31']);
  });

  it('NIFTY on its expiry day 2024-02-15: that expiry before the cutoff, the next (2024-02-22) at and after it', async () => {
    const ix = await masterOn('2024-02-15');
    const req = { underlying: 'NIFTY', optionType: 'CE' as const, spot: 21810, otmSteps: 0 };
    const early = ok(pickOption(ix, { ...req, now: at('2024-02-15', '13:59') }, SETTINGS));
    expect([early.expiry, early.rolled, early.instrument.symbol]).toEqual(['2024-02-15', false, 'NIFTY15FEB2421800CE']);
    expect(checks(early, 'expiry_day_cutoff')).toEqual([{ check: 'expiry_day_cutoff', value: '2024-02-15T13:59:00.000+05:30', limit: 'before 14:00 IST', passed: true }]);
    expect(checks(early, 'rolled_expiry')).toEqual([]);

    for (const time of ['14:00', '15:10']) {
      const late = ok(pickOption(ix, { ...req, now: at('2024-02-15', time) }, SETTINGS));
      expect([late.expiry, late.rolled, late.instrument.symbol]).toEqual(['2024-02-22', true, 'NIFTY22FEB2421800CE']);
      expect(checks(late, 'expiry_day_cutoff')[0]).toMatchObject({ passed: false, limit: 'before 14:00 IST' });
      expect(checks(late, 'rolled_expiry')).toEqual([{ check: 'rolled_expiry', value: '2024-02-22', limit: 'after 2024-02-15', passed: true }]);
    }
  });

  it('the day before an expiry never rolls, whatever the time', async () => {
    const ix = await masterOn('2024-02-14');
    const p = ok(pickOption(ix, { underlying: 'NIFTY', optionType: 'PE', spot: 21750, now: at('2024-02-14', '15:20'), otmSteps: 1 }, SETTINGS));
    expect([p.expiry, p.rolled, p.instrument.symbol]).toEqual(['2024-02-15', false, 'NIFTY15FEB2421700PE']);
    expect(checks(p, 'expiry_day_cutoff')).toEqual([]);
  });

  it('BANKNIFTY on its Wednesday expiry 2024-02-14: 2024-02-14 before the cutoff, 2024-02-21 after', async () => {
    const ix = await masterOn('2024-02-14');
    const req = { underlying: 'BANKNIFTY', optionType: 'PE' as const, spot: 45420, otmSteps: 1 };
    const early = ok(pickOption(ix, { ...req, now: at('2024-02-14', '09:20') }, SETTINGS));
    const late = ok(pickOption(ix, { ...req, now: at('2024-02-14', '14:30') }, SETTINGS));
    expect([early.expiry, early.rolled, early.instrument.symbol]).toEqual(['2024-02-14', false, 'BANKNIFTY14FEB2445300PE']);
    expect([late.expiry, late.rolled, late.instrument.symbol]).toEqual(['2024-02-21', true, 'BANKNIFTY21FEB2445300PE']);
  });

  it('a monthly that is the nearest expiry is taken, not skipped (NIFTY 2024-01-25; BANKNIFTY rolls from the 01-24 weekly to the 01-25 monthly)', async () => {
    const n = await masterOn('2024-01-25');
    const nEarly = ok(pickOption(n, { underlying: 'NIFTY', optionType: 'CE', spot: 21460, now: at('2024-01-25', '10:00'), otmSteps: 0 }, SETTINGS));
    const nLate = ok(pickOption(n, { underlying: 'NIFTY', optionType: 'CE', spot: 21460, now: at('2024-01-25', '14:05'), otmSteps: 0 }, SETTINGS));
    expect([nEarly.expiry, nEarly.instrument.symbol]).toEqual(['2024-01-25', 'NIFTY25JAN2421450CE']);
    expect([nLate.expiry, nLate.rolled]).toEqual(['2024-02-01', true]);

    const b = await masterOn('2024-01-24');
    const bLate = ok(pickOption(b, { underlying: 'BANKNIFTY', optionType: 'CE', spot: 45000, now: at('2024-01-24', '14:00'), otmSteps: 0 }, SETTINGS));
    expect([bLate.expiry, bLate.rolled, bLate.instrument.symbol]).toEqual(['2024-01-25', true, 'BANKNIFTY25JAN2445000CE']);
  });

  it('no bundled Jan–Feb 2024 expiry is holiday-shifted (the 01-22 and 01-26 holidays are a Monday and a Friday)', async () => {
    for (const day of ['2024-01-19', '2024-01-24', '2024-02-14']) {
      const ix = await masterOn(day);
      for (const e of ix.expiries('NIFTY')) expect(weekday(e)).toBe(4);
      // BANKNIFTY: Wednesday weeklies, Thursday monthlies until the March 2024 change.
      for (const e of ix.expiries('BANKNIFTY')) expect([3, 4]).toContain(weekday(e));
    }
  });

  it('holiday-shifted expiries (Thu 2024-04-11 and Wed 2024-04-17 were holidays) are the ones picked and rolled from', async () => {
    const ix = await syntheticMaster('2024-04-09', { NIFTY: 22650, BANKNIFTY: 48700 });
    expect(ix.expiries('NIFTY')).toEqual(['2024-04-10', '2024-04-18', '2024-04-25']);
    expect(ix.expiries('BANKNIFTY')).toEqual(['2024-04-10', '2024-04-16', '2024-04-24']);
    const nifty = (now: number): Pick => pickOption(ix, { underlying: 'NIFTY', optionType: 'CE', spot: 22640, now, otmSteps: 1 }, SETTINGS);
    expect(ok(nifty(at('2024-04-09', '15:00')))).toMatchObject({ expiry: '2024-04-10', rolled: false });
    expect(ok(nifty(at('2024-04-10', '10:00')))).toMatchObject({ expiry: '2024-04-10', rolled: false, strike: 22700 });
    expect(ok(nifty(at('2024-04-10', '14:00')))).toMatchObject({ expiry: '2024-04-18', rolled: true });
    expect(ok(nifty(at('2024-04-10', '14:00'))).instrument.symbol).toBe('NIFTY18APR2422700CE');

    const ix2 = await syntheticMaster('2024-04-16', { NIFTY: 22200, BANKNIFTY: 47500 });
    expect(ix2.expiries('BANKNIFTY')).toEqual(['2024-04-16', '2024-04-24']);
    const bank = (time: string): Pick => pickOption(ix2, { underlying: 'BANKNIFTY', optionType: 'PE', spot: 47480, now: at('2024-04-16', time), otmSteps: 1 }, SETTINGS);
    expect(ok(bank('11:00'))).toMatchObject({ expiry: '2024-04-16', rolled: false, strike: 47400 });
    expect(ok(bank('14:15'))).toMatchObject({ expiry: '2024-04-24', rolled: true, strike: 47400 });
  });

  it('past the cutoff with nothing to roll to → no_expiry', async () => {
    const ix = await masterOn('2024-02-15');
    const onlyToday = new InstrumentIndex(ix.all.filter((i) => i.expiry === undefined || i.expiry === '2024-02-15'));
    const p = notOk(pickOption(onlyToday, { underlying: 'NIFTY', optionType: 'CE', spot: 21800, now: at('2024-02-15', '14:30'), otmSteps: 0 }, SETTINGS));
    expect(p.reason).toBe('no_expiry');
    expect(p.detail).toContain('14:00');
    expect(checks(p, 'rolled_expiry')[0]).toMatchObject({ value: null, passed: false });
  });

  it('every listed expiry already past → no_expiry', async () => {
    const ix = await masterOn('2024-02-15');
    const p = notOk(pickOption(ix, { underlying: 'NIFTY', optionType: 'CE', spot: 21800, now: at('2024-03-01', '10:00'), otmSteps: 0 }, SETTINGS));
    expect(p.reason).toBe('no_expiry');
    expect(p.detail).toContain('2024-03-01');
  });
});

describe('contract, underlying, spot', () => {
  it('a strike the master lacks → no_contract naming strike and expiry, never another strike', async () => {
    const ix = await masterOn('2024-02-15');
    const far = notOk(pickOption(ix, { underlying: 'NIFTY', optionType: 'CE', spot: 25010, now: at('2024-02-15', '10:00'), otmSteps: 1 }, SETTINGS));
    expect(far.reason).toBe('no_contract');
    expect(far.detail).toContain('NIFTY 2024-02-15 25050 CE');
    expect(far.detail).toMatch(/listed strikes 21350–22400/);
    expect(checks(far, 'contract')).toEqual([{ check: 'contract', value: null, limit: 'NIFTY 2024-02-15 25050 CE', passed: false, strike: 25050 }]);

    // A hole in the middle of the chain: the neighbours exist, but the pick still fails.
    const holed = new InstrumentIndex(ix.all.filter((i) => i.symbol !== 'NIFTY15FEB2421850CE'));
    const hole = notOk(pickOption(holed, { underlying: 'NIFTY', optionType: 'CE', spot: 21800, now: at('2024-02-15', '10:00'), otmSteps: 1 }, SETTINGS, () => ({ bid: 10, ask: 10.1, oi: 1e6 })));
    expect(hole.reason).toBe('no_contract');
    expect(hole.detail).toContain('21850 CE');
    expect(checks(hole, 'contract')).toHaveLength(1);
  });

  it('an underlying with no options in the master → unknown_underlying', async () => {
    const ix = await masterOn('2024-02-15');
    for (const underlying of ['SENSEX', 'FINNIFTY', 'RELIANCE']) {
      const p = notOk(pickOption(ix, { underlying, optionType: 'CE', spot: 72000, now: at('2024-02-15', '10:00'), otmSteps: 0 }, SETTINGS));
      expect(p.reason).toBe('unknown_underlying');
      expect(p.reasons).toEqual([{ check: 'underlying', value: underlying, passed: false }]);
    }
  });

  it('no strike step for the underlying → no_strike_step', async () => {
    const ix = await masterOn('2024-02-15');
    const p = notOk(pickOption(ix, { underlying: 'BANKNIFTY', optionType: 'CE', spot: 46000, now: at('2024-02-15', '10:00'), otmSteps: 0 }, { ...SETTINGS, strikeStep: { NIFTY: 50 } }));
    expect(p.reason).toBe('no_strike_step');
    expect(checks(p, 'strike_step')).toEqual([{ check: 'strike_step', value: null, passed: false }]);
    const zero = notOk(pickOption(ix, { underlying: 'NIFTY', optionType: 'CE', spot: 21800, now: at('2024-02-15', '10:00'), otmSteps: 0 }, { ...SETTINGS, strikeStep: { NIFTY: 0 } }));
    expect(zero.reason).toBe('no_strike_step');
  });

  it('a non-finite or non-positive spot → bad_spot', async () => {
    const ix = await masterOn('2024-02-15');
    for (const spot of [NaN, Infinity, 0, -21800]) {
      const p = notOk(pickOption(ix, { underlying: 'NIFTY', optionType: 'CE', spot, now: at('2024-02-15', '10:00'), otmSteps: 0 }, SETTINGS));
      expect(p.reason).toBe('bad_spot');
    }
  });

  it('bad settings and requests are named, not thrown', async () => {
    const ix = await masterOn('2024-02-15');
    const req = { underlying: 'NIFTY', optionType: 'CE' as const, spot: 21800, now: at('2024-02-15', '10:00'), otmSteps: 0 };
    for (const cutoff of ['25:00', '2pm', '14:0', '']) expect(notOk(pickOption(ix, req, { ...SETTINGS, expiryDayCutoff: cutoff })).reason).toBe('bad_settings');
    expect(notOk(pickOption(ix, req, { ...SETTINGS, fallbackStrikes: 1.5 })).reason).toBe('bad_settings');
    expect(notOk(pickOption(ix, req, { ...SETTINGS, maxSpreadPct: NaN })).reason).toBe('bad_settings');
    expect(notOk(pickOption(ix, { ...req, otmSteps: 0.5 }, SETTINGS)).reason).toBe('bad_request');
    expect(notOk(pickOption(ix, { ...req, now: NaN }, SETTINGS)).reason).toBe('bad_request');
  });
});

describe('liquidity', () => {
  const day = '2024-02-15';
  const now = at(day, '10:00');
  const req = { underlying: 'NIFTY', optionType: 'CE' as const, spot: 21808, now, otmSteps: 1 }; // ATM 21800, chosen 21850
  const good: OptionQuote = { bid: 100, ask: 101, oi: 50_000, ltp: 100.5 }; // spread 0.995 %
  const wide: OptionQuote = { bid: 100, ask: 104, oi: 50_000 }; // spread 3.92 %
  const byStrike = (m: Record<number, OptionQuote | undefined>) => (i: Instrument): OptionQuote | undefined => m[i.strike!];
  let ix: InstrumentIndex;
  beforeAll(async () => {
    ix = await masterOn(day);
  });

  it('no quote lookup, or no quote for the contract → liquidity not checked, recorded as skipped', () => {
    for (const quote of [undefined, () => undefined]) {
      const p = ok(pickOption(ix, req, SETTINGS, quote));
      expect(p.strike).toBe(21850);
      expect(p.quote).toBeUndefined();
      expect(checks(p, 'quote')).toEqual([{ check: 'quote', value: null, passed: true, skipped: true, strike: 21850 }]);
      expect(checks(p, 'spread_pct')).toEqual([]);
      expect(checks(p, 'oi')).toEqual([]);
    }
  });

  it('a liquid chosen strike is taken, with spread and OI values and limits in the reasons', () => {
    const p = ok(pickOption(ix, req, SETTINGS, byStrike({ 21850: good })));
    expect([p.strike, p.requestedStrike]).toEqual([21850, 21850]);
    expect(p.quote).toEqual({ ...good, spreadPct: 0.995 });
    expect(checks(p, 'spread_pct')).toEqual([{ check: 'spread_pct', value: 0.995, limit: 3, passed: true, strike: 21850 }]);
    expect(checks(p, 'oi')).toEqual([{ check: 'oi', value: 50_000, limit: 1000, passed: true, strike: 21850 }]);
    // The event can explain the whole choice.
    expect(p.reasons.map((r) => r.check)).toEqual(['underlying', 'strike_step', 'spot', 'nearest_expiry', 'expiry_day_cutoff', 'contract', 'spread_pct', 'oi']);
  });

  it('a spread exactly at the limit passes', () => {
    // bid 97.5, ask 100.5 → mid 99, spread 3/99 = 3.03 % (fails); bid 98.5 ask 101.5 → 3/100 = 3 % (passes)
    expect(ok(pickOption(ix, req, SETTINGS, byStrike({ 21850: { bid: 98.5, ask: 101.5, oi: 5000 } }))).strike).toBe(21850);
    expect(ok(pickOption(ix, req, SETTINGS, byStrike({ 21850: { bid: 97.5, ask: 100.5, oi: 5000 }, 21800: good }))).strike).toBe(21800);
  });

  it('a wide spread falls back toward ATM first, recording every candidate', () => {
    const p = ok(pickOption(ix, req, SETTINGS, byStrike({ 21850: wide, 21800: good, 21900: good })));
    expect([p.strike, p.requestedStrike, p.atm, p.instrument.symbol]).toEqual([21800, 21850, 21800, 'NIFTY15FEB2421800CE']);
    expect(checks(p, 'spread_pct')).toEqual([
      { check: 'spread_pct', value: 3.922, limit: 3, passed: false, strike: 21850 },
      { check: 'spread_pct', value: 0.995, limit: 3, passed: true, strike: 21800 },
    ]);
    expect(checks(p, 'contract').map((r) => [r.strike, r.value])).toEqual([[21850, 'NIFTY15FEB2421850CE'], [21800, 'NIFTY15FEB2421800CE']]);
  });

  it('PE falls back toward ATM too (upward), then further out', () => {
    const pe = { ...req, optionType: 'PE' as const }; // chosen 21750 PE, then 21800, then 21700
    const p = ok(pickOption(ix, pe, SETTINGS, byStrike({ 21750: wide, 21800: wide, 21700: good })));
    expect(p.strike).toBe(21700);
    expect(checks(p, 'contract').map((r) => r.strike)).toEqual([21750, 21800, 21700]);
  });

  it('nothing liquid → illiquid, with all candidates in the detail and the reasons', () => {
    const p = notOk(pickOption(ix, req, SETTINGS, () => wide));
    expect(p.reason).toBe('illiquid');
    expect(p.detail).toBe('no liquid NIFTY 2024-02-15 CE: tried 21850 (spread 3.922% > 3%), 21800 (spread 3.922% > 3%), 21900 (spread 3.922% > 3%)');
    expect(checks(p, 'contract').map((r) => r.strike)).toEqual([21850, 21800, 21900]);
    expect(checks(p, 'spread_pct').every((r) => !r.passed)).toBe(true);
  });

  it('fallbackStrikes 0 (or unset) → the chosen strike only', () => {
    const { fallbackStrikes: _unused, ...noFallback } = SETTINGS;
    for (const s of [{ ...SETTINGS, fallbackStrikes: 0 }, noFallback]) {
      const p = notOk(pickOption(ix, req, s, byStrike({ 21850: wide, 21800: good })));
      expect(p.reason).toBe('illiquid');
      expect(checks(p, 'contract')).toHaveLength(1);
    }
  });

  it('low open interest rejects and falls back', () => {
    const p = ok(pickOption(ix, req, SETTINGS, byStrike({ 21850: { ...good, oi: 999 }, 21800: good })));
    expect(p.strike).toBe(21800);
    expect(checks(p, 'oi')).toEqual([
      { check: 'oi', value: 999, limit: 1000, passed: false, strike: 21850 },
      { check: 'oi', value: 50_000, limit: 1000, passed: true, strike: 21800 },
    ]);
    // minOi 0 disables the check.
    const off = ok(pickOption(ix, req, { ...SETTINGS, minOi: 0 }, byStrike({ 21850: { ...good, oi: 0 } })));
    expect(off.strike).toBe(21850);
    expect(checks(off, 'oi')).toEqual([{ check: 'oi', value: 0, limit: 0, passed: true, skipped: true, strike: 21850 }]);
  });

  it('missing bid/ask or OI on the chosen strike → that check skipped, not failed', () => {
    const p = ok(pickOption(ix, req, SETTINGS, byStrike({ 21850: { ltp: 40, bid: 0, oi: 5000 } })));
    expect(p.strike).toBe(21850);
    expect(checks(p, 'spread_pct')).toEqual([{ check: 'spread_pct', value: null, limit: 3, passed: true, skipped: true, strike: 21850 }]);
    expect(checks(p, 'oi')[0]).toMatchObject({ value: 5000, passed: true });
    const noOi = ok(pickOption(ix, req, SETTINGS, byStrike({ 21850: { bid: 40, ask: 40.2 } })));
    expect(checks(noOi, 'oi')).toEqual([{ check: 'oi', value: null, limit: 1000, passed: true, skipped: true, strike: 21850 }]);
  });

  it('a fallback must show it does not have the chosen strike\'s problem: no bid/ask or no quote is not enough', () => {
    const p = ok(pickOption(ix, req, SETTINGS, byStrike({ 21850: wide, 21800: { oi: 50_000 }, 21900: good })));
    expect(p.strike).toBe(21900);
    expect(checks(p, 'spread_pct').map((r) => [r.strike, r.passed, r.skipped])).toEqual([[21850, false, undefined], [21800, false, undefined], [21900, true, undefined]]);
    const q = ok(pickOption(ix, req, SETTINGS, byStrike({ 21850: wide, 21900: good })));
    expect(q.strike).toBe(21900);
    expect(checks(q, 'quote')).toEqual([{ check: 'quote', value: null, passed: false, strike: 21800 }]);
    // The chosen strike failed on OI only: a fallback without bid/ask may pass on its OI.
    const r = ok(pickOption(ix, req, SETTINGS, byStrike({ 21850: { ...good, oi: 10 }, 21800: { oi: 5000 } })));
    expect(r.strike).toBe(21800);
  });

  it('a crossed book fails', () => {
    const p = ok(pickOption(ix, req, SETTINGS, byStrike({ 21850: { bid: 101, ask: 100, oi: 5000 }, 21800: good })));
    expect(p.strike).toBe(21800);
    expect(checks(p, 'spread_pct')[0]).toMatchObject({ strike: 21850, passed: false });
  });

  it('a fallback strike missing from the master is recorded and the next one tried', () => {
    const holed = new InstrumentIndex(ix.all.filter((i) => i.symbol !== 'NIFTY15FEB2421800CE'));
    const p = ok(pickOption(holed, req, SETTINGS, byStrike({ 21850: wide, 21800: good, 21900: good })));
    expect(p.strike).toBe(21900);
    expect(checks(p, 'contract').map((r) => [r.strike, r.passed])).toEqual([[21850, true], [21800, false], [21900, true]]);
  });
});

describe('with the simulator\'s own quotes (2024-02-15, 10:00 IST)', () => {
  it('ATM passes; a far OTM CE with a wide spread falls back toward ATM', async () => {
    const market = createMarket({ day: '2024-02-15', seed: 7 });
    const ix = await masterOn('2024-02-15');
    const now = at('2024-02-15', '10:00');
    market.advanceTo(now, new Set(), () => {});
    const spot = market.quote(INDICES.NIFTY.token)!.ltp;
    const quote = (i: Instrument): OptionQuote | undefined => {
      const q = market.quote(i.token);
      return q === undefined ? undefined : { bid: q.bids[0]!.price, ask: q.asks[0]!.price, oi: q.oi, ltp: q.ltp };
    };
    const spreadOf = (p: Pick, strike: number): number => checks(p, 'spread_pct').find((r) => r.strike === strike)!.value as number;

    const atm = ok(pickOption(ix, { underlying: 'NIFTY', optionType: 'CE', spot, now, otmSteps: 0 }, SETTINGS, quote));
    expect(atm.strike).toBe(atmStrike(spot, 50));
    expect(atm.quote!.spreadPct!).toBeLessThanOrEqual(3);
    expect(atm.quote!.oi!).toBeGreaterThanOrEqual(SETTINGS.minOi);

    // Deep OTM weeklies on expiry day cost a few rupees: a one- or two-tick spread is well over 3 %.
    const far = pickOption(ix, { underlying: 'NIFTY', optionType: 'CE', spot, now, otmSteps: 3 }, SETTINGS, quote);
    const farStrike = atmStrike(spot, 50) + 150;
    expect(spreadOf(far, farStrike)).toBeGreaterThan(3);
    const taken = ok(far);
    expect(taken.strike).toBeLessThan(farStrike);
    expect(spreadOf(taken, taken.strike)).toBeLessThanOrEqual(3);
  });
});
