/**
 * Indicator update cost: 1,000,000 pre-generated 1-minute bars (a random walk
 * on the 0.05 grid, 375-bar IST sessions, volume on every bar) fed through
 * every indicator one timeframe carries (EMA 9, EMA 21, SMA 20, RSI 14,
 * ATR 14, ADX 14, Supertrend(10, 3), session VWAP), then through each alone.
 * Inputs are typed arrays built before timing, so only `update` is measured.
 */
import { Adx } from '../../src/indicators/adx.js';
import { Atr } from '../../src/indicators/atr.js';
import { Ema } from '../../src/indicators/ema.js';
import { Rsi } from '../../src/indicators/rsi.js';
import { Sma } from '../../src/indicators/sma.js';
import { Supertrend } from '../../src/indicators/supertrend.js';
import { SessionVwap } from '../../src/indicators/vwap.js';
import type { Bench } from './harness.js';

const N = 1_000_000;

function bars(n: number) {
  const ts = new Float64Array(n);
  const high = new Float64Array(n);
  const low = new Float64Array(n);
  const close = new Float64Array(n);
  const volume = new Float64Array(n);
  let seed = 7;
  const rnd = (): number => (seed = (seed * 48271) % 2147483647) / 2147483647;
  let price = 20_000;
  const day0 = Date.parse('2024-01-01T09:15:00+05:30');
  for (let i = 0; i < n; i++) {
    ts[i] = day0 + Math.floor(i / 375) * 86_400_000 + (i % 375) * 60_000;
    const open = price;
    price = Math.max(1, price + Math.round((rnd() - 0.5) * 40) * 0.05);
    high[i] = Math.max(open, price) + Math.floor(rnd() * 10) * 0.05;
    low[i] = Math.min(open, price) - Math.floor(rnd() * 10) * 0.05;
    close[i] = price;
    volume[i] = 75 * (1 + Math.floor(rnd() * 100));
  }
  return { ts, high, low, close, volume };
}

type Bars = ReturnType<typeof bars>;

/** ns per bar of `feed` over all bars (after one untimed pass over the first 100k for the JIT). */
function nsPerBar(b: Bars, feed: (b: Bars, from: number, to: number) => number): number {
  feed(b, 0, 100_000);
  const t0 = process.hrtime.bigint();
  const sink = feed(b, 0, N);
  const ns = Number(process.hrtime.bigint() - t0) / N;
  if (sink === -1) console.log('unreachable');
  return ns;
}

const bench: Bench = {
  title: 'Indicators (streaming, TA-Lib definitions)',
  async run(report) {
    const b = bars(N);
    const all = (x: Bars, from: number, to: number): number => {
      const [ema9, ema21, sma20, rsi14] = [new Ema(9), new Ema(21), new Sma(20), new Rsi(14)];
      const [atr14, adx14, st, vwap] = [new Atr(14), new Adx(14), new Supertrend(10, 3), new SessionVwap()];
      let sink = 0;
      for (let i = from; i < to; i++) {
        const h = x.high[i]!;
        const l = x.low[i]!;
        const c = x.close[i]!;
        sink += ema9.update(c) + ema21.update(c) + sma20.update(c) + rsi14.update(c) + atr14.update(h, l, c);
        adx14.update(h, l, c);
        st.update(h, l, c);
        sink += adx14.adx + st.value + vwap.update(x.ts[i]!, h, l, c, x.volume[i]!);
      }
      return sink;
    };
    report('indicators.update_all_per_bar', nsPerBar(b, all), 'ns/bar', `${N.toLocaleString('en-US')} bars, all 8 indicators`);

    const closeOnly = (make: () => { update(x: number): number }) => (x: Bars, from: number, to: number): number => {
      const ind = make();
      let sink = 0;
      for (let i = from; i < to; i++) sink += ind.update(x.close[i]!);
      return sink;
    };
    report('indicators.ema9_ns', nsPerBar(b, closeOnly(() => new Ema(9))), 'ns/bar');
    report('indicators.ema21_ns', nsPerBar(b, closeOnly(() => new Ema(21))), 'ns/bar');
    report('indicators.sma20_ns', nsPerBar(b, closeOnly(() => new Sma(20))), 'ns/bar');
    report('indicators.rsi14_ns', nsPerBar(b, closeOnly(() => new Rsi(14))), 'ns/bar');
    report('indicators.atr14_ns', nsPerBar(b, (x, from, to) => {
      const atr = new Atr(14);
      let sink = 0;
      for (let i = from; i < to; i++) sink += atr.update(x.high[i]!, x.low[i]!, x.close[i]!);
      return sink;
    }), 'ns/bar');
    report('indicators.adx14_ns', nsPerBar(b, (x, from, to) => {
      const adx = new Adx(14);
      let sink = 0;
      for (let i = from; i < to; i++) {
        adx.update(x.high[i]!, x.low[i]!, x.close[i]!);
        sink += adx.adx;
      }
      return sink;
    }), 'ns/bar');
    report('indicators.supertrend10_3_ns', nsPerBar(b, (x, from, to) => {
      const st = new Supertrend(10, 3);
      let sink = 0;
      for (let i = from; i < to; i++) {
        st.update(x.high[i]!, x.low[i]!, x.close[i]!);
        sink += st.value;
      }
      return sink;
    }), 'ns/bar');
    report('indicators.vwap_ns', nsPerBar(b, (x, from, to) => {
      const vwap = new SessionVwap();
      let sink = 0;
      for (let i = from; i < to; i++) sink += vwap.update(x.ts[i]!, x.high[i]!, x.low[i]!, x.close[i]!, x.volume[i]!);
      return sink;
    }), 'ns/bar');
  },
};
export default bench;
