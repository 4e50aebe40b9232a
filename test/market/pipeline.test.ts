/** The pipeline on the bus, driven by the simulator's market on a SimClock: restart, reconnect, staleness, warmth. */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Candle, CandleRequest } from '../../src/broker/broker.js';
import { EventBus } from '../../src/core/bus.js';
import { SimClock, istToMillis } from '../../src/core/clock.js';
import type { EventOf, RustroEvent } from '../../src/core/events.js';
import { resample } from '../../src/market/bar.js';
import { BarStore } from '../../src/market/bar-store.js';
import { MarketPipeline } from '../../src/market/market-pipeline.js';
import { TIMEFRAMES } from '../../src/market/timeframes.js';
import { createMarket } from '../../src/sim/market/market.js';
import { NIFTY, calendar, sessions, tickOf } from './helpers.js';

const DAY = '2024-02-15';
const at = (t: string): number => istToMillis(DAY, t);
const REF = { exchange: 'NSE' as const, token: NIFTY };
const SETTINGS = { bar_buffer_size: 500, bar_close_grace_ms: 2000, feed_stale_sec: 15, timeframes: TIMEFRAMES };

type Rig = { clock: SimClock; bus: EventBus; events: RustroEvent[]; pipe: MarketPipeline; market: ReturnType<typeof createMarket> };

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'rustro-pipe-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function rig(startAt: string, market = createMarket({ day: DAY, seed: 7, ticksPerSecond: 0.5, strikesAround: 0 })): Rig {
  const clock = new SimClock(at(startAt));
  const bus = new EventBus(clock);
  const events: RustroEvent[] = [];
  bus.onAny((e) => {
    if (e.type !== 'Tick') events.push(e);
  });
  const pipe = new MarketPipeline({ bus, clock, calendar, settings: SETTINGS, dataDir: dir, watch: [REF] });
  if (market.time() < at(startAt) - 1) market.advanceTo(at(startAt) - 1, new Set(), () => {});
  return { clock, bus, events, pipe, market };
}

/** Streams the market's NIFTY ticks to `to`; `live: false` keeps the feed silent meanwhile. */
function drive(r: Rig, to: string, live = true): void {
  r.market.advanceTo(at(to), new Set([NIFTY]), (q) => {
    if (q.ts > r.clock.now()) r.clock.advanceTo(q.ts);
    if (live) r.bus.emit('Tick', tickOf(q));
  });
  r.clock.advanceTo(at(to));
}

/** The broker's candles, from the simulator's source bars (complete minutes only, as of market time). */
function brokerOf(r: Rig) {
  const requests: CandleRequest[] = [];
  return {
    requests,
    async candles(req: CandleRequest): Promise<Candle[]> {
      requests.push(req);
      expect(req.interval).toBe('1m');
      return r.market.minuteBars(req.token, req.from, req.to + 60_000).map((b) => ({ ts: b.ts, open: b.open, high: b.high, low: b.low, close: b.close, volume: 0 }));
    },
  };
}

const barsOf = (events: RustroEvent[]) => events.filter((e): e is EventOf<'BarClosed'> => e.type === 'BarClosed').map((e) => e.data);
const ohlc = (b: { ts: number; open: number; high: number; low: number; close: number }) => [b.ts, b.open, b.high, b.low, b.close];

describe('market pipeline', () => {
  it("each morning's master drops the rings of yesterday's options; the watched index keeps its bars", async () => {
    // Yesterday (the 14th): a NIFTY bar and an option bar on disk, restored into rings at start.
    const yesterday = new BarStore({ dir: join(dir, 'bars'), capacity: 500 });
    const y = istToMillis('2024-02-14', '15:00');
    const b = { ts: y, end: y + 60_000, open: 1, high: 1, low: 1, close: 1, volume: 0, ticks: 1, backfilled: false, tf: '1m' as const };
    yesterday.append({ ...b, ...REF });
    yesterday.append({ ...b, exchange: 'NFO', token: '43000' });
    yesterday.close();
    const r = rig('08:45');
    r.pipe.start();
    expect(r.pipe.bars({ exchange: 'NFO', token: '43000' }, '1m').length).toBe(1);
    r.bus.emit('InstrumentsLoaded', { count: 100, options: 90 });
    expect(r.pipe.bars({ exchange: 'NFO', token: '43000' }, '1m').length).toBe(0);
    expect(r.pipe.bars(REF, '1m').length).toBe(1);
    await r.pipe.stop();
  });

  it('ticks on the bus become BarClosed events, ring buffers and a day file', async () => {
    const r = rig('09:15');
    r.pipe.start();
    drive(r, '10:20');
    const bars = barsOf(r.events);
    expect(bars.filter((b) => b.tf === '1m')).toHaveLength(65);
    expect(bars.filter((b) => b.tf === '1h').map((b) => [b.ts, b.end, b.closedBy])).toEqual([[at('09:15'), at('10:15'), 'tick']]);
    expect(r.pipe.bars(REF, '5m').length).toBe(13);
    expect(r.pipe.partial(REF, '1h')).toMatchObject({ ts: at('10:15') });
    await r.pipe.stop();
    expect(readdirSync(join(dir, 'bars'))).toEqual([`${DAY}.jsonl`]);
  });

  it('a restart mid-session restores the ring buffers and backfills the minutes it missed; the bars come out as if it never stopped', async () => {
    const a = rig('09:15');
    a.pipe.start();
    drive(a, '10:02:30');
    const ringsA = TIMEFRAMES.map((tf) => a.pipe.bars(REF, tf).toArray());
    await a.pipe.stop(); // the daemon dies at 10:02:30; open bars are lost with it

    // Restart at 10:07:40 on the same data dir, same market.
    const b = rig('10:02:30', a.market);
    drive(b, '10:07:40', false);
    b.pipe.start();
    expect(b.events.find((e) => e.type === 'BarsRestored')?.data).toEqual({ files: 1, bars: ringsA.reduce((n, x) => n + x.length, 0), skippedLines: 0 });
    TIMEFRAMES.forEach((tf, i) => expect(b.pipe.bars(REF, tf).toArray(), tf).toEqual(ringsA[i]));
    const broker = brokerOf(b);
    const online = await b.pipe.online(broker);
    // The whole morning is fetched: the 1h and 1d bars open at the crash need it; closed bars are skipped.
    expect(online.backfill[0]).toMatchObject({ from: at('09:15'), to: at('10:07'), minutes: 52 });
    expect(b.events.find((e) => e.type === 'BarsBackfilled')?.data).toMatchObject({ reason: 'restart', minutes: 52 });
    expect(barsOf(b.events).filter((x) => x.tf === '1m').map((x) => x.ts)).toEqual([at('10:02'), at('10:03'), at('10:04'), at('10:05'), at('10:06')]);
    drive(b, '15:31');
    await b.pipe.stop();

    // Whole day: every timeframe equals the resampled source bars, except the minute the restart cut in two (10:07).
    const src = b.market.minuteBars(NIFTY, b.market.openMs, b.market.closeMs);
    for (const tf of TIMEFRAMES) {
      const want = resample(src, tf, sessions).map(ohlc);
      const got = [...ringsA[TIMEFRAMES.indexOf(tf)]!, ...barsOf(b.events).filter((x) => x.tf === tf)].map(ohlc);
      const cut = (x: unknown[]) => x.filter((row) => { const ts = (row as number[])[0]!; return tf === '1m' ? ts !== at('10:07') : !(ts <= at('10:07') && ts + 86_400_000 > at('10:07')); });
      if (tf === '1m') expect(cut(got), tf).toEqual(cut(want));
      else {
        // Bars not containing 10:07 match exactly; the one containing it has the same open and is partly backfilled.
        const keep = (rows: number[][]) => rows.filter((row) => !(row[0]! <= at('10:07') && at('10:07') < (resample([{ ts: row[0]!, open: 0, high: 0, low: 0, close: 0 }], tf, sessions)[0]!.end)));
        expect(keep(got as number[][]), tf).toEqual(keep(want as number[][]));
      }
    }
    const tenOhFive = barsOf(b.events).find((x) => x.tf === '5m' && x.ts === at('10:05'))!;
    expect(tenOhFive.backfilled).toBe(true);
    expect(barsOf(b.events).find((x) => x.tf === '1m' && x.ts === at('10:03'))).toMatchObject({ backfilled: true, ticks: 0, closedBy: 'backfill' });
  });

  it('after a feed reconnect the missing minutes are backfilled from 1-minute candles', async () => {
    const r = rig('09:15');
    r.pipe.start();
    const broker = brokerOf(r);
    await r.pipe.online(broker);
    expect(broker.requests).toEqual([]); // started before the open: nothing to backfill, no needs declared
    drive(r, '11:00:20');
    r.bus.emit('FeedDisconnected', { connection: 1, reason: 'test: socket closed' });
    drive(r, '11:04:30', false);
    r.bus.emit('FeedConnected', { connection: 2, subscriptions: 1 });
    drive(r, '11:04:31');
    await new Promise((res) => setImmediate(res));
    await new Promise((res) => setImmediate(res));
    expect(broker.requests.map((q) => [q.from, q.to])).toEqual([[at('11:01'), at('11:03')]]);
    expect(r.events.find((e) => e.type === 'BarsBackfilled')?.data).toEqual({ token: NIFTY, exchange: 'NSE', from: at('11:01'), to: at('11:04'), minutes: 3, reason: 'reconnect' });
    expect(r.events.filter((e) => e.type === 'FeedStale')).toHaveLength(1);
    drive(r, '11:10');
    const src = r.market.minuteBars(NIFTY, at('11:01'), at('11:04'));
    const filled = barsOf(r.events).filter((b) => b.tf === '1m' && b.backfilled);
    expect(filled.map(ohlc)).toEqual(src.map(ohlc));
    // The 5m bar 11:00–11:05 is partly backfilled and has the source's high and low.
    const five = barsOf(r.events).find((b) => b.tf === '5m' && b.ts === at('11:00'))!;
    const want = resample(r.market.minuteBars(NIFTY, at('11:00'), at('11:05')), '5m', sessions)[0]!;
    expect(five).toMatchObject({ backfilled: true, high: want.high, low: want.low, open: want.open });
    await r.pipe.stop();
  });

  it('FeedStale after feed_stale_sec without a tick during the session, FeedResumed on the next; nothing outside the session', async () => {
    const r = rig('08:00');
    r.pipe.start();
    r.clock.advanceTo(at('09:15:14'));
    expect(r.events.filter((e) => e.type === 'FeedStale')).toEqual([]);
    r.clock.advanceTo(at('09:15:15'));
    expect(r.events.filter((e) => e.type === 'FeedStale').map((e) => e.data)).toEqual([{ silentMs: 15_000 }]);
    drive(r, '09:20');
    expect(r.events.filter((e) => e.type === 'FeedResumed').map((e) => e.data)).toEqual([{ staleMs: 15_000 }]);
    drive(r, '09:30', false);
    const stale = r.events.filter((e) => e.type === 'FeedStale');
    expect(stale).toHaveLength(2);
    expect((stale[1]!.data as { silentMs: number }).silentMs).toBe(15_000);
    drive(r, '15:30');
    r.clock.advanceTo(at('23:00'));
    expect(r.events.filter((e) => e.type === 'FeedStale')).toHaveLength(2);
    await r.pipe.stop();
  });

  it('counts dropped ticks by rule in a periodic TicksDropped, and declares streams warm', async () => {
    const r = rig('09:00');
    r.pipe.need({ ref: REF, tf: '15m', bars: 3 });
    r.pipe.start();
    r.bus.emit('Tick', { token: NIFTY, exchange: 'NSE', mode: 'ltp', exchTs: at('09:05'), ltp: 1 });
    r.bus.emit('Tick', { token: NIFTY, exchange: 'NSE', mode: 'ltp', exchTs: at('09:06'), ltp: 1 });
    r.clock.advanceTo(at('09:01:00'));
    expect(r.events.filter((e) => e.type === 'TicksDropped').map((e) => e.data)).toEqual([{ late: 0, duplicate: 0, outsideSession: 2, sinceMs: at('09:00') }]);
    drive(r, '10:01');
    expect(r.events.filter((e) => e.type === 'TicksDropped')).toHaveLength(1); // nothing new to report
    expect(r.events.filter((e) => e.type === 'StreamWarm').map((e) => e.data)).toEqual([{ token: NIFTY, exchange: 'NSE', tf: '15m', bars: 3, need: 3 }]);
    expect(r.pipe.isWarm(REF, '15m')).toBe(true);
    await r.pipe.stop();
  });
});
