/**
 * Shared by the indicator classes: argument checks and TA-Lib's small
 * helpers, so every class states and tests them the same way.
 */

/**
 * TA-Lib's TA_IS_ZERO: |v| < TA_EPSILON. The TA-Lib C bundled with npm
 * `talib` 1.1.6 (0.6.0-dev, as in current TA-Lib 0.6.x) has 1e-14; TA-Lib
 * 0.4.0 had 1e-8. The two differ only once a smoothed sum has decayed to
 * between 1e-14 and 1e-8, i.e. after hundreds of perfectly flat bars.
 */
export const TA_EPSILON = 1e-14;

export const isZero = (v: number): boolean => -TA_EPSILON < v && v < TA_EPSILON;

/** True range against the previous close (TA-Lib's TRUE_RANGE macro). */
export function trueRange(high: number, low: number, prevClose: number): number {
  let tr = high - low;
  const up = Math.abs(high - prevClose);
  if (up > tr) tr = up;
  const down = Math.abs(low - prevClose);
  return down > tr ? down : tr;
}

/** An integer period ≥ 1, or a RangeError naming the class and the value. */
export function checkPeriod(who: string, period: number): number {
  if (!Number.isInteger(period) || period < 1) throw new RangeError(`${who}: period must be an integer >= 1, got ${period}`);
  return period;
}

/** Programming-error guard (bars reaching indicators are already validated): kept to one branch per input. */
export function checkFinite(who: string, name: string, x: number): void {
  if (!Number.isFinite(x)) throw new RangeError(`${who}.update: ${name} must be a finite number, got ${x}`);
}

export function checkHlc(who: string, high: number, low: number, close: number): void {
  checkFinite(who, 'high', high);
  checkFinite(who, 'low', low);
  checkFinite(who, 'close', close);
}
