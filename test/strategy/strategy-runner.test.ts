/**
 * The strategy runner on a real bus: the facts it folds from events (trades
 * today, halts, feed freshness, INDIA VIX, a bias already decided), the
 * decision timer on trading days only, and an entry signal turned into an
 * option choice on an expiry day — before and after the cutoff.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { InstrumentIndex } from '../../src/broker/smartapi/instrument-index.js';
import { parseMaster } from '../../src/broker/smartapi/instruments.js';
import { EventBus } from '../../src/core/bus.js';
import { SimClock, istToMillis } from '../../src/core/clock.js';
import { defaultConfig } from '../../src/core/config.js';
import type { EventOf, EventType, RustroEvent } from '../../src/core/events.js';
import { BarStore } from '../../src/market/bar-store.js';
import { createMarket } from '../../src/sim/market/market.js';
import { buildMaster } from '../../src/sim/server/instrument-master.js';
import { StrategyRunner } from '../../src/strategy/strategy-runner.js';
import { calendar } from '../market/helpers.js';
import { UNDERLYINGS } from './replay.js';

let feb15: InstrumentIndex;
beforeAll(async () => {
  const { instruments } = await parseMaster([buildMaster(createMarket({ day: '2024-02-15', seed: 7 }).instruments())]);
  feb15 = new InstrumentIndex(instruments);
});

function setup(start: string, index?: () => InstrumentIndex | undefined) {
  const clock = new SimClock(Date.parse(start));
  const bus = new EventBus(clock);
  const store = new BarStore({ capacity: 100 });
  const events: RustroEvent[] = [];
  bus.onAny((e) => events.push(e), 'test');
  const runner = new StrategyRunner({
    bus, clock, calendar, config: defaultConfig(),
    bars: (ref, tf) => store.ring(ref, tf),
    underlyings: [UNDERLYINGS.NIFTY, UNDERLYINGS.BANKNIFTY],
    vix: { exchange: 'NSE', token: '99926017' },
    instruments: index ?? (() => feb15),
  });
  runner.start();
  const of = <T extends EventType>(type: T) => events.filter((e) => e.type === type) as unknown as EventOf<T>[];
  return { clock, bus, runner, events, of };
}

const signal = (underlying: 'NIFTY' | 'BANKNIFTY', side: 'CE' | 'PE', spot: number, barTs: number, strikeOffset = 0) => ({
  signalId: `adx-mtf:${underlying}:${barTs}:${side}:entry`, strategy: 'adx-mtf', underlying, action: 'entry' as const, side, tf: '1h' as const, barTs, spot, strikeOffset, reason: 'test',
});

describe('StrategyRunner', () => {
  it('on the NIFTY expiry day an entry before the 13:00 cutoff takes that day\'s expiry; after it, the next week\'s', async () => {
    const { clock, bus, runner, of } = setup('2024-02-15T11:15:00+05:30');
    bus.emit('SignalRaised', signal('NIFTY', 'CE', 21_912.4, istToMillis('2024-02-15', '10:15')));
    clock.advanceTo(istToMillis('2024-02-15', '13:15'));
    bus.emit('SignalRaised', signal('NIFTY', 'PE', 21_937.6, istToMillis('2024-02-15', '12:15'), 1));
    await runner.stop();
    const picks = of('OptionPicked').map((e) => e.data);
    expect(picks.map((p) => [p.expiry, p.strike, p.optionType, p.rolled])).toEqual([
      ['2024-02-15', 21_900, 'CE', false],
      ['2024-02-22', 21_900, 'PE', true], // ATM 21950, one strike below for a PE
    ]);
    expect(picks[0]!.symbol).toBe('NIFTY15FEB2421900CE');
    expect(picks[0]!.lotSize).toBe(50);
    expect(picks[0]!.checks.find((c) => c.name === 'expiry_day_cutoff')).toMatchObject({ passed: true, limit: 'before 13:00 IST' });
    expect(picks[1]!.checks.find((c) => c.name === 'expiry_day_cutoff')).toMatchObject({ passed: false, value: '2024-02-15T13:15:00.000+05:30' });
    expect(picks[0]!.checks.find((c) => c.name === 'quote@21900')!.limit).toMatch(/^skipped/);
  });

  it('without an instrument master the pick fails with a named reason', async () => {
    const { bus, runner, of } = setup('2024-02-15T11:15:00+05:30', () => undefined);
    bus.emit('SignalRaised', signal('NIFTY', 'CE', 21_900, istToMillis('2024-02-15', '10:15')));
    await runner.stop();
    expect(of('OptionPickFailed').map((e) => e.data.reason)).toEqual(['no_instruments']);
    expect(of('OptionPicked')).toEqual([]);
  });

  it('folds its facts from events: trades today per underlying and day, halts for the day, feed freshness, INDIA VIX', async () => {
    const { clock, bus, runner } = setup('2024-02-15T11:15:00+05:30');
    const ctx = runner.context;
    bus.emit('SignalRaised', signal('BANKNIFTY', 'CE', 45_900, istToMillis('2024-02-15', '10:15')));
    bus.emit('SignalRaised', signal('BANKNIFTY', 'CE', 45_950, istToMillis('2024-02-15', '11:15')));
    bus.emit('SignalRaised', { ...signal('NIFTY', 'CE', 21_900, istToMillis('2024-02-15', '10:15')), action: 'exit' });
    expect([ctx.tradesToday('BANKNIFTY'), ctx.tradesToday('NIFTY')]).toEqual([2, 0]);
    expect(ctx.feedFresh()).toBe(true);
    bus.emit('FeedStale', { silentMs: 20_000 });
    expect(ctx.feedFresh()).toBe(false);
    bus.emit('FeedResumed', { staleMs: 25_000 });
    expect(ctx.feedFresh()).toBe(true);
    expect(ctx.vix()).toBeUndefined();
    bus.emit('Tick', { token: '99926017', exchange: 'NSE', mode: 'ltp', exchTs: clock.now(), ltp: 16.4 });
    bus.emit('Tick', { token: '99926000', exchange: 'NSE', mode: 'ltp', exchTs: clock.now(), ltp: 21_000 });
    expect(ctx.vix()).toBe(16.4);
    expect(ctx.halted()).toBe(false);
    bus.emit('RiskHalted', { reason: 'daily_loss', scope: 'entries', detail: {} });
    expect(ctx.halted()).toBe(true);
    expect(ctx.isExpiryDay('NIFTY')).toBe(true);
    expect(ctx.isExpiryDay('BANKNIFTY')).toBe(false);
    // The next trading day starts clean.
    clock.advanceTo(istToMillis('2024-02-16', '09:30'));
    expect([ctx.halted(), ctx.tradesToday('BANKNIFTY')]).toEqual([false, 0]);
    await runner.stop();
  });

  it('rolls its day on the next day\'s first event: an earlier day\'s unpicked entry signal is forgotten, as a restart would not know it', () => {
    const clock = new SimClock(istToMillis('2024-02-14', '14:15'));
    const bus = new EventBus(clock);
    const runner = new StrategyRunner({
      bus, clock, calendar, config: defaultConfig(), bars: () => new BarStore({ capacity: 10 }).ring(UNDERLYINGS.NIFTY.ref, '1h'),
      underlyings: [UNDERLYINGS.NIFTY], vix: { exchange: 'NSE', token: '99926017' }, instruments: () => undefined,
    });
    // Folded only (not started): the daemon died while picking it.
    runner.apply({ type: 'SignalRaised', ts: clock.now(), data: signal('NIFTY', 'CE', 21_900, istToMillis('2024-02-14', '13:15')) });
    clock.advanceTo(istToMillis('2024-02-15', '09:15'));
    runner.apply({ type: 'FeedResumed', ts: clock.now(), data: { staleMs: 0 } });
    expect(runner.resumePicks(Number.MAX_SAFE_INTEGER)).toEqual([]);
    expect(runner.context.tradesToday('NIFTY')).toBe(0);
  });

  it('runs the daily decision at 09:30 on trading days only, and not again once decided (e.g. replayed from the ledger)', async () => {
    // Friday 2024-01-19 09:00 → Sat 20th was a special live session, then Mon 22nd a holiday, Tue 23rd normal.
    const { clock, bus, runner, of } = setup('2024-01-19T09:00:00+05:30');
    clock.advanceTo(istToMillis('2024-01-23', '08:00'));
    bus.emit('DailyBiasDecided', { strategy: 'adx-mtf', underlying: 'NIFTY', date: '2024-01-23', bias: 'PE', checks: [] });
    clock.advanceTo(istToMillis('2024-01-24', '09:00'));
    const decided = of('DailyBiasDecided').filter((e) => e.data.checks.length > 0).map((e) => `${e.data.date} ${e.data.underlying}`);
    expect(decided).toEqual(['2024-01-19 NIFTY', '2024-01-19 BANKNIFTY', '2024-01-20 NIFTY', '2024-01-20 BANKNIFTY', '2024-01-23 BANKNIFTY']);
    expect(of('DailyBiasDecided').filter((e) => e.data.checks.length > 0).every((e) => new Date(e.ts + 19_800_000).toISOString().slice(11, 16) === '09:30')).toBe(true);
    await runner.stop();
  });
});
