/**
 * Relative strength index, as TA-Lib's RSI (unstable period 0, no rounding):
 * the first value, at index n, uses the plain means of the first n gains and
 * losses (close-to-close changes); after that Wilder's smoothing,
 * avg = (avg·(n − 1) + x) / n. RSI = 100·avgGain / (avgGain + avgLoss), and 0
 * when there is no movement (avgGain + avgLoss within TA-Lib's TA_IS_ZERO).
 * NaN while warming.
 *
 * TA-Lib refuses n = 1 (its code path for it copies the input through); here
 * n = 1 is the same definition: 100 on an up bar, 0 on a down or flat bar.
 */
import { checkFinite, checkPeriod, isZero } from './check.js';

export class Rsi {
  readonly period: number;
  private seen = 0; // closes seen
  private prev = NaN;
  private gain = 0;
  private loss = 0;
  private v = NaN;

  constructor(period: number) {
    this.period = checkPeriod('Rsi', period);
  }

  get value(): number {
    return this.v;
  }

  get warm(): boolean {
    return this.seen > this.period;
  }

  update(close: number): number {
    checkFinite('Rsi', 'close', close);
    const n = this.period;
    const d = close - this.prev;
    this.prev = close;
    const seen = ++this.seen;
    if (seen === 1) return NaN;
    if (seen > n + 1) {
      this.gain *= n - 1;
      this.loss *= n - 1;
    }
    if (d < 0) this.loss -= d;
    else this.gain += d;
    if (seen <= n) return NaN;
    this.gain /= n;
    this.loss /= n;
    const s = this.gain + this.loss;
    return (this.v = isZero(s) ? 0 : 100 * (this.gain / s));
  }
}
