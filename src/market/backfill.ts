/**
 * Gap backfill: after the feed reconnects (or the daemon restarts mid-session)
 * the minutes that had no tick are fetched as 1-minute candles and folded into
 * the bars (`Aggregator.backfill`: missing 1m bars are emitted, open coarser
 * bars take the candles in, and every bar built partly from candles says
 * `backfilled`).
 *
 * What is filled, per instrument: complete minutes from the first minute
 * without a tick to the minute of the first tick after the gap (or the
 * current minute). The minutes at either edge, which had some live ticks, are
 * left as the ticks built them. A bar already closed is never changed.
 */
import type { Broker, InstrumentRef } from '../broker/broker.js';
import type { Aggregator } from './aggregator.js';
import { chunkRange } from './bootstrap.js';

export type BackfillReason = 'reconnect' | 'restart';

export type BackfillResult = { ref: InstrumentRef; from: number; to: number; minutes: number; error?: string };

export type BackfillOptions = {
  broker: Pick<Broker, 'candles'>;
  aggregator: Aggregator;
  now: () => number;
  onFilled?: (r: BackfillResult, reason: BackfillReason) => void;
  cancelled?: () => boolean;
};

export class Backfiller {
  constructor(private readonly o: BackfillOptions) {}

  /**
   * Fills the open gap of each instrument (or, with `since`, everything from
   * `since`). One instrument at a time: a gap is a few minutes, one request.
   * Never rejects; failures are in the results.
   */
  async fill(refs: readonly InstrumentRef[], reason: BackfillReason, since?: number): Promise<BackfillResult[]> {
    const out: BackfillResult[] = [];
    for (const ref of refs) {
      if (this.o.cancelled?.() === true) break;
      const range = this.o.aggregator.gapOf(ref, this.o.now(), since);
      if (range === undefined) continue;
      const r: BackfillResult = { ref, from: range.from, to: range.to, minutes: 0 };
      try {
        const candles = [];
        for (const req of chunkRange(ref, '1m', range.from, range.to - 60_000)) candles.push(...(await this.o.broker.candles(req)));
        if (this.o.cancelled?.() === true) break;
        r.minutes = this.o.aggregator.backfill(ref, candles, range, this.o.now());
      } catch (err) {
        r.error = err instanceof Error ? err.message : String(err);
      }
      out.push(r);
      this.o.onFilled?.(r, reason);
    }
    return out;
  }
}
