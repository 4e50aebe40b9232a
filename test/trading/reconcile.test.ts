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
import { describe, expect, it } from 'vitest';
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

function setup(o: { orders?: Order[]; positions?: Position[]; config?: (c: Config) => Config; past?: [EventType, unknown][] } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'rustro-reconcile-'));
  const base = defaultConfig();
  const config = (o.config ?? ((c) => c))({ ...base, app: { ...base.app, data_dir: dir }, trading: { ...base.trading, enable_paper_trading: false } });
  const clock = new SimClock(istToMillis('2024-02-15', '11:00'));
  const bus = new EventBus(clock);
  const events: RustroEvent[] = [];
  bus.onAny((e) => events.push(e), 'test');
  let placed = 0;
  const broker: Pick<Broker, 'placeOrder' | 'modifyOrder' | 'cancelOrder' | 'quotes' | 'orderBook' | 'positions'> = {
    placeOrder: async () => ({ orderId: `X${++placed}` }),
    modifyOrder: async (orderId) => ({ orderId }),
    cancelOrder: async () => {},
    quotes: async () => [],
    orderBook: async () => o.orders ?? [],
    positions: async () => o.positions ?? [],
  };
  const index = new InstrumentIndex([CE, OTHER]);
  const desk = new TradingDesk({ bus, clock, calendar, config, journal: new BusJournal(bus), broker, instruments: () => index, subscribe: () => {}, vix: { exchange: 'NSE', token: '99926017' } });
  desk.start();
  // The ledger of the day so far, as a restart would have replayed it.
  for (const [type, data] of o.past ?? []) bus.publish({ type, ts: clock.now(), data } as RustroEvent);
  const of = <T extends EventType>(t: T) => events.filter((e) => e.type === t).map((e) => e.data as Payload<T>);
  return { desk, bus, clock, dir, of, placedCount: () => placed };
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

  it('paper mode: the ledger is the books, nothing to compare', async () => {
    const t = setup({ config: (c) => ({ ...c, trading: { ...c.trading, enable_paper_trading: true } }) });
    await t.desk.reconciler.run('start');
    expect(t.of('ReconciliationCompleted')[0]).toMatchObject({ mode: 'paper', action: 'skipped' });
  });
});
