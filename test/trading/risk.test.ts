import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { istToMillis } from '../../src/core/clock.js';
import { defaultConfig } from '../../src/core/config.js';
import type { EventOf, Payload, RustroEvent } from '../../src/core/events.js';
import { parsePayload } from '../../src/core/events.js';
import { RiskBook, type RiskSettings } from '../../src/trading/risk.js';

/** The SPEC defaults, spelled out so the tests don't move when a default does. */
const S: RiskSettings = {
  ...defaultConfig().risk,
  daily_loss_limit_pct: 2,
  max_consecutive_losses: 3,
  max_concurrent_positions: 3,
  vix_halt_level: 30,
  vix_jump_pct: 15,
  cooldown_after_exit_sec: 300,
};
const CAPITAL = 500_000; // → daily loss limit ₹10,000

const DAY = '2026-01-05';
const at = (time: string, date = DAY) => istToMillis(date, time);
const T0 = at('10:00');

const book = (over: Partial<RiskSettings> = {}, capital = CAPITAL) => new RiskBook({ ...S, ...over }, capital);

const closed = (netPnl: number, ts = T0, underlying = 'NIFTY'): EventOf<'PositionClosed'> => ({
  type: 'PositionClosed',
  ts,
  data: {
    positionId: `P${ts}-${netPnl}`, strategy: 'adx-mtf', underlying, symbol: 'NIFTY06JAN2624000CE', qty: 75,
    entryAvg: 100, exitAvg: 100, grossPnl: netPnl + 50, charges: 50, netPnl, reason: netPnl < 0 ? 'stop_loss' : 'target',
  },
});

const halted = (h: Payload<'RiskHalted'>, ts = T0): EventOf<'RiskHalted'> => ({ type: 'RiskHalted', ts, data: h });
const kill = (ts = T0): EventOf<'KillSwitchActivated'> => ({ type: 'KillSwitchActivated', ts, data: { source: 'file', detail: 'KILL file' } });

function applyAll(b: RiskBook, es: RustroEvent[]): RiskBook {
  for (const e of es) b.apply(e);
  return b;
}

describe('daily loss limit', () => {
  it('is daily_loss_limit_pct of capital', () => {
    expect(book().lossLimit).toBe(10_000);
    expect(book({ daily_loss_limit_pct: 1.5 }, 200_000).lossLimit).toBe(3000);
  });

  it('unrealised alone: exactly at the limit halts everything, one rupee less does not', () => {
    const b = book();
    expect(b.checkLoss(-9999, T0)).toBeUndefined();
    const h = b.checkLoss(-10_000, T0)!;
    expect(h).toEqual({ reason: 'daily_loss_limit', scope: 'all', detail: { realised: 0, unrealised: -10_000, total: -10_000, limit: -10_000 } });
    expect(parsePayload('RiskHalted', h).ok).toBe(true);
  });

  it('realised net P&L today plus unrealised', () => {
    const b = applyAll(book(), [closed(-2500, at('10:00')), closed(-3500, at('11:00'))]);
    expect(b.realisedToday).toBe(-6000);
    expect(b.checkLoss(-3999, T0)).toBeUndefined();
    expect(b.checkLoss(-4000, T0)).toMatchObject({ reason: 'daily_loss_limit', detail: { realised: -6000, unrealised: -4000, total: -10_000 } });
    // A realised loss alone reaches it too.
    b.apply(closed(-4000, at('12:00')));
    expect(b.checkLoss(0, at('12:00'))).toMatchObject({ detail: { realised: -10_000, total: -10_000 } });
  });

  it('a profit today offsets an open loss', () => {
    const b = applyAll(book(), [closed(5000)]);
    expect(b.checkLoss(-14_999, T0)).toBeUndefined();
    expect(b.checkLoss(-15_000, T0)).toMatchObject({ detail: { total: -10_000 } });
  });

  it('counts the net P&L (after charges), not the gross', () => {
    const b = applyAll(book(), [closed(-9999.5)]); // gross −9949.5, net −9999.5
    expect(b.realisedToday).toBe(-9999.5);
    expect(b.checkLoss(-0.5, T0)).toBeDefined();
  });

  it('once the halt is applied: halted, entries blocked, and no second halt', () => {
    const b = book();
    const h = b.checkLoss(-12_000, T0)!;
    b.apply(halted(h));
    expect(b.halted(T0)).toBe(true);
    expect(b.killed(T0)).toBe(false);
    expect(b.entryBlock('NIFTY', 0, T0)).toEqual({ reason: 'halted', detail: expect.stringContaining('(all): daily_loss_limit') });
    expect(b.checkLoss(-20_000, T0)).toBeUndefined();
  });

  it('an entries-only halt (losing streak) does not stop the loss check: a breach still flattens', () => {
    const b = applyAll(book(), [closed(-1000), closed(-1000), closed(-1000)]);
    b.apply(halted(b.checkStreak(T0)!));
    expect(b.checkLoss(-6999, T0)).toBeUndefined(); // −3000 realised
    b.apply(halted(b.checkLoss(-7000, T0)!));
    expect(b.entryBlock('NIFTY', 0, T0)?.detail).toContain('(all)');
    // A later entries-only halt does not downgrade it.
    b.apply(halted({ reason: 'consecutive_losses', scope: 'entries', detail: {} }));
    expect(b.entryBlock('NIFTY', 0, T0)?.detail).toContain('(all): daily_loss_limit');
    expect(b.checkLoss(-50_000, T0)).toBeUndefined();
  });

  // BUG (risk.ts checkLoss, `total > -this.lossLimit` on a floating-point sum): two closed trades of
  // −₹2,461.91 and −₹5,825.78 with −₹1,712.31 open are exactly −₹10,000.00, but the sum is
  // −9999.999999999998, so the limit does not halt. Amounts are in paise; comparing in paise (or with a
  // half-paisa tolerance) would halt here as the rule says ("at or below").
  it('halts when paise-valued amounts sum to exactly the limit', () => {
    const b = applyAll(book(), [closed(-2461.91), closed(-5825.78)]);
    expect(b.checkLoss(-1712.31, T0)).toBeDefined();
  });
});

describe('consecutive losses', () => {
  it('max_consecutive_losses losing trades in a row halt entries (not everything); one fewer does not', () => {
    const b = applyAll(book(), [closed(-100), closed(-200)]);
    expect(b.checkStreak(T0)).toBeUndefined();
    b.apply(closed(-300));
    const h = b.checkStreak(T0)!;
    expect(h).toEqual({ reason: 'consecutive_losses', scope: 'entries', detail: { losses: 3, limit: 3, realised: -600 } });
    expect(parsePayload('RiskHalted', h).ok).toBe(true);
    b.apply(halted(h));
    expect(b.halted(T0)).toBe(true);
    expect(b.entryBlock('NIFTY', 0, T0)).toEqual({ reason: 'halted', detail: expect.stringContaining('(entries): consecutive_losses') });
    expect(b.checkStreak(T0)).toBeUndefined(); // halted once
  });

  it('a win resets the streak; so does a break-even trade (not a loss)', () => {
    const b = applyAll(book(), [closed(-100), closed(-100), closed(50), closed(-100), closed(-100)]);
    expect(b.checkStreak(T0)).toBeUndefined();
    b.apply(closed(0));
    b.apply(closed(-100));
    b.apply(closed(-100));
    expect(b.checkStreak(T0)).toBeUndefined();
    b.apply(closed(-1));
    expect(b.checkStreak(T0)).toMatchObject({ detail: { losses: 3 } });
  });

  it('honours the setting', () => {
    const b = applyAll(book({ max_consecutive_losses: 1 }), [closed(-1)]);
    expect(b.checkStreak(T0)).toMatchObject({ detail: { losses: 1, limit: 1 } });
  });

  it('property: halts exactly when the trailing run of losses reaches the limit', () => {
    fc.assert(fc.property(fc.array(fc.integer({ min: -500, max: 500 }), { maxLength: 30 }), fc.integer({ min: 1, max: 5 }), (nets, limit) => {
      const b = book({ max_consecutive_losses: limit, daily_loss_limit_pct: 100 });
      let run = 0;
      let expectHalt = false;
      for (const n of nets) {
        b.apply(closed(n));
        run = n < 0 ? run + 1 : 0;
        const h = b.checkStreak(T0);
        expect(h !== undefined).toBe(run >= limit);
        if (h !== undefined) {
          expectHalt = true;
          b.apply(halted(h));
          break;
        }
      }
      expect(b.halted(T0)).toBe(expectHalt);
    }));
  });
});

describe('max concurrent positions', () => {
  it('blocks at the limit, not below', () => {
    const b = book();
    expect(b.entryBlock('NIFTY', 2, T0)).toBeUndefined();
    expect(b.entryBlock('NIFTY', 3, T0)).toEqual({ reason: 'max_concurrent_positions', detail: '3 open, the limit is 3' });
    expect(b.entryBlock('NIFTY', 4, T0)?.reason).toBe('max_concurrent_positions');
    expect(book({ max_concurrent_positions: 1 }).entryBlock('NIFTY', 1, T0)?.reason).toBe('max_concurrent_positions');
  });
});

describe('INDIA VIX', () => {
  it('at or above vix_halt_level halts everything; just below does not', () => {
    const b = book();
    expect(b.checkVix(29.99, T0)).toBeUndefined();
    const h = b.checkVix(30, T0)!;
    expect(h).toEqual({ reason: 'vix_level', scope: 'all', detail: { vix: 30, limit: 30 } });
    expect(parsePayload('RiskHalted', h).ok).toBe(true);
  });

  it('a level at or above the limit on the first print halts too', () => {
    expect(book().checkVix(31, T0)?.reason).toBe('vix_level');
  });

  it('a jump of vix_jump_pct from the day\'s FIRST print halts; just below does not', () => {
    const b = book();
    expect(b.checkVix(20, at('09:15'))).toBeUndefined();
    expect(b.checkVix(18, at('09:20'))).toBeUndefined(); // a lower print is not the base
    expect(b.checkVix(22.99, at('09:30'))).toBeUndefined(); // +14.95% from 20 (+27.7% from 18)
    expect(b.checkVix(23, at('09:40'))).toEqual({ reason: 'vix_jump', scope: 'all', detail: { vix: 23, first: 20, jumpPct: 15, limit: 15 } });
  });

  it('the base is the first print of each IST day', () => {
    const b = book();
    b.checkVix(20, at('09:15'));
    expect(b.checkVix(25, at('09:15', '2026-01-06'))).toBeUndefined(); // +25% from yesterday's base, but today's first print
    expect(b.checkVix(28.7, at('10:00', '2026-01-06'))).toBeUndefined(); // +14.8%
    expect(b.checkVix(28.75, at('10:05', '2026-01-06'))).toMatchObject({ reason: 'vix_jump', detail: { first: 25 } });
  });

  it('no second halt once everything is halted', () => {
    const b = book();
    b.apply(halted(b.checkVix(35, T0)!));
    expect(b.halted(T0)).toBe(true);
    expect(b.checkVix(40, T0)).toBeUndefined();
  });

  // BUG (risk.ts checkVix, `jump >= vix_jump_pct` on ((vix − first) / first) × 100 in floating point): from a
  // first print of 13.00, 14.95 is exactly +15%, but the jump computes as 14.999999999999995: no halt.
  it('halts at exactly +vix_jump_pct (13.00 → 14.95)', () => {
    const b = book();
    b.checkVix(13, at('09:15'));
    expect(b.checkVix(14.95, at('09:30'))?.reason).toBe('vix_jump');
  });
});

describe('cooldown after exit', () => {
  it('blocks a new entry on the same underlying until cooldown_after_exit_sec after a close; not other underlyings', () => {
    const b = applyAll(book(), [closed(100, T0, 'NIFTY')]);
    expect(b.entryBlock('NIFTY', 0, T0)?.reason).toBe('cooldown');
    expect(b.entryBlock('NIFTY', 0, T0 + 299_999)).toEqual({ reason: 'cooldown', detail: '300 s since a NIFTY position closed, cooldown 300 s' });
    expect(b.entryBlock('NIFTY', 0, T0 + 300_000)).toBeUndefined();
    expect(b.entryBlock('BANKNIFTY', 0, T0 + 1)).toBeUndefined();
  });

  it('runs from the latest close', () => {
    const b = applyAll(book(), [closed(100, T0), closed(-100, T0 + 200_000)]);
    expect(b.entryBlock('NIFTY', 0, T0 + 300_000)?.reason).toBe('cooldown');
    expect(b.entryBlock('NIFTY', 0, T0 + 500_000)).toBeUndefined();
  });

  it('cooldown 0 is none', () => {
    const b = applyAll(book({ cooldown_after_exit_sec: 0 }), [closed(100)]);
    expect(b.entryBlock('NIFTY', 0, T0)).toBeUndefined();
  });
});

describe('kill switch', () => {
  it('stops entries for the day and reads as halted', () => {
    const b = book();
    expect(b.killed(T0)).toBe(false);
    b.apply(kill());
    expect(b.killed(T0)).toBe(true);
    expect(b.halted(T0)).toBe(true);
    expect(b.entryBlock('NIFTY', 0, T0)).toEqual({ reason: 'kill_switch', detail: 'the kill switch is on for today' });
  });

  it('outranks a halt in the reason given', () => {
    const b = applyAll(book(), [halted({ reason: 'vix_level', scope: 'all', detail: {} }), kill()]);
    expect(b.entryBlock('NIFTY', 0, T0)?.reason).toBe('kill_switch');
  });
});

describe('a new IST day', () => {
  it('clears halts, the kill switch, realised P&L and the streak at IST midnight (not before)', () => {
    const b = applyAll(book(), [closed(-3000, at('10:00')), closed(-3000, at('11:00')), closed(-3000, at('12:00'))]);
    b.apply(halted(b.checkStreak(at('12:00'))!, at('12:00')));
    b.apply(kill(at('13:00')));
    const lastMs = istToMillis('2026-01-06', '00:00') - 1;
    expect(b.halted(lastMs)).toBe(true);
    expect(b.killed(lastMs)).toBe(true);
    expect(b.realisedToday).toBe(-9000);
    const midnight = istToMillis('2026-01-06', '00:00');
    expect(b.halted(midnight)).toBe(false);
    expect(b.killed(midnight)).toBe(false);
    expect(b.realisedToday).toBe(0);
    const morning = at('09:20', '2026-01-06');
    expect(b.entryBlock('NIFTY', 0, morning)).toBeUndefined();
    expect(b.checkLoss(-9999, morning)).toBeUndefined(); // yesterday's −9000 is gone
    b.apply(closed(-100, morning));
    expect(b.checkStreak(morning)).toBeUndefined(); // a streak of 1, not 4
  });

  it('the day is IST, not UTC: 23:30 UTC is already the next IST day', () => {
    const b = applyAll(book(), [halted({ reason: 'vix_level', scope: 'all', detail: {} }, at('15:00'))]);
    const utc2330 = Date.UTC(2026, 0, 5, 23, 30); // 2026-01-06 05:00 IST
    expect(b.halted(utc2330)).toBe(false);
  });

  it('an event stamped on the new day clears yesterday before it is counted', () => {
    const b = applyAll(book(), [closed(-5000, at('14:00')), closed(-2000, at('09:30', '2026-01-06'))]);
    expect(b.realisedToday).toBe(-2000);
  });
});

describe('replay', () => {
  it('today\'s RiskHalted replayed into a fresh book halts it again; yesterday\'s does not', () => {
    const today = book();
    today.apply(halted({ reason: 'daily_loss_limit', scope: 'all', detail: { total: -10_000 } }, at('11:00')));
    expect(today.halted(at('11:30'))).toBe(true);
    expect(today.entryBlock('NIFTY', 0, at('11:30'))?.reason).toBe('halted');
    expect(today.checkLoss(-50_000, at('11:30'))).toBeUndefined();

    const yesterday = book();
    yesterday.apply(halted({ reason: 'daily_loss_limit', scope: 'all', detail: {} }, at('11:00', '2026-01-02')));
    expect(yesterday.halted(at('09:20'))).toBe(false);

    const killed = book();
    killed.apply(kill(at('09:16')));
    expect(killed.killed(at('14:00'))).toBe(true);
  });

  it('replaying the day\'s events rebuilds the same book: realised, streak, cooldown, halt', () => {
    const events: RustroEvent[] = [
      closed(-1500, at('10:00')),
      closed(700, at('10:30')),
      closed(-1200, at('11:00')),
      closed(-800, at('11:30')),
      closed(-400, at('12:00'), 'BANKNIFTY'),
    ];
    const live = applyAll(book(), events);
    const h = live.checkStreak(at('12:00'))!;
    expect(h).toBeDefined();
    const halt = halted(h, at('12:00'));
    live.apply(halt);
    const fresh = applyAll(book(), [...events, halt]);
    const now = at('12:02');
    expect(fresh.realisedToday).toBe(live.realisedToday);
    expect(fresh.realisedToday).toBe(-3200);
    expect(fresh.halted(now)).toBe(true);
    expect(fresh.entryBlock('BANKNIFTY', 0, now)).toEqual(live.entryBlock('BANKNIFTY', 0, now));
    expect(fresh.checkLoss(-6800, now)).toEqual(live.checkLoss(-6800, now));
    expect(fresh.checkLoss(-6800, now)).toMatchObject({ detail: { total: -10_000 } });
    // Without the halt, the replayed streak and cooldown are there too.
    const noHalt = applyAll(book(), events);
    expect(noHalt.checkStreak(now)).toEqual(h);
    expect(noHalt.entryBlock('BANKNIFTY', 0, now)?.reason).toBe('cooldown');
    expect(noHalt.entryBlock('NIFTY', 0, now)).toBeUndefined();
  });
});

describe('the VIX baseline across a restart', () => {
  it('a recorded first print is the jump baseline for a book rebuilt from the ledger', () => {
    const before = book();
    expect(before.checkVix(13, at('09:15'))).toBeUndefined();
    // A restart at 11:00: the rebuilt book knows the 09:15 print, so 14.95 is +15 % from it.
    const rebuilt = applyAll(book(), [{ type: 'VixBaselineRecorded', ts: at('09:15'), data: { level: 13 } }]);
    expect(rebuilt.vixBaseline(at('11:00'))).toBe(13);
    expect(rebuilt.checkVix(14.95, at('11:00'))).toMatchObject({ reason: 'vix_jump' });
    // Without it the first print after the restart would have become the baseline.
    expect(book().checkVix(14.95, at('11:00'))).toBeUndefined();
    // The next day starts without one.
    expect(rebuilt.vixBaseline(at('09:00', '2026-01-06'))).toBeUndefined();
  });
});
