/**
 * Replays bundled real days through a strategy, the way the daemon feeds it:
 * history (all bundled sessions before the day) resampled session-anchored
 * into the rings first, as the bootstrap leaves them; then the day's 1-minute
 * bars in order on a simulated clock, every timeframe closing on its boundary,
 * all bars of one instant stored before any is handed to the strategy (as the
 * market pipeline does), decision times run on the clock.
 */
import { SimClock, istToMillis } from '../../src/core/clock.js';
import type { EventType, Payload } from '../../src/core/events.js';
import { type Bar, resample } from '../../src/market/bar.js';
import { BarStore } from '../../src/market/bar-store.js';
import type { Timeframe } from '../../src/market/timeframes.js';
import { findRepoPath } from '../../src/core/repo-path.js';
import { loadMinuteBars } from '../../src/sim/market/bars.js';
import type { Strategy, StrategyContext, Underlying, UnderlyingName } from '../../src/strategy/strategy.js';
import { sessions } from '../market/helpers.js';

export const UNDERLYINGS: Readonly<Record<'NIFTY' | 'BANKNIFTY', Underlying>> = {
  NIFTY: { name: 'NIFTY', ref: { exchange: 'NSE', token: '99926000' } },
  BANKNIFTY: { name: 'BANKNIFTY', ref: { exchange: 'NSE', token: '99926009' } },
};
const FILES = { NIFTY: 'data/market/nifty50_1m_2024-01_2024-02.csv.gz', BANKNIFTY: 'data/market/banknifty_1m_2024-01_2024-02.csv.gz' } as const;
const VIX_REF = { exchange: 'NSE', token: '99926017' } as const;

export type Recorded = { type: EventType; ts: number; data: Payload<EventType> };
export type ReplayOptions = {
  day: string;
  strategy: Strategy;
  underlyings: readonly ('NIFTY' | 'BANKNIFTY')[];
  /** INDIA VIX level for the whole day (undefined: none seen). */
  vix?: number;
  /** INDIA VIX daily closes before the day, oldest first (for the IV-rank proxy). */
  vixDaily?: readonly number[];
  /** Overrides of the context's facts (positions, halts, expiry day …). */
  ctx?: Partial<Omit<StrategyContext, 'emit' | 'now' | 'bars'>>;
  /** Stop after this IST time (default the close). */
  until?: string;
};

export function bundledDays(): readonly string[] {
  return loadMinuteBars(findRepoPath(FILES.NIFTY)).days;
}

const TFS: readonly Timeframe[] = ['1m', '5m', '15m', '1h', '1d'];

export function replayDay(o: ReplayOptions): Recorded[] {
  const clock = new SimClock(istToMillis(o.day, '09:00'));
  const store = new BarStore({ capacity: 5000 });
  const events: Recorded[] = [];
  const trades = new Map<string, number>();
  const ctx: StrategyContext = {
    emit: (type, data) => {
      events.push({ type, ts: clock.now(), data });
      const d = data as Payload<'SignalRaised'>;
      if (type === 'SignalRaised' && d.action === 'entry') trades.set(d.underlying, (trades.get(d.underlying) ?? 0) + 1);
    },
    now: () => clock.now(),
    bars: (ref, tf) => store.ring(ref, tf),
    vix: () => o.vix,
    vixBars: (tf) => store.ring(VIX_REF, tf),
    feedFresh: () => true,
    halted: () => false,
    openPositions: () => 0,
    tradesToday: (u: UnderlyingName) => trades.get(u) ?? 0,
    lastExitAt: () => undefined,
    isExpiryDay: () => false,
    ...o.ctx,
  };
  const vixDaily = o.vixDaily ?? [];
  vixDaily.forEach((close, k) => {
    const ts = istToMillis(o.day) - (vixDaily.length - k) * 86_400_000;
    store.ring(VIX_REF, '1d').push({ ts, end: ts + 86_400_000, open: close, high: close, low: close, close, ticks: 0, backfilled: false });
  });
  const today: { u: Underlying; bars: Bar[] }[] = [];
  for (const name of o.underlyings) {
    const u = UNDERLYINGS[name];
    const series = loadMinuteBars(findRepoPath(FILES[name]));
    const before = series.days.filter((d) => d < o.day).flatMap((d) => series.byDay.get(d)!);
    for (const tf of TFS) store.merge(u.ref, tf, resample(before, tf, sessions).map((b) => ({ ...b, ticks: 0, backfilled: false })));
    const day = series.byDay.get(o.day);
    if (day === undefined) throw new Error(`no bundled session on ${o.day}`);
    const bars: Bar[] = [];
    for (const tf of TFS) {
      for (const b of resample(day, tf, sessions)) bars.push({ ...b, token: u.ref.token, exchange: u.ref.exchange, tf, ticks: 1, backfilled: false });
    }
    today.push({ u, bars });
  }
  const decisions = o.strategy.decisionTimes.map((t) => istToMillis(o.day, t)).sort((a, b) => a - b);
  const ends = [...new Set(today.flatMap((t) => t.bars.map((b) => b.end)))].sort((a, b) => a - b);
  const until = o.until === undefined ? Infinity : istToMillis(o.day, o.until);
  for (const end of ends) {
    if (end > until) break;
    while (decisions.length > 0 && decisions[0]! <= end) {
      clock.advanceTo(decisions.shift()!);
      for (const t of today) o.strategy.onTime(t.u, ctx);
    }
    clock.advanceTo(end);
    const closing = today.map((t) => ({ u: t.u, bars: t.bars.filter((b) => b.end === end) }));
    for (const c of closing) for (const b of c.bars) store.append(b);
    for (const c of closing) for (const b of c.bars) o.strategy.onBar(c.u, b, ctx);
  }
  return events;
}

export function ofType<T extends EventType>(events: readonly Recorded[], type: T): Payload<T>[] {
  return events.filter((e) => e.type === type).map((e) => e.data as Payload<T>);
}
