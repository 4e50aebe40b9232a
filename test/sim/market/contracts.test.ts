import { describe, expect, it } from 'vitest';
import { findRepoPath } from '../../../src/core/repo-path.js';
import { TradingCalendar, weekday } from '../../../src/market/calendar.js';
import { FnoSpecs, listedExpiries, monthlyExpiry, optionSymbol, optionToken } from '../../../src/sim/market/contracts.js';
import { bundledSessions, createMarket } from '../../../src/sim/market/market.js';

const calDir = findRepoPath('config/calendar');
const cal = TradingCalendar.load(calDir);
const specs = FnoSpecs.load(calDir);

describe('contracts as they were on the replayed date', () => {
  const m = createMarket({ day: '2024-01-02', seed: 1 });
  const opts = m.instruments().filter((i) => i.type === 'OPTIDX');

  it('2024-01-02: NIFTY nearest weekly 2024-01-04 (Thu) lot 50; BANKNIFTY 2024-01-03 (Wed) lot 15; plus next weekly and the monthly', () => {
    expect(m.expiries.NIFTY).toEqual(['2024-01-04', '2024-01-11', '2024-01-25']);
    expect(m.expiries.BANKNIFTY).toEqual(['2024-01-03', '2024-01-10', '2024-01-25']);
    expect(weekday('2024-01-04')).toBe(4);
    expect(weekday('2024-01-03')).toBe(3);
    for (const o of opts) {
      expect(o.lotSize).toBe(o.name === 'NIFTY' ? 50 : 15);
      expect(o.tickSize).toBe(0.05);
      expect(o.segment).toBe('NFO');
      expect(o.freezeQty).toBe(o.name === 'NIFTY' ? 1800 : 900);
      expect(o.underlyingToken).toBe(o.name === 'NIFTY' ? '99926000' : '99926009');
    }
  });

  it('symbols follow the broker pattern, e.g. NIFTY04JAN2421700CE; tokens are unique and stable', () => {
    const s = opts.find((o) => o.symbol === 'NIFTY04JAN2421700CE');
    expect(s).toMatchObject({ name: 'NIFTY', expiry: '2024-01-04', strike: 21700, optionType: 'CE', lotSize: 50 });
    expect(opts.find((o) => o.symbol === 'BANKNIFTY03JAN2448000PE')).toBeDefined();
    expect(optionSymbol('BANKNIFTY', '2024-01-25', 47500, 'PE')).toBe('BANKNIFTY25JAN2447500PE');
    for (const o of opts) expect(o.symbol).toMatch(/^(NIFTY|BANKNIFTY)\d{2}(JAN|FEB|MAR)24\d+(CE|PE)$/);
    const tokens = m.instruments().map((i) => i.token);
    expect(new Set(tokens).size).toBe(tokens.length);
    expect(s!.token).toBe(optionToken('NIFTY', '2024-01-04', 21700, 'CE'));
    // The same contract keeps its token on the next day.
    const next = createMarket({ day: '2024-01-03', seed: 99 }).instruments().find((i) => i.symbol === 'NIFTY04JAN2421700CE');
    expect(next?.token).toBe(s!.token);
  });

  it('strikes: the index step (NIFTY 50, BANKNIFTY 100), at least 10 each side of the ATM', () => {
    for (const [name, step] of [['NIFTY', 50], ['BANKNIFTY', 100]] as const) {
      const ks = [...new Set(opts.filter((o) => o.name === name && o.expiry === m.expiries[name][0]).map((o) => o.strike!))].sort((a, b) => a - b);
      for (let i = 1; i < ks.length; i++) expect(ks[i]! - ks[i - 1]!).toBe(step);
      const spot = m.quote(name === 'NIFTY' ? '99926000' : '99926009')!.ltp; // before the open: previous close
      const atm = Math.round(spot / step) * step;
      expect(ks.filter((k) => k < atm).length).toBeGreaterThanOrEqual(10);
      expect(ks.filter((k) => k > atm).length).toBeGreaterThanOrEqual(10);
    }
    expect(createMarket({ day: '2024-01-02', seed: 1, strikesAround: 3 }).instruments().length).toBeLessThan(m.instruments().length);
  });

  it('no weekly or monthly expiry in the bundled range fell on a holiday (checked for every bundled day)', () => {
    for (const day of bundledSessions()) {
      for (const name of ['NIFTY', 'BANKNIFTY'] as const) {
        for (const e of listedExpiries(name, day, specs, cal)) {
          expect(cal.isRegularTradingDay(e.date)).toBe(true);
          expect(e.date >= day).toBe(true);
          if (e.weekly && !e.monthly) expect(weekday(e.date)).toBe(name === 'NIFTY' ? 4 : 3);
          if (e.monthly) expect(weekday(e.date)).toBe(4); // Jan/Feb 2024 monthlies: last Thursday for both
        }
      }
    }
    expect(listedExpiries('BANKNIFTY', '2024-02-26', specs, cal).map((e) => e.date)).toEqual(['2024-02-28', '2024-02-29', '2024-03-06']);
  });

  it('an expiry on a holiday moves to the previous trading day (real 2024/2026 cases, from the calendar)', () => {
    // Thu 2024-04-11 (Id-Ul-Fitr): NIFTY weekly expired Wed 2024-04-10.
    expect(listedExpiries('NIFTY', '2024-04-08', specs, cal)[0]!.date).toBe('2024-04-10');
    // On the shifted expiry day itself the contract is still listed.
    expect(listedExpiries('NIFTY', '2024-04-10', specs, cal)[0]!.date).toBe('2024-04-10');
    // Wed 2024-04-17 (Ram Navami): BANKNIFTY weekly expired Tue 2024-04-16.
    expect(listedExpiries('BANKNIFTY', '2024-04-15', specs, cal)[0]!.date).toBe('2024-04-16');
    // Tue 2026-03-31 (Mahavir Jayanti): NIFTY monthly → Mon 2026-03-30.
    expect(monthlyExpiry('NIFTY', '2026-03-02', cal)).toBe('2026-03-30');
    expect(cal.expiryOn('2024-01-26')).toBe('2024-01-25'); // Republic Day (a Friday)
    expect(cal.expiryOn('2024-01-22')).toBe('2024-01-19'); // Monday special holiday: back over the weekend (Sat 2024-01-20 session is not an expiry day)
    expect(cal.isTradingDay('2024-01-20')).toBe(true);
  });

  it('lot sizes follow the specs file by contract expiry', () => {
    expect(specs.lotSize('NIFTY', '2024-04-25')).toBe(50);
    expect(specs.lotSize('NIFTY', '2024-05-02')).toBe(25);
    expect(specs.lotSize('NIFTY', '2026-01-06')).toBe(65);
    expect(specs.lotSize('BANKNIFTY', '2024-02-29')).toBe(15);
    expect(specs.lotSize('BANKNIFTY', '2025-05-29')).toBe(30);
    expect(specs.lotSize('BANKNIFTY', '2025-07-31')).toBe(35);
    expect(specs.strikeStep('NIFTY')).toBe(50);
    expect(specs.strikeStep('BANKNIFTY')).toBe(100);
    expect(specs.weeklyWeekday('NIFTY', '2025-09-09')).toBe(2);
    expect(specs.weeklyWeekday('BANKNIFTY', '2024-12-04')).toBeUndefined();
  });
});

describe('createMarket refuses a day it has no data for', () => {
  it.each([
    ['2024-03-05', /2024-03-05 is not a bundled session.*2024-01-01 → 2024-02-29 \(42 sessions/],
    ['2024-01-26', /2024-01-26 \(an exchange holiday\) is not a bundled session.*2024-01-01 → 2024-02-29/],
    ['2024-01-06', /\(a weekend\)/],
    ['2024-02-01', /2024-02-01 is not a bundled session/],
    ['2023-12-29', /2024-01-01 → 2024-02-29/],
  ])('%s', (day, re) => {
    expect(() => createMarket({ day, seed: 1 })).toThrow(re);
  });

  it('and bad arguments', () => {
    expect(() => createMarket({ day: '2-1-2024', seed: 1 })).toThrow(/YYYY-MM-DD/);
    expect(() => createMarket({ day: '2024-01-02', seed: NaN })).toThrow(/seed/);
    expect(() => createMarket({ day: '2024-01-02', seed: 1, ticksPerSecond: 0 })).toThrow(/ticksPerSecond/);
    expect(() => createMarket({ day: '2024-01-02', seed: 1, dataDir: '/nonexistent' })).toThrow(/data folder/);
  });
});
