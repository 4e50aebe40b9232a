/**
 * supertrend-scalper on real bundled days: `avoid` whenever the 1m and 5m
 * trends disagree or ADX is weak, the validation modes' last entry times and
 * optional checks, the side and strike offset of a signal, and the position
 * cap and cooldown.
 */
import { describe, expect, it } from 'vitest';
import { formatIst } from '../../src/core/clock.js';
import { defaultConfig } from '../../src/core/config.js';
import { type ScalperSettings, SupertrendScalper } from '../../src/strategy/supertrend-scalper.js';
import { ofType, replayDay } from './replay.js';

const DEFAULTS = defaultConfig().strategy.supertrend_scalper;
/** The close time (bar end) of a 1-minute bar, HH:MM IST. */
const closeOf = (barTs: number): string => formatIst(barTs + 60_000).slice(11, 16);
const run = (day: string, over: Partial<ScalperSettings> = {}, rest: Partial<Parameters<typeof replayDay>[0]> = {}) =>
  replayDay({ day, strategy: new SupertrendScalper({ ...DEFAULTS, ...over }), underlyings: ['NIFTY'], vix: 15, ...rest });
/** 20 calm VIX closes, today's level near their top would rank high. */
const VIX_HISTORY = Array.from({ length: 20 }, (_, k) => 12 + (k % 5));

describe('supertrend-scalper on real days', () => {
  it('2024-02-15 NIFTY: every bar is evaluated, and `avoid` exactly when the trends disagree or ADX is weak', () => {
    const evals = ofType(run('2024-02-15'), 'StrategyEvaluated');
    expect(evals).toHaveLength(375);
    const trendNames = ['supertrend_1m', 'supertrend_5m', 'supertrends_agree', 'adx_1m', 'adx_5m'];
    let disagreements = 0;
    for (const e of evals) {
      if (e.outcome === 'not_warm') continue;
      const trendFailed = e.failed.some((f) => trendNames.includes(f));
      expect(e.outcome === 'avoid').toBe(trendFailed);
      const agree = e.checks.find((c) => c.name === 'supertrends_agree')!;
      const [d1, d5] = String(agree.value).split('/').map(Number);
      expect(agree.passed).toBe(d1 === d5 && d1 !== 0);
      if (!agree.passed) {
        disagreements++;
        expect(e.outcome).toBe('avoid');
        expect(e.side).toBeUndefined();
      }
    }
    expect(disagreements).toBeGreaterThan(10);
  });

  it('a signal buys CE one strike above ATM when both trends are up, PE below when down, with the trend in the reason', () => {
    const events = run('2024-02-21', { validation_mode: 'aggressive' });
    const evals = new Map(ofType(events, 'StrategyEvaluated').map((e) => [e.barTs, e]));
    const signals = ofType(events, 'SignalRaised');
    expect(new Set(signals.map((s) => s.side))).toEqual(new Set(['CE', 'PE']));
    for (const s of signals) {
      const e = evals.get(s.barTs)!;
      expect(e.outcome).toBe('signal');
      expect(e.failed).toEqual([]);
      const dir = e.checks.find((c) => c.name === 'supertrend_1m')!.value;
      expect(s.side).toBe(dir === 1 ? 'CE' : 'PE');
      expect(s.strikeOffset).toBe(1);
      expect(s.reason).toMatch(dir === 1 ? /Supertrend up/ : /Supertrend down/);
    }
  });

  it('validation modes: last entries at 14:00 / 14:30 / 15:00, with their optional checks', () => {
    const last = (mode: ScalperSettings['validation_mode']) => {
      const events = run('2024-02-21', { validation_mode: mode }, { vixDaily: VIX_HISTORY, vix: 13 });
      const signals = ofType(events, 'SignalRaised');
      const checks = ofType(events, 'StrategyEvaluated')[100]!.checks.map((c) => c.name);
      return { first: closeOf(signals[0]!.barTs), last: closeOf(signals.at(-1)!.barTs), checks };
    };
    const conservative = last('conservative');
    const balanced = last('balanced');
    const aggressive = last('aggressive');
    expect(conservative.last <= '14:00').toBe(true);
    // On this trending afternoon balanced and aggressive trade right up to their own cut-off.
    expect([balanced.last, aggressive.last]).toEqual(['14:30', '15:00']);
    expect(conservative.first >= '09:30').toBe(true);
    // After conservative's cut-off, bars whose trend qualifies fail only on the window.
    const after = ofType(run('2024-02-21', { validation_mode: 'conservative' }, { vixDaily: VIX_HISTORY, vix: 13 }), 'StrategyEvaluated')
      .filter((e) => closeOf(e.barTs) > '14:00' && e.outcome === 'no_trade');
    expect(after.length).toBeGreaterThan(0);
    expect(after.every((e) => e.failed.join() === 'entry_window')).toBe(true);
    expect(conservative.checks).toContain('iv_rank');
    expect(conservative.checks).toContain('theta_risk');
    expect(balanced.checks).not.toContain('iv_rank');
    expect(balanced.checks).toContain('theta_risk');
    expect(aggressive.checks).not.toContain('theta_risk');
  });

  it('conservative: the IV-rank proxy blocks entries when INDIA VIX sits at the top of its 20-day range, and without history', () => {
    const high = run('2024-02-21', { validation_mode: 'conservative' }, { vixDaily: VIX_HISTORY, vix: 16.5 });
    expect(ofType(high, 'SignalRaised')).toEqual([]);
    const rank = ofType(high, 'StrategyEvaluated')[100]!.checks.find((c) => c.name === 'iv_rank')!;
    expect(rank.value as number).toBeGreaterThan(80);
    const none = run('2024-02-21', { validation_mode: 'conservative' });
    expect(ofType(none, 'SignalRaised')).toEqual([]);
    expect(ofType(none, 'StrategyEvaluated')[100]!.checks.find((c) => c.name === 'iv_rank')!.value).toBeNull();
  });

  it('theta risk: on the expiry day no entries from 13:00 in balanced mode; aggressive ignores it', () => {
    const expiry = { ctx: { isExpiryDay: () => true } };
    const balanced = ofType(run('2024-02-15', {}, expiry), 'SignalRaised');
    expect(balanced.length).toBeGreaterThan(0);
    expect(balanced.every((s) => closeOf(s.barTs) < '13:00')).toBe(true);
    const late = ofType(run('2024-02-15', {}, expiry), 'StrategyEvaluated').filter((e) => closeOf(e.barTs) >= '13:00' && e.outcome !== 'avoid');
    expect(late.length).toBeGreaterThan(0);
    expect(late.every((e) => e.failed.includes('theta_risk'))).toBe(true);
    const aggressive = ofType(run('2024-02-15', { validation_mode: 'aggressive' }, expiry), 'SignalRaised');
    expect(aggressive.some((s) => closeOf(s.barTs) >= '13:00')).toBe(true);
  });

  it('pyramiding stops at 3 open positions, and a recent exit holds entries for the cooldown', () => {
    const full = run('2024-02-21', {}, { ctx: { openPositions: () => 3 } });
    expect(ofType(full, 'SignalRaised')).toEqual([]);
    expect(ofType(full, 'StrategyEvaluated').filter((e) => e.outcome === 'no_trade').every((e) => e.failed.includes('open_positions'))).toBe(true);
    const two = run('2024-02-21', {}, { ctx: { openPositions: () => 2 } });
    expect(ofType(two, 'SignalRaised').length).toBeGreaterThan(0);

    // An exit one minute before the first free signal: nothing for 300 s after it, then the same signals.
    const freeSignals = ofType(run('2024-02-21'), 'SignalRaised');
    const exitAt = freeSignals[0]!.barTs;
    const until = closeOf(exitAt + 240_000);
    const free = freeSignals.map((s) => closeOf(s.barTs));
    const cooled = ofType(run('2024-02-21', {}, { ctx: { lastExitAt: () => exitAt } }), 'SignalRaised').map((s) => closeOf(s.barTs));
    expect(free.filter((t) => t < until).length).toBeGreaterThan(0);
    expect(cooled.filter((t) => t < until)).toEqual([]);
    expect(cooled.filter((t) => t >= until)).toEqual(free.filter((t) => t >= until));
  });
});
