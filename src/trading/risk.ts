/**
 * The risk book (SPEC §4): a fold over events that says whether entries are
 * allowed and when everything must be flattened.
 *
 * - Daily loss: realised net P&L today plus unrealised P&L at or below
 *   −`daily_loss_limit_pct`% of capital → flatten and halt for the day.
 * - `max_consecutive_losses` losing trades in a row → halt entries for the day.
 * - At most `max_concurrent_positions` positions open (or entering).
 * - INDIA VIX at or above `vix_halt_level`, or up `vix_jump_pct`% from the
 *   day's first print → exit all and halt for the day.
 * - `cooldown_after_exit_sec` without a new entry on an underlying after one
 *   of its positions closed.
 * - The kill switch (SIGUSR1 or the KILL file) flattens and stops entries for
 *   the day.
 * Halts are durable events (`RiskHalted`, `KillSwitchActivated`) stamped with
 * their day, so replaying today's ledger at a restart halts again; a new IST
 * day starts clean.
 */
import { istDate } from '../core/clock.js';
import type { Config } from '../core/config.js';
import type { Payload, RustroEvent } from '../core/events.js';
import { toPaisa } from './money.js';

export type RiskSettings = Config['risk'];
type Halt = Payload<'RiskHalted'>;

export class RiskBook {
  private day = '';
  private realised = 0;
  private streak = 0;
  private halt: { scope: 'entries' | 'all'; reason: string } | undefined;
  private isKilled = false;
  private vixFirst: number | undefined;
  private readonly lastClose = new Map<string, number>();
  /** A reconciliation mismatch not yet decided by an operator: reduce-only (no entries), whatever the day. */
  private reconHold: string | undefined;

  constructor(private readonly s: RiskSettings, private readonly capital: number) {}

  // ── fold ─────────────────────────────────────────────────────────────────
  apply(e: RustroEvent): void {
    this.roll(e.ts);
    switch (e.type) {
      case 'PositionClosed':
        this.realised += e.data.netPnl;
        this.streak = e.data.netPnl < 0 ? this.streak + 1 : 0;
        this.lastClose.set(e.data.underlying, e.ts);
        return;
      case 'RiskHalted':
        if (this.halt === undefined || e.data.scope === 'all') this.halt = { scope: e.data.scope, reason: e.data.reason };
        return;
      case 'KillSwitchActivated':
        this.isKilled = true;
        return;
      case 'VixBaselineRecorded':
        this.vixFirst ??= e.data.level;
        return;
      case 'ReconciliationMismatch':
        this.reconHold = e.data.mismatches.map((m) => `${m.kind} ${m.symbol || m.token} (ledger ${m.ledgerQty}, broker ${m.brokerQty})`).join('; ');
        return;
      case 'ReconciliationResolved':
        this.reconHold = undefined;
        return;
      default:
    }
  }

  /** A new IST day clears the day's counters and halts. */
  private roll(ts: number): void {
    const d = istDate(ts);
    // Only forward: a late event stamped before midnight (the ledger files it under today) must not reset today.
    if (d <= this.day) return;
    this.day = d;
    this.realised = 0;
    this.streak = 0;
    this.halt = undefined;
    this.isKilled = false;
    this.vixFirst = undefined;
    this.lastClose.clear();
  }

  // ── queries ──────────────────────────────────────────────────────────────
  /** Today's first INDIA VIX print (the jump's baseline), if seen. */
  vixBaseline(now: number): number | undefined {
    this.roll(now);
    return this.vixFirst;
  }

  /** Losing trades in a row today. */
  get losingStreak(): number {
    return this.streak;
  }

  get realisedToday(): number {
    return this.realised;
  }

  get lossLimit(): number {
    return (this.capital * this.s.daily_loss_limit_pct) / 100;
  }

  killed(now: number): boolean {
    this.roll(now);
    return this.isKilled;
  }

  /** An undecided reconciliation mismatch, if any. */
  get reconciliationHold(): string | undefined {
    return this.reconHold;
  }

  halted(now: number): boolean {
    this.roll(now);
    return this.halt !== undefined || this.isKilled;
  }

  /** Why a new entry on `underlying` may not be made now, or undefined. */
  entryBlock(underlying: string, openPositions: number, now: number): { reason: string; detail: string } | undefined {
    this.roll(now);
    if (this.isKilled) return { reason: 'kill_switch', detail: 'the kill switch is on for today' };
    if (this.reconHold !== undefined) return { reason: 'reconciliation', detail: `reduce-only until \`rustro reconcile --adopt|--flatten\`: ${this.reconHold}` };
    if (this.halt !== undefined) return { reason: 'halted', detail: `risk halted (${this.halt.scope}): ${this.halt.reason}` };
    if (openPositions >= this.s.max_concurrent_positions) return { reason: 'max_concurrent_positions', detail: `${openPositions} open, the limit is ${this.s.max_concurrent_positions}` };
    const last = this.lastClose.get(underlying);
    if (last !== undefined && now - last < this.s.cooldown_after_exit_sec * 1000) {
      return { reason: 'cooldown', detail: `${Math.round((now - last) / 1000)} s since a ${underlying} position closed, cooldown ${this.s.cooldown_after_exit_sec} s` };
    }
    return undefined;
  }

  // ── decisions (nothing applied: the caller publishes, then the fold applies) ──
  /** Checks the daily loss with today's unrealised P&L; a breach halts everything. */
  checkLoss(unrealised: number, now: number): Halt | undefined {
    this.roll(now);
    if (this.halt?.scope === 'all') return undefined;
    const total = this.realised + unrealised;
    if (total > -this.lossLimit + EPS) return undefined;
    return { reason: 'daily_loss_limit', scope: 'all', detail: { realised: toPaisa(this.realised), unrealised: toPaisa(unrealised), total: toPaisa(total), limit: -toPaisa(this.lossLimit) } };
  }

  /** After a PositionClosed was applied: the losing streak at its limit halts entries. */
  checkStreak(now: number): Halt | undefined {
    this.roll(now);
    if (this.halt !== undefined || this.streak < this.s.max_consecutive_losses) return undefined;
    return { reason: 'consecutive_losses', scope: 'entries', detail: { losses: this.streak, limit: this.s.max_consecutive_losses, realised: toPaisa(this.realised) } };
  }

  /** An INDIA VIX print: the level or the jump from the day's first print beyond its limit halts everything. */
  checkVix(vix: number, now: number): Halt | undefined {
    this.roll(now);
    this.vixFirst ??= vix;
    if (this.halt?.scope === 'all') return undefined;
    const jump = ((vix - this.vixFirst) / this.vixFirst) * 100;
    if (vix >= this.s.vix_halt_level) return { reason: 'vix_level', scope: 'all', detail: { vix, limit: this.s.vix_halt_level } };
    if (jump >= this.s.vix_jump_pct - EPS) return { reason: 'vix_jump', scope: 'all', detail: { vix, first: this.vixFirst, jumpPct: toPaisa(jump), limit: this.s.vix_jump_pct } };
    return undefined;
  }
}

/** Sums of paise and percentages carry float noise (−9999.999999999998): compare with a tolerance far below a paisa. */
const EPS = 1e-6;

