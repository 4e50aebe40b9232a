/**
 * A Chart feeds each bar of a ring to its indicators once, in order; history
 * merged in front of bars it has already fed restarts it (so it equals a chart
 * built on the whole ring), and eviction at the ring's far end does not.
 */
import { describe, expect, it } from 'vitest';
import { Adx } from '../../src/indicators/adx.js';
import { BarRing } from '../../src/market/bar-store.js';
import { Chart } from '../../src/strategy/chart.js';

class AdxSet {
  readonly adx = new Adx(5);
  fed: number[] = [];
  update(ts: number, h: number, l: number, c: number): void {
    this.fed.push(ts);
    this.adx.update(h, l, c);
  }
}

const bar = (i: number) => {
  const c = 100 + 10 * Math.sin(i / 3) + i * 0.2;
  return { ts: i * 60_000, end: (i + 1) * 60_000, open: c - 0.5, high: c + 1 + (i % 3), low: c - 1 - (i % 2), close: c, ticks: 1, backfilled: false };
};

describe('Chart', () => {
  it('feeds new bars once, in order, across syncs', () => {
    const ring = new BarRing('1', 'NSE', '1m', 100);
    const chart = new Chart(() => new AdxSet());
    for (let i = 0; i < 30; i++) {
      ring.push(bar(i));
      if (i % 4 === 0) chart.sync(ring);
    }
    const set = chart.sync(ring);
    expect(set.fed).toEqual(Array.from({ length: 30 }, (_, i) => i * 60_000));
    expect(chart.sync(ring).fed).toHaveLength(30);
  });

  it('starts over when older bars appear in front (history merged after live bars), equal to a chart of the whole ring', () => {
    const ring = new BarRing('1', 'NSE', '1m', 100);
    for (let i = 40; i < 50; i++) ring.push(bar(i));
    const chart = new Chart(() => new AdxSet());
    chart.sync(ring);
    // The bootstrap merges history: rebuild the ring as BarStore.merge leaves it.
    const merged = new BarRing('1', 'NSE', '1m', 100);
    for (let i = 0; i < 50; i++) merged.push(bar(i));
    const after = chart.sync(merged);
    const fresh = new Chart(() => new AdxSet()).sync(merged);
    expect(after.fed).toEqual(fresh.fed);
    expect(after.adx.adx).toBe(fresh.adx.adx);
    expect(Number.isFinite(after.adx.adx)).toBe(true);
  });

  it('does not restart when the ring evicts its oldest bars', () => {
    const ring = new BarRing('1', 'NSE', '1m', 20);
    const chart = new Chart(() => new AdxSet());
    for (let i = 0; i < 60; i++) {
      ring.push(bar(i));
      chart.sync(ring);
    }
    expect(chart.sync(ring).fed).toHaveLength(60);
    expect(chart.fed).toBe(60);
  });
});
