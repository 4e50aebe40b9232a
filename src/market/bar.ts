/**
 * A bar as the rest of Rustro sees it, and the session-anchored resampling of
 * finer bars into coarser ones (what the aggregator must agree with, and what
 * the broker's historical candles are).
 */
import type { Exchange } from '../broker/broker.js';
import type { SessionClock, Timeframe } from './timeframes.js';

/** Why a bar closed: a tick past its end, the clock after the grace period (silent feed, end of day), or an explicit finalise. */
export type ClosedBy = 'tick' | 'clock' | 'final' | 'backfill';

export type Bar = {
  token: string;
  exchange: Exchange;
  tf: Timeframe;
  /** Bar start, epoch ms (1d: 00:00 IST of the date). */
  ts: number;
  /** Bar end, exclusive, epoch ms. */
  end: number;
  open: number;
  high: number;
  low: number;
  close: number;
  /** Units traded in the bar; absent where there is none (indices). */
  volume?: number;
  /** Ticks that built it (0 for a bar made only from candles). */
  ticks: number;
  /** Some or all of the bar came from historical 1-minute candles (backfill after a gap). */
  backfilled: boolean;
};

/** OHLC(V) with a start time: a broker candle, or a bar reduced to its prices. */
export type Ohlcv = { ts: number; open: number; high: number; low: number; close: number; volume?: number };

/**
 * Resamples bars (ascending, any finer timeframe, e.g. 1m) into `tf` bars,
 * session-anchored: each input goes to the `tf` bucket its start falls in;
 * inputs outside every session are dropped. Volume sums where inputs have it.
 */
export function resample(bars: readonly Ohlcv[], tf: Timeframe, sessions: SessionClock): (Ohlcv & { end: number })[] {
  const out: (Ohlcv & { end: number })[] = [];
  let cur: (Ohlcv & { end: number }) | undefined;
  for (const b of bars) {
    const k = sessions.bucketOf(tf, b.ts);
    if (k === undefined) continue;
    if (cur === undefined || cur.ts !== k.start) {
      cur = { ts: k.start, end: k.end, open: b.open, high: b.high, low: b.low, close: b.close };
      if (b.volume !== undefined) cur.volume = b.volume;
      out.push(cur);
    } else {
      if (b.high > cur.high) cur.high = b.high;
      if (b.low < cur.low) cur.low = b.low;
      cur.close = b.close;
      if (b.volume !== undefined) cur.volume = (cur.volume ?? 0) + b.volume;
    }
  }
  return out;
}
