import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { EventOf, Payload, RustroEvent } from '../../src/core/events.js';
import { parsePayload } from '../../src/core/events.js';
import { OrderBook, type OrderUpdate } from '../../src/trading/order-book.js';
import { toPaisa } from '../../src/trading/money.js';

const T0 = 1_767_000_000_000;

function intent(over: Partial<Payload<'OrderIntentRecorded'>> = {}): EventOf<'OrderIntentRecorded'> {
  return {
    type: 'OrderIntentRecorded',
    ts: T0,
    data: {
      intentId: 'I1',
      tag: 'TAG1',
      signalId: 'S1',
      strategy: 'adx-mtf',
      underlying: 'NIFTY',
      exchange: 'NFO',
      symbol: 'NIFTY30JAN2624000CE',
      token: '45000',
      side: 'BUY',
      orderType: 'LIMIT',
      qty: 150,
      price: 100,
      purpose: 'entry',
      attempt: 0,
      positionId: 'P1',
      ...over,
    },
  };
}

const placed = (orderId = 'O1', intentId = 'I1', foundByTag = false): EventOf<'OrderPlaced'> => ({ type: 'OrderPlaced', ts: T0, data: { intentId, orderId, foundByTag } });

function upd(state: OrderUpdate['state'], filledQty = 0, avgFillPrice = 0, over: Partial<OrderUpdate> = {}): OrderUpdate {
  return { orderId: 'O1', tag: 'TAG1', state, rawStatus: state, filledQty, avgFillPrice, source: 'stream', ...over };
}

/** A book with intent I1 (150 units) recorded and, unless `ack` is false, placed as O1. */
function book(ack = true): OrderBook {
  const b = new OrderBook();
  b.apply(intent());
  if (ack) b.apply(placed());
  return b;
}

let clock = T0;
/** decide, then apply what was decided (as the bus would); returns the events. */
function feed(b: OrderBook, u: OrderUpdate): RustroEvent[] {
  const evs = b.decide(u, ++clock);
  for (const e of evs) b.apply(e);
  return evs;
}

const types = (evs: RustroEvent[]) => evs.map((e) => e.type);

describe('OrderBook.apply', () => {
  it('records an intent as a new order with all its fields; the intent id and tag count as used', () => {
    const b = book(false);
    const o = b.get('I1')!;
    expect(o.state).toBe('new');
    expect(o.intent).toEqual(intent().data);
    expect(o).toMatchObject({ orderType: 'LIMIT', price: 100, attempt: 0, filledQty: 0, avgFillPrice: 0, fills: [] });
    expect(o.orderId).toBeUndefined();
    expect(b.byTag('TAG1')).toBe(o);
    expect(b.wasUsed('I1')).toBe(true);
    expect(b.wasUsed('TAG1')).toBe(true);
    expect(b.wasUsed('TAG2')).toBe(false);
    expect(b.working()).toEqual([o]);
  });

  it('ignores a repeated intent (first wins)', () => {
    const b = book(false);
    b.apply(intent({ price: 999, qty: 75 }));
    expect(b.get('I1')!.intent.price).toBe(100);
    expect(b.all()).toHaveLength(1);
  });

  it('maps the order id on OrderPlaced; the state waits for the broker', () => {
    const b = book();
    expect(b.byOrderId('O1')?.intent.intentId).toBe('I1');
    expect(b.get('I1')).toMatchObject({ orderId: 'O1', foundByTag: false, state: 'new' });
    b.apply(placed('O1', 'nope'));
    expect(b.all()).toHaveLength(1);
  });

  it('ends an order as rejected on OrderPlaceFailed, keeping the outcome', () => {
    for (const outcome of ['rejected', 'unknown'] as const) {
      const b = book(false);
      b.apply({ type: 'OrderPlaceFailed', ts: T0, data: { intentId: 'I1', outcome, code: 'AB1', message: 'no' } });
      expect(b.get('I1')).toMatchObject({ state: 'rejected', placeFailed: { outcome, code: 'AB1', message: 'no' } });
      expect(b.working()).toEqual([]);
      expect(b.wasUsed('TAG1')).toBe(true);
    }
  });

  it('keeps a state the broker already reported when the placement answer fails late', () => {
    const b = book(false);
    feed(b, upd('open'));
    b.apply({ type: 'OrderPlaceFailed', ts: T0, data: { intentId: 'I1', outcome: 'unknown', code: 'TIMEOUT', message: '' } });
    expect(b.get('I1')!.state).toBe('open');
    expect(b.get('I1')!.placeFailed?.outcome).toBe('unknown');
  });

  it('follows the ladder on OrderRepriced and flags OrderCancelRequested', () => {
    const b = book();
    b.apply({ type: 'OrderRepriced', ts: T0, data: { intentId: 'I1', orderId: 'O1', attempt: 2, orderType: 'MARKET', price: 0 } });
    expect(b.get('I1')).toMatchObject({ orderType: 'MARKET', price: 0, attempt: 2 });
    expect(b.get('I1')!.intent.price).toBe(100);
    b.apply({ type: 'OrderCancelRequested', ts: T0, data: { intentId: 'I1', orderId: 'O1', reason: 'ladder exhausted' } });
    expect(b.get('I1')!.cancelRequested).toEqual({ reason: 'ladder exhausted' });
    expect(b.get('I1')!.state).toBe('new');
  });

  it('sets the state on OrderStateChanged and learns the order id from it', () => {
    const b = book(false);
    b.apply({ type: 'OrderStateChanged', ts: T0, data: { intentId: 'I1', orderId: 'O9', from: 'new', to: 'open', filledQty: 0 } });
    expect(b.get('I1')).toMatchObject({ state: 'open', orderId: 'O9' });
    expect(b.byOrderId('O9')?.intent.intentId).toBe('I1');
    b.apply({ type: 'OrderStateChanged', ts: T0, data: { intentId: 'I1', orderId: 'O9', from: 'open', to: 'rejected', filledQty: 0, reason: 'RMS' } });
    expect(b.get('I1')).toMatchObject({ state: 'rejected', stateReason: 'RMS' });
  });

  it('never moves backwards on a state change or a ladder step delivered again late', () => {
    const b = book();
    const changed = (from: 'new' | 'open' | 'partially_filled', to: 'open' | 'partially_filled' | 'filled' | 'cancelled'): EventOf<'OrderStateChanged'> => ({ type: 'OrderStateChanged', ts: T0, data: { intentId: 'I1', orderId: 'O1', from, to, filledQty: 0 } });
    b.apply(changed('new', 'partially_filled'));
    b.apply(changed('new', 'open'));
    expect(b.get('I1')!.state).toBe('partially_filled');
    b.apply(changed('partially_filled', 'filled'));
    b.apply(changed('partially_filled', 'cancelled'));
    expect(b.get('I1')!.state).toBe('filled');
    const repriced = (attempt: number, price: number): EventOf<'OrderRepriced'> => ({ type: 'OrderRepriced', ts: T0, data: { intentId: 'I1', orderId: 'O1', attempt, orderType: 'LIMIT', price } });
    b.apply(repriced(2, 101));
    b.apply(repriced(1, 100.5));
    expect(b.get('I1')).toMatchObject({ attempt: 2, price: 101 });
  });

  it('accumulates fills with a weighted average and ignores a repeated fill id', () => {
    const b = book();
    const fill = (fillId: string, qty: number, price: number): EventOf<'OrderFilled'> => ({ type: 'OrderFilled', ts: T0, data: { intentId: 'I1', brokerOrderId: 'O1', fillId, qty, price, filledAt: T0 } });
    b.apply(fill('O1-50', 50, 100));
    b.apply(fill('O1-150', 100, 103));
    b.apply(fill('O1-150', 100, 103));
    const o = b.get('I1')!;
    expect(o.filledQty).toBe(150);
    expect(b.filledQty('I1')).toBe(150);
    expect(b.filledQty('nope')).toBe(0);
    expect(o.avgFillPrice).toBeCloseTo(102, 10);
    expect(o.fills.map((f) => f.fillId)).toEqual(['O1-50', 'O1-150']);
  });

  it('changes nothing on OrderTransitionIgnored or unrelated events', () => {
    const b = book();
    const before = b.snapshot();
    b.apply({ type: 'OrderTransitionIgnored', ts: T0, data: { intentId: 'I1', orderId: 'O1', from: 'new', to: 'open', reason: 'x' } });
    b.apply({ type: 'DaemonStopping', ts: T0, data: { reason: 'x' } });
    expect(b.snapshot()).toEqual(before);
  });
});

describe('OrderBook.decide: forward transitions', () => {
  it('reads a broker pending as open (working), and open as open', () => {
    for (const s of ['pending', 'open'] as const) {
      const b = book();
      const evs = feed(b, upd(s));
      expect(evs).toEqual([{ type: 'OrderStateChanged', ts: clock, data: { intentId: 'I1', orderId: 'O1', from: 'new', to: 'open', filledQty: 0 } }]);
      expect(b.get('I1')!.state).toBe('open');
    }
  });

  it('does not apply what it decides', () => {
    const b = book();
    b.decide(upd('filled', 150, 100), T0);
    expect(b.get('I1')!.state).toBe('new');
  });

  it('records partial fills then the fill, each increase once, fills before the state change', () => {
    const b = book();
    feed(b, upd('open'));
    let evs = feed(b, upd('partially_filled', 50, 100));
    expect(types(evs)).toEqual(['OrderFilled', 'OrderStateChanged']);
    expect(evs[0]!.data).toEqual({ intentId: 'I1', brokerOrderId: 'O1', fillId: 'O1-50', qty: 50, price: 100, filledAt: clock });
    expect(evs[1]!.data).toMatchObject({ from: 'open', to: 'partially_filled', filledQty: 50 });

    evs = feed(b, upd('partially_filled', 100, 100.5));
    expect(types(evs)).toEqual(['OrderFilled']);
    expect(evs[0]!.data).toMatchObject({ fillId: 'O1-100', qty: 50, price: 101 });

    evs = feed(b, upd('filled', 150, 101));
    expect(types(evs)).toEqual(['OrderFilled', 'OrderStateChanged']);
    expect(evs[0]!.data).toMatchObject({ fillId: 'O1-150', qty: 50, price: 102 });
    expect(evs[1]!.data).toMatchObject({ from: 'partially_filled', to: 'filled', filledQty: 150 });
    const o = b.get('I1')!;
    expect(o).toMatchObject({ state: 'filled', filledQty: 150 });
    expect(o.avgFillPrice).toBeCloseTo(101, 10);
    expect(b.working()).toEqual([]);
  });

  it('goes straight to filled when that is the first report', () => {
    const b = book();
    const evs = feed(b, upd('filled', 150, 99.95));
    expect(types(evs)).toEqual(['OrderFilled', 'OrderStateChanged']);
    expect(evs[0]!.data).toMatchObject({ qty: 150, price: 99.95 });
    expect(evs[1]!.data).toMatchObject({ from: 'new', to: 'filled' });
  });

  it('cancels (with the broker reason) and rejects', () => {
    let b = book();
    feed(b, upd('open'));
    let evs = feed(b, upd('cancelled', 0, 0, { reason: 'cancelled by user' }));
    expect(evs).toEqual([{ type: 'OrderStateChanged', ts: clock, data: { intentId: 'I1', orderId: 'O1', from: 'open', to: 'cancelled', filledQty: 0, reason: 'cancelled by user' } }]);
    b = book();
    evs = feed(b, upd('rejected', 0, 0, { reason: 'RMS: margin' }));
    expect(evs[0]!.data).toMatchObject({ from: 'new', to: 'rejected', reason: 'RMS: margin' });
    expect(b.get('I1')).toMatchObject({ state: 'rejected', stateReason: 'RMS: margin' });
  });

  it('records a partial fill then a cancel carrying the partial quantity', () => {
    const b = book();
    feed(b, upd('partially_filled', 75, 100));
    const evs = feed(b, upd('cancelled', 75, 100));
    expect(types(evs)).toEqual(['OrderStateChanged']);
    expect(b.get('I1')).toMatchObject({ state: 'cancelled', filledQty: 75 });
  });

  it('records a fill first seen on the cancel report', () => {
    const b = book();
    feed(b, upd('open'));
    const evs = feed(b, upd('cancelled', 75, 100.1));
    expect(types(evs)).toEqual(['OrderFilled', 'OrderStateChanged']);
    expect(evs[0]!.data).toMatchObject({ qty: 75, price: 100.1 });
    expect(b.get('I1')).toMatchObject({ state: 'cancelled', filledQty: 75 });
  });

  it('prices an increment from the cumulative averages, to the paisa', () => {
    const b = book();
    feed(b, upd('partially_filled', 1, 100));
    const evs = feed(b, upd('partially_filled', 3, 100.333));
    expect(evs[0]!.data).toMatchObject({ qty: 2, price: 100.5 }); // (300.999 − 100) / 2 = 100.4995
    expect(toPaisa(1.005)).toBe(1.01);
    expect(toPaisa(100.4995)).toBe(100.5);
    expect(toPaisa(2.675)).toBe(2.68);
  });

  it('emits events the ledger accepts', () => {
    const b = book();
    const all = [...feed(b, upd('partially_filled', 75, 100.05)), ...feed(b, upd('open', 0)), ...feed(b, upd('filled', 150, 100.1, { reason: 'done' }))];
    for (const e of all) expect(parsePayload(e.type, e.data)).toMatchObject({ ok: true });
  });
});

describe('OrderBook.decide: duplicates, stale and illegal reports', () => {
  it('returns nothing for an identical repeat, in every state', () => {
    const seqs: OrderUpdate[][] = [
      [upd('open')],
      [upd('partially_filled', 50, 100)],
      [upd('filled', 150, 100)],
      [upd('cancelled', 50, 100)],
      [upd('rejected', 0, 0, { reason: 'r' })],
    ];
    for (const seq of seqs) {
      const b = book();
      for (const u of seq) feed(b, u);
      const before = b.snapshot();
      for (const u of seq) expect(b.decide({ ...u, source: 'poll' }, T0)).toEqual([]);
      expect(b.snapshot()).toEqual(before);
    }
  });

  it('returns nothing for pending while open (same progress)', () => {
    const b = book();
    feed(b, upd('open'));
    expect(b.decide(upd('pending'), T0)).toEqual([]);
  });

  const illegal: [string, OrderUpdate[], OrderUpdate, RegExp][] = [
    ['open after partially_filled', [upd('partially_filled', 50, 100)], upd('open', 50, 100), /open after partially_filled/],
    ['pending after partially_filled', [upd('partially_filled', 50, 100)], upd('pending', 50, 100), /pending after partially_filled/],
    ['open after filled', [upd('filled', 150, 100)], upd('open', 150, 100), /already filled/],
    ['partially_filled after filled', [upd('filled', 150, 100)], upd('partially_filled', 150, 100), /already filled/],
    ['cancelled after filled', [upd('filled', 150, 100)], upd('cancelled', 150, 100), /already filled/],
    ['open after cancelled', [upd('cancelled')], upd('open'), /already cancelled/],
    ['filled after rejected', [upd('rejected')], upd('filled', 0, 0), /already rejected/],
    ['a lower filled quantity', [upd('partially_filled', 100, 100)], upd('partially_filled', 50, 100), /went down \(100 → 50\)/],
    ['a lower filled quantity after filled', [upd('filled', 150, 100)], upd('partially_filled', 50, 100), /went down/],
    ['a fractional filled quantity', [upd('open')], upd('partially_filled', 37.5, 100), /not a whole number/],
  ];
  for (const [name, before, u, reason] of illegal) {
    it(`records ${name} as OrderTransitionIgnored and changes nothing`, () => {
      const b = book();
      for (const x of before) feed(b, x);
      const snap = b.snapshot();
      const evs = feed(b, u);
      expect(types(evs)).toEqual(['OrderTransitionIgnored']);
      const d = evs[0]!.data as Payload<'OrderTransitionIgnored'>;
      expect(d).toMatchObject({ intentId: 'I1', orderId: 'O1', from: snap[0]!.state, to: u.state });
      expect(d.reason).toMatch(reason);
      expect(b.snapshot()).toEqual(snap);
      expect(parsePayload('OrderTransitionIgnored', d)).toMatchObject({ ok: true });
    });
  }

  it('records a fill reported after the cancel report; the order stays cancelled', () => {
    const b = book();
    feed(b, upd('open'));
    feed(b, upd('cancelled', 0, 0));
    const evs = feed(b, upd('partially_filled', 75, 100.2));
    expect(types(evs)).toEqual(['OrderFilled', 'OrderTransitionIgnored']);
    expect(evs[0]!.data).toMatchObject({ qty: 75, price: 100.2, fillId: 'O1-75' });
    expect((evs[1]!.data as Payload<'OrderTransitionIgnored'>).reason).toMatch(/late fill .* stays cancelled/);
    expect(b.get('I1')).toMatchObject({ state: 'cancelled', filledQty: 75 });
    // the cancel report repeated with the fill: nothing new
    expect(b.decide(upd('cancelled', 75, 100.2), T0)).toEqual([]);
  });

  it('returns nothing for an order it never intended', () => {
    const b = book();
    const foreign = upd('open', 0, 0, { orderId: 'X9', tag: 'OTHER' });
    expect(b.match(foreign)).toBeUndefined();
    expect(b.decide(foreign, T0)).toEqual([]);
    expect(b.decide(upd('open', 0, 0, { orderId: 'X9', tag: undefined }), T0)).toEqual([]);
    expect(b.decide(upd('open', 0, 0, { orderId: 'X9', tag: '' }), T0)).toEqual([]);
  });

  it('does not merge a second order carrying the intent tag', () => {
    const b = book();
    feed(b, upd('open'));
    const evs = feed(b, upd('filled', 150, 100, { orderId: 'O2' }));
    expect(types(evs)).toEqual(['OrderTransitionIgnored']);
    expect((evs[0]!.data as Payload<'OrderTransitionIgnored'>).reason).toMatch(/second order/);
    expect(b.get('I1')).toMatchObject({ state: 'open', filledQty: 0, orderId: 'O1' });
  });

  it('waits for a priced report before recording a fill (average 0)', () => {
    const b = book();
    let evs = feed(b, upd('filled', 150, 0));
    expect(types(evs)).toEqual(['OrderStateChanged']);
    expect(b.get('I1')).toMatchObject({ state: 'filled', filledQty: 0 });
    expect(b.decide(upd('filled', 150, 0), T0)).toEqual([]);
    evs = feed(b, upd('filled', 150, 100.25));
    expect(types(evs)).toEqual(['OrderFilled']);
    expect(evs[0]!.data).toMatchObject({ qty: 150, price: 100.25 });
  });

  it('records a placement given up as unknown that surfaces later, fills included, without reviving it', () => {
    const b = book(false);
    b.apply({ type: 'OrderPlaceFailed', ts: T0, data: { intentId: 'I1', outcome: 'unknown', code: 'TIMEOUT', message: 'not found by tag' } });
    let evs = feed(b, upd('open', 0, 0, { orderId: 'O7' }));
    expect(types(evs)).toEqual(['OrderTransitionIgnored']);
    expect((evs[0]!.data as Payload<'OrderTransitionIgnored'>).reason).toMatch(/surfaced as open after its placement was given up as unknown/);
    evs = feed(b, upd('filled', 150, 100, { orderId: 'O7' }));
    expect(types(evs)).toEqual(['OrderFilled', 'OrderTransitionIgnored']);
    expect(b.get('I1')).toMatchObject({ state: 'rejected', filledQty: 150, orderId: 'O7' });
    expect(b.byOrderId('O7')?.intent.intentId).toBe('I1');
  });
});

describe('OrderBook.decide: matching', () => {
  it('matches a report that beats the placement answer by tag, then by the learned order id', () => {
    const b = book(false);
    expect(b.match(upd('open'))?.intent.intentId).toBe('I1');
    const evs = feed(b, upd('open'));
    expect(evs[0]!.data).toMatchObject({ orderId: 'O1', from: 'new', to: 'open' });
    expect(b.byOrderId('O1')?.intent.intentId).toBe('I1');
    // later reports without the tag still match
    expect(types(feed(b, upd('partially_filled', 75, 100, { tag: undefined })))).toEqual(['OrderFilled', 'OrderStateChanged']);
    b.apply(placed('O1'));
    expect(b.get('I1')).toMatchObject({ orderId: 'O1', foundByTag: false, filledQty: 75 });
  });
});

// ── properties ────────────────────────────────────────────────────────────

type Step = { kind: 'update'; u: OrderUpdate } | { kind: 'placed' };

/** A valid in-order report sequence for a 1–8 lot order: maybe pending, open, partials, then a final report. */
const validSequence = fc
  .record({
    lots: fc.integer({ min: 1, max: 8 }),
    pending: fc.boolean(),
    cuts: fc.array(fc.integer({ min: 1, max: 7 }), { maxLength: 6 }),
    prices: fc.array(fc.integer({ min: 20, max: 4000 }), { minLength: 8, maxLength: 8 }),
    end: fc.constantFrom('filled', 'cancelled', 'rejected'),
    roundAvg: fc.boolean(),
  })
  .map(({ lots, pending, cuts, prices, end, roundAvg }) => {
    const qty = lots * 75;
    const levels = [...new Set(cuts.filter((c) => c < lots))].sort((a, b) => a - b).map((c) => c * 75);
    const updates: OrderUpdate[] = [];
    if (pending) updates.push(upd('pending'));
    updates.push(upd('open'));
    let filled = 0;
    let value = 0;
    let i = 0;
    const avg = () => (roundAvg ? toPaisa(value / filled) : value / filled);
    const fillTo = (to: number) => {
      value += (to - filled) * (prices[i++ % prices.length]! * 0.05); // tick-grid prices, ₹1–₹200
      filled = to;
    };
    if (end !== 'rejected') {
      for (const l of levels) {
        fillTo(l);
        updates.push(upd('partially_filled', filled, avg()));
      }
    }
    if (end === 'filled') {
      fillTo(qty);
      updates.push(upd('filled', filled, avg()));
    } else if (end === 'cancelled') {
      updates.push(upd('cancelled', filled, filled === 0 ? 0 : avg()));
    } else {
      updates.push(upd('rejected', 0, 0, { reason: 'RMS' }));
    }
    return { qty, updates, finalFilled: filled, finalAvg: filled === 0 ? 0 : value / filled, end };
  });

/** Steps: every update at least once, some repeated, with the placement ack somewhere, shuffled. */
const scrambled = validSequence.chain((seq) =>
  fc.tuple(fc.constant(seq), fc.array(fc.nat({ max: seq.updates.length - 1 }), { maxLength: 6 })).chain(([s, dups]) => {
    const steps: Step[] = [...s.updates, ...dups.map((d) => s.updates[d]!)].map((u) => ({ kind: 'update' as const, u: { ...u, source: 'poll' as const } }));
    steps.push({ kind: 'placed' });
    return fc.tuple(fc.constant(s), fc.shuffledSubarray(steps, { minLength: steps.length, maxLength: steps.length }));
  }),
);

const RANK = { new: 0, open: 1, partially_filled: 2, filled: 3, cancelled: 3, rejected: 3 } as const;

function run(steps: Step[]): { b: OrderBook; events: RustroEvent[]; ranks: number[] } {
  const ranks: number[] = [];
  const b = new OrderBook();
  const events: RustroEvent[] = [intent()];
  b.apply(events[0]!);
  let t = T0;
  for (const s of steps) {
    if (s.kind === 'placed') {
      const e = placed();
      events.push(e);
      b.apply(e);
      continue;
    }
    const evs = b.decide(s.u, ++t);
    for (const e of evs) {
      events.push(e);
      b.apply(e);
    }
    ranks.push(RANK[b.get('I1')!.state]);
  }
  return { b, events, ranks };
}

function fillTotals(b: OrderBook) {
  const o = b.get('I1')!;
  return { qty: o.fills.reduce((a, f) => a + f.qty, 0), value: o.fills.reduce((a, f) => a + f.qty * f.price, 0) };
}

describe('OrderBook properties', () => {
  it('any permutation and duplication of a valid report sequence ends in the same state with the same fills', () => {
    fc.assert(
      fc.property(scrambled, ([seq, steps]) => {
        const inOrder = run([{ kind: 'placed' }, ...seq.updates.map((u) => ({ kind: 'update' as const, u }))]).b;
        const { b: shuffled, ranks } = run(steps);
        // never backwards, whatever the order
        expect(ranks).toEqual([...ranks].sort((x, y) => x - y));
        const a = inOrder.get('I1')!;
        const z = shuffled.get('I1')!;
        expect(z.state).toBe(seq.end);
        expect(a.state).toBe(seq.end);
        expect(z.filledQty).toBe(seq.finalFilled);
        expect(a.filledQty).toBe(seq.finalFilled);
        const ta = fillTotals(inOrder);
        const tz = fillTotals(shuffled);
        expect(ta.qty).toBe(seq.finalFilled);
        expect(tz.qty).toBe(seq.finalFilled);
        // Each increment is priced against the recorded total and rounded to the paisa, so errors never
        // accumulate: the total is within ½ paisa a unit of the broker's last average × quantity, which is
        // itself within ½ paisa a unit of the truth when the broker rounds its average.
        const tol = 0.01 * seq.finalFilled + 1e-6;
        expect(Math.abs(ta.value - seq.finalAvg * seq.finalFilled)).toBeLessThanOrEqual(tol);
        expect(Math.abs(tz.value - seq.finalAvg * seq.finalFilled)).toBeLessThanOrEqual(tol);
        expect(new Set(z.fills.map((f) => f.fillId)).size).toBe(z.fills.length);
        for (const f of z.fills) expect(f.price).toBeGreaterThan(0);
      }),
      { numRuns: 500 },
    );
  });

  it('replaying the recorded events into a fresh book rebuilds the same book', () => {
    fc.assert(
      fc.property(scrambled, ([, steps]) => {
        const { b, events } = run(steps);
        const fresh = new OrderBook();
        for (const e of events) fresh.apply(e);
        expect(fresh.snapshot()).toEqual(b.snapshot());
        // and applying everything twice (double delivery) changes nothing
        for (const e of events) fresh.apply(e);
        expect(fresh.snapshot()).toEqual(b.snapshot());
        // nor does each event delivered again one step late (applied directly, then by the bus)
        const late = new OrderBook();
        events.forEach((e, i) => {
          late.apply(e);
          if (i > 0) late.apply(events[i - 1]!);
        });
        expect(late.snapshot()).toEqual(b.snapshot());
        for (const e of events) expect(parsePayload(e.type, e.data)).toMatchObject({ ok: true });
      }),
      { numRuns: 300 },
    );
  });
});
