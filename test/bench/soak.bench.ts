/**
 * The multi-day soak (issue 8: RSS growth ≤ 10 % over 20 days): one daemon
 * against the simulator replaying 20 consecutive trading days at full speed in
 * lock-step (test/e2e/support/soak.ts, the same run the e2e test checks).
 * Reports RSS growth from the first day's open to the last day's close (after
 * a forced GC), heapUsed growth, the open handles' spread, and wall seconds per
 * simulated day.
 */
import { SOAK_DAYS, SOAK_FIRST, SOAK_SEED, runSoak, soakConfig } from '../e2e/support/soak.js';
import type { Bench } from './harness.js';

const bench: Bench = {
  title: `multi-day soak (${SOAK_DAYS} trading days from ${SOAK_FIRST}, one daemon, paper)`,
  async run(report) {
    const r = await runSoak({ first: SOAK_FIRST, days: SOAK_DAYS, seed: SOAK_SEED, config: soakConfig() });
    const handles = r.readings.flatMap((d) => [d.start!.handles, d.end!.handles]);
    report('soak.rss_growth_pct', r.rssGrowthPct, '%', `day 1 close ${(r.readings[0]!.end!.rss / 2 ** 20).toFixed(0)} MiB → last close; goal ≤ 10`);
    report('soak.heap_growth_pct', r.heapGrowthPct, '%');
    report('soak.handles_spread', Math.max(...handles) - Math.min(...handles), 'handles', 'max − min at opens and closes');
    report('soak.sec_per_day', r.wallMs / 1000 / r.days.length, 's', `${r.readings.reduce((n, d) => n + d.trades, 0)} trades`);
  },
};

export default bench;
