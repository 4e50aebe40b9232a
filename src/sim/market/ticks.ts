/**
 * Ticks from a 1-minute bar. The path starts at the bar's open (first tick, at
 * the bar start), touches its high and its low somewhere inside, and ends at
 * its close (last tick, before the next minute), with seeded random points in
 * between: a Brownian bridge between those anchors, clamped to [low, high] and
 * rounded to the tick grid. Anchors are the bar's own values, never rounded,
 * so a candle rebuilt from the ticks (first / max / min / last) equals the
 * source bar exactly.
 *
 * Order of the extremes: a bullish bar (close >= open) goes O→L→H→C three
 * times in four, a bearish one O→H→L→C; otherwise the other way round.
 * Timestamps: one tick per slot of 60 000 / n ms, the first exactly at the bar
 * start, the others at a seeded offset inside their slot, so they strictly
 * increase and stay inside [start, start + 60 s).
 */
import { Rng } from './rng.js';
import type { SimBar } from './types.js';

/** Four ticks a minute (open, the two extremes, close): the coarsest path that is still the bar. */
export const MIN_TICKS_PER_SECOND = 4 / 60;
export const MAX_TICKS_PER_SECOND = 1000;
/** The simulator's pace unless told otherwise: about a liquid index's tick rate. */
export const DEFAULT_TICKS_PER_SECOND = 4;

/** Ticks generated per 1-minute bar for a given rate (at least 4, at most 60 000). */
export function ticksPerMinute(ticksPerSecond: number): number {
  if (!(Math.round(60 * ticksPerSecond) >= 4 && ticksPerSecond <= MAX_TICKS_PER_SECOND)) {
    throw new RangeError(`ticksPerSecond must be in [4/60, ${MAX_TICKS_PER_SECOND}] (4 to 60 000 ticks a minute), got ${ticksPerSecond}`);
  }
  return Math.round(60 * ticksPerSecond);
}

/**
 * One minute of ticks, in reusable buffers: `ts[i]`, `px[i]` for i < n, and
 * running extremes `hi[i]` = max(px[0..i]), `lo[i]` = min(px[0..i]).
 */
export class MinutePath {
  readonly n: number;
  readonly ts: Float64Array;
  readonly px: Float64Array;
  readonly hi: Float64Array;
  readonly lo: Float64Array;
  /** Bar start of the minute held, or NaN when empty. */
  barTs = NaN;
  private readonly rng = new Rng(0);
  private readonly inv: number;

  /** @param n ticks per minute (see ticksPerMinute); @param tick price grid, e.g. 0.05. */
  constructor(n: number, tick = 0.05) {
    if (!(Number.isInteger(n) && n >= 4 && n <= 60_000)) throw new RangeError(`ticks per minute must be an integer in [4, 60000], got ${n}`);
    this.n = n;
    this.ts = new Float64Array(n);
    this.px = new Float64Array(n);
    this.hi = new Float64Array(n);
    this.lo = new Float64Array(n);
    // Rounding as Math.round(x * 20) / 20 yields the canonical double of each
    // 0.05 step (k / 20 is correctly rounded), unlike Math.round(x / t) * t.
    this.inv = Math.round(1 / tick);
  }

  /** Fills the buffers with the ticks of `bar`; `seed` fixes the path. */
  fill(bar: SimBar, seed: number): void {
    const { n, ts, px, rng } = this;
    const { open: O, high: H, low: L, close: C } = bar;
    rng.reset(seed);
    this.barTs = bar.ts;

    // Timestamps.
    const slot = 60_000 / n;
    ts[0] = bar.ts;
    for (let i = 1; i < n; i++) {
      const a = Math.floor(i * slot);
      const b = Math.floor((i + 1) * slot);
      ts[i] = bar.ts + a + Math.floor(rng.next() * (b - a));
    }

    // Anchors: open first, close last, high and low inside unless already hit.
    const needH = H !== O && H !== C;
    const needL = L !== O && L !== C;
    let p1 = -1;
    let v1 = 0;
    let p2 = -1;
    let v2 = 0;
    if (needH && needL) {
      let a = 1 + rng.int(n - 2);
      let b = 1 + rng.int(n - 3);
      if (b >= a) b++;
      if (a > b) [a, b] = [b, a];
      const bullish = C >= O;
      const lowFirst = rng.next() < 0.75 ? bullish : !bullish;
      p1 = a; p2 = b;
      v1 = lowFirst ? L : H;
      v2 = lowFirst ? H : L;
    } else if (needH || needL) {
      p1 = 1 + rng.int(n - 2);
      v1 = needH ? H : L;
    }

    if (p1 < 0) this.bridge(0, O, n - 1, C, H, L);
    else if (p2 < 0) { this.bridge(0, O, p1, v1, H, L); this.bridge(p1, v1, n - 1, C, H, L); }
    else { this.bridge(0, O, p1, v1, H, L); this.bridge(p1, v1, p2, v2, H, L); this.bridge(p2, v2, n - 1, C, H, L); }

    let h = -Infinity;
    let l = Infinity;
    const { hi, lo } = this;
    for (let i = 0; i < n; i++) {
      const x = px[i]!;
      if (x > h) h = x;
      if (x < l) l = x;
      hi[i] = h;
      lo[i] = l;
    }
  }

  /**
   * A Brownian bridge from (i0, x0) to (i1, x1) into `px`, clamped to [L, H]
   * and rounded to the grid. A method, not a closure in `fill`: a closure per
   * minute filled was a function object (and, under tsx, a name set on it).
   */
  private bridge(i0: number, x0: number, i1: number, x1: number, H: number, L: number): void {
    const { px, rng, inv } = this;
    const m = i1 - i0;
    px[i0] = x0;
    px[i1] = x1;
    if (m <= 1) return;
    const sigma = ((H - L) * 0.3) / Math.sqrt(m);
    let w = 0;
    for (let j = 1; j < m; j++) {
      w += (rng.next() * 2 - 1) * sigma;
      px[i0 + j] = w;
    }
    const wEnd = w + (rng.next() * 2 - 1) * sigma;
    const dv = x1 - x0;
    for (let j = 1; j < m; j++) {
      const f = j / m;
      let x = Math.round((x0 + dv * f + px[i0 + j]! - f * wEnd) * inv) / inv;
      if (x > H) x = H;
      else if (x < L) x = L;
      px[i0 + j] = x;
    }
  }

  /** Index of the last tick with ts <= t (-1 if none). */
  lastAtOrBefore(t: number): number {
    const { ts, n } = this;
    if (t < ts[0]!) return -1;
    if (t >= ts[n - 1]!) return n - 1;
    let lo = 0;
    let hi = n - 1; // ts[lo] <= t < ts[hi]
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if (ts[mid]! <= t) lo = mid;
      else hi = mid;
    }
    return lo;
  }
}

/** Convenience for tests and tools: the ticks of one bar as plain arrays. */
export function minuteTicks(bar: SimBar, seed: number, ticksPerSecond = 4, tick = 0.05): { ts: number[]; price: number[] } {
  const p = new MinutePath(ticksPerMinute(ticksPerSecond), tick);
  p.fill(bar, seed);
  return { ts: Array.from(p.ts), price: Array.from(p.px) };
}
