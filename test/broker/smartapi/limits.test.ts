import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS, RateLimiter, resolveLimits, type RateLimits } from '../../../src/broker/smartapi/limits.js';
import { SimClock } from '../../../src/core/clock.js';
import { harness, type Harness } from './support/fake-smartapi.js';

/** Largest number of times in any half-open window [t, t+w). */
function maxInWindow(times: number[], w: number): number {
  const s = [...times].sort((a, b) => a - b);
  let best = 0;
  let lo = 0;
  for (let hi = 0; hi < s.length; hi++) {
    while (s[hi]! - s[lo]! >= w) lo++;
    best = Math.max(best, hi - lo + 1);
  }
  return best;
}

const tick = () => new Promise<void>((r) => setTimeout(r, 0));
/** Lets Bottleneck (which runs on real timers and promises) settle. */
async function settle(progress: () => number): Promise<void> {
  let last = -1;
  let still = 0;
  while (still < 10) {
    await tick();
    const p = progress();
    still = p === last ? still + 1 : 0;
    last = p;
  }
}

/** Schedules n jobs on `group` and drives the SimClock from timer to timer; returns each job's start time. */
async function drive(limits: RateLimits, group: keyof RateLimits['groups'], n: number, until: number): Promise<number[]> {
  const clock = new SimClock(0);
  const lim = new RateLimiter(limits, clock);
  const starts: number[] = [];
  for (let i = 0; i < n; i++) void lim.schedule(group, async () => void starts.push(clock.now()));
  await settle(() => starts.length);
  while (clock.now() < until && starts.length < n) {
    const next = clock.nextTimerAt();
    if (next === undefined) break;
    clock.advanceTo(next);
    await settle(() => starts.length);
  }
  await lim.stop();
  return starts;
}

describe('DEFAULT_LIMITS', () => {
  it('are the §9 table (quote at the safe 1/s; place+modify+cancel one shared budget)', () => {
    const g = DEFAULT_LIMITS.groups;
    expect(g.orders).toEqual({ perSecond: 9, perMinute: 500, perHour: 1000 });
    expect(g.candles).toEqual({ perSecond: 3, perMinute: 180, perHour: 5000 });
    expect(g.orderBook).toEqual({ perSecond: 1 });
    expect(g.tradeBook).toEqual({ perSecond: 1 });
    expect(g.positions).toEqual({ perSecond: 1 });
    expect(g.quote).toEqual({ perSecond: 1 });
    expect(g.login).toEqual({ perSecond: 1 });
    expect(g.generateTokens).toEqual({ perSecond: 1, perHour: 1000 });
    expect(g.profile).toEqual({ perSecond: 3, perHour: 1000 });
    expect(g.rms).toEqual({ perSecond: 2 });
    expect(g.orderDetails).toEqual({ perSecond: 10, perMinute: 500, perHour: 5000 });
    expect(g.ltp).toEqual({ perSecond: 10, perMinute: 500, perHour: 5000 });
    expect(DEFAULT_LIMITS.windowMs).toEqual({ second: 1000, minute: 60_000, hour: 3_600_000 });
  });

  it('resolveLimits merges overrides and refuses nonsense', () => {
    const l = resolveLimits({ groups: { quote: { perSecond: 10, perMinute: 500, perHour: 5000 } }, marginMs: 0 });
    expect(l.groups.quote).toEqual({ perSecond: 10, perMinute: 500, perHour: 5000 });
    expect(l.groups.orders).toEqual(DEFAULT_LIMITS.groups.orders);
    expect(l.marginMs).toBe(0);
    expect(() => resolveLimits({ groups: { quote: { perSecond: 0 } } })).toThrow(/positive integer/);
  });
});

describe('RateLimiter on a SimClock with the real defaults', () => {
  it('candles: 200 queued → ≤ 3 in any second and ≤ 180 in any minute', async () => {
    const starts = await drive(DEFAULT_LIMITS, 'candles', 200, 120_000);
    expect(starts).toHaveLength(200);
    expect(maxInWindow(starts, 1000)).toBe(3);
    expect(maxInWindow(starts, 60_000)).toBeLessThanOrEqual(180);
    expect(starts.slice(0, 3)).toEqual([0, 0, 0]); // a burst up to the cap leaves at once
  });

  it('orders: the per-minute cap (500) binds under the 9/s rate', async () => {
    const starts = await drive(DEFAULT_LIMITS, 'orders', 600, 140_000);
    expect(starts).toHaveLength(600);
    expect(maxInWindow(starts, 1000)).toBe(9);
    expect(maxInWindow(starts, 60_000)).toBe(500);
    // The 501st waits until the first one's minute (+ margin) has passed.
    expect(starts[500]!).toBeGreaterThanOrEqual(60_000 + DEFAULT_LIMITS.marginMs);
  });

  it('the per-hour window binds too (caps and windows scaled down to keep the run short)', async () => {
    const scaled = resolveLimits({ groups: { orders: { perSecond: 9, perMinute: 50, perHour: 100 } }, windowMs: { second: 10, minute: 600, hour: 3600 }, marginMs: 0 });
    const starts = await drive(scaled, 'orders', 110, 80_000);
    expect(starts).toHaveLength(110);
    expect(maxInWindow(starts, 10)).toBeLessThanOrEqual(9);
    expect(maxInWindow(starts, 600)).toBeLessThanOrEqual(50);
    expect(maxInWindow(starts, 3600)).toBe(100);
    expect(starts[100]!).toBeGreaterThanOrEqual(3600);
  });

  it('groups are independent: a full order budget does not delay the order book', async () => {
    const clock = new SimClock(0);
    const lim = new RateLimiter(DEFAULT_LIMITS, clock);
    const order: string[] = [];
    const orders = Array.from({ length: 20 }, () => lim.schedule('orders', async () => void order.push('o')));
    void lim.schedule('orderBook', async () => void order.push('book'));
    await settle(() => order.length);
    expect(order.filter((x) => x === 'o')).toHaveLength(9);
    expect(order).toContain('book');
    expect(lim.queued('orders')).toBe(11);
    await lim.stop();
    // Stopping drops what still waits, loudly: those 11 requests were never sent.
    const outcomes = await Promise.allSettled(orders);
    expect(outcomes.filter((o) => o.status === 'rejected')).toHaveLength(11);
    expect(String((outcomes.find((o) => o.status === 'rejected') as PromiseRejectedResult).reason)).toMatch(/rate limiter stopped/);
  });
});

describe('rate limits measured at the server', () => {
  let h: Harness;
  afterEach(async () => {
    await h?.close();
  });

  it('200 concurrent candle requests: no 1-s window above 3, no minute window above its cap (windows scaled down)', async () => {
    // Real caps for the second (3), a small minute cap so it binds: 3 per 40 ms would be 22 per 300 ms, the cap is 15.
    const windowMs = { second: 40, minute: 300, hour: 3_600_000 };
    h = await harness({ limits: { windowMs, marginMs: 10, groups: { candles: { perSecond: 3, perMinute: 15, perHour: 5000 } } } });
    await h.broker.login();
    const from = Date.parse('2024-01-02T09:15:00+05:30');
    const t0 = performance.now();
    const results = await Promise.all(
      Array.from({ length: 200 }, () => h.broker.candles({ exchange: 'NSE', token: '99926000', interval: '1m', from, to: from + 60_000 })),
    );
    const elapsed = performance.now() - t0;
    expect(results.every((r) => r.length === 2)).toBe(true);
    const arrivals = h.fake.arrivals.filter((a) => a.endpoint === 'getCandleData').map((a) => a.at);
    expect(arrivals).toHaveLength(200);
    expect(maxInWindow(arrivals, windowMs.second)).toBeLessThanOrEqual(3);
    expect(maxInWindow(arrivals, windowMs.minute)).toBeLessThanOrEqual(15);
    // 200 requests at ≤ 15 per 310 ms need at least 13 full minute-windows.
    expect(elapsed).toBeGreaterThanOrEqual(13 * 300);
  });
});

describe('hand-back timers', () => {
  it('one per window however many requests are out: a live hour of orders does not keep a thousand timers', async () => {
    const clock = new SimClock(0);
    const lim = new RateLimiter(DEFAULT_LIMITS, clock);
    let done = 0;
    // 9/s, 500/min, 1000/h: 400 orders over ~45 s of a busy minute.
    for (let i = 0; i < 400; i++) void lim.schedule('orders', async () => void done++);
    await settle(() => done);
    while (done < 400) {
      clock.advanceTo(clock.nextTimerAt()!);
      await settle(() => done);
    }
    expect(lim.pendingHandBacks).toBeLessThanOrEqual(3);
    expect(clock.pending()).toBeLessThanOrEqual(3);
    // And the tokens still come back on time: an hour on, the hour's window is empty again.
    clock.advanceBy(3_600_000 + 10_000);
    expect(lim.pendingHandBacks).toBe(0);
    let after = 0;
    for (let i = 0; i < 9; i++) void lim.schedule('orders', async () => void after++);
    await settle(() => after);
    expect(after).toBe(9);
    await lim.stop();
  });
});
