/** The aggregator's documented rules, one by one (src/market/aggregator.ts). */
import { describe, expect, it } from 'vitest';
import { SimClock, istToMillis } from '../../src/core/clock.js';
import { Aggregator } from '../../src/market/aggregator.js';
import type { Bar, ClosedBy } from '../../src/market/bar.js';
import type { Timeframe } from '../../src/market/timeframes.js';
import { NIFTY, sessions, tick } from './helpers.js';

const DAY = '2024-02-15';
const at = (hhmmss: string, day = DAY): number => istToMillis(day, hhmmss);
const REF = { exchange: 'NSE' as const, token: NIFTY };

function setup(o: { clock?: SimClock; timeframes?: Timeframe[]; graceMs?: number } = {}) {
  const closed: (Bar & { by: ClosedBy })[] = [];
  const agg = new Aggregator({
    sessions,
    ...(o.timeframes === undefined ? {} : { timeframes: o.timeframes }),
    ...(o.clock === undefined ? {} : { clock: o.clock }),
    graceMs: o.graceMs ?? 2000,
    onBarClosed: (b, by) => closed.push({ ...b, by }),
  });
  const of = (tf: Timeframe) => closed.filter((b) => b.tf === tf);
  return { agg, closed, of };
}

describe('aggregator rules', () => {
  it('bars open and close on exchange time; a bar with no ticks is not invented', () => {
    const { agg, of } = setup({ timeframes: ['1m', '5m'] });
    agg.onTick(tick(NIFTY, at('09:15:00'), 100));
    agg.onTick(tick(NIFTY, at('09:15:30'), 103));
    agg.onTick(tick(NIFTY, at('09:15:59.999'), 99));
    expect(of('1m')).toEqual([]);
    agg.onTick(tick(NIFTY, at('09:18:05'), 101)); // 09:16 and 09:17 had no tick
    expect(of('1m').map((b) => [b.ts, b.open, b.high, b.low, b.close, b.ticks, b.by])).toEqual([[at('09:15'), 100, 103, 99, 99, 3, 'tick']]);
    agg.onTick(tick(NIFTY, at('09:20:00'), 102));
    expect(of('1m').map((b) => b.ts)).toEqual([at('09:15'), at('09:18')]);
    expect(of('5m').map((b) => [b.ts, b.end, b.open, b.high, b.low, b.close, b.ticks])).toEqual([[at('09:15'), at('09:20'), 100, 103, 99, 101, 4]]);
  });

  it('partial bars are readable at any time, as copies', () => {
    const { agg } = setup();
    expect(agg.partial(REF, '5m')).toBeUndefined();
    agg.onTick(tick(NIFTY, at('09:21:00'), 100));
    agg.onTick(tick(NIFTY, at('09:22:00'), 104));
    const p = agg.partial(REF, '5m')!;
    expect(p).toMatchObject({ ts: at('09:20'), end: at('09:25'), open: 100, high: 104, low: 100, close: 104, ticks: 2, backfilled: false });
    p.close = 0;
    expect(agg.partial(REF, '5m')!.close).toBe(104);
    expect(agg.partial(REF, '1h')).toMatchObject({ ts: at('09:15'), end: at('10:15') });
    expect(agg.partial(REF, '1d')).toMatchObject({ ts: istToMillis(DAY), end: at('15:30') });
  });

  it('a tick older than the current minute is dropped and counted; the bars do not change', () => {
    const { agg, of } = setup({ timeframes: ['1m', '5m'] });
    agg.onTick(tick(NIFTY, at('09:16:10'), 100));
    agg.onTick(tick(NIFTY, at('09:17:01'), 101));
    agg.onTick(tick(NIFTY, at('09:16:50'), 150)); // minute 09:16 is behind us
    expect(agg.dropped.late).toBe(1);
    expect(of('1m')[0]).toMatchObject({ ts: at('09:16'), high: 100, close: 100 });
    expect(agg.partial(REF, '5m')).toMatchObject({ high: 101, ticks: 2 });
  });

  it('a tick out of order inside the current minute counts for high/low and volume, not for the close', () => {
    const { agg } = setup({ timeframes: ['1m'] });
    agg.onTick(tick(NIFTY, at('09:16:10'), 100));
    agg.onTick(tick(NIFTY, at('09:16:30'), 101));
    agg.onTick(tick(NIFTY, at('09:16:20'), 90));
    expect(agg.dropped.late).toBe(0);
    expect(agg.partial(REF, '1m')).toMatchObject({ open: 100, high: 101, low: 90, close: 101, ticks: 3 });
  });

  it('a duplicate of the latest tick (same time, price and cumulative volume) is dropped and counted', () => {
    const { agg } = setup({ timeframes: ['1m'] });
    agg.onTick(tick(NIFTY, at('09:16:10'), 100, 500));
    agg.onTick(tick(NIFTY, at('09:16:10'), 100, 500));
    agg.onTick(tick(NIFTY, at('09:16:10'), 100.05, 500)); // same second, new price: a trade
    agg.onTick(tick(NIFTY, at('09:16:10'), 100.05, 650)); // same second and price, more volume: a trade
    expect(agg.dropped.duplicate).toBe(1);
    expect(agg.partial(REF, '1m')).toMatchObject({ ticks: 3, high: 100.05, volume: 150 });
  });

  it('a tick outside the session (pre-open, the close, a weekend, a holiday) is dropped and counted', () => {
    const { agg } = setup();
    agg.onTick(tick(NIFTY, at('09:07:00'), 100)); // pre-open
    agg.onTick(tick(NIFTY, at('09:14:59.999'), 100));
    agg.onTick(tick(NIFTY, at('15:30:00'), 100)); // the close is exclusive
    agg.onTick(tick(NIFTY, at('11:00', '2024-02-17'), 100)); // Saturday
    agg.onTick(tick(NIFTY, at('11:00', '2024-01-26'), 100)); // Republic Day
    expect(agg.dropped.outsideSession).toBe(5);
    expect(agg.partial(REF, '1m')).toBeUndefined();
    agg.onTick(tick(NIFTY, at('11:00', '2024-01-20'), 100)); // the special Saturday session
    expect(agg.partial(REF, '1m')).toMatchObject({ ts: at('11:00', '2024-01-20') });
  });

  it('volume is the rise of the cumulative day volume; a start mid-session only sets the baseline; a fall is ignored', () => {
    const { agg, of } = setup({ timeframes: ['1m'] });
    const OPT = '45000';
    const t = (ts: number, ltp: number, v: number) => ({ token: OPT, exchange: 'NFO' as const, mode: 'quote' as const, exchTs: ts, ltp, volume: v });
    agg.onTick(t(at('10:00:05'), 50, 10_000)); // first seen mid-session: baseline
    agg.onTick(t(at('10:00:30'), 51, 10_150));
    agg.onTick(t(at('10:00:40'), 51, 10_100)); // a fall: ignored
    agg.onTick(t(at('10:01:10'), 52, 10_300));
    agg.finalize();
    expect(of('1m').map((b) => b.volume)).toEqual([150, 150]);
    // In the session's first minute, the whole cumulative volume is the first bar's.
    const s2 = setup({ timeframes: ['1m'] });
    s2.agg.onTick(t(at('09:15:02'), 50, 1_200));
    s2.agg.finalize();
    expect(s2.of('1m')[0]!.volume).toBe(1_200);
    // An index (volume 0 or absent) has bars without volume.
    const s3 = setup({ timeframes: ['1m'] });
    s3.agg.onTick(tick(NIFTY, at('09:15:02'), 100, 0));
    s3.agg.onTick(tick(NIFTY, at('09:15:03'), 101));
    s3.agg.finalize();
    expect(s3.of('1m')[0]!.volume).toBeUndefined();
  });

  it('a silent feed: the clock closes each bar grace ms after its end; a tick for a closed bar is then late', () => {
    const clock = new SimClock(at('09:15:00'));
    const { agg, of } = setup({ clock, timeframes: ['1m', '3m', '1d'], graceMs: 2000 });
    clock.advanceTo(at('09:15:10'));
    agg.onTick(tick(NIFTY, at('09:15:10'), 100));
    clock.advanceTo(at('09:16:01.999'));
    expect(of('1m')).toEqual([]);
    clock.advanceTo(at('09:16:02'));
    expect(of('1m').map((b) => [b.ts, b.by])).toEqual([[at('09:15'), 'clock']]);
    expect(agg.partial(REF, '3m')).toBeDefined(); // its end is 09:18
    agg.onTick(tick(NIFTY, at('09:15:59'), 120)); // delayed tick for the closed minute
    expect(agg.dropped.late).toBe(1);
    expect(agg.partial(REF, '3m')!.high).toBe(100);
    clock.advanceTo(at('09:18:02'));
    expect(of('3m').map((b) => [b.ts, b.end, b.by])).toEqual([[at('09:15'), at('09:18'), 'clock']]);
    // Nothing invented while silent.
    clock.advanceTo(at('12:00'));
    expect(of('1m')).toHaveLength(1);
    expect(of('3m')).toHaveLength(1);
  });

  it('a bar due by the clock waits while its ticks still arrive (feed clock), and closes once they stop', () => {
    const clock = new SimClock(at('09:15:00')); // market time, running ahead of delivery
    const feed = new SimClock(0); // the clock bytes arrive on
    const closed: Bar[] = [];
    const agg = new Aggregator({ sessions, timeframes: ['1m'], clock, feedClock: feed, graceMs: 2000, onBarClosed: (b) => closed.push(b) });
    agg.onTick(tick(NIFTY, at('09:15:10'), 100));
    clock.advanceTo(at('09:16:30')); // market time is far past 09:16:02, but the feed spoke 0 ms ago
    feed.advanceTo(500);
    agg.onTick(tick(NIFTY, at('09:15:40'), 101)); // still arriving, delayed
    clock.advanceTo(at('09:16:33'));
    expect(closed).toEqual([]);
    expect(agg.dropped.late).toBe(0);
    feed.advanceTo(2500); // silent for 2 s on the feed clock
    clock.advanceTo(at('09:16:36'));
    expect(closed.map((b) => [b.ts, b.close, b.ticks])).toEqual([[at('09:15'), 101, 2]]);
  });

  it('end of day with a feed that is not silent (a replay): the session\'s last bars still close at the close + grace, on their own day', () => {
    const clock = new SimClock(at('15:29:00')); // market time
    const feed = new SimClock(0); // the clock bytes arrive on: it does not move while a replay runs through the night
    const closed: (Bar & { by: string })[] = [];
    const agg = new Aggregator({ sessions, timeframes: ['1m', '1h', '1d'], clock, feedClock: feed, graceMs: 2000, onBarClosed: (b, by) => closed.push({ ...b, by }) });
    agg.onTick(tick(NIFTY, at('15:29:58'), 100));
    clock.advanceTo(at('15:30:01.999'));
    expect(closed).toEqual([]);
    clock.advanceTo(at('15:30:02'));
    expect(closed.map((b) => [b.tf, b.end, b.by])).toEqual([['1m', at('15:30'), 'clock'], ['1h', at('15:30'), 'clock'], ['1d', at('15:30'), 'clock']]);
  });

  it('an instrument whose feed was stopped (an option nothing holds) closes its bars at end + grace on market time, silence or not', () => {
    const clock = new SimClock(at('10:15:00')); // market time
    const feed = new SimClock(0); // real time in a replay: it barely moves while hours of market time pass
    const closed: (Bar & { by: string })[] = [];
    const agg = new Aggregator({ sessions, timeframes: ['1m', '5m'], clock, feedClock: feed, graceMs: 2000, onBarClosed: (b, by) => closed.push({ ...b, by }) });
    agg.onTick(tick(NIFTY, at('10:15:10'), 100));
    clock.advanceTo(at('10:16:30'));
    expect(closed).toEqual([]); // the feed has not been silent for the grace: the bar waits, as it should for a live feed
    agg.feedStopped([REF]);
    clock.advanceTo(at('10:16:32.5'));
    expect(closed.map((b) => [b.tf, b.end, b.by])).toEqual([['1m', at('10:16'), 'clock']]);
    clock.advanceTo(at('10:20:02'));
    expect(closed.map((b) => [b.tf, b.end])).toEqual([['1m', at('10:16')], ['5m', at('10:20')]]);
    // A straggler sent before the feed stopped is ignored: how many make it differs run to run.
    agg.onTick(tick(NIFTY, at('10:20:03'), 99));
    clock.advanceTo(at('10:21:30'));
    expect(closed).toHaveLength(2);
    // Started again: its ticks count, and the usual rule is back (the bar waits for the feed's silence).
    agg.feedStarted([REF]);
    feed.advanceTo(100);
    agg.onTick(tick(NIFTY, at('10:21:35'), 101));
    clock.advanceTo(at('10:22:30'));
    expect(closed).toHaveLength(2);
    feed.advanceTo(2200);
    clock.advanceTo(at('10:22:35')); // the next look, grace-spaced
    expect(closed.map((b) => [b.tf, b.ts, b.close])).toEqual([['1m', at('10:15'), 100], ['5m', at('10:15'), 100], ['1m', at('10:21'), 101]]);
  });

  it('started again after its minute ended, before the clock looked: the ended bar closes at the start, not on the next tick', () => {
    const clock = new SimClock(at('10:15:00'));
    const feed = new SimClock(0);
    const closed: (Bar & { by: string; at: number })[] = [];
    const agg = new Aggregator({ sessions, timeframes: ['1m'], clock, feedClock: feed, graceMs: 2000, onBarClosed: (b, by) => closed.push({ ...b, by, at: clock.now() }) });
    agg.onTick(tick(NIFTY, at('10:15:10'), 100));
    agg.feedStopped([REF]);
    clock.advanceTo(at('10:16:00.5')); // the minute has ended; its close is due at 10:16:02
    agg.feedStarted([REF]);
    expect(closed.map((b) => [b.ts, b.by, b.at])).toEqual([[at('10:15'), 'clock', at('10:16:00.5')]]);
    // The subscription's answer, whenever it comes, only opens the next bar.
    agg.onTick(tick(NIFTY, at('10:16:00'), 101));
    expect(closed).toHaveLength(1);
    expect(agg.partial(REF, '1m')).toMatchObject({ ts: at('10:16'), open: 101 });
  });

  it('a feed drop marks no gap for an instrument whose feed was stopped: a reconnect backfills only what streams', () => {
    const clock = new SimClock(at('10:00:00'));
    const agg = new Aggregator({ sessions, timeframes: ['1m'], clock, graceMs: 2000, onBarClosed: () => {} });
    const OTHER = { exchange: 'NFO' as const, token: '43001' };
    agg.onTick(tick(NIFTY, at('10:00:10'), 100));
    agg.onTick({ ...tick(NIFTY, at('10:00:10'), 50), ...OTHER });
    agg.feedStopped([OTHER]);
    clock.advanceTo(at('14:00:00'));
    agg.markGap();
    expect(agg.gapOf(REF, clock.now())).toEqual({ from: at('10:01'), to: at('14:00') });
    expect(agg.gapOf(OTHER, clock.now())).toBeUndefined();
  });

  it('end of day: the close + grace finalises every open bar, the daily bar included', () => {
    const clock = new SimClock(at('15:29:00'));
    const { agg, of, closed } = setup({ clock });
    agg.onTick(tick(NIFTY, at('15:29:58'), 100));
    clock.advanceTo(at('15:30:01.999'));
    expect(closed).toEqual([]);
    clock.advanceTo(at('15:30:02'));
    expect(closed.map((b) => b.tf)).toEqual(['1m', '3m', '5m', '15m', '1h', '1d']);
    expect(of('1h')[0]).toMatchObject({ ts: at('15:15'), end: at('15:30') });
    expect(of('1d')[0]).toMatchObject({ ts: istToMillis(DAY), end: at('15:30'), by: 'clock' });
    expect(clock.pending()).toBe(0); // no timer left behind
  });

  it('finalize() closes everything at once', () => {
    const { agg, closed } = setup();
    agg.onTick(tick(NIFTY, at('10:00:00'), 100));
    agg.finalize();
    expect(closed.map((b) => [b.tf, b.by])).toEqual([['1m', 'final'], ['3m', 'final'], ['5m', 'final'], ['15m', 'final'], ['1h', 'final'], ['1d', 'final']]);
    agg.finalize();
    expect(closed).toHaveLength(6);
  });

  it('special sessions: Muhurat 18:00–19:00 is one 1h bar, and the normal hours are closed that day', () => {
    const { agg, of } = setup({ timeframes: ['15m', '1h', '1d'] });
    agg.onTick(tick(NIFTY, at('10:00', '2024-11-01'), 100));
    expect(agg.dropped.outsideSession).toBe(1);
    agg.onTick(tick(NIFTY, at('18:00:01', '2024-11-01'), 100));
    agg.onTick(tick(NIFTY, at('18:59:59', '2024-11-01'), 105));
    agg.finalize();
    expect(of('1h').map((b) => [b.ts, b.end])).toEqual([[at('18:00', '2024-11-01'), at('19:00', '2024-11-01')]]);
    expect(of('15m').map((b) => b.ts)).toEqual([at('18:00', '2024-11-01'), at('18:45', '2024-11-01')]);
    expect(of('1d')[0]).toMatchObject({ ts: istToMillis('2024-11-01'), end: at('19:00', '2024-11-01'), open: 100, close: 105 });
  });

  it('a DR-drill day: two windows, each anchored at its own open; nothing between them', () => {
    const D = '2024-03-02';
    const { agg, of } = setup({ timeframes: ['1h', '1d'] });
    agg.onTick(tick(NIFTY, at('09:40', D), 100));
    agg.onTick(tick(NIFTY, at('10:30', D), 100)); // between the windows
    agg.onTick(tick(NIFTY, at('11:45', D), 101));
    agg.finalize();
    expect(agg.dropped.outsideSession).toBe(1);
    expect(of('1h').map((b) => [b.ts, b.end])).toEqual([[at('09:15', D), at('10:00', D)], [at('11:30', D), at('12:30', D)]]);
    expect(of('1d')).toHaveLength(1);
    expect(of('1d')[0]!.end).toBe(at('12:30', D));
  });
});

describe('backfill after a gap', () => {
  const candle = (hhmm: string, o: number, h: number, l: number, c: number) => ({ ts: at(hhmm), open: o, high: h, low: l, close: c, volume: 0 });

  it('emits the missing 1m bars, folds the candles into the open 5m bar and marks it; closed bars stay as they were', () => {
    const clock = new SimClock(at('09:30:00'));
    const { agg, of } = setup({ clock, timeframes: ['1m', '5m'] });
    clock.advanceTo(at('09:30:05'));
    agg.onTick(tick(NIFTY, at('09:30:05'), 100));
    clock.advanceTo(at('09:31:01'));
    agg.onTick(tick(NIFTY, at('09:31:01'), 101));
    agg.markGap(); // the feed drops at 09:31:30
    clock.advanceTo(at('09:33:10')); // the clock closes 09:31 (partial) meanwhile
    expect(of('1m').map((b) => [b.ts, b.by])).toEqual([[at('09:30'), 'tick'], [at('09:31'), 'clock']]);
    agg.onTick(tick(NIFTY, at('09:33:10'), 99)); // first tick after the reconnect
    const range = agg.gapOf(REF, clock.now())!;
    expect(range).toEqual({ from: at('09:32'), to: at('09:33') });
    const used = agg.backfill(REF, [candle('09:31', 101, 130, 101, 102), candle('09:32', 102, 140, 80, 98), candle('09:33', 99, 200, 1, 99)], range, clock.now());
    expect(used).toBe(1); // 09:31 had live ticks and is closed; 09:33 is live
    expect(of('1m').map((b) => [b.ts, b.high, b.low, b.ticks, b.backfilled, b.by])).toEqual([
      [at('09:30'), 100, 100, 1, false, 'tick'],
      [at('09:31'), 101, 101, 1, false, 'clock'],
      [at('09:32'), 140, 80, 0, true, 'backfill'],
    ]);
    expect(agg.partial(REF, '5m')).toMatchObject({ ts: at('09:30'), open: 100, high: 140, low: 80, close: 99, ticks: 3, backfilled: true });
    agg.onTick(tick(NIFTY, at('09:34:00'), 97));
    clock.advanceTo(at('09:35:02'));
    expect(of('5m')[0]).toMatchObject({ ts: at('09:30'), high: 140, low: 80, close: 97, backfilled: true, by: 'clock' });
    expect(agg.gapOf(REF, clock.now())).toBeUndefined(); // the gap is filled
  });

  it('a coarser bar wholly inside the gap is built from the candles', () => {
    const clock = new SimClock(at('09:20:00'));
    const { agg, of } = setup({ clock, timeframes: ['1m', '5m'] });
    agg.onTick(tick(NIFTY, at('09:24:50'), 100));
    agg.markGap();
    clock.advanceTo(at('09:31:30'));
    agg.onTick(tick(NIFTY, at('09:31:30'), 110));
    const range = agg.gapOf(REF, clock.now())!;
    const cs = ['09:25', '09:26', '09:27', '09:28', '09:29', '09:30'].map((m, i) => candle(m, 100 + i, 101 + i, 99 + i, 100.5 + i));
    expect(agg.backfill(REF, cs, range, clock.now())).toBe(6);
    expect(of('5m').map((b) => [b.ts, b.open, b.high, b.low, b.close, b.backfilled])).toEqual([
      [at('09:20'), 100, 100, 100, 100, false],
      [at('09:25'), 100, 105, 99, 104.5, true],
    ]);
    expect(agg.partial(REF, '5m')).toMatchObject({ ts: at('09:30'), open: 105, high: 110, low: 104, close: 110, backfilled: true });
    expect(of('1m').filter((b) => b.backfilled).map((b) => b.ts)).toEqual(cs.map((c) => c.ts));
  });
});
