/**
 * Reconciliation: the broker's order book and positions against the books
 * the ledger rebuilt (issue 8). Pure: it returns the events to publish.
 *
 * - An intent with no acknowledgement (the daemon died between the intent's
 *   fsync and the answer) is looked up by its tag: found → `OrderPlaced`
 *   (found by tag) and the order's state; absent → `OrderPlaceFailed`
 *   ('unknown', NOT_AT_BROKER): the broker never got it, and it is never
 *   sent again.
 * - A working order's state at the broker goes through the order book's own
 *   `decide`, so fills and cancels that happened while the daemon was down
 *   become the same events a live report would have made.
 * - A working order whose price or type at the broker is not the ladder step
 *   recorded (the daemon died between `OrderRepriced` and the modify reaching
 *   the broker) is listed in `stepNotAtBroker`: its modify may be sent again
 *   (a modify sets a price, so sending it twice is harmless).
 * - Positions: the broker's net quantity per contract against the ledger's
 *   open quantity. A contract the ledger does not hold is an
 *   `unknown_position`; a different quantity a `quantity_mismatch`. Neither
 *   is ever "fixed" by inventing a fill: they are reported, and entries halt
 *   until an operator decides (`rustro reconcile --adopt|--flatten`).
 */
import { type Order, type Position as BrokerPosition, orderUpdatedOf } from '../broker/broker.js';
import type { Payload, RustroEvent } from '../core/events.js';
import { type OrderBook, isFinal } from './order-book.js';
import { type PositionBook, openQty } from './positions.js';

export type Mismatch = Payload<'ReconciliationCompleted'>['mismatches'][number];

export type OrdersReconciled = {
  /** Events for the order book (placements found, fills and cancels while down), in order. */
  events: RustroEvent[];
  foundByTag: string[];
  notAtBroker: string[];
  /** Working orders whose recorded ladder step (price, type) the broker does not show. */
  stepNotAtBroker: string[];
  ordersChecked: number;
};


/**
 * Working orders against the broker's book. The decided events are applied to
 * the order book as they are made (each order is decided on the book's latest
 * state; applying again on delivery is harmless), not to the position book:
 * publish them, then compare positions.
 */
export function reconcileOrders(book: OrderBook, brokerOrders: readonly Order[], now: number): OrdersReconciled {
  const events: RustroEvent[] = [];
  const foundByTag: string[] = [];
  const notAtBroker: string[] = [];
  const stepNotAtBroker: string[] = [];
  const byTag = new Map<string, Order>();
  const byId = new Map<string, Order>();
  for (const o of brokerOrders) {
    byId.set(o.orderId, o);
    if (o.tag !== undefined && o.tag !== '') byTag.set(o.tag, o);
  }
  const push = (e: RustroEvent): void => {
    book.apply(e);
    events.push(e);
  };
  let ordersChecked = 0;
  for (const order of book.working()) {
    ordersChecked++;
    const id = order.intent.intentId;
    let at = order.orderId === undefined ? undefined : byId.get(order.orderId);
    if (order.orderId === undefined) {
      at = byTag.get(order.intent.tag);
      if (at === undefined) {
        notAtBroker.push(id);
        push({ type: 'OrderPlaceFailed', ts: now, data: { intentId: id, outcome: 'unknown', code: 'NOT_AT_BROKER', message: `tag ${order.intent.tag} is not in the broker's order book at reconciliation: the request never reached it (not re-sent)` } });
        continue;
      }
      foundByTag.push(id);
      push({ type: 'OrderPlaced', ts: now, data: { intentId: id, orderId: at.orderId, foundByTag: true } });
    }
    if (at === undefined) continue; // placed, but not in the broker's book (yet): the next round looks again
    for (const e of book.decide(orderUpdatedOf(at, 'poll'), now)) push(e);
    const mine = book.get(id);
    const stepShown = at.orderType === mine?.orderType && (at.orderType === 'MARKET' || Math.abs(at.price - mine.price) < 0.005);
    if (mine !== undefined && !isFinal(mine.state) && mine.cancelRequested === undefined && !stepShown) stepNotAtBroker.push(id);
  }
  return { events, foundByTag, notAtBroker, stepNotAtBroker, ordersChecked };
}

/** The broker's net quantity per contract against the ledger's open quantity (after the orders' events are applied). */
export function comparePositions(positions: PositionBook, brokerPositions: readonly BrokerPosition[]): { mismatches: Mismatch[]; positionsChecked: number } {
  const ledgerQty = new Map<string, { qty: number; symbol: string }>();
  for (const p of positions.open()) {
    const k = `${p.exchange}:${p.token}`;
    const cur = ledgerQty.get(k) ?? { qty: 0, symbol: p.symbol };
    cur.qty += openQty(p);
    ledgerQty.set(k, cur);
  }
  const mismatches: Mismatch[] = [];
  const seen = new Set<string>();
  for (const b of brokerPositions) {
    const k = `${b.exchange}:${b.token}`;
    seen.add(k);
    const mine = ledgerQty.get(k);
    if (b.netQty === (mine?.qty ?? 0)) continue;
    const avg = b.netQty > 0 ? b.buyAvg : b.sellAvg;
    mismatches.push({
      kind: mine === undefined || mine.qty === 0 ? 'unknown_position' : 'quantity_mismatch',
      exchange: b.exchange, token: b.token, symbol: b.symbol, ledgerQty: mine?.qty ?? 0, brokerQty: b.netQty, brokerAvg: Number.isFinite(avg) ? avg : 0,
    });
  }
  for (const [k, mine] of ledgerQty) {
    if (seen.has(k) || mine.qty === 0) continue;
    const [exchange, token] = k.split(':') as [Mismatch['exchange'], string];
    mismatches.push({ kind: 'quantity_mismatch', exchange, token, symbol: mine.symbol, ledgerQty: mine.qty, brokerQty: 0, brokerAvg: 0 });
  }
  return { mismatches, positionsChecked: seen.size + [...ledgerQty.keys()].filter((k) => !seen.has(k)).length };
}
