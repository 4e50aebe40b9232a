/**
 * Supertrend(period, multiplier) — not in TA-Lib; the common definition on
 * TA-Lib's ATR(period) (see atr.ts):
 *
 * - basic bands: hl2 ± multiplier·ATR, hl2 = (high + low) / 2;
 * - final upper = basic upper if it is below the previous final upper or the
 *   previous close was above the previous final upper, else the previous
 *   final upper; final lower symmetric (basic lower above the previous final
 *   lower, or previous close below it → basic lower, else carried);
 * - on the first bar with an ATR: final = basic, direction up (1) if
 *   close > hl2, else down (−1);
 * - then a downtrend flips up when close > final upper, an uptrend flips down
 *   when close < final lower;
 * - value = final lower in an uptrend (the trailing stop below price), final
 *   upper in a downtrend.
 *
 * NaN / direction 0 until the ATR is defined (bar `period`).
 */
import { Atr } from './atr.js';
import { checkHlc, checkPeriod } from './check.js';

export class Supertrend {
  readonly period: number;
  readonly multiplier: number;
  private readonly atr: Atr;
  private prevClose = NaN;
  private up = NaN;
  private lo = NaN;
  private dir: 1 | -1 | 0 = 0;

  constructor(period = 10, multiplier = 3) {
    this.atr = new Atr(checkPeriod('Supertrend', period));
    if (!(Number.isFinite(multiplier) && multiplier > 0)) throw new RangeError(`Supertrend: multiplier must be a finite number > 0, got ${multiplier}`);
    this.period = period;
    this.multiplier = multiplier;
  }

  /** The active final band: the lower one in an uptrend, the upper one in a downtrend. */
  get value(): number {
    return this.dir === 1 ? this.lo : this.up;
  }

  get direction(): 1 | -1 | 0 {
    return this.dir;
  }

  get upper(): number {
    return this.up;
  }

  get lower(): number {
    return this.lo;
  }

  get warm(): boolean {
    return this.dir !== 0;
  }

  update(high: number, low: number, close: number): void {
    checkHlc('Supertrend', high, low, close);
    const atr = this.atr.update(high, low, close);
    const prevClose = this.prevClose;
    this.prevClose = close;
    if (Number.isNaN(atr)) return;
    const hl2 = (high + low) / 2;
    const basicUp = hl2 + this.multiplier * atr;
    const basicLo = hl2 - this.multiplier * atr;
    if (this.dir === 0) {
      this.up = basicUp;
      this.lo = basicLo;
      this.dir = close > hl2 ? 1 : -1;
      return;
    }
    if (basicUp < this.up || prevClose > this.up) this.up = basicUp;
    if (basicLo > this.lo || prevClose < this.lo) this.lo = basicLo;
    if (this.dir === -1 && close > this.up) this.dir = 1;
    else if (this.dir === 1 && close < this.lo) this.dir = -1;
  }
}
