import { describe, expect, it } from 'vitest';
import { istToMillis } from '../../src/core/clock.js';
import { DEFAULT_CALENDAR_DIR, TradingCalendar } from '../../src/market/calendar.js';

const cal = TradingCalendar.load(DEFAULT_CALENDAR_DIR);

describe('session calendar', () => {
  it('is open 09:15–15:30 IST on a trading day, closed outside', () => {
    expect(cal.isSessionOpen(istToMillis('2024-01-02', '09:14'))).toBe(false);
    expect(cal.isSessionOpen(istToMillis('2024-01-02', '09:15'))).toBe(true);
    expect(cal.isSessionOpen(istToMillis('2024-01-02', '15:29'))).toBe(true);
    expect(cal.isSessionOpen(istToMillis('2024-01-02', '15:30'))).toBe(false);
  });

  it('is closed on weekends and exchange holidays, open on a special Saturday session', () => {
    expect(cal.isSessionOpen(istToMillis('2024-01-06', '11:00'))).toBe(false); // Saturday
    expect(cal.isSessionOpen(istToMillis('2024-01-22', '11:00'))).toBe(false); // special holiday
    expect(cal.isSessionOpen(istToMillis('2024-01-26', '11:00'))).toBe(false); // Republic Day
    expect(cal.isSessionOpen(istToMillis('2024-01-20', '11:00'))).toBe(true); // Saturday full session
  });

  it('says which years its holiday files cover', () => {
    expect(cal.covers('2024-05-01')).toBe(true);
    expect(cal.covers('2026-12-31')).toBe(true);
    expect(cal.covers('2027-01-04')).toBe(false);
  });
});
