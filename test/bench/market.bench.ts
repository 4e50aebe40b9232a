import { bundledSessions, createMarket } from '../../src/sim/market/market.js';
import { MinutePath } from '../../src/sim/market/ticks.js';
import type { SimQuote } from '../../src/sim/market/types.js';
import type { Bench } from './harness.js';

const DAY = '2024-02-14';
const NIFTY = '99926000';

/** Runs a whole session for `tokens` and returns (ticks delivered, seconds). */
function day(tokens: Set<string> | ((m: ReturnType<typeof createMarket>) => Set<string>), seed: number): { n: number; s: number; opt: number } {
  const m = createMarket({ day: DAY, seed });
  const toks = typeof tokens === 'function' ? tokens(m) : tokens;
  let n = 0;
  let opt = 0;
  let sink = 0;
  const onTick = (q: SimQuote): void => {
    n++;
    if (q.token !== NIFTY) opt++;
    sink += q.ltp;
  };
  const t0 = process.hrtime.bigint();
  // Step like a server would: 250 ms of market time per call.
  for (let t = m.openMs; t <= m.closeMs; t += 250) m.advanceTo(t, toks, onTick);
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  if (sink < 0) console.log('unreachable');
  return { n, s, opt };
}

const forty = (m: ReturnType<typeof createMarket>): Set<string> => {
  const near = m.expiries.NIFTY[0];
  const chain = m.instruments().filter((i) => i.name === 'NIFTY' && i.expiry === near);
  const mid = chain.length >> 1;
  return new Set(chain.slice(mid - 20, mid + 20).map((i) => i.token));
};

const bench: Bench = {
  title: 'Simulated market (ticks from bars, option pricing)',
  async run(report) {
    // Cold build includes reading and parsing the bundled gz CSVs; warm builds reuse the parsed files.
    let t0 = process.hrtime.bigint();
    createMarket({ day: DAY, seed: 1 });
    report('market.create_cold_ms', Number(process.hrtime.bigint() - t0) / 1e6, 'ms', 'first build in the process: gunzip + parse 2 × 15,750 bars + calendar');
    const warm: number[] = [];
    for (let i = 0; i < 20; i++) {
      t0 = process.hrtime.bigint();
      createMarket({ day: DAY, seed: i });
      warm.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    warm.sort((a, b) => a - b);
    report('market.create_ms', warm[warm.length >> 1]!, 'ms', `median of 20 builds (${createMarket({ day: DAY, seed: 0 }).instruments().length} instruments)`);

    day(new Set([NIFTY]), 0); // warm-up
    const idx = day(new Set([NIFTY]), 1);
    report('market.index_ticks', idx.n / idx.s, 'ticks/s', `one index, whole day (${idx.n} ticks) at 4 ticks/s, 250 ms steps`);

    // The raw path generator alone (no quote objects): every bundled minute of NIFTY.
    const m0 = createMarket({ day: DAY, seed: 0 });
    m0.advanceTo(m0.closeMs, new Set(), () => {});
    const bars = m0.minuteBars(NIFTY, 0, Number.MAX_SAFE_INTEGER);
    const path = new MinutePath(240);
    let acc = 0;
    const fill = (): void => { for (let i = 0; i < bars.length; i++) { path.fill(bars[i]!, i); acc += path.px[100]!; } };
    fill();
    t0 = process.hrtime.bigint();
    fill();
    const s0 = Number(process.hrtime.bigint() - t0) / 1e9;
    report('market.index_path_ticks', (bars.length * 240) / s0, 'ticks/s', `tick paths only (prices + timestamps), ${bars.length} bars of ${bundledSessions().length} sessions`);
    if (acc < 0) console.log('unreachable');

    day(forty, 0);
    const opt = day(forty, 2);
    report('market.option_ticks', opt.opt / opt.s, 'ticks/s', `40 subscribed NIFTY options priced per underlying tick (${opt.opt} option ticks in ${opt.s.toFixed(2)} s)`);
    const simSeconds = 375 * 60;
    report('market.day_speedup_40_options', simSeconds / opt.s, 'x real time', 'market seconds per wall second with 40 options');
  },
};
export default bench;
