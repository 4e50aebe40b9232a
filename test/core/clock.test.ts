import fc from 'fast-check';
import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import { SimClock, formatIst, hhmmToMinutes, istDate, istMinuteOfDay, istToMillis, minutesToHhmm } from '../../src/core/clock.js';

describe('SimClock', () => {
  it('fires timers in time order, ties in the order they were set, with now() at the timer time', () => {
    const c = new SimClock(1000);
    const log: string[] = [];
    c.setTimer(3000, () => log.push(`b@${c.now()}`));
    c.setTimer(2000, () => log.push(`a@${c.now()}`));
    c.setTimer(3000, () => log.push(`c@${c.now()}`));
    c.advanceTo(2500);
    expect(log).toEqual(['a@2000']);
    expect(c.now()).toBe(2500);
    c.advanceTo(10_000);
    expect(log).toEqual(['a@2000', 'b@3000', 'c@3000']);
    expect(c.pending()).toBe(0);
  });

  it('runs intervals every period and stops after cancel', () => {
    const c = new SimClock(0);
    const at: number[] = [];
    const h = c.setInterval(100, () => at.push(c.now()));
    c.advanceTo(350);
    c.cancel(h);
    c.advanceTo(1000);
    expect(at).toEqual([100, 200, 300]);
  });

  it('fires a timer set from inside a callback if it falls within the same advance', () => {
    const c = new SimClock(0);
    const at: number[] = [];
    c.setTimer(10, () => c.setTimer(c.now() + 5, () => at.push(c.now())));
    c.advanceTo(20);
    expect(at).toEqual([15]);
  });

  it('refuses to go backwards', () => {
    const c = new SimClock(1000);
    expect(() => c.advanceTo(999)).toThrow(/cannot go back/);
  });

  it('a timer set in the past fires at the next advance, at the current time', () => {
    const c = new SimClock(1000);
    const at: number[] = [];
    c.setTimer(500, () => at.push(c.now()));
    c.advanceBy(0);
    expect(at).toEqual([1000]);
  });
});

describe('IST helpers', () => {
  it('minute of the IST day agrees with luxon on session times, midnight and dates before 1970', () => {
    for (const [date, time] of [['2024-02-15', '09:15'], ['2024-02-15', '15:30'], ['2024-02-15', '00:00'], ['2024-02-15', '23:59'], ['1969-12-31', '05:29']]) {
      expect(istMinuteOfDay(istToMillis(date!, time!) + 59_999)).toBe(hhmmToMinutes(time!));
      expect(minutesToHhmm(hhmmToMinutes(time!))).toBe(time);
    }
    expect(() => hhmmToMinutes('9:15')).toThrow(/HH:MM/);
  });

  it('convert between epoch ms and IST wall time', () => {
    const open = istToMillis('2024-01-02', '09:15');
    expect(new Date(open).toISOString()).toBe('2024-01-02T03:45:00.000Z');
    expect(formatIst(open)).toBe('2024-01-02T09:15:00.000+05:30');
  });

  it('istDate rolls over at IST midnight, not UTC midnight', () => {
    expect(istDate(Date.parse('2024-01-02T18:29:59.999Z'))).toBe('2024-01-02');
    expect(istDate(Date.parse('2024-01-02T18:30:00.000Z'))).toBe('2024-01-03');
  });

  it('names an invalid date', () => {
    expect(() => istToMillis('2024-02-30', '09:15')).toThrow(/2024-02-30/);
    expect(() => istToMillis('2023-02-29')).toThrow(/2023-02-29/);
    expect(() => istToMillis('2024-01-02', '24:00')).toThrow(/24:00/);
    expect(() => istToMillis('2024-01-02', '9:15')).toThrow(/9:15/);
  });

  it('istToMillis equals luxon in Asia/Kolkata for any wall time 1970–2100', () => {
    const wall = fc.record({ d: fc.date({ min: new Date('1970-01-02T00:00:00Z'), max: new Date('2100-12-31T00:00:00Z'), noInvalidDate: true }), h: fc.integer({ min: 0, max: 23 }), m: fc.integer({ min: 0, max: 59 }), s: fc.integer({ min: 0, max: 59 }) });
    fc.assert(fc.property(wall, ({ d, h, m, s }) => {
      const date = d.toISOString().slice(0, 10);
      const time = `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}:${String(s).padStart(2, '0')}`;
      expect(istToMillis(date, time)).toBe(DateTime.fromISO(`${date}T${time}`, { zone: 'Asia/Kolkata' }).toMillis());
    }), { numRuns: 2000 });
  });
});
