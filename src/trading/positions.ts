/**
 * The position book: a fold over the money path's events, and the exit rules
 * that watch each position's option price.
 *
 * A position is the fills of one entry intent (one signal) on one option
 * contract, long only (Rustro buys options), and the fills of the exit
 * intents that sell it. It opens with its entry's first fill and closes when
 * every unit bought has been sold; `PositionClosed` then carries the realised
 * P&L gross and net of the charges of every executed order (charges.ts).
 *
 * Exit rules, checked on every tick of the option (`mark`), in this order:
 * - stop loss at `stopLossPct` below the entry average;
 * - trailing stop: once the price has reached `trailActivatePct` above the
 *   entry (0 = at once), the stop trails `trailPct` below the highest price
 *   seen since entry, rounded down onto the option's tick grid, and only
 *   ever rises (a new high moves it only when it moves it by a tick);
 * - profit lock: once unrealised profit reaches `profitLockRupees`, the stop
 *   rises to the entry average (the trade can no longer lose);
 * - target at `targetPct` above the entry (0 = none).
 * A fired rule publishes `ExitTriggered` once; the exit order follows from
 * the order manager. End of day, technical, risk, kill and shutdown exits are
 * triggered from outside (`trigger`).
 */
import type { Exchange } from '../broker/broker.js';
import type { EventOf, Payload, RustroEvent } from '../core/events.js';
import { toPaisa } from './money.js';

export type ExitRules = {
  /** Percent below the entry average (0 = no fixed stop). */
  stopLossPct: number;
  /** Percent above the entry at which the trailing stop starts (0 = from entry). */
  trailActivatePct: number;
  /** Percent below the highest price since entry (0 = no trailing stop). */
  trailPct: number;
  /** Percent above the entry (0 = no target). */
  targetPct: number;
  /** Rupees of unrealised profit that move the stop to the entry average (0 = never). */
  profitLockRupees: number;
};

export type ExitReason = Payload<'ExitTriggered'>['reason'];

export type Position = {
  readonly id: string;
  readonly strategy: string;
  readonly underlying: string;
  readonly exchange: Exchange;
  readonly token: string;
  readonly symbol: string;
  readonly rules: ExitRules;
  /** Units bought and their cost. */
  boughtQty: number;
  boughtValue: number;
  /** Units sold and their proceeds. */
  soldQty: number;
  soldValue: number;
  /** Filled quantity and average price per intent (an executed order each, for its charges). */
  readonly orders: Map<string, { side: 'BUY' | 'SELL'; qty: number; value: number }>;
  /** The stop in force (NaN: none yet). */
  stop: number;
  /** Highest price seen since the first fill. */
  high: number;
  trailing: boolean;
  locked: boolean;
  /** The rule that set the stop in force: it names the exit when the stop is hit. */
  stopBy: 'stop_loss' | 'trailing_stop' | 'profit_lock';
  ltp: number;
  /** An exit was triggered and its reason (the exit order is working or done). */
  exiting: ExitReason | undefined;
  /** The reason of the latest exit triggered (kept when an exit order ends unfilled): it names the close. */
  exitReason: ExitReason | undefined;
  /** The entry order is still working (more fills may come). */
  entryWorking: boolean;
  closed: boolean;
  openedAt: number;
};

export const openQty = (p: Position): number => p.boughtQty - p.soldQty;
export const entryAvg = (p: Position): number => (p.boughtQty > 0 ? p.boughtValue / p.boughtQty : NaN);
export const unrealised = (p: Position): number => (openQty(p) > 0 && Number.isFinite(p.ltp) ? openQty(p) * (p.ltp - entryAvg(p)) : 0);

type Intent = Payload<'OrderIntentRecorded'>;

export class PositionBook {
  private readonly byId = new Map<string, Position>();
  private readonly intents = new Map<string, Intent>();
  private readonly byToken = new Map<string, Set<Position>>();

  constructor(
    private readonly rulesFor: (strategy: string) => ExitRules,
    /** The option's tick size: stops move on its grid, so a new high by less than a tick moves nothing. */
    private readonly tickOf: (token: string) => number = () => 0.05,
  ) {}

  // ── fold ─────────────────────────────────────────────────────────────────
  apply(e: RustroEvent): void {
    switch (e.type) {
      case 'OrderIntentRecorded':
        return this.onIntent(e.data, e.ts);
      case 'OrderFilled':
        return this.onFill(e);
      case 'OrderStateChanged': {
        const i = this.intents.get(e.data.intentId);
        const p = i === undefined ? undefined : this.byId.get(i.positionId);
        if (p === undefined) return;
        if (i!.purpose === 'entry' && (e.data.to === 'filled' || e.data.to === 'cancelled' || e.data.to === 'rejected')) this.entryDone(p);
        // An exit that ended without selling everything leaves the position exitable again (stops, end of day, kill).
        if (i!.purpose === 'exit' && (e.data.to === 'cancelled' || e.data.to === 'rejected')) p.exiting = undefined;
        return;
      }
      case 'OrderPlaceFailed': {
        const i = this.intents.get(e.data.intentId);
        const p = i === undefined ? undefined : this.byId.get(i.positionId);
        if (p === undefined) return;
        if (i!.purpose === 'entry') this.entryDone(p);
        // An exit that never reached the broker leaves the position open: it may be triggered again.
        else p.exiting = undefined;
        return;
      }
      case 'PositionStopMoved': {
        const p = this.byId.get(e.data.positionId);
        if (p === undefined) return;
        p.stop = e.data.stop;
        p.high = Math.max(p.high, e.data.high);
        if (e.data.reason === 'trailing') {
          p.trailing = true;
          p.stopBy = 'trailing_stop';
        }
        if (e.data.reason === 'profit_lock') {
          p.locked = true;
          p.stopBy = 'profit_lock';
        }
        return;
      }
      case 'ExitTriggered': {
        const p = this.byId.get(e.data.positionId);
        if (p !== undefined) p.exiting = p.exitReason = e.data.reason;
        return;
      }
      case 'PositionAdopted': {
        // A broker position taken into the books: managed with the default strategy's exit rules.
        const d = e.data;
        if (this.byId.has(d.positionId)) return;
        const p: Position = {
          id: d.positionId, strategy: 'adopted', underlying: d.underlying, exchange: d.exchange, token: d.token, symbol: d.symbol,
          rules: this.rulesFor('adx-mtf'), boughtQty: d.qty, boughtValue: d.qty * d.avgPrice, soldQty: 0, soldValue: 0, orders: new Map(),
          stop: NaN, high: d.avgPrice, trailing: false, locked: false, stopBy: 'stop_loss', ltp: NaN, exiting: undefined, exitReason: undefined,
          entryWorking: false, closed: false, openedAt: e.ts,
        };
        if (p.rules.stopLossPct > 0) p.stop = d.avgPrice * (1 - p.rules.stopLossPct / 100);
        this.byId.set(p.id, p);
        this.watch(p);
        return;
      }
      case 'PositionClosed': {
        const p = this.byId.get(e.data.positionId);
        if (p !== undefined) {
          p.closed = true;
          this.byToken.get(p.token)?.delete(p);
        }
        return;
      }
      default:
    }
  }

  /** The entry order is over; one that bought nothing leaves no position to watch. */
  private entryDone(p: Position): void {
    p.entryWorking = false;
    if (p.boughtQty === 0) this.byToken.get(p.token)?.delete(p);
  }

  private onIntent(i: Intent, at: number): void {
    this.intents.set(i.intentId, i);
    if (i.purpose !== 'entry' || this.byId.has(i.positionId)) return;
    const p: Position = {
      id: i.positionId, strategy: i.strategy, underlying: i.underlying, exchange: i.exchange, token: i.token, symbol: i.symbol,
      rules: this.rulesFor(i.strategy), boughtQty: 0, boughtValue: 0, soldQty: 0, soldValue: 0, orders: new Map(),
      stop: NaN, high: -Infinity, trailing: false, locked: false, stopBy: 'stop_loss', ltp: NaN, exiting: undefined, exitReason: undefined, entryWorking: true, closed: false, openedAt: at,
    };
    this.byId.set(p.id, p);
    this.watch(p);
  }

  /** Marks `p` as one its option's ticks move. */
  private watch(p: Position): void {
    let set = this.byToken.get(p.token);
    if (set === undefined) this.byToken.set(p.token, (set = new Set()));
    set.add(p);
  }

  private onFill(e: EventOf<'OrderFilled'>): void {
    const i = this.intents.get(e.data.intentId);
    const p = i === undefined ? undefined : this.byId.get(i.positionId);
    if (i === undefined || p === undefined) return;
    const { qty, price } = e.data;
    const o = p.orders.get(i.intentId) ?? { side: i.side, qty: 0, value: 0 };
    o.qty += qty;
    o.value += qty * price;
    p.orders.set(i.intentId, o);
    if (i.side === 'BUY') {
      // A fill reported after the entry's cancel still makes a position to watch.
      if (p.boughtQty === 0 && !p.closed) this.watch(p);
      p.boughtQty += qty;
      p.boughtValue += qty * price;
      p.high = Math.max(p.high, price);
      if (Number.isNaN(p.ltp)) p.ltp = price;
      // The fixed stop follows the entry average as fills arrive.
      if (!p.trailing && !p.locked && p.rules.stopLossPct > 0) p.stop = entryAvg(p) * (1 - p.rules.stopLossPct / 100);
    } else {
      p.soldQty += qty;
      p.soldValue += qty * price;
    }
  }

  /**
   * Forgets the positions that are over — closed, or whose entry ended without
   * a fill — unless `keep` holds one (an order of it still working), with
   * their intents. For a day's rollover (`TradingDesk.apply`):
   * a restart replays only today's ledger and knows no earlier position that
   * is over either. Open positions and entries still working stay.
   */
  forgetFinished(keep: (p: Position) => boolean): void {
    const gone = new Set<string>();
    for (const [id, p] of this.byId) {
      if (!(p.closed || (p.boughtQty === 0 && !p.entryWorking)) || keep(p)) continue;
      this.byId.delete(id);
      gone.add(id);
      const set = this.byToken.get(p.token);
      set?.delete(p);
      // An empty entry goes: watch() makes a new one for a later position on the token.
      if (set !== undefined && set.size === 0) this.byToken.delete(p.token);
    }
    if (gone.size > 0) for (const [id, i] of this.intents) if (gone.has(i.positionId)) this.intents.delete(id);
  }

  // ── queries ──────────────────────────────────────────────────────────────
  get(id: string): Position | undefined {
    return this.byId.get(id);
  }

  intent(id: string): Intent | undefined {
    return this.intents.get(id);
  }

  /** Positions with units held or an entry still working. */
  open(): Position[] {
    return [...this.byId.values()].filter((p) => !p.closed && (openQty(p) > 0 || p.entryWorking));
  }

  openOn(strategy: string, underlying: string): Position[] {
    return this.open().filter((p) => p.strategy === strategy && p.underlying === underlying);
  }

  /** Premium held (cost of units still open), on one underlying or on all. */
  outlay(underlying?: string): number {
    let sum = 0;
    for (const p of this.open()) if ((underlying === undefined || p.underlying === underlying) && openQty(p) > 0) sum += openQty(p) * entryAvg(p);
    return sum;
  }

  /**
   * Unrealised P&L net of charges: for each open position, the mark-to-market
   * gain of the units held and the gain of units already sold from it, less
   * the charges of the orders it has executed and of the exit it would still
   * need at the last price (SPEC §4: P&L net of charges) — what the daily
   * loss limit measures.
   */
  unrealisedNet(chargesOf: (o: { side: 'BUY' | 'SELL'; qty: number; price: number; exchange: Exchange }) => number): number {
    let sum = 0;
    for (const p of this.byId.values()) {
      if (p.closed || openQty(p) <= 0) continue;
      let charges = 0;
      for (const o of p.orders.values()) if (o.qty > 0) charges += chargesOf({ side: o.side, qty: o.qty, price: o.value / o.qty, exchange: p.exchange });
      if (Number.isFinite(p.ltp) && p.ltp > 0) charges += chargesOf({ side: 'SELL', qty: openQty(p), price: p.ltp, exchange: p.exchange });
      // Units already sold from a position still open are not in any PositionClosed yet: their gain counts here.
      const soldGain = p.soldQty > 0 ? p.soldValue - entryAvg(p) * p.soldQty : 0;
      sum += unrealised(p) + soldGain - charges;
    }
    return sum;
  }

  unrealisedTotal(): number {
    let sum = 0;
    for (const p of this.byId.values()) if (!p.closed) sum += unrealised(p);
    return sum;
  }

  // ── decisions ────────────────────────────────────────────────────────────
  /**
   * A price for an option: marks its positions and returns what the exit
   * rules conclude (stop moves, exits), to be published; nothing is applied.
   */
  /** Some position (open, entering or exiting) is on this option. */
  holds(token: string): boolean {
    return (this.byToken.get(token)?.size ?? 0) > 0;
  }

  mark(token: string, ltp: number, at: number): RustroEvent[] {
    const set = this.byToken.get(token);
    if (set === undefined || set.size === 0) return [];
    const out: RustroEvent[] = [];
    for (const p of set) {
      p.ltp = ltp;
      if (openQty(p) <= 0 || p.exiting !== undefined) continue;
      out.push(...this.rules(p, ltp, at));
    }
    return out;
  }

  private rules(p: Position, ltp: number, at: number): RustroEvent[] {
    const r = p.rules;
    const avg = entryAvg(p);
    const out: RustroEvent[] = [];
    const high = Math.max(p.high, ltp);
    let stop = p.stop;
    let moved: 'trailing' | 'profit_lock' | undefined;
    // Prices are in paise and percentages make float noise (110.00000000000001): compare with EPS.
    if (r.trailPct > 0 && (p.trailing || high >= avg * (1 + r.trailActivatePct / 100) - EPS)) {
      const tick = this.tickOf(p.token);
      const trail = toPaisa(tick > 0 ? Math.floor((high * (1 - r.trailPct / 100)) / tick + 1e-9) * tick : high * (1 - r.trailPct / 100));
      if (!(trail <= stop + EPS)) {
        stop = trail;
        moved = 'trailing';
      }
    }
    if (r.profitLockRupees > 0 && !p.locked && openQty(p) * (ltp - avg) >= r.profitLockRupees - EPS && !(avg <= stop + EPS)) {
      stop = avg;
      moved = 'profit_lock';
    }
    if (moved !== undefined) {
      out.push({ type: 'PositionStopMoved', ts: at, data: { positionId: p.id, stop, high, reason: moved } });
    } else if (high > p.high) {
      p.high = high; // a new high that moves nothing is not an event
    }
    const exit = (reason: ExitReason, detail: string): RustroEvent => ({ type: 'ExitTriggered', ts: at, data: { positionId: p.id, reason, ltp, detail } });
    if (ltp <= stop + EPS) {
      const reason: ExitReason = moved === 'profit_lock' ? 'profit_lock' : moved === 'trailing' ? 'trailing_stop' : p.stopBy;
      out.push(exit(reason, `price ${ltp} at or below the stop ${toPaisa(stop)} (entry ${toPaisa(avg)}, high ${toPaisa(high)})`));
    } else if (r.targetPct > 0 && ltp >= avg * (1 + r.targetPct / 100) - EPS) {
      out.push(exit('target', `price ${ltp} reached the target ${toPaisa(avg * (1 + r.targetPct / 100))} (+${r.targetPct}% on ${toPaisa(avg)})`));
    }
    return out;
  }


  /** An exit from outside the price rules (end of day, technical, risk, kill, shutdown) for every open position matching `which`. */
  trigger(which: (p: Position) => boolean, reason: ExitReason, detail: string, at: number): RustroEvent[] {
    const out: RustroEvent[] = [];
    for (const p of this.open()) {
      if (p.exiting !== undefined || openQty(p) <= 0 || !which(p)) continue;
      out.push({ type: 'ExitTriggered', ts: at, data: { positionId: p.id, reason, ltp: Number.isFinite(p.ltp) ? p.ltp : entryAvg(p), detail } });
    }
    return out;
  }

  /** A restart's resumed exit: the position's last exit reason again, for an exit decided but never at the broker. */
  retrigger(positionId: string, detail: string, at: number): RustroEvent | undefined {
    const p = this.byId.get(positionId);
    if (p === undefined || p.exitReason === undefined || openQty(p) <= 0) return undefined;
    return { type: 'ExitTriggered', ts: at, data: { positionId: p.id, reason: p.exitReason, ltp: Number.isFinite(p.ltp) ? p.ltp : entryAvg(p), detail } };
  }

  /** After a fill: the position is flat with its entry done → its PositionClosed payload (charges from `chargesOf` per executed order). */
  closing(positionId: string, chargesOf: (o: { side: 'BUY' | 'SELL'; qty: number; price: number; exchange: Exchange }) => number): Payload<'PositionClosed'> | undefined {
    const p = this.byId.get(positionId);
    if (p === undefined || p.closed || p.entryWorking || p.boughtQty === 0 || openQty(p) > 0) return undefined;
    let charges = 0;
    for (const o of p.orders.values()) if (o.qty > 0) charges += chargesOf({ side: o.side, qty: o.qty, price: o.value / o.qty, exchange: p.exchange });
    const gross = p.soldValue - p.boughtValue;
    return {
      positionId: p.id, strategy: p.strategy, underlying: p.underlying, symbol: p.symbol, qty: p.boughtQty,
      entryAvg: toPaisa(entryAvg(p)), exitAvg: toPaisa(p.soldValue / p.soldQty), grossPnl: toPaisa(gross), charges: toPaisa(charges),
      netPnl: toPaisa(gross - charges), reason: p.exitReason ?? 'unknown',
    };
  }
}

/** Rupee comparisons tolerate float noise far below a paisa. */
const EPS = 1e-6;

