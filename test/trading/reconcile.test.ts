/**
 * Reconciliation against a broker's books, through the real desk and its
 * folds: a fill that happened while the daemon was down, an intent whose
 * order the broker never got, an order found by its tag, a cancelled order,
 * a position opened outside Rustro (halt, adopt/flatten decision), and paper
 * mode (nothing to compare). Never a fill invented, never an order re-sent.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import type { Broker, Instrument, Order, Position } from '../../src/broker/broker.js';
import { InstrumentIndex } from '../../src/broker/smartapi/instrument-index.js';
import { BusJournal } from '../../src/app/journal.js';
import { EventBus } from '../../src/core/bus.js';
import { SimClock, istToMillis } from '../../src/core/clock.js';
import { type Config, defaultConfig } from '../../src/core/config.js';
import type { EventType, Payload, RustroEvent } from '../../src/core/events.js';
import { DEFAULT_CALENDAR_DIR, TradingCalendar } from '../../src/market/calendar.js';
import { openQty } from '../../src/trading/positions.js';
import { RECONCILE_FILE } from '../../src/trading/reconciler.js';
import { TradingDesk } from '../../src/trading/trading-desk.js';

const calendar = TradingCalendar.load(DEFAULT_CALENDAR_DIR);
const CE: Instrument = { token: '43000', symbol: 'NIFTY15FEB2421900CE', name: 'NIFTY', exchange: 'NFO', kind: 'option', expiry: '2024-02-15', strike: 21_900, optionType: 'CE', lotSize: 50, tickSize: 0.05, freezeQty: 1800 };
const OTHER: Instrument = { ...CE, token: '43001', symbol: 'NIFTY15FEB2422000CE', strike: 22_000 };

function intent(id: string, over: Partial<Payload<'OrderIntentRecorded'>> = {}): Payload<'OrderIntentRecorded'> {
  return {
    intentId: id, tag: id, signalId: `adx-mtf:NIFTY:1:CE:entry`, strategy: 'adx-mtf', underlying: 'NIFTY', exchange: 'NFO', symbol: CE.symbol, token: CE.token,
    side: 'BUY', orderType: 'LIMIT', qty: 100, price: 120, purpose: 'entry', attempt: 0, positionId: `P-${id}`, ...over,
  };
}

function order(orderId: string, tag: string, state: Order['state'], filledQty: number, avg: number): Order {
  return { orderId, tag, token: CE.token, symbol: CE.symbol, exchange: 'NFO', side: 'BUY', orderType: 'LIMIT', qty: 100, price: 120, filledQty, avgFillPrice: avg, state, rawStatus: state, updatedAt: 0 };
}

function setup(o: { orders?: Order[]; positions?: Position[]; config?: (c: Config) => Config; past?: [EventType, unknown][]; pastAt?: number; ltp?: number } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'rustro-reconcile-'));
  const base = defaultConfig();
  const config = (o.config ?? ((c) => c))({ ...base, app: { ...base.app, data_dir: dir }, trading: { ...base.trading, enable_paper_trading: false } });
  const clock = new SimClock(istToMillis('2024-02-15', '11:00'));
  const bus = new EventBus(clock);
  const events: RustroEvent[] = [];
  bus.onAny((e) => events.push(e), 'test');
  let placed = 0;
  const sent: { side: string; tag: string; qty: number }[] = [];
  const subscribed: string[] = [];
  const unsubscribed: string[] = [];
  const broker: Pick<Broker, 'placeOrder' | 'modifyOrder' | 'cancelOrder' | 'quotes' | 'orderBook' | 'positions'> = {
    placeOrder: async (r) => {
      sent.push({ side: r.side, tag: r.tag ?? '', qty: r.qty });
      return { orderId: `X${++placed}` };
    },
    modifyOrder: async (orderId) => ({ orderId }),
    cancelOrder: async () => {},
    quotes: async (refs) => (o.ltp === undefined ? [] : refs.map((r) => ({ ...r, ltp: o.ltp! }) as never)),
    orderBook: async () => o.orders ?? [],
    positions: async () => o.positions ?? [],
  };
  const index = new InstrumentIndex([CE, OTHER]);
  const desk = new TradingDesk({
    bus, clock, calendar, config, journal: new BusJournal(bus), broker, instruments: () => index,
    subscribe: (refs) => void subscribed.push(...refs.map((r) => r.token)), unsubscribe: (refs) => void unsubscribed.push(...refs.map((r) => r.token)), vix: { exchange: 'NSE', token: '99926017' },
  });
  // The ledger of the day so far (recorded at `pastAt`, by default now), replayed as a restart does.
  for (const [type, data] of o.past ?? []) desk.apply({ type, ts: o.pastAt ?? clock.now(), data } as RustroEvent);
  desk.start();
  const of = <T extends EventType>(t: T) => events.filter((e) => e.type === t).map((e) => e.data as Payload<T>);
  return { desk, bus, clock, dir, of, placedCount: () => placed, sent, subscribed, unsubscribed };
}

describe('reconciliation', () => {
  it('a fill that happened while the daemon was down is applied as the fill it was; the books then agree', async () => {
    const t = setup({
      past: [['OrderIntentRecorded', intent('I1')], ['OrderPlaced', { intentId: 'I1', orderId: 'B1', foundByTag: false }]],
      orders: [order('B1', 'I1', 'filled', 100, 119.5)],
      positions: [{ token: CE.token, symbol: CE.symbol, exchange: 'NFO', product: 'INTRADAY', netQty: 100, buyQty: 100, sellQty: 0, buyAvg: 119.5, sellAvg: 0 }],
    });
    await t.desk.reconciler.run('start');
    expect(t.of('OrderFilled')).toEqual([expect.objectContaining({ intentId: 'I1', qty: 100, price: 119.5 })]);
    const done = t.of('ReconciliationCompleted')[0]!;
    expect(done).toMatchObject({ mode: 'live', action: 'applied', mismatches: [] });
    expect(t.desk.positions.open().map((p) => openQty(p))).toEqual([100]);
    expect(t.placedCount()).toBe(0);
  });

  it('an intent whose order the broker never got is recorded as never placed — and not sent again', async () => {
    const t = setup({ past: [['OrderIntentRecorded', intent('I2')]], orders: [] });
    await t.desk.reconciler.run('start');
    expect(t.of('OrderPlaceFailed')).toEqual([expect.objectContaining({ intentId: 'I2', outcome: 'unknown', code: 'NOT_AT_BROKER' })]);
    expect(t.of('ReconciliationCompleted')[0]).toMatchObject({ notAtBroker: ['I2'], action: 'applied' });
    expect(t.desk.book.working()).toEqual([]);
    expect(t.placedCount()).toBe(0);
  });

  it('an intent whose answer was lost is found by its tag, with its state', async () => {
    const t = setup({
      past: [['OrderIntentRecorded', intent('I3')]],
      orders: [order('B3', 'I3', 'open', 0, 0)],
    });
    await t.desk.reconciler.run('start');
    expect(t.of('OrderPlaced')).toEqual([{ intentId: 'I3', orderId: 'B3', foundByTag: true }]);
    expect(t.desk.book.get('I3')).toMatchObject({ orderId: 'B3', state: 'open' });
    expect(t.of('ReconciliationCompleted')[0]).toMatchObject({ foundByTag: ['I3'] });
  });

  it('an order cancelled while down ends cancelled, with no position and no fill', async () => {
    const t = setup({
      past: [['OrderIntentRecorded', intent('I4')], ['OrderPlaced', { intentId: 'I4', orderId: 'B4', foundByTag: false }]],
      orders: [order('B4', 'I4', 'cancelled', 0, 0)],
    });
    await t.desk.reconciler.run('start');
    expect(t.of('OrderStateChanged')).toEqual([expect.objectContaining({ intentId: 'I4', to: 'cancelled' })]);
    expect(t.of('OrderFilled')).toEqual([]);
    expect(t.desk.positions.open()).toEqual([]);
  });

  it('a position opened outside Rustro halts entries (reduce-only) until an operator decides; --flatten adopts and exits it', async () => {
    const manual: Position = { token: OTHER.token, symbol: OTHER.symbol, exchange: 'NFO', product: 'INTRADAY', netQty: 50, buyQty: 50, sellQty: 0, buyAvg: 88, sellAvg: 0 };
    const t = setup({ positions: [manual] });
    await t.desk.reconciler.run('start');
    expect(t.of('ReconciliationMismatch')).toEqual([{ mismatches: [expect.objectContaining({ kind: 'unknown_position', token: OTHER.token, ledgerQty: 0, brokerQty: 50 })], handling: 'leave' }]);
    expect(t.of('PositionAdopted')).toEqual([]); // "leave": not touched
    expect(t.desk.risk.entryBlock('NIFTY', 0, t.clock.now())).toMatchObject({ reason: 'reconciliation' });
    // The same mismatch on the next round is not reported again.
    await t.desk.reconciler.run('timer');
    expect(t.of('ReconciliationMismatch')).toHaveLength(1);
    // The operator flattens.
    writeFileSync(join(t.dir, RECONCILE_FILE), 'flatten\n');
    t.desk.reconciler.checkDecision();
    await new Promise((r) => setTimeout(r, 20));
    expect(t.of('PositionAdopted')).toEqual([expect.objectContaining({ token: OTHER.token, qty: 50, avgPrice: 88 })]);
    expect(t.of('ExitTriggered')).toEqual([expect.objectContaining({ reason: 'risk' })]);
    expect(t.of('ReconciliationResolved')).toEqual([expect.objectContaining({ decision: 'flatten' })]);
    expect(t.desk.risk.entryBlock('NIFTY', 0, t.clock.now())).toBeUndefined();
  });

  it('with unknown_position = "manage" the unknown position is adopted at once (its stop watches it), entries still halt', async () => {
    const manual: Position = { token: OTHER.token, symbol: OTHER.symbol, exchange: 'NFO', product: 'INTRADAY', netQty: 100, buyQty: 100, sellQty: 0, buyAvg: 50, sellAvg: 0 };
    const t = setup({ positions: [manual], config: (c) => ({ ...c, reconcile: { ...c.reconcile, unknown_position: 'manage' } }) });
    await t.desk.reconciler.run('start');
    expect(t.of('PositionAdopted')).toHaveLength(1);
    const p = t.desk.positions.open()[0]!;
    expect([openQty(p), p.stop]).toEqual([100, 40]); // the default 20 % stop below its average
    expect(t.desk.risk.entryBlock('NIFTY', 0, t.clock.now())?.reason).toBe('reconciliation');
  });

  it('a position adopted mid-session (a timer round) streams at once: its stop needs the ticks', async () => {
    const manual: Position = { token: OTHER.token, symbol: OTHER.symbol, exchange: 'NFO', product: 'INTRADAY', netQty: 100, buyQty: 100, sellQty: 0, buyAvg: 50, sellAvg: 0 };
    const t = setup({ positions: [manual], config: (c) => ({ ...c, reconcile: { ...c.reconcile, unknown_position: 'manage' } }) });
    await t.desk.reconciler.run('timer');
    await t.desk.reconciler.run('timer'); // a mismatch counts once seen in two rounds
    expect(t.of('PositionAdopted')).toHaveLength(1);
    expect(t.subscribed).toEqual([OTHER.token]);
  });

  it('a mismatch seen in only one round (a fill still on its way) is not reported', async () => {
    const broker: Parameters<typeof setup>[0] = {
      past: [['OrderIntentRecorded', intent('I5')], ['OrderPlaced', { intentId: 'I5', orderId: 'B5', foundByTag: false }]],
      orders: [order('B5', 'I5', 'open', 0, 0)],
      // Round 1 (timer): the broker already shows the position; its fill report has not arrived.
      positions: [{ token: CE.token, symbol: CE.symbol, exchange: 'NFO', product: 'INTRADAY', netQty: 100, buyQty: 100, sellQty: 0, buyAvg: 120, sellAvg: 0 }],
    };
    const t = setup(broker);
    await t.desk.reconciler.run('timer');
    expect(t.of('ReconciliationMismatch')).toEqual([]);
    // The report arrives; round 2 finds the books in agreement.
    t.bus.emit('OrderUpdated', { orderId: 'B5', tag: 'I5', state: 'filled', rawStatus: 'complete', filledQty: 100, avgFillPrice: 120, source: 'stream' });
    broker.orders = [order('B5', 'I5', 'filled', 100, 120)];
    await t.desk.reconciler.run('timer');
    expect(t.of('ReconciliationMismatch')).toEqual([]);
    // Round 1 applied the order's 'open' state; nothing was reported as a mismatch in either round.
    expect(t.of('ReconciliationCompleted').map((c) => c.action)).toEqual(['applied', 'none']);
    expect(t.desk.risk.entryBlock('NIFTY', 0, t.clock.now())).toBeUndefined();
  });

  describe('then the restart carries on with what was decided', () => {
    const AT = istToMillis('2024-02-15', '11:00');
    const signal: Payload<'SignalRaised'> = { signalId: 'adx-mtf:NIFTY:1:CE:entry', strategy: 'adx-mtf', underlying: 'NIFTY', action: 'entry', side: 'CE', tf: '1h', barTs: AT - 3_600_000, spot: 21_910, strikeOffset: 0, reason: 'test' };
    const pick: Payload<'OptionPicked'> = {
      signalId: signal.signalId, underlying: 'NIFTY', exchange: 'NFO', token: CE.token, symbol: CE.symbol, expiry: '2024-02-15', strike: 21_900, optionType: 'CE',
      lotSize: 50, spot: 21_910, atm: 21_900, rolled: false, checks: [],
    };
    const entryDecided: [EventType, unknown][] = [['SignalRaised', signal], ['OptionPicked', pick]];

    it('an entry whose order never reached the broker is sent once more, as a new intent with its own tag', async () => {
      const t = setup({ past: [...entryDecided, ['OrderIntentRecorded', intent('I5', { signalId: signal.signalId })]], orders: [], pastAt: AT - 10_000, ltp: 120 });
      await t.desk.reconciler.run('start');
      expect(t.desk.resume()).toMatchObject({ entries: [signal.signalId], exits: [] });
      await vi.waitFor(() => expect(t.sent).toHaveLength(1));
      expect(t.sent[0]).toMatchObject({ side: 'BUY' });
      expect(t.sent[0]!.tag).not.toBe('I5');
      expect(t.of('OrderIntentRecorded')).toEqual([expect.objectContaining({ signalId: signal.signalId, tag: t.sent[0]!.tag })]);
      expect(t.subscribed).toContain(CE.token);
    });

    it('an entry decided but never recorded as an intent (the daemon died before) is made', async () => {
      const t = setup({ past: entryDecided, orders: [], pastAt: AT - 10_000, ltp: 120 });
      await t.desk.reconciler.run('start');
      expect(t.desk.resume().entries).toEqual([signal.signalId]);
      await vi.waitFor(() => expect(t.sent).toHaveLength(1));
    });

    it('but not when its signal is older than orders.resume_entry_sec, when the broker has it, or when it was skipped', async () => {
      const old = setup({ past: entryDecided, orders: [], pastAt: AT - 61_000, ltp: 120 });
      await old.desk.reconciler.run('start');
      expect(old.desk.resume().entries).toEqual([]);
      const found = setup({ past: [...entryDecided, ['OrderIntentRecorded', intent('I6', { signalId: signal.signalId })]], orders: [order('B6', 'I6', 'open', 0, 0)], pastAt: AT - 10_000, ltp: 120 });
      await found.desk.reconciler.run('start');
      expect(found.desk.resume()).toMatchObject({ ladders: 1, entries: [] });
      const skipped = setup({ past: [...entryDecided, ['EntrySkipped', { signalId: signal.signalId, underlying: 'NIFTY', reason: 'zero_lots', detail: '', values: {} }]], orders: [], pastAt: AT - 10_000, ltp: 120 });
      await skipped.desk.reconciler.run('start');
      expect(skipped.desk.resume().entries).toEqual([]);
      const off = setup({ past: entryDecided, orders: [], pastAt: AT - 10_000, ltp: 120, config: (c) => ({ ...c, orders: { ...c.orders, resume_entry_sec: 0 } }) });
      await off.desk.reconciler.run('start');
      expect(off.desk.resume().entries).toEqual([]);
      await new Promise((r) => setTimeout(r, 10));
      expect([old, found, skipped, off].map((t) => t.placedCount())).toEqual([0, 0, 0, 0]);
    });

    const held: [EventType, unknown][] = [
      ['OrderIntentRecorded', intent('E1')], ['OrderPlaced', { intentId: 'E1', orderId: 'B1', foundByTag: false }],
      ['OrderFilled', { intentId: 'E1', brokerOrderId: 'B1', fillId: 'B1-100', qty: 100, price: 120, filledAt: AT - 60_000 }],
      ['OrderStateChanged', { intentId: 'E1', orderId: 'B1', from: 'new', to: 'filled' }],
      ['ExitTriggered', { positionId: 'P-E1', reason: 'technical', ltp: 118, detail: 'test' }],
    ];
    const longAtBroker: Position[] = [{ token: CE.token, symbol: CE.symbol, exchange: 'NFO', product: 'INTRADAY', netQty: 100, buyQty: 100, sellQty: 0, buyAvg: 120, sellAvg: 0 }];

    it('an exit triggered whose order was never recorded is triggered again and sent, and the held option is streamed again', async () => {
      const t = setup({ past: held, orders: [order('B1', 'E1', 'filled', 100, 120)], positions: longAtBroker, ltp: 118 });
      await t.desk.reconciler.run('start');
      expect(t.desk.resume().exits).toEqual(['P-E1']);
      expect(t.of('ExitTriggered')).toEqual([expect.objectContaining({ positionId: 'P-E1', reason: 'technical' })]);
      await vi.waitFor(() => expect(t.sent).toEqual([expect.objectContaining({ side: 'SELL', qty: 100 })]));
      expect(t.subscribed).toEqual([CE.token]);
    });

    it('an exit whose order never reached the broker is triggered again; one the broker has goes on with its ladder', async () => {
      const exitIntent = intent('X1', { side: 'SELL', purpose: 'exit', positionId: 'P-E1', price: 117.7 });
      const lost = setup({ past: [...held, ['OrderIntentRecorded', exitIntent]], orders: [order('B1', 'E1', 'filled', 100, 120)], positions: longAtBroker, ltp: 118 });
      await lost.desk.reconciler.run('start');
      expect(lost.of('OrderPlaceFailed')).toEqual([expect.objectContaining({ intentId: 'X1', code: 'NOT_AT_BROKER' })]);
      expect(lost.desk.resume().exits).toEqual(['P-E1']);
      await vi.waitFor(() => expect(lost.sent).toEqual([expect.objectContaining({ side: 'SELL', qty: 100 })]));
      expect(lost.sent[0]!.tag).not.toBe('X1');

      const working = setup({ past: [...held, ['OrderIntentRecorded', exitIntent]], orders: [order('B1', 'E1', 'filled', 100, 120), { ...order('B2', 'X1', 'open', 0, 0), side: 'SELL' }], positions: longAtBroker, ltp: 118 });
      await working.desk.reconciler.run('start');
      expect(working.desk.resume()).toMatchObject({ ladders: 1, exits: [] });
      await new Promise((r) => setTimeout(r, 10));
      expect(working.placedCount()).toBe(0);
    });
  });

  it('an option streams while an order or a position needs it: a cancelled entry stops it, a late fill of that order streams it again', async () => {
    const t = setup({ past: [['OrderIntentRecorded', intent('I9')], ['OrderPlaced', { intentId: 'I9', orderId: 'B9', foundByTag: false }]] });
    t.desk.resume(); // a restart: the working entry's option streams
    expect(t.subscribed).toEqual([CE.token]);
    t.bus.emit('OrderUpdated', { orderId: 'B9', tag: 'I9', state: 'cancelled', rawStatus: 'cancelled', filledQty: 0, avgFillPrice: 0, source: 'stream' });
    expect(t.unsubscribed).toEqual([CE.token]);
    // The exchange filled it before the cancel took: the fill arrives after the order ended, and opens a position.
    t.bus.emit('OrderUpdated', { orderId: 'B9', tag: 'I9', state: 'filled', rawStatus: 'complete', filledQty: 100, avgFillPrice: 120, source: 'stream' });
    expect(t.desk.positions.open().map((p) => openQty(p))).toEqual([100]);
    expect(t.subscribed).toEqual([CE.token, CE.token]);
    expect(t.unsubscribed).toEqual([CE.token]);
  });

  it('paper mode: the ledger is the books, nothing to compare', async () => {
    const t = setup({ config: (c) => ({ ...c, trading: { ...c.trading, enable_paper_trading: true } }) });
    await t.desk.reconciler.run('start');
    expect(t.of('ReconciliationCompleted')[0]).toMatchObject({ mode: 'paper', action: 'skipped' });
  });
});
