/**
 * adx-mtf (the default strategy): daily direction, hourly alignment
 * (SPEC §3).
 *
 * - Daily bias, decided once per IST day at `decision_time` (or at the first
 *   hourly close after it, when the daemon started later) from completed
 *   daily bars: ADX ≥ `daily_adx_min` and |+DI − −DI| ≥ `di_spread_min` gives
 *   CE when +DI > −DI, PE when −DI > +DI; otherwise no trade today.
 * - At each closed 1h bar: ADX ≥ `hourly_adx_min` with the DIs pointing the
 *   bias's way, RSI in the side's band, the close on the side's side of the
 *   EMA, INDIA VIX in [vix_min, vix_max], the bar closing inside the entry
 *   window, trades today below the cap, no open position on the underlying,
 *   risk not halted, the feed fresh. All pass → an entry signal; every check
 *   is published either way.
 * - Technical exit: with a position open, an hourly close out of alignment
 *   (ADX below the minimum or the DIs turned) raises an exit signal.
 *   Stops, trailing stop, target and the 15:20 exit belong to the position
 *   manager (settings in the same config table).
 *
 * Daily and hourly indicators are fed from the bar rings (history, restored
 * bars, live closes) through a Chart each; the bias is state folded from the
 * strategy's own DailyBiasDecided events, so a restart the same day reuses it.
 */
import type { Check } from '../core/events.js';
import { hhmmToMinutes, istDate, istMinuteOfDay, minutesToHhmm } from '../core/clock.js';
import type { Config } from '../core/config.js';
import { Adx } from '../indicators/adx.js';
import { Ema } from '../indicators/ema.js';
import { Rsi } from '../indicators/rsi.js';
import type { Bar } from '../market/bar.js';
import { type Chart, chartOf } from './chart.js';
import { atLeast, between, failedOf, isTrue } from './checks.js';
import { type OptionSide, type Strategy, type StrategyContext, type StreamNeed, type Underlying, type UnderlyingName, signalId } from './strategy.js';

export type AdxMtfSettings = Config['strategy']['adx_mtf'];
export type Bias = OptionSide | 'none';

class DailySet {
  readonly adx: Adx;
  constructor(period: number) {
    this.adx = new Adx(period);
  }
  update(_ts: number, high: number, low: number, close: number): void {
    this.adx.update(high, low, close);
  }
}

class HourlySet {
  readonly adx: Adx;
  readonly rsi: Rsi;
  readonly ema: Ema;
  close = NaN;
  constructor(s: AdxMtfSettings) {
    this.adx = new Adx(s.adx_period);
    this.rsi = new Rsi(s.rsi_period);
    this.ema = new Ema(s.ema_period);
  }
  update(_ts: number, high: number, low: number, close: number): void {
    this.adx.update(high, low, close);
    this.rsi.update(close);
    this.ema.update(close);
    this.close = close;
  }
  get warm(): boolean {
    return this.adx.warm && this.rsi.warm && this.ema.warm;
  }
}

export class AdxMtf implements Strategy {
  readonly name = 'adx-mtf' as const;
  readonly decisionTimes: readonly string[];
  private readonly daily = new Map<UnderlyingName, Chart<DailySet>>();
  private readonly hourly = new Map<UnderlyingName, Chart<HourlySet>>();
  private readonly biasOf = new Map<UnderlyingName, { date: string; bias: Bias }>();
  private readonly decisionMin: number;
  private readonly entryStart: number;
  private readonly entryEnd: number;

  constructor(private readonly s: AdxMtfSettings) {
    this.decisionTimes = [s.decision_time];
    this.decisionMin = hhmmToMinutes(s.decision_time);
    this.entryStart = hhmmToMinutes(s.entry_start);
    this.entryEnd = hhmmToMinutes(s.entry_end);
  }

  needs(): readonly StreamNeed[] {
    const adxBars = 2 * this.s.adx_period;
    return [
      { stream: 'underlying', tf: '1d', bars: adxBars },
      { stream: 'underlying', tf: '1h', bars: Math.max(adxBars, this.s.ema_period, this.s.rsi_period + 1) },
    ];
  }

  /** The bias this strategy decided for an underlying today, if it has. */
  bias(u: UnderlyingName, date: string): Bias | undefined {
    const b = this.biasOf.get(u);
    return b?.date === date ? b.bias : undefined;
  }

  /** Folds a bias decided earlier (replayed from the ledger) so it is not decided twice in a day. */
  restoreBias(u: UnderlyingName, date: string, bias: Bias): void {
    this.biasOf.set(u, { date, bias });
  }

  onTime(u: Underlying, ctx: StrategyContext): void {
    this.decideBias(u, ctx);
  }

  onBar(u: Underlying, bar: Bar, ctx: StrategyContext): void {
    if (bar.tf !== '1h') return;
    const now = ctx.now();
    const bias = istMinuteOfDay(now) >= this.decisionMin ? this.decideBias(u, ctx) : 'none';
    const h = chartOf(this.hourly, u.name, () => new HourlySet(this.s)).sync(ctx.bars(u.ref, '1h'));
    const aligned = this.alignment(h, bias);

    if (bias !== 'none' && h.warm && ctx.openPositions(u.name) > 0 && !aligned.every((c) => c.passed)) {
      ctx.emit('SignalRaised', {
        signalId: signalId(this.name, u.name, bar.ts, bias, 'exit'),
        strategy: this.name, underlying: u.name, action: 'exit', side: bias, tf: '1h', barTs: bar.ts, spot: h.close,
        strikeOffset: this.s.strike_offset,
        reason: `hourly close out of alignment: ${failedOf(aligned).join(', ')}`,
      });
    }

    const checks: Check[] = [
      isTrue('daily_bias', bias, bias !== 'none', 'CE or PE'),
      isTrue('hourly_warm', h.warm, h.warm, `ADX${this.s.adx_period}, RSI${this.s.rsi_period}, EMA${this.s.ema_period} defined`),
      ...aligned,
      ...this.entryFilters(u, h, bias, now, ctx),
    ];
    const failed = failedOf(checks);
    const outcome = !h.warm ? 'not_warm' : failed.length === 0 ? 'signal' : 'no_trade';
    ctx.emit('StrategyEvaluated', {
      strategy: this.name, underlying: u.name, tf: '1h', barTs: bar.ts, outcome,
      ...(bias === 'none' ? {} : { side: bias }),
      checks, failed,
    });
    if (outcome === 'signal' && bias !== 'none') {
      ctx.emit('SignalRaised', {
        signalId: signalId(this.name, u.name, bar.ts, bias, 'entry'),
        strategy: this.name, underlying: u.name, action: 'entry', side: bias, tf: '1h', barTs: bar.ts, spot: h.close,
        strikeOffset: this.s.strike_offset,
        reason: `daily ${bias} bias with hourly ADX ${h.adx.adx.toFixed(1)} aligned`,
      });
    }
  }

  /** Decides today's bias once (publishing DailyBiasDecided); later calls return it. */
  private decideBias(u: Underlying, ctx: StrategyContext): Bias {
    const now = ctx.now();
    const date = istDate(now);
    const known = this.bias(u.name, date);
    if (known !== undefined) return known;
    const ring = ctx.bars(u.ref, '1d');
    const d = chartOf(this.daily, u.name, () => new DailySet(this.s.adx_period)).sync(ring);
    const { adx, plusDI, minusDI } = d.adx;
    const spread = Math.abs(plusDI - minusDI);
    const checks: Check[] = [
      isTrue('daily_warm', ring.length, d.adx.warm, `ADX${this.s.adx_period} defined (${2 * this.s.adx_period} daily bars)`),
      atLeast('daily_adx', adx, this.s.daily_adx_min),
      atLeast('daily_di_spread', spread, this.s.di_spread_min),
      isTrue('daily_di', Number.isFinite(plusDI) ? `+DI ${plusDI.toFixed(2)} / -DI ${minusDI.toFixed(2)}` : null, plusDI !== minusDI && Number.isFinite(plusDI), '+DI ≠ -DI'),
    ];
    const bias: Bias = failedOf(checks).length > 0 ? 'none' : plusDI > minusDI ? 'CE' : 'PE';
    this.biasOf.set(u.name, { date, bias });
    ctx.emit('DailyBiasDecided', { strategy: this.name, underlying: u.name, date, bias, checks });
    return bias;
  }

  /** Hourly ADX strong enough and the DIs pointing the bias's way. */
  private alignment(h: HourlySet, bias: Bias): Check[] {
    const di = h.adx.plusDI - h.adx.minusDI;
    return [
      atLeast('hourly_adx', h.adx.adx, this.s.hourly_adx_min),
      isTrue('hourly_di', Number.isFinite(di) ? di : null, bias === 'CE' ? di > 0 : bias === 'PE' ? di < 0 : false,
        bias === 'CE' ? '+DI - -DI > 0' : bias === 'PE' ? '+DI - -DI < 0' : 'a daily bias to align with'),
    ];
  }

  private entryFilters(u: Underlying, h: HourlySet, bias: Bias, now: number, ctx: StrategyContext): Check[] {
    const s = this.s;
    const rsi = h.rsi.value;
    const vs = h.close - h.ema.value;
    const vix = ctx.vix();
    const minute = istMinuteOfDay(now);
    const trades = ctx.tradesToday(u.name);
    const open = ctx.openPositions(u.name);
    return [
      bias === 'PE' ? between('hourly_rsi', rsi, s.rsi_pe_min, s.rsi_pe_max) : between('hourly_rsi', rsi, s.rsi_ce_min, s.rsi_ce_max),
      isTrue('close_vs_ema', Number.isFinite(vs) ? vs : null, bias === 'CE' ? vs > 0 : bias === 'PE' ? vs < 0 : false,
        bias === 'PE' ? `close below EMA${s.ema_period}` : `close above EMA${s.ema_period}`),
      vix === undefined ? isTrue('vix', null, false, `${s.vix_min}..${s.vix_max} (no INDIA VIX seen)`) : between('vix', vix, s.vix_min, s.vix_max),
      isTrue('entry_window', minutesToHhmm(minute), minute >= this.entryStart && minute <= this.entryEnd, `${s.entry_start}..${s.entry_end}`),
      isTrue('trades_today', trades, trades < s.max_trades_per_day, `< ${s.max_trades_per_day}`),
      isTrue('no_open_position', open, open === 0, '0 open'),
      isTrue('risk_not_halted', !ctx.halted(), !ctx.halted(), 'not halted'),
      isTrue('data_fresh', ctx.feedFresh(), ctx.feedFresh(), 'no FeedStale outstanding'),
    ];
  }
}
