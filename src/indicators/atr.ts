/**
 * Average true range, as TA-Lib's ATR (unstable period 0): the true range is
 * max(high − low, |high − prev close|, |low − prev close|), undefined on the
 * first bar; the first ATR, at index n, is the mean of the n true ranges of
 * bars 1..n; then Wilder's smoothing atr = (atr·(n − 1) + tr) / n.
 * NaN while warming. n = 1 is the true range itself (TA-Lib's TRANGE).
 */
import { checkHlc, checkPeriod, trueRange } from './check.js';

export class Atr {
  readonly period: number;
  private seen = 0; // bars seen
  private prevClose = NaN;
  private sum = 0;
  private v = NaN;

  constructor(period: number) {
    this.period = checkPeriod('Atr', period);
  }

  get value(): number {
    return this.v;
  }

  get warm(): boolean {
    return this.seen > this.period;
  }

  update(high: number, low: number, close: number): number {
    checkHlc('Atr', high, low, close);
    const n = this.period;
    const tr = trueRange(high, low, this.prevClose);
    this.prevClose = close;
    const seen = ++this.seen;
    if (seen === 1) return NaN;
    if (seen > n + 1) return (this.v = (this.v * (n - 1) + tr) / n);
    this.sum += tr;
    if (seen === n + 1) this.v = this.sum / n;
    return this.v;
  }
}
