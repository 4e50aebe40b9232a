/**
 * The morning routine's time: `broker.daily_login_ist` on the next day with a
 * trading session by the exchange calendar, on the market clock (weekends and
 * holidays have no morning; a weekend special session has one).
 */
import { describe, expect, it } from 'vitest';
import { morningAfter } from '../../src/app/broker-link.js';
import { istToMillis } from '../../src/core/clock.js';
import { DEFAULT_CALENDAR_DIR, TradingCalendar } from '../../src/market/calendar.js';

const cal = TradingCalendar.load(DEFAULT_CALENDAR_DIR);
const at = (d: string, t: string) => istToMillis(d, t);

describe('morningAfter', () => {
  it('is today before the login time and the next trading day after it', () => {
    expect(morningAfter(at('2024-01-02', '07:00'), '08:45', cal)).toBe(at('2024-01-02', '08:45'));
    expect(morningAfter(at('2024-01-02', '08:45'), '08:45', cal)).toBe(at('2024-01-03', '08:45'));
    expect(morningAfter(at('2024-01-02', '15:30'), '08:30', cal)).toBe(at('2024-01-03', '08:30'));
  });

  it('skips weekends and holidays, and keeps a Saturday special session', () => {
    expect(morningAfter(at('2024-01-05', '15:30'), '08:45', cal)).toBe(at('2024-01-08', '08:45')); // Friday → Monday
    expect(morningAfter(at('2024-01-19', '15:30'), '08:45', cal)).toBe(at('2024-01-20', '08:45')); // Saturday 20th traded
    expect(morningAfter(at('2024-01-20', '15:30'), '08:45', cal)).toBe(at('2024-01-23', '08:45')); // Monday 22nd a holiday
    expect(morningAfter(at('2024-01-25', '15:30'), '08:45', cal)).toBe(at('2024-01-29', '08:45')); // Republic Day, weekend
  });

  it('is undefined when no trading day comes within 15 days', () => {
    expect(morningAfter(at('2024-01-02', '10:00'), '08:45', { sessionWindows: () => [] })).toBeUndefined();
  });
});
