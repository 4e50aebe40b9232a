/**
 * The order book: every order Rustro intended, its state, and its fills — a
 * fold over the money-path events (ARCHITECTURE: state is a fold over
 * events). `apply(event)` changes the book and nothing else; `decide(update)`
 * reads the book and returns the events a broker report (`OrderUpdated`)
 * implies, without applying them. The caller publishes what `decide` returns;
 * the book's `apply` (subscribed to the bus, or called directly) folds them in.
 * Replaying the ledger through `apply` rebuilds the same book.
 *
 * Orders are keyed by `intentId`: one intent is one order at the broker (ladder
 * steps modify that order: `OrderRepriced`). Updates are matched to intents by
 * the broker's order id, or by the intent's tag while the id is not known yet —
 * the order-status stream can report an order before the placement's answer.
 *
 * States: new → open → partially_filled → filled | cancelled | rejected.
 * - `new`: intent recorded, no broker report yet (an `OrderPlaced` ack only
 *   maps the order id; the state moves on the broker's own reports).
 * - The broker's `pending` (not yet live at the exchange: "open pending",
 *   "validation pending", and any status word the adapter does not know) is
 *   read as `open`: the broker holds the order and it may still fill, so it is
 *   working. `pending` never moves an order past `open`, nor back from it.
 * - Final: `filled`, `cancelled`, `rejected` (`OrderPlaceFailed` also ends an
 *   order as `rejected`, with its outcome — `rejected` or `unknown` — kept).
 *
 * What `decide` returns for an update, in this order:
 * 1. `OrderFilled` for an increase of the filled quantity: qty = the increase,
 *    price = (newAvg·newFilled − value already filled) / increase, rounded to
 *    the paisa, anchored on the fills already recorded so rounding never
 *    accumulates; `fillId` = `${orderId}-${newFilledQty}` (deterministic: the
 *    same report gives the same id). A fill is money that moved, so an
 *    increase is recorded in EVERY state — including after a final one: an
 *    order cancelled after a partial fill may have its fill reported after
 *    the cancel report, and an order whose placement was given up as
 *    `unknown` can surface later, filled. When the report carries no usable
 *    average price (0, or one that would give a non-positive increment) the
 *    fill is not recorded yet; the next report with a price records the whole
 *    increase (the state still moves).
 *    Fills come before the state change, so a subscriber reacting to a final
 *    `OrderStateChanged` already sees the fills in the book.
 * 2. `OrderStateChanged` when the state moves forward (new < open <
 *    partially_filled < any final state).
 * 3. `OrderTransitionIgnored` (with the reason) when the report would move the
 *    order backwards (a partial after filled, open after partially_filled), out
 *    of a final state, or down in filled quantity (then nothing else of that
 *    report is used), or when its filled quantity is not a whole number, or
 *    when it matches an intent by tag but carries another order id than the
 *    intent's (a second order with our tag: never merged).
 * Nothing at all for a report that tells nothing new (an identical repeat, or
 * `pending` for an open order), and nothing for an order this book never
 * intended (no intent to name: `match()` tells the caller it is foreign).
 * Out-of-order reports therefore converge: the final report sets the final
 * state and, through the increments, exactly the final filled quantity.
 *
 * `apply` is idempotent and never moves an order backwards: a repeated
 * `OrderFilled` (same `fillId`) or `OrderIntentRecorded` (same `intentId`)
 * changes nothing, `OrderStateChanged` applies only forward and
 * `OrderRepriced` only to a higher attempt (a well-formed ledger always meets
 * those conditions, so replay is unaffected). A book fed both directly and
 * from the bus therefore stays right.
 *
 * The one rule for callers: decide a report only after the previous
 * decision's events are applied — two decisions against the same state would
 * both count the same increase. On the bus, where published events queue
 * behind the current one, apply what `decide` returned right away (then
 * publish it); the bus delivering it to `apply` again is harmless.
 * Nothing here throws on a bad transition: it is recorded.
 */
import type { EventOf, Payload, RustroEvent } from '../core/events.js';
import { toPaisa } from './money.js';

export type BookState = 'new' | 'open' | 'partially_filled' | 'filled' | 'cancelled' | 'rejected';
export type OrderUpdate = Payload<'OrderUpdated'>;
export type OrderIntent = Payload<'OrderIntentRecorded'>;

export type Fill = { readonly fillId: string; readonly qty: number; readonly price: number; readonly filledAt: number };

/** One order as the book knows it. `intent` is as recorded; price, type and attempt follow the ladder. */
export type BookOrder = {
  readonly intent: Readonly<OrderIntent>;
  readonly orderType: 'LIMIT' | 'MARKET';
  readonly price: number;
  readonly attempt: number;
  /** When the current ladder step was recorded (the intent, or its latest reprice): the next step is due a ladder step later. */
  readonly steppedAt: number;
  /** The broker's order id, from `OrderPlaced` or the first report matched by tag. */
  readonly orderId?: string;
  readonly foundByTag?: boolean;
  readonly state: BookState;
  /** The broker's reason with the last state change (rejections, cancellations). */
  readonly stateReason?: string;
  /** Units filled: the sum of the recorded fills. */
  readonly filledQty: number;
  /** Σ qty·price of the fills (rupees). */
  readonly filledValue: number;
  /** Quantity-weighted average fill price (0 before any fill). */
  readonly avgFillPrice: number;
  readonly fills: readonly Fill[];
  readonly cancelRequested?: { readonly reason: string };
  readonly placeFailed?: { readonly outcome: 'rejected' | 'unknown'; readonly code: string; readonly message: string };
};

type MutableOrder = { -readonly [K in keyof BookOrder]: BookOrder[K] } & { fills: Fill[] };

const FINAL: ReadonlySet<BookState> = new Set<BookState>(['filled', 'cancelled', 'rejected']);
/** Progress of a state: reports may only raise it. All final states rank alike (none follows another). */
const RANK: Record<BookState, number> = { new: 0, open: 1, partially_filled: 2, filled: 3, cancelled: 3, rejected: 3 };

export function isFinal(s: BookState): boolean {
  return FINAL.has(s);
}

/** The broker's state in the book's terms: `pending` is working, i.e. `open`. */
export function bookStateOf(s: OrderUpdate['state']): Exclude<BookState, 'new'> {
  return s === 'pending' ? 'open' : s;
}


/** Event types the book folds; everything else passes through `apply` untouched. */
export const ORDER_BOOK_EVENTS = [
  'OrderIntentRecorded',
  'OrderPlaced',
  'OrderPlaceFailed',
  'OrderRepriced',
  'OrderCancelRequested',
  'OrderStateChanged',
  'OrderFilled',
  'OrderTransitionIgnored',
] as const;

export class OrderBook {
  private readonly orders = new Map<string, MutableOrder>();
  private readonly byOrder = new Map<string, string>();
  private readonly byTagMap = new Map<string, string>();
  private readonly fillIds = new Set<string>();

  // ── the fold ──────────────────────────────────────────────────────────────

  /** Folds one event in. Pure state change: no I/O, no clock, no decisions beyond the event's own fields. */
  apply(e: RustroEvent): void {
    switch (e.type) {
      case 'OrderIntentRecorded': {
        const d = e.data;
        if (this.orders.has(d.intentId)) return; // a repeat (replay, double delivery): first wins
        this.orders.set(d.intentId, {
          intent: { ...d },
          orderType: d.orderType,
          price: d.price,
          attempt: d.attempt,
          steppedAt: e.ts,
          state: 'new',
          filledQty: 0,
          filledValue: 0,
          avgFillPrice: 0,
          fills: [],
        });
        if (!this.byTagMap.has(d.tag)) this.byTagMap.set(d.tag, d.intentId);
        return;
      }
      case 'OrderPlaced': {
        const o = this.orders.get(e.data.intentId);
        if (o === undefined) return;
        this.learnOrderId(o, e.data.orderId);
        o.foundByTag = e.data.foundByTag;
        return;
      }
      case 'OrderPlaceFailed': {
        const o = this.orders.get(e.data.intentId);
        if (o === undefined) return;
        o.placeFailed = { outcome: e.data.outcome, code: e.data.code, message: e.data.message };
        // A broker report that already moved the order outranks a lost or late placement answer.
        if (o.state === 'new') {
          o.state = 'rejected';
          o.stateReason = `${e.data.outcome}: ${e.data.code} ${e.data.message}`.trim();
        }
        return;
      }
      case 'OrderRepriced': {
        const o = this.orders.get(e.data.intentId);
        if (o === undefined) return;
        this.learnOrderId(o, e.data.orderId);
        if (e.data.attempt <= o.attempt) return; // ladder steps only climb: an old step delivered again changes nothing
        o.orderType = e.data.orderType;
        o.price = e.data.price;
        o.attempt = e.data.attempt;
        o.steppedAt = e.ts;
        return;
      }
      case 'OrderCancelRequested': {
        const o = this.orders.get(e.data.intentId);
        if (o === undefined) return;
        o.cancelRequested = { reason: e.data.reason };
        this.learnOrderId(o, e.data.orderId);
        return;
      }
      case 'OrderStateChanged': {
        const o = this.orders.get(e.data.intentId);
        if (o === undefined) return;
        this.learnOrderId(o, e.data.orderId);
        // Only forward, as decide() emits them: a change delivered again, or crossed by a later one, changes nothing.
        if (isFinal(o.state) || RANK[e.data.to] <= RANK[o.state]) return;
        o.state = e.data.to;
        if (e.data.reason !== undefined) o.stateReason = e.data.reason;
        return;
      }
      case 'OrderFilled': {
        const d = e.data;
        const o = this.orders.get(d.intentId);
        if (o === undefined || this.fillIds.has(d.fillId)) return;
        this.fillIds.add(d.fillId);
        o.fills.push({ fillId: d.fillId, qty: d.qty, price: d.price, filledAt: d.filledAt });
        o.filledQty += d.qty;
        o.filledValue += d.qty * d.price;
        o.avgFillPrice = o.filledValue / o.filledQty;
        this.learnOrderId(o, d.brokerOrderId);
        return;
      }
      case 'OrderTransitionIgnored':
        return; // recorded for the reader; the book does not change
      default:
        return;
    }
  }

  /** The first order id seen for an intent stays its id (a later, different one is not mapped). */
  private learnOrderId(o: MutableOrder, orderId: string): void {
    if (o.orderId !== undefined) return;
    o.orderId = orderId;
    if (!this.byOrder.has(orderId)) this.byOrder.set(orderId, o.intent.intentId);
  }

  // ── the decision ──────────────────────────────────────────────────────────

  /**
   * The events a broker report implies, stamped `at`, NOT applied. Pure: the
   * same book and report give the same events. See the header for the rules.
   */
  decide(u: OrderUpdate, at: number): RustroEvent[] {
    const o = this.matchMutable(u);
    if (o === undefined) return [];
    const intentId = o.intent.intentId;
    const from = o.state;
    const ignored = (reason: string): EventOf<'OrderTransitionIgnored'> => ({
      type: 'OrderTransitionIgnored',
      ts: at,
      data: { intentId, orderId: u.orderId, from, to: u.state, reason },
    });

    if (o.orderId !== undefined && o.orderId !== u.orderId) {
      return [ignored(`order ${u.orderId} carries tag ${u.tag ?? ''} but this intent's order is ${o.orderId}: a second order with the tag, not merged`)];
    }
    if (!Number.isInteger(u.filledQty) || u.filledQty < 0) {
      return [ignored(`filled quantity ${u.filledQty} is not a whole number of units`)];
    }
    const inc = u.filledQty - o.filledQty;
    if (inc < 0) {
      return [ignored(`filled quantity went down (${o.filledQty} → ${u.filledQty}): a stale report`)];
    }

    const out: RustroEvent[] = [];
    if (inc > 0) {
      const price = toPaisa((u.avgFillPrice * u.filledQty - o.filledValue) / inc);
      if (Number.isFinite(price) && price > 0) {
        out.push({
          type: 'OrderFilled',
          ts: at,
          data: { intentId, brokerOrderId: u.orderId, fillId: `${u.orderId}-${u.filledQty}`, qty: inc, price, filledAt: at },
        });
      }
      // else: no usable average yet — the increase is recorded with the next priced report.
    }

    const to = bookStateOf(u.state);
    if (to === from) return out; // nothing new about the state (an identical repeat gives [])
    if (isFinal(from)) {
      const recorded = out.length > 0 ? ' (its fill is recorded)' : '';
      out.push(ignored(o.placeFailed?.outcome === 'unknown'
        ? `order ${u.orderId} surfaced as ${u.state} after its placement was given up as unknown${recorded}: the book keeps it ${from}, not working`
        : inc > 0
          ? `late fill report on a ${from} order: the fill is ${out.length > 0 ? 'recorded' : 'awaiting a priced report'}, the order stays ${from}`
          : `order is already ${from}`));
      return out;
    }
    if (RANK[to] > RANK[from]) {
      const data: Payload<'OrderStateChanged'> = { intentId, orderId: u.orderId, from, to, filledQty: u.filledQty };
      if (u.reason !== undefined && u.reason !== '') data.reason = u.reason;
      out.push({ type: 'OrderStateChanged', ts: at, data });
      return out;
    }
    if (RANK[to] < RANK[from]) out.push(ignored(`${u.state} after ${from}: a stale report`));
    return out; // same rank, different word (pending vs open): nothing new
  }

  // ── queries ───────────────────────────────────────────────────────────────

  /** The order a report is about: by the broker's order id, else by tag (before the id is known). */
  match(u: Pick<OrderUpdate, 'orderId' | 'tag'>): BookOrder | undefined {
    return this.matchMutable(u);
  }

  private matchMutable(u: Pick<OrderUpdate, 'orderId' | 'tag'>): MutableOrder | undefined {
    const byId = this.byOrder.get(u.orderId);
    if (byId !== undefined) return this.orders.get(byId);
    if (u.tag === undefined || u.tag === '') return undefined;
    const byTag = this.byTagMap.get(u.tag);
    return byTag === undefined ? undefined : this.orders.get(byTag);
  }

  get(intentId: string): BookOrder | undefined {
    return this.orders.get(intentId);
  }

  byOrderId(orderId: string): BookOrder | undefined {
    const id = this.byOrder.get(orderId);
    return id === undefined ? undefined : this.orders.get(id);
  }

  byTag(tag: string): BookOrder | undefined {
    const id = this.byTagMap.get(tag);
    return id === undefined ? undefined : this.orders.get(id);
  }

  /** Orders not in a final state (including `new`: recorded, possibly sent), in intent order. */
  working(): BookOrder[] {
    return [...this.orders.values()].filter((o) => !FINAL.has(o.state));
  }

  /** Every order, in intent order. */
  all(): BookOrder[] {
    return [...this.orders.values()];
  }

  /** Whether a key was ever used as an intent id or a tag (the idempotency check). */
  wasUsed(key: string): boolean {
    return this.orders.has(key) || this.byTagMap.has(key);
  }

  /** Units filled on an intent (0 for an unknown one). */
  filledQty(intentId: string): number {
    return this.orders.get(intentId)?.filledQty ?? 0;
  }

  /**
   * Forgets the final orders `gone` names, with their order ids, tags and fill
   * ids: at a day's rollover (`TradingDesk.apply`), the orders of positions
   * that are over. A restart replays only today's ledger, so after one the
   * book never knew them either; without this a daemon that runs for months
   * keeps every order it ever made. A working order is never forgotten.
   */
  forget(gone: (o: BookOrder) => boolean): void {
    for (const [id, o] of this.orders) {
      if (!FINAL.has(o.state) || !gone(o)) continue;
      this.orders.delete(id);
      if (o.orderId !== undefined && this.byOrder.get(o.orderId) === id) this.byOrder.delete(o.orderId);
      if (this.byTagMap.get(o.intent.tag) === id) this.byTagMap.delete(o.intent.tag);
      for (const f of o.fills) this.fillIds.delete(f.fillId);
    }
  }

  /** A deep, plain copy of the book (for comparisons and diagnostics). */
  snapshot(): BookOrder[] {
    return this.all().map((o) => structuredClone(o));
  }
}
