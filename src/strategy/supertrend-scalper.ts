/**
 * supertrend-scalper (SPEC §3): Supertrend(10, 3) and ADX(14) on 1-minute
 * bars with 5-minute confirmation, evaluated at every closed 1-minute bar of
 * each index.
 *
 * - Trend: ADX ≥ `adx_min_1m` on 1m and ≥ `adx_min_5m` on the last closed 5m
 *   bar, and both Supertrends pointing the same way; otherwise the outcome
 *   is `avoid`. Up → CE `strike_offset` strikes above ATM; down → PE below.
 * - Then: the entry window (`entry_start` to the validation mode's last
 *   entry: conservative 14:00, balanced 14:30, aggressive 15:00); the mode's
 *   optional checks — IV-rank proxy (conservative: INDIA VIX's place in the
 *   range of its last `iv_rank_lookback_days` daily closes ≤ `iv_rank_max`)
 *   and theta risk (conservative and balanced: not on the option's expiry
 *   day from `theta_cutoff`); fewer than `max_positions_per_instrument` open
 *   (pyramiding); `cooldown_sec` since the last exit; risk not halted; the
 *   feed fresh.
 * - Trailing stop, profit lock and the 15:20 exit belong to the position
 *   manager (settings in the same config table).
 *
 * When a 1m bar closes on a 5-minute boundary the 5m bar closing with it is
 * already in its ring (the pipeline stores every bar of a tick before
 * publishing any), so the confirmation is never a bar late.
 */
import { hhmmToMinutes, istMinuteOfDay, minutesToHhmm } from '../core/clock.js';
import type { Config } from '../core/config.js';
import type { Check } from '../core/events.js';
import { Adx } from '../indicators/adx.js';
import { Supertrend } from '../indicators/supertrend.js';
import type { Bar } from '../market/bar.js';
import { type Chart, chartOf } from './chart.js';
import { atLeast, between, failedOf, isTrue } from './checks.js';
import { type Strategy, type StrategyContext, type StreamNeed, type Underlying, type UnderlyingName, signalId } from './strategy.js';

export type ScalperSettings = Config['strategy']['supertrend_scalper'];

/** Last entry time and optional checks of each validation mode. */
export const VALIDATION = {
  conservative: { lastEntry: '14:00', ivRank: true, theta: true },
  balanced: { lastEntry: '14:30', ivRank: false, theta: true },
  aggressive: { lastEntry: '15:00', ivRank: false, theta: false },
} as const;

class TrendSet {
  readonly st: Supertrend;
  readonly adx: Adx;
  close = NaN;
  constructor(s: ScalperSettings) {
    this.st = new Supertrend(s.st_period, s.st_multiplier);
    this.adx = new Adx(s.adx_period);
  }
  update(_ts: number, high: number, low: number, close: number): void {
    this.st.update(high, low, close);
    this.adx.update(high, low, close);
    this.close = close;
  }
  get warm(): boolean {
    return this.st.warm && this.adx.warm;
  }
}

export class SupertrendScalper implements Strategy {
  readonly name = 'supertrend-scalper' as const;
  readonly decisionTimes: readonly string[] = [];
  private readonly m1 = new Map<UnderlyingName, Chart<TrendSet>>();
  private readonly m5 = new Map<UnderlyingName, Chart<TrendSet>>();
  private readonly entryStart: number;
  private readonly lastEntry: number;
  private readonly thetaCutoff: number;
  private readonly mode: (typeof VALIDATION)[keyof typeof VALIDATION];

  constructor(private readonly s: ScalperSettings) {
    this.mode = VALIDATION[s.validation_mode];
    this.entryStart = hhmmToMinutes(s.entry_start);
    this.lastEntry = hhmmToMinutes(this.mode.lastEntry);
    this.thetaCutoff = hhmmToMinutes(s.theta_cutoff);
  }

  needs(): readonly StreamNeed[] {
    const bars = Math.max(2 * this.s.adx_period, this.s.st_period + 1);
    const out: StreamNeed[] = [
      { stream: 'underlying', tf: '1m', bars },
      { stream: 'underlying', tf: '5m', bars },
    ];
    if (this.mode.ivRank) out.push({ stream: 'vix', tf: '1d', bars: this.s.iv_rank_lookback_days });
    return out;
  }

  onTime(): void {}

  onBar(u: Underlying, bar: Bar, ctx: StrategyContext): void {
    if (bar.tf !== '1m') return;
    const s = this.s;
    const t1 = chartOf(this.m1, u.name, () => new TrendSet(s)).sync(ctx.bars(u.ref, '1m'));
    const t5 = chartOf(this.m5, u.name, () => new TrendSet(s)).sync(ctx.bars(u.ref, '5m'));
    const d1 = t1.st.direction;
    const d5 = t5.st.direction;
    const trend: Check[] = [
      isTrue('supertrend_1m', d1 === 0 ? null : d1, d1 !== 0, '1 up / -1 down'),
      isTrue('supertrend_5m', d5 === 0 ? null : d5, d5 !== 0, '1 up / -1 down'),
      isTrue('supertrends_agree', `${d1}/${d5}`, d1 !== 0 && d1 === d5, '1m and 5m the same way'),
      atLeast('adx_1m', t1.adx.adx, s.adx_min_1m),
      atLeast('adx_5m', t5.adx.adx, s.adx_min_5m),
    ];
    const side = d1 === 1 ? 'CE' : 'PE';
    const checks = [...trend, ...this.entryFilters(u, ctx)];
    const failed = failedOf(checks);
    const warm = t1.warm && t5.warm;
    const outcome = !warm ? 'not_warm' : failedOf(trend).length > 0 ? 'avoid' : failed.length > 0 ? 'no_trade' : 'signal';
    ctx.emit('StrategyEvaluated', {
      strategy: this.name, underlying: u.name, tf: '1m', barTs: bar.ts, outcome,
      ...(outcome === 'avoid' || outcome === 'not_warm' ? {} : { side }),
      checks, failed,
    });
    if (outcome !== 'signal') return;
    ctx.emit('SignalRaised', {
      signalId: signalId(this.name, u.name, bar.ts, side, 'entry'),
      strategy: this.name, underlying: u.name, action: 'entry', side, tf: '1m', barTs: bar.ts, spot: t1.close,
      strikeOffset: s.strike_offset,
      reason: `1m and 5m Supertrend ${d1 === 1 ? 'up' : 'down'}, ADX ${t1.adx.adx.toFixed(1)} / ${t5.adx.adx.toFixed(1)}`,
    });
  }

  private entryFilters(u: Underlying, ctx: StrategyContext): Check[] {
    const s = this.s;
    const now = ctx.now();
    const minute = istMinuteOfDay(now);
    const open = ctx.openPositions(u.name);
    const lastExit = ctx.lastExitAt(u.name);
    const sinceExit = lastExit === undefined ? Infinity : (now - lastExit) / 1000;
    const out: Check[] = [
      isTrue('entry_window', minutesToHhmm(minute), minute >= this.entryStart && minute <= this.lastEntry, `${s.entry_start}..${this.mode.lastEntry} (${s.validation_mode})`),
    ];
    if (this.mode.ivRank) out.push(this.ivRank(ctx));
    if (this.mode.theta) {
      const expiryDay = ctx.isExpiryDay(u.name);
      const late = minute >= this.thetaCutoff;
      out.push(isTrue('theta_risk', expiryDay === undefined ? null : expiryDay && late ? `expiry day, ${minutesToHhmm(minute)}` : expiryDay ? 'expiry day, before cutoff' : 'not expiry day',
        expiryDay === false || (expiryDay === true && !late), `not the expiry day from ${s.theta_cutoff}`));
    }
    out.push(
      isTrue('open_positions', open, open < s.max_positions_per_instrument, `< ${s.max_positions_per_instrument}`),
      isTrue('cooldown', Number.isFinite(sinceExit) ? Math.round(sinceExit) : null, sinceExit >= s.cooldown_sec, `>= ${s.cooldown_sec} s since the last exit`),
      isTrue('risk_not_halted', !ctx.halted(), !ctx.halted(), 'not halted'),
      isTrue('data_fresh', ctx.feedFresh(), ctx.feedFresh(), 'no FeedStale outstanding'),
    );
    return out;
  }

  /** INDIA VIX's place (0–100 %) in the range of its last N daily closes, the current level included. */
  private ivRank(ctx: StrategyContext): Check {
    const ring = ctx.vixBars('1d');
    const vix = ctx.vix();
    const n = Math.min(ring.length, this.s.iv_rank_lookback_days);
    if (vix === undefined || n < this.s.iv_rank_lookback_days) {
      return isTrue('iv_rank', null, false, `<= ${this.s.iv_rank_max} % (needs INDIA VIX and ${this.s.iv_rank_lookback_days} daily closes, has ${n})`);
    }
    let lo = vix;
    let hi = vix;
    for (let i = ring.length - n; i < ring.length; i++) {
      const c = ring.closeAt(i);
      if (c < lo) lo = c;
      if (c > hi) hi = c;
    }
    const rank = hi === lo ? 0 : ((vix - lo) / (hi - lo)) * 100;
    return between('iv_rank', rank, 0, this.s.iv_rank_max);
  }
}
