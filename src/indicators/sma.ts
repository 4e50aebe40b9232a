/**
 * Simple moving average, as TA-Lib's SMA: the mean of the last n inputs, first
 * value at index n − 1. NaN while warming.
 *
 * A running sum over a ring of the last n values, computed in TA-Lib's order
 * ((sum of the older n − 1) + x) / n. To keep rounding from piling up over
 * long runs, the sum is rebuilt from the ring each time the ring wraps: O(n)
 * once every n bars, so still O(1) per bar amortised, and the error never
 * spans more than one lap. TA-Lib accepts n ≥ 2; n = 1 gives value = x.
 */
import { checkFinite, checkPeriod } from './check.js';

export class Sma {
  readonly period: number;
  private readonly ring: Float64Array;
  private head = 0; // next slot to write; once full, the oldest value
  private seen = 0;
  private partial = 0; // sum of the newest n − 1 values (fewer while warming)
  private v = NaN;

  constructor(period: number) {
    this.period = checkPeriod('Sma', period);
    this.ring = new Float64Array(period);
  }

  get value(): number {
    return this.v;
  }

  get warm(): boolean {
    return this.seen >= this.period;
  }

  update(x: number): number {
    checkFinite('Sma', 'x', x);
    const n = this.period;
    const total = this.partial + x;
    this.ring[this.head] = x;
    this.head = this.head + 1 === n ? 0 : this.head + 1;
    if (this.seen < n) this.seen++;
    if (this.seen < n) {
      this.partial = total;
      return NaN;
    }
    this.v = total / n;
    if (this.head === 0) {
      // Rebuild: every value but the oldest (ring[0]), which leaves the window next bar.
      let s = 0;
      for (let i = 1; i < n; i++) s += this.ring[i]!;
      this.partial = s;
    } else {
      this.partial = total - this.ring[this.head]!;
    }
    return this.v;
  }
}
