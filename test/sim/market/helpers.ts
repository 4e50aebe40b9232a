import { createHash } from 'node:crypto';
import type { SimBar, SimQuote } from '../../../src/sim/market/types.js';

/** Rebuilds 1-minute candles (first / max / min / last per minute) from a tick stream. */
export function candlesFrom(ticks: readonly { ts: number; ltp: number }[]): SimBar[] {
  const out: SimBar[] = [];
  let cur: SimBar | undefined;
  for (const t of ticks) {
    const start = t.ts - (t.ts % 60_000);
    if (cur === undefined || cur.ts !== start) {
      cur = { ts: start, open: t.ltp, high: t.ltp, low: t.ltp, close: t.ltp, volume: 0 };
      out.push(cur);
    } else {
      if (t.ltp > cur.high) cur.high = t.ltp;
      if (t.ltp < cur.low) cur.low = t.ltp;
      cur.close = t.ltp;
    }
  }
  return out;
}

/** A running hash of a quote stream (every field that a client sees). */
export class StreamHash {
  private readonly h = createHash('sha256');
  private readonly all = new Float64Array(40 * 1024);
  private used = 0;
  count = 0;
  add(q: SimQuote): void {
    this.count++;
    if (this.used === 1024) this.flush();
    const b = this.all.subarray(40 * this.used, 40 * ++this.used);
    b[0] = Number(q.token); b[1] = q.ts; b[2] = q.ltp; b[3] = q.lastQty; b[4] = q.volume; b[5] = q.avgPrice;
    b[6] = q.open; b[7] = q.high; b[8] = q.low; b[9] = q.prevClose; b[10] = q.oi; b[11] = q.totBuyQty; b[12] = q.totSellQty;
    b[13] = q.upperCircuit; b[14] = q.lowerCircuit; b[15] = q.high52; b[16] = q.low52; b[17] = q.lastTradeTs;
    for (let i = 0; i < 5; i++) {
      b[18 + 4 * i] = q.bids[i]!.price; b[19 + 4 * i] = q.bids[i]!.qty;
      b[20 + 4 * i] = q.asks[i]!.price; b[21 + 4 * i] = q.asks[i]!.qty + q.asks[i]!.orders * 1e9 + q.bids[i]!.orders * 1e12;
    }
  }
  private flush(): void {
    this.h.update(this.all.subarray(0, 40 * this.used));
    this.used = 0;
  }
  digest(): string {
    this.flush();
    return this.h.digest('hex');
  }
}

/** Bundled sessions, as createMarket would report them (NIFTY 1-minute file). */
export const FIRST_DAY = '2024-01-01';
export const LAST_DAY = '2024-02-29';
