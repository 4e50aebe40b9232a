/**
 * Average directional index with +DI and −DI, exactly as TA-Lib's ta_ADX.c,
 * ta_PLUS_DI.c and ta_MINUS_DI.c (unstable period 0, no rounding):
 *
 * - One-bar directional movement from bar 1 on: up = high − prev high,
 *   down = prev low − low; −DM = down if down > 0 and up < down, else
 *   +DM = up if up > 0 and up > down; otherwise (incl. a tie up == down) both 0.
 * - Smoothed +DM, −DM and TR: the plain sums over bars 1..n−1, then from bar n
 *   on s = s − s/n + today's value (Wilder's smoothing as TA-Lib does it).
 * - ±DI = 100·(±DM_n / TR_n) from bar n; both 0 when TR_n is TA_IS_ZERO.
 * - DX = 100·|+DI − −DI| / (+DI + −DI); a bar whose TR_n or DI sum is
 *   TA_IS_ZERO has no DX.
 * - First ADX on bar 2n−1: the sum of the DX of bars n..2n−1 divided by n
 *   (a bar without DX adds nothing); then adx = (adx·(n−1) + DX) / n, and a
 *   bar without DX leaves ADX unchanged — so ADX stays defined through flat
 *   stretches.
 *
 * TA-Lib's ADX needs n ≥ 2; n = 1 here follows the same formulas. TA-Lib's
 * PLUS_DI/MINUS_DI with n = 1 return the DM/TR ratio without the ×100 (a
 * special case in its code); here ±DI are percentages for every n, as ADX(1)
 * itself uses them.
 */
import { checkHlc, checkPeriod, isZero, trueRange } from './check.js';

export class Adx {
  readonly period: number;
  private seen = 0; // bars seen
  private prevHigh = NaN;
  private prevLow = NaN;
  private prevClose = NaN;
  private pdm = 0;
  private mdm = 0;
  private tr = 0;
  private sumDx = 0;
  private a = NaN;
  private pdi = NaN;
  private mdi = NaN;

  constructor(period: number) {
    this.period = checkPeriod('Adx', period);
  }

  get adx(): number {
    return this.a;
  }

  get plusDI(): number {
    return this.pdi;
  }

  get minusDI(): number {
    return this.mdi;
  }

  /** ADX defined (from bar 2n−1). */
  get warm(): boolean {
    return this.seen >= 2 * this.period;
  }

  /** ±DI defined (from bar n). */
  get diWarm(): boolean {
    return this.seen > this.period;
  }

  update(high: number, low: number, close: number): void {
    checkHlc('Adx', high, low, close);
    const n = this.period;
    const up = high - this.prevHigh;
    const down = this.prevLow - low;
    const tr = trueRange(high, low, this.prevClose);
    this.prevHigh = high;
    this.prevLow = low;
    this.prevClose = close;
    const bar = this.seen++; // this bar's index
    if (bar === 0) return;
    let pdm = 0;
    let mdm = 0;
    if (down > 0 && up < down) mdm = down;
    else if (up > 0 && up > down) pdm = up;
    if (bar < n) {
      this.pdm += pdm;
      this.mdm += mdm;
      this.tr += tr;
      return;
    }
    this.pdm = this.pdm - this.pdm / n + pdm;
    this.mdm = this.mdm - this.mdm / n + mdm;
    this.tr = this.tr - this.tr / n + tr;
    let dx = NaN;
    if (isZero(this.tr)) {
      this.pdi = 0;
      this.mdi = 0;
    } else {
      this.pdi = 100 * (this.pdm / this.tr);
      this.mdi = 100 * (this.mdm / this.tr);
      const sum = this.mdi + this.pdi;
      if (!isZero(sum)) dx = 100 * (Math.abs(this.mdi - this.pdi) / sum);
    }
    const hasDx = !Number.isNaN(dx);
    if (bar < 2 * n - 1) {
      if (hasDx) this.sumDx += dx;
    } else if (bar === 2 * n - 1) {
      if (hasDx) this.sumDx += dx;
      this.a = this.sumDx / n;
    } else if (hasDx) {
      this.a = (this.a * (n - 1) + dx) / n;
    }
  }
}
