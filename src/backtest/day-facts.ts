/**
 * A backtest's trades and exposure, from the daemon's own events: what the
 * statistics and the report are built from. One collector runs for a whole
 * run of days; `endDay` hands over a day's figures and starts the next.
 */
import type { Payload, RustroEvent } from '../core/events.js';
import type { BacktestDay, BacktestTrade } from './stats.js';

export class DayFacts {
  private trades: BacktestTrade[] = [];
  private readonly lotSize = new Map<string, number>();
  /** Entry intents: which position is on which option (for its lot size), and which fill opens it. */
  private readonly entries = new Map<string, { positionId: string; token: string }>();
  private readonly tokenOf = new Map<string, string>();
  private readonly openedAt = new Map<string, number>();
  private open = 0;
  private exposedSince = 0;
  private exposureMs = 0;

  apply(e: RustroEvent): void {
    if (e.type === 'OptionPicked') this.lotSize.set(e.data.token, e.data.lotSize);
    if (e.type === 'OrderIntentRecorded' && e.data.purpose === 'entry') {
      this.entries.set(e.data.intentId, e.data);
      this.tokenOf.set(e.data.positionId, e.data.token);
    }
    if (e.type === 'OrderFilled') {
      const i = this.entries.get(e.data.intentId);
      if (i !== undefined && !this.openedAt.has(i.positionId)) {
        this.openedAt.set(i.positionId, e.ts);
        if (this.open++ === 0) this.exposedSince = e.ts;
      }
    }
    if (e.type === 'PositionClosed') {
      const c = e.data;
      const entryAt = this.openedAt.get(c.positionId) ?? e.ts;
      const token = this.tokenOf.get(c.positionId);
      const lot = (token === undefined ? undefined : this.lotSize.get(token)) ?? 0;
      this.trades.push(tradeOf(c, entryAt, e.ts, lot > 0 ? Math.round(c.qty / lot) : 0));
      if (this.openedAt.delete(c.positionId) && --this.open === 0) this.exposureMs += e.ts - this.exposedSince;
    }
  }

  /** A new session opens at `openMs`: a position held overnight is exposed from there. */
  beginDay(openMs: number): void {
    if (this.open > 0) this.exposedSince = openMs;
  }

  /** The day's figures (session `openMs`–`closeMs`) and trades closed since the last call; the next day starts from here. */
  endDay(date: string, openMs: number, closeMs: number): { day: BacktestDay; trades: BacktestTrade[] } {
    const exposureMs = this.exposureMs + (this.open > 0 ? closeMs - this.exposedSince : 0);
    const trades = this.trades;
    const sum = (f: (t: BacktestTrade) => number): number => trades.reduce((s, t) => s + f(t), 0);
    this.trades = [];
    this.exposureMs = 0;
    return {
      day: { date, trades: trades.length, grossPnl: sum((t) => t.grossPnl), charges: sum((t) => t.charges), netPnl: sum((t) => t.netPnl), exposureMs, sessionMs: closeMs - openMs },
      trades,
    };
  }
}

function tradeOf(c: Payload<'PositionClosed'>, entryAt: number, exitAt: number, lots: number): BacktestTrade {
  return {
    positionId: c.positionId, strategy: c.strategy, underlying: c.underlying, symbol: c.symbol, entryAt, exitAt,
    qty: c.qty, lots, entryAvg: c.entryAvg, exitAvg: c.exitAvg, grossPnl: c.grossPnl, charges: c.charges, netPnl: c.netPnl, reason: c.reason,
  };
}
