/**
 * Time for everything in Rustro comes from a Clock (ARCHITECTURE rule 3), so a
 * backtest or a replay decides exactly as live did. `RealClock` reads the wall
 * clock; `SimClock` is moved by hand or by data and fires its timers in time
 * order, ties broken by the order they were set — deterministic by design.
 *
 * This file is the only place in src/ allowed to read the wall clock.
 */
import { DateTime } from 'luxon';

export const IST_ZONE = 'Asia/Kolkata';

export type TimerHandle = { readonly id: number };

export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
  /** Runs `fn` once at or after `atMs` (clock time). */
  setTimer(atMs: number, fn: () => void): TimerHandle;
  /** Runs `fn` every `everyMs` starting one period from now. */
  setInterval(everyMs: number, fn: () => void): TimerHandle;
  cancel(handle: TimerHandle): void;
}

export class RealClock implements Clock {
  private nextId = 1;
  private readonly live = new Map<number, NodeJS.Timeout>();

  now(): number {
    return Date.now();
  }

  setTimer(atMs: number, fn: () => void): TimerHandle {
    const id = this.nextId++;
    const t = setTimeout(() => {
      this.live.delete(id);
      fn();
    }, Math.max(0, atMs - Date.now()));
    this.live.set(id, t);
    return { id };
  }

  setInterval(everyMs: number, fn: () => void): TimerHandle {
    if (!(everyMs > 0)) throw new RangeError(`setInterval: period must be > 0 ms, got ${everyMs}`);
    const id = this.nextId++;
    this.live.set(id, setInterval(fn, everyMs));
    return { id };
  }

  cancel(handle: TimerHandle): void {
    const t = this.live.get(handle.id);
    if (t !== undefined) {
      clearTimeout(t);
      clearInterval(t);
      this.live.delete(handle.id);
    }
  }
}

type SimTimer = { id: number; at: number; every: number; fn: () => void };

export class SimClock implements Clock {
  private t: number;
  private nextId = 1;
  // Kept sorted by (at, id); timers are few, so insertion sort beats a heap in clarity.
  private timers: SimTimer[] = [];

  constructor(startMs: number) {
    if (!Number.isFinite(startMs)) throw new RangeError(`SimClock: start time must be a finite epoch ms, got ${startMs}`);
    this.t = startMs;
  }

  now(): number {
    return this.t;
  }

  setTimer(atMs: number, fn: () => void): TimerHandle {
    return this.insert({ id: this.nextId++, at: Math.max(atMs, this.t), every: 0, fn });
  }

  setInterval(everyMs: number, fn: () => void): TimerHandle {
    if (!(everyMs > 0)) throw new RangeError(`setInterval: period must be > 0 ms, got ${everyMs}`);
    return this.insert({ id: this.nextId++, at: this.t + everyMs, every: everyMs, fn });
  }

  cancel(handle: TimerHandle): void {
    // In place: timers are re-armed on every few ticks (staleness, bar closes), and a new array each time was garbage.
    const i = this.timers.findIndex((x) => x.id === handle.id);
    if (i >= 0) this.timers.splice(i, 1);
  }

  /** Number of timers still pending. */
  pending(): number {
    return this.timers.length;
  }

  /** When the next timer fires, or undefined if none is set. */
  nextTimerAt(): number | undefined {
    return this.timers[0]?.at;
  }

  /**
   * Moves time forward to `targetMs`, firing every timer due on the way in
   * time order; during a callback `now()` reads the timer's own time. Time
   * never goes backwards: an earlier target is an error, not a no-op, because
   * it means the data feeding the clock is out of order.
   */
  advanceTo(targetMs: number): void {
    if (targetMs < this.t) {
      throw new RangeError(`SimClock: cannot go back from ${new Date(this.t).toISOString()} to ${new Date(targetMs).toISOString()}`);
    }
    for (;;) {
      const next = this.timers[0];
      if (next === undefined || next.at > targetMs) break;
      this.timers.shift();
      this.t = next.at;
      if (next.every > 0) {
        next.at += next.every;
        this.insert(next);
      }
      next.fn();
    }
    this.t = targetMs;
  }

  advanceBy(ms: number): void {
    this.advanceTo(this.t + ms);
  }

  private insert(timer: SimTimer): TimerHandle {
    let i = this.timers.length;
    while (i > 0 && this.timers[i - 1]!.at > timer.at) i--;
    this.timers.splice(i, 0, timer);
    return { id: timer.id };
  }
}

/** The wall time in IST for an epoch ms. */
export function toIst(ms: number): DateTime {
  return DateTime.fromMillis(ms, { zone: IST_ZONE });
}

/** IST's fixed offset from UTC (India has no DST), for hot paths where luxon is too slow; exact. */
const IST_OFFSET_MS = 19_800_000;

/** The IST calendar date (YYYY-MM-DD) an epoch ms falls on. */
export function istDate(ms: number): string {
  return new Date(ms + IST_OFFSET_MS).toISOString().slice(0, 10);
}

/** Epoch ms of the IST midnight that ends the day `ms` falls on (fixed offset: cheap enough for every event). */
export function istDayEnd(ms: number): number {
  return Math.floor((ms + IST_OFFSET_MS) / 86_400_000) * 86_400_000 - IST_OFFSET_MS + 86_400_000;
}

/** Whole calendar days from date `from` to date `to` (YYYY-MM-DD; negative when `to` is earlier). */
export function daysBetween(from: string, to: string): number {
  return Math.round((Date.parse(to) - Date.parse(from)) / 86_400_000);
}

/** Minutes since IST midnight of an epoch ms (09:15 → 555). */
export function istMinuteOfDay(ms: number): number {
  return Math.floor((((ms + IST_OFFSET_MS) % 86_400_000) + 86_400_000) % 86_400_000 / 60_000);
}

/** "HH:MM" of minutes since midnight (555 → "09:15"). */
export function minutesToHhmm(minutes: number): string {
  return `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;
}

/** Minutes since midnight of an "HH:MM" wall time (checked by the config schema). */
export function hhmmToMinutes(hhmm: string): number {
  const m = /^(\d{2}):(\d{2})$/.exec(hhmm);
  if (m === null) throw new RangeError(`not a time HH:MM: '${hhmm}'`);
  return Number(m[1]) * 60 + Number(m[2]);
}

/**
 * Epoch ms of an IST wall time, e.g. istToMillis('2024-01-02', '09:15') (time
 * HH:MM, HH:MM:SS or HH:MM:SS.sss). IST is a fixed +05:30 (no DST since 1945),
 * so the ISO string with that offset is exact; reading the date back catches
 * what Date.parse rolls over (2024-02-30 → 1 March, 24:00 → the next day).
 * luxon took ~20 µs a call, and the calendar, the bootstrap and every timer
 * set for a wall time call it.
 */
export function istToMillis(date: string, time = '00:00'): number {
  const ms = Date.parse(`${date}T${time}+05:30`);
  if (!Number.isFinite(ms) || istDate(ms) !== date) throw new RangeError(`not a valid IST date/time: ${date} ${time}`);
  return ms;
}

/** ISO-8601 with the +05:30 offset, for humans and logs. */
export function formatIst(ms: number): string {
  return toIst(ms).toISO({ suppressMilliseconds: false }) ?? String(ms);
}
