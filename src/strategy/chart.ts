/**
 * A set of indicators kept in step with one bar stream. The bar ring is the
 * truth — history from the bootstrap, bars restored from the day file, live
 * closes — and a chart feeds each of its bars to the indicators once, in
 * order. When bars older than the first one fed appear at the front (history
 * merged in after live bars), the chart starts over from the ring's first
 * bar; bars evicted from the ring's far end change nothing. `sync` costs
 * O(new bars).
 */
import type { BarRing } from '../market/bar-store.js';

export interface BarConsumer {
  update(ts: number, high: number, low: number, close: number): void;
}

export class Chart<T extends BarConsumer> {
  private set: T;
  private firstTs = Infinity;
  private lastTs = -Infinity;
  /** Bars fed since the last start. */
  fed = 0;

  constructor(private readonly build: () => T) {
    this.set = build();
  }

  /** Feeds the ring's bars not yet seen; returns the indicators. */
  sync(ring: BarRing): T {
    const n = ring.length;
    if (n === 0) return this.set;
    if (ring.tsAt(0) < this.firstTs && this.fed > 0) this.reset();
    let i = n;
    while (i > 0 && ring.tsAt(i - 1) > this.lastTs) i--;
    for (; i < n; i++) {
      const ts = ring.tsAt(i);
      this.set.update(ts, ring.highAt(i), ring.lowAt(i), ring.closeAt(i));
      if (this.fed++ === 0) this.firstTs = ts;
      this.lastTs = ts;
    }
    return this.set;
  }

  /** Start of the newest bar fed (-Infinity before any). */
  get last(): number {
    return this.lastTs;
  }

  private reset(): void {
    this.set = this.build();
    this.firstTs = Infinity;
    this.lastTs = -Infinity;
    this.fed = 0;
  }
}

/** The chart of `key` in `charts`, made on first use. */
export function chartOf<K, T extends BarConsumer>(charts: Map<K, Chart<T>>, key: K, build: () => T): Chart<T> {
  let c = charts.get(key);
  if (c === undefined) charts.set(key, (c = new Chart(build)));
  return c;
}
