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
import { istDayEnd } from '../core/clock.js';
import type { Config } from '../core/config.js';
import type { Payload, RustroEvent } from '../core/events.js';
import { toPaisa } from './money.js';

export type RiskSettings = Config['risk'];
type Halt = Payload<'RiskHalted'>;

/** What the risk rules count for one IST day; a new day starts from an empty one. */
type Day = {
  /** Epoch ms the day ends (the next IST midnight). */
  readonly end: number;
  realised: number;
  streak: number;
  halt: { scope: 'entries' | 'all'; reason: string } | undefined;
  killed: boolean;
  vixFirst: number | undefined;
  readonly lastClose: Map<string, number>;
};

const newDay = (end: number): Day => ({ end, realised: 0, streak: 0, halt: undefined, killed: false, vixFirst: undefined, lastClose: new Map() });

export class RiskBook {
  private day: Day = newDay(-Infinity);
  /** A reconciliation mismatch not yet decided by an operator: reduce-only (no entries), whatever the day. */
  private reconHold: string | undefined;

  constructor(private readonly s: RiskSettings, private readonly capital: number) {}

  // ── fold ─────────────────────────────────────────────────────────────────
  apply(e: RustroEvent): void {
    const d = this.at(e.ts);
    switch (e.type) {
      case 'PositionClosed':
        d.realised += e.data.netPnl;
        d.streak = e.data.netPnl < 0 ? d.streak + 1 : 0;
        d.lastClose.set(e.data.underlying, e.ts);
        return;
      case 'RiskHalted':
        if (d.halt === undefined || e.data.scope === 'all') d.halt = { scope: e.data.scope, reason: e.data.reason };
        return;
      case 'KillSwitchActivated':
        d.killed = true;
        return;
      case 'VixBaselineRecorded':
        d.vixFirst ??= e.data.level;
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

  /**
   * The day at `now`: a new IST day starts empty (for a query as for an event:
   * the day's end is a fact of time, not of events). Only forward: a late event
   * stamped before midnight (the ledger files it under today) must not reset
   * today. A number comparison per event; the date is computed once a day.
   */
  private at(now: number): Day {
    if (now >= this.day.end) this.day = newDay(istDayEnd(now));
    return this.day;
  }

  // ── queries ──────────────────────────────────────────────────────────────
  /** Today's first INDIA VIX print (the jump's baseline), if recorded. */
  vixBaseline(now: number): number | undefined {
    return this.at(now).vixFirst;
  }

  /** Losing trades in a row today (the day of the latest event or query). */
  get losingStreak(): number {
    return this.day.streak;
  }

  /** Realised net P&L today (the day of the latest event or query). */
  get realisedToday(): number {
    return this.day.realised;
  }

  get lossLimit(): number {
    return (this.capital * this.s.daily_loss_limit_pct) / 100;
  }

  killed(now: number): boolean {
    return this.at(now).killed;
  }

  /** An undecided reconciliation mismatch, if any. */
  get reconciliationHold(): string | undefined {
    return this.reconHold;
  }

  halted(now: number): boolean {
    const d = this.at(now);
    return d.halt !== undefined || d.killed;
  }

  /** Why a new entry on `underlying` may not be made now, or undefined. */
  entryBlock(underlying: string, openPositions: number, now: number): { reason: string; detail: string } | undefined {
    const d = this.at(now);
    if (d.killed) return { reason: 'kill_switch', detail: 'the kill switch is on for today' };
    if (this.reconHold !== undefined) return { reason: 'reconciliation', detail: `reduce-only until \`rustro reconcile --adopt|--flatten\`: ${this.reconHold}` };
    if (d.halt !== undefined) return { reason: 'halted', detail: `risk halted (${d.halt.scope}): ${d.halt.reason}` };
    if (openPositions >= this.s.max_concurrent_positions) return { reason: 'max_concurrent_positions', detail: `${openPositions} open, the limit is ${this.s.max_concurrent_positions}` };
    const last = d.lastClose.get(underlying);
    if (last !== undefined && now - last < this.s.cooldown_after_exit_sec * 1000) {
      return { reason: 'cooldown', detail: `${Math.round((now - last) / 1000)} s since a ${underlying} position closed, cooldown ${this.s.cooldown_after_exit_sec} s` };
    }
    return undefined;
  }

  // ── decisions (nothing applied: the caller publishes, then the fold applies) ──
  /** Checks the daily loss with today's unrealised P&L; a breach halts everything. */
  checkLoss(unrealised: number, now: number): Halt | undefined {
    const d = this.at(now);
    if (d.halt?.scope === 'all') return undefined;
    const total = d.realised + unrealised;
    if (total > -this.lossLimit + EPS) return undefined;
    return { reason: 'daily_loss_limit', scope: 'all', detail: { realised: toPaisa(d.realised), unrealised: toPaisa(unrealised), total: toPaisa(total), limit: -toPaisa(this.lossLimit) } };
  }

  /** After a PositionClosed was applied: the losing streak at its limit halts entries. */
  checkStreak(now: number): Halt | undefined {
    const d = this.at(now);
    if (d.halt !== undefined || d.streak < this.s.max_consecutive_losses) return undefined;
    return { reason: 'consecutive_losses', scope: 'entries', detail: { losses: d.streak, limit: this.s.max_consecutive_losses, realised: toPaisa(d.realised) } };
  }

  /**
   * An INDIA VIX print: the level, or the jump from the day's first print
   * beyond its limit, halts everything. The first print is kept here as it is
   * seen (the desk also records it as `VixBaselineRecorded`, so a restart
   * folds it back).
   */
  checkVix(vix: number, now: number): Halt | undefined {
    const d = this.at(now);
    const first = (d.vixFirst ??= vix);
    if (d.halt?.scope === 'all') return undefined;
    const jump = ((vix - first) / first) * 100;
    if (vix >= this.s.vix_halt_level) return { reason: 'vix_level', scope: 'all', detail: { vix, limit: this.s.vix_halt_level } };
    if (jump >= this.s.vix_jump_pct - EPS) return { reason: 'vix_jump', scope: 'all', detail: { vix, first, jumpPct: toPaisa(jump), limit: this.s.vix_jump_pct } };
    return undefined;
  }
}

/** Sums of paise and percentages carry float noise (−9999.999999999998): compare with a tolerance far below a paisa. */
const EPS = 1e-6;

