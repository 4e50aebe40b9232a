/**
 * §9 rate limits, counted per client code on WALL time (they are a property
 * of the broker's gateway, not of the market). place/modify/cancel share one
 * budget. Over the limit the gateway answers HTTP 403 with plain text.
 */

export const RATE_LIMIT_TEXT = 'Access denied because of exceeding access rate';

/** [per second, per minute, per hour]; 0 = no cap. */
export const RATE_LIMITS: Record<string, readonly [number, number, number]> = {
  loginByPassword: [1, 0, 0],
  generateTokens: [1, 0, 1000],
  getProfile: [3, 0, 1000],
  logout: [1, 0, 0],
  getRMS: [2, 0, 0],
  orders: [9, 500, 1000],
  getOrderBook: [1, 0, 0],
  getLtpData: [10, 500, 5000],
  getPosition: [1, 0, 0],
  getTradeBook: [1, 0, 0],
  searchScrip: [1, 0, 0],
  details: [10, 500, 5000],
  quote: [10, 500, 5000],
  getCandleData: [3, 180, 5000],
};

export class RateLimiter {
  private readonly hits = new Map<string, number[]>();

  constructor(private readonly now: () => number) {}

  /** Records the call and says whether it is within the limits (a refused call is not counted). */
  allow(client: string, bucket: string): boolean {
    const lim = RATE_LIMITS[bucket];
    if (lim === undefined) return true;
    const key = `${client}\u0000${bucket}`;
    const now = this.now();
    let xs = this.hits.get(key);
    if (xs === undefined) this.hits.set(key, (xs = []));
    let drop = 0;
    while (drop < xs.length && xs[drop]! <= now - 3_600_000) drop++;
    if (drop > 0) xs.splice(0, drop);
    const windows: [number, number][] = [[1000, lim[0]], [60_000, lim[1]], [3_600_000, lim[2]]];
    for (const [span, cap] of windows) {
      if (cap === 0) continue;
      let n = 0;
      for (let i = xs.length - 1; i >= 0 && xs[i]! > now - span; i--) n++;
      if (n >= cap) return false;
    }
    xs.push(now);
    return true;
  }

  reset(): void {
    this.hits.clear();
  }
}
