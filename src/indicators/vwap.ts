/**
 * Session VWAP: Σ(typical price · volume) / Σ volume, typical price
 * (high + low + close) / 3, accumulated over one IST calendar day
 * (Asia/Kolkata is UTC+05:30 with no DST, so day = floor((ts + 5.5 h) / 1 day))
 * and restarted at the first bar of a new IST day. A bar without volume (an
 * index has none) or with zero volume adds nothing; the value is NaN — not
 * warm — until the day has some volume, so an index's VWAP stays NaN.
 */
import { checkFinite, checkHlc } from './check.js';

const IST_OFFSET_MS = 19_800_000;
const DAY_MS = 86_400_000;

export class SessionVwap {
  private day = NaN;
  private pv = 0;
  private vol = 0;

  get value(): number {
    return this.vol > 0 ? this.pv / this.vol : NaN;
  }

  get warm(): boolean {
    return this.vol > 0;
  }

  /** `ts`: the bar's start, epoch ms. */
  update(ts: number, high: number, low: number, close: number, volume?: number): number {
    checkFinite('SessionVwap', 'ts', ts);
    checkHlc('SessionVwap', high, low, close);
    const day = Math.floor((ts + IST_OFFSET_MS) / DAY_MS);
    if (day !== this.day) {
      this.day = day;
      this.pv = 0;
      this.vol = 0;
    }
    if (volume !== undefined && volume !== 0) {
      if (!(volume > 0 && volume < Infinity)) throw new RangeError(`SessionVwap.update: volume must be a finite number >= 0, got ${volume}`);
      this.pv += ((high + low + close) / 3) * volume;
      this.vol += volume;
    }
    return this.value;
  }
}
