/**
 * Exponential moving average, as TA-Lib's EMA (default compatibility):
 * k = 2 / (n + 1); the first value, at index n − 1, is the plain mean of the
 * first n inputs; then ema = (x − ema)·k + ema (that operation order, so the
 * result matches TA-Lib bit for bit in practice). NaN while warming.
 * TA-Lib accepts n ≥ 2; n = 1 here is the same formula (k = 1, value = x).
 */
import { checkFinite, checkPeriod } from './check.js';

export class Ema {
  readonly period: number;
  private readonly k: number;
  private seen = 0;
  private sum = 0;
  private v = NaN;

  constructor(period: number) {
    this.period = checkPeriod('Ema', period);
    this.k = 2 / (period + 1);
  }

  get value(): number {
    return this.v;
  }

  get warm(): boolean {
    return this.seen >= this.period;
  }

  update(x: number): number {
    checkFinite('Ema', 'x', x);
    if (this.seen >= this.period) return (this.v = (x - this.v) * this.k + this.v);
    this.sum += x;
    if (++this.seen === this.period) this.v = this.sum / this.period;
    return this.v;
  }
}
