/**
 * adx-mtf on real bundled days (history before the day as the bootstrap
 * leaves it, the day's bars on a simulated clock): when it signals, at which
 * hourly close, and — when it does not — which filter the event names.
 */
import { describe, expect, it } from 'vitest';
import { formatIst, istToMillis } from '../../src/core/clock.js';
import { defaultConfig } from '../../src/core/config.js';
import { AdxMtf, type AdxMtfSettings } from '../../src/strategy/adx-mtf.js';
import { ofType, replayDay } from './replay.js';

const DEFAULTS = defaultConfig().strategy.adx_mtf;
const hhmm = (ms: number): string => formatIst(ms).slice(11, 16);
const run = (day: string, u: 'NIFTY' | 'BANKNIFTY', over: Partial<AdxMtfSettings> = {}, rest: Partial<Parameters<typeof replayDay>[0]> = {}) =>
  replayDay({ day, strategy: new AdxMtf({ ...DEFAULTS, ...over }), underlyings: [u], vix: 15, ...rest });

describe('adx-mtf on real days', () => {
  it('2024-02-21 BANKNIFTY: a CE bias at 09:30, then entries at the 11:15 and 12:15 hourly closes, and no third trade', () => {
    const events = run('2024-02-21', 'BANKNIFTY');
    const [bias] = events.filter((e) => e.type === 'DailyBiasDecided');
    expect(hhmm(bias!.ts)).toBe('09:30');
    const b = ofType(events, 'DailyBiasDecided')[0]!;
    expect(b.bias).toBe('CE');
    expect(b.checks.every((c) => c.passed)).toBe(true);

    const signals = ofType(events, 'SignalRaised');
    expect(signals.map((s) => [s.action, s.side, hhmm(s.barTs + 3_600_000)])).toEqual([['entry', 'CE', '11:15'], ['entry', 'CE', '12:15']]);
    expect(signals[0]!.signalId).toBe(`adx-mtf:BANKNIFTY:${istToMillis('2024-02-21', '10:15')}:CE:entry`);

    const evals = ofType(events, 'StrategyEvaluated');
    expect(evals.map((e) => hhmm(e.barTs))).toEqual(['09:15', '10:15', '11:15', '12:15', '13:15', '14:15', '15:15']);
    // 10:15 close: everything but RSI; the signal bars pass every filter, with their values recorded.
    expect(evals[0]!.outcome).toBe('no_trade');
    expect(evals[0]!.failed).toEqual(['hourly_rsi']);
    for (const e of evals.slice(1, 3)) {
      expect(e.outcome).toBe('signal');
      const adx = e.checks.find((c) => c.name === 'hourly_adx')!;
      expect(adx.value as number).toBeGreaterThanOrEqual(25);
      expect(e.checks.map((c) => c.name)).toEqual([
        'daily_bias', 'hourly_warm', 'hourly_adx', 'hourly_di', 'hourly_rsi', 'close_vs_ema', 'vix', 'entry_window',
        'trades_today', 'no_open_position', 'risk_not_halted', 'data_fresh',
      ]);
    }
    // Two trades made: the cap stops the third, and the 15:15 close is outside the window.
    expect(evals.slice(3).every((e) => e.failed.includes('trades_today'))).toBe(true);
    expect(evals[6]!.failed).toContain('entry_window');
  });

  it('2024-02-12 BANKNIFTY: a PE bias, but the hourly ADX never reaches 25, and every evaluation says so', () => {
    const events = run('2024-02-12', 'BANKNIFTY');
    expect(ofType(events, 'DailyBiasDecided')[0]!.bias).toBe('PE');
    expect(ofType(events, 'SignalRaised')).toEqual([]);
    const evals = ofType(events, 'StrategyEvaluated');
    expect(evals).toHaveLength(7);
    for (const e of evals) {
      expect(e.outcome).toBe('no_trade');
      expect(e.failed).toContain('hourly_adx');
      const adx = e.checks.find((c) => c.name === 'hourly_adx')!;
      expect(adx.value as number).toBeLessThan(25);
      expect(adx.passed).toBe(false);
    }
  });

  it('2024-02-15 NIFTY: the daily ADX is below 20, so no bias and no trade all day', () => {
    const events = run('2024-02-15', 'NIFTY');
    const bias = ofType(events, 'DailyBiasDecided')[0]!;
    expect(bias.bias).toBe('none');
    const adx = bias.checks.find((c) => c.name === 'daily_adx')!;
    expect(adx.passed).toBe(false);
    expect(adx.value as number).toBeLessThan(20);
    expect(ofType(events, 'StrategyEvaluated').every((e) => e.failed[0] === 'daily_bias')).toBe(true);
    expect(ofType(events, 'SignalRaised')).toEqual([]);
  });

  it('INDIA VIX outside 10–30 (or unknown) blocks the entries of an aligned day', () => {
    for (const vix of [35, undefined]) {
      const events = run('2024-02-21', 'BANKNIFTY', {}, { vix });
      expect(ofType(events, 'SignalRaised')).toEqual([]);
      const e = ofType(events, 'StrategyEvaluated')[1]!;
      expect(e.failed).toEqual(['vix']);
      expect(e.checks.find((c) => c.name === 'vix')!.value).toBe(vix ?? null);
    }
  });

  it('the entry window is the hourly close time: with entries from 11:30 the first trade is the 12:15 close', () => {
    const events = run('2024-02-21', 'BANKNIFTY', { entry_start: '11:30' });
    expect(ofType(events, 'SignalRaised').map((s) => hhmm(s.barTs + 3_600_000))).toEqual(['12:15', '14:15']);
    const evals = ofType(events, 'StrategyEvaluated');
    expect(evals[1]!.failed).toEqual(['entry_window']); // the 11:15 close
    expect(evals[3]!.failed).toEqual(['hourly_rsi']); // 13:15: RSI above 75, overbought
    expect(evals[3]!.checks.find((c) => c.name === 'hourly_rsi')!.value as number).toBeGreaterThan(75);
  });

  it('with a position open, an hourly close out of alignment raises an exit signal (technical exit)', () => {
    const events = run('2024-02-12', 'BANKNIFTY', {}, { ctx: { openPositions: () => 1 } });
    const exits = ofType(events, 'SignalRaised').filter((s) => s.action === 'exit');
    expect(exits).toHaveLength(7);
    expect(exits[0]!.side).toBe('PE');
    expect(exits[0]!.reason).toMatch(/hourly_adx/);
    // and no entry while the position is open
    expect(ofType(events, 'StrategyEvaluated').every((e) => e.failed.includes('no_open_position'))).toBe(true);
  });

  it('halted risk or a stale feed blocks entries and names itself', () => {
    const halted = run('2024-02-21', 'BANKNIFTY', {}, { ctx: { halted: () => true } });
    expect(ofType(halted, 'SignalRaised')).toEqual([]);
    expect(ofType(halted, 'StrategyEvaluated')[1]!.failed).toEqual(['risk_not_halted']);
    const stale = run('2024-02-21', 'BANKNIFTY', {}, { ctx: { feedFresh: () => false } });
    expect(ofType(stale, 'StrategyEvaluated')[1]!.failed).toEqual(['data_fresh']);
  });

  it('before 28 daily bars exist the bias is none and says the daily ADX is not defined yet', () => {
    const events = run('2024-01-10', 'NIFTY');
    const bias = ofType(events, 'DailyBiasDecided')[0]!;
    expect(bias.bias).toBe('none');
    expect(bias.checks[0]).toMatchObject({ name: 'daily_warm', passed: false });
  });
});
