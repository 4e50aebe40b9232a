/**
 * The desk's folds at a day's rollover: what is over by then (closed
 * positions, entries that ended without a fill, their final orders) goes with
 * the first event of the next IST day — a restart, which replays only today's
 * ledger, would not know it either — while an open position, a working order
 * and their history stay. A daemon that runs for months holds today's
 * finished items, not every order it ever made.
 */
import { describe, expect, it } from 'vitest';
import type { Broker, Instrument } from '../../src/broker/broker.js';
import { InstrumentIndex } from '../../src/broker/smartapi/instrument-index.js';
import { BusJournal } from '../../src/app/journal.js';
import { EventBus } from '../../src/core/bus.js';
import { SimClock, istToMillis } from '../../src/core/clock.js';
import { defaultConfig } from '../../src/core/config.js';
import type { EventType, Payload, RustroEvent } from '../../src/core/events.js';
import { DEFAULT_CALENDAR_DIR, TradingCalendar } from '../../src/market/calendar.js';
import { openQty } from '../../src/trading/positions.js';
import { TradingDesk } from '../../src/trading/trading-desk.js';

const calendar = TradingCalendar.load(DEFAULT_CALENDAR_DIR);
const CE: Instrument = { token: '43000', symbol: 'NIFTY15FEB2421900CE', name: 'NIFTY', exchange: 'NFO', kind: 'option', expiry: '2024-02-15', strike: 21_900, optionType: 'CE', lotSize: 50, tickSize: 0.05, freezeQty: 1800 };
const DAY1 = istToMillis('2024-02-14', '11:00');
const DAY2 = istToMillis('2024-02-15', '09:00');

function desk(): TradingDesk {
  const base = defaultConfig();
  const config = { ...base, trading: { ...base.trading, enable_paper_trading: false } };
  const clock = new SimClock(DAY1);
  const bus = new EventBus(clock);
  const broker: Pick<Broker, 'placeOrder' | 'modifyOrder' | 'cancelOrder' | 'quotes' | 'orderBook' | 'positions'> = {
    placeOrder: async () => ({ orderId: 'X' }), modifyOrder: async (orderId) => ({ orderId }), cancelOrder: async () => {},
    quotes: async () => [], orderBook: async () => [], positions: async () => [],
  };
  const index = new InstrumentIndex([CE]);
  return new TradingDesk({ bus, clock, calendar, config, journal: new BusJournal(bus), broker, instruments: () => index, subscribe: () => {}, unsubscribe: () => {}, vix: { exchange: 'NSE', token: '99926017' } });
}

const ev = <T extends EventType>(type: T, data: Payload<T>, ts = DAY1): RustroEvent => ({ type, ts, data }) as RustroEvent;

function intent(id: string, positionId: string, over: Partial<Payload<'OrderIntentRecorded'>> = {}): RustroEvent {
  return ev('OrderIntentRecorded', {
    intentId: id, tag: id, signalId: `S-${positionId}`, strategy: 'adx-mtf', underlying: 'NIFTY', exchange: 'NFO', symbol: CE.symbol, token: CE.token,
    side: 'BUY', orderType: 'LIMIT', qty: 100, price: 120, purpose: 'entry', attempt: 0, positionId, ...over,
  });
}
const placed = (id: string): RustroEvent => ev('OrderPlaced', { intentId: id, orderId: `B-${id}`, foundByTag: false });
const filled = (id: string, qty: number, price: number): RustroEvent[] => [
  ev('OrderFilled', { intentId: id, brokerOrderId: `B-${id}`, fillId: `B-${id}-${qty}`, qty, price, filledAt: DAY1 }),
  ev('OrderStateChanged', { intentId: id, orderId: `B-${id}`, from: 'open', to: 'filled', filledQty: qty }),
];
const exit = (id: string, positionId: string): RustroEvent => intent(id, positionId, { side: 'SELL', purpose: 'exit', price: 0, orderType: 'MARKET' });

/** Day 1: A opened and closed; B bought and its exit rejected (held overnight); C's entry still working; D's entry rejected unfilled. */
function dayOne(d: TradingDesk): void {
  const events: RustroEvent[] = [
    ev('SignalRaised', { signalId: 'S-A', strategy: 'adx-mtf', underlying: 'NIFTY', action: 'entry', side: 'CE', tf: '1h', barTs: DAY1, spot: 21_900, strikeOffset: 0, reason: 'test' }),
    intent('EA', 'PA'), placed('EA'), ...filled('EA', 100, 120),
    exit('XA', 'PA'), placed('XA'), ...filled('XA', 100, 130),
    ev('PositionClosed', {
      positionId: 'PA', strategy: 'adx-mtf', underlying: 'NIFTY', symbol: CE.symbol, qty: 100, entryAvg: 120, exitAvg: 130, grossPnl: 1000, charges: 50, netPnl: 950, reason: 'target',
    }),
    intent('EB', 'PB'), placed('EB'), ...filled('EB', 100, 110),
    exit('XB', 'PB'), placed('XB'), ev('OrderStateChanged', { intentId: 'XB', orderId: 'B-XB', from: 'open', to: 'rejected', filledQty: 0 }),
    intent('EC', 'PC'), placed('EC'), ev('OrderStateChanged', { intentId: 'EC', orderId: 'B-EC', from: 'new', to: 'open', filledQty: 0 }),
    intent('ED', 'PD'), ev('OrderPlaceFailed', { intentId: 'ED', outcome: 'rejected', code: 'AB1', message: 'no' }),
  ];
  for (const e of events) d.apply(e);
}

describe('TradingDesk: the day rolls in its fold', () => {
  it('the first event of the next day forgets what is over; open positions, working orders and their history stay', () => {
    const d = desk();
    dayOne(d);
    expect(d.book.all()).toHaveLength(6);
    expect(d.positions.get('PA')?.closed).toBe(true);

    d.apply(ev('FeedResumed', { staleMs: 0 }, DAY2));

    expect(d.book.all().map((o) => o.intent.intentId)).toEqual(['EB', 'XB', 'EC']);
    for (const id of ['EA', 'XA', 'ED']) {
      expect(d.book.get(id)).toBeUndefined();
      expect(d.book.wasUsed(id)).toBe(false);
    }
    expect(d.book.byOrderId('B-EA')).toBeUndefined();
    expect(d.positions.get('PA')).toBeUndefined();
    expect(d.positions.get('PD')).toBeUndefined();
    expect(d.positions.intent('EA')).toBeUndefined();
    // Held overnight: the position, its entry and its rejected exit (the next exit is attempt 1, not a reused tag).
    expect(d.positions.open().map((p) => [p.id, openQty(p)])).toEqual([['PB', 100], ['PC', 0]]);
    expect(d.book.get('XB')?.state).toBe('rejected');
    expect(d.positions.intent('EB')).toBeDefined();
    expect(d.positions.holds(CE.token)).toBe(true);
    expect(d.book.working().map((o) => o.intent.intentId)).toEqual(['EC']);
  });

  it('a late event stamped before midnight does not roll the day back; the next day rolls once', () => {
    const d = desk();
    dayOne(d);
    d.apply(ev('FeedResumed', { staleMs: 0 }, DAY2));
    // Today's finished order, then a late one of yesterday: neither forgets anything.
    d.apply({ ...intent('EE', 'PE'), ts: DAY2 });
    d.apply(ev('OrderPlaceFailed', { intentId: 'EE', outcome: 'rejected', code: 'AB1', message: 'no' }, DAY2));
    d.apply(ev('FeedResumed', { staleMs: 0 }, DAY1));
    d.apply(ev('FeedResumed', { staleMs: 0 }, DAY2 + 60_000));
    expect(d.book.get('EE')?.state).toBe('rejected');
    expect(d.positions.get('PE')).toBeDefined();
    // The day after: today's finished entry goes too.
    d.apply(ev('FeedResumed', { staleMs: 0 }, DAY2 + 86_400_000));
    expect(d.book.get('EE')).toBeUndefined();
    expect(d.book.all().map((o) => o.intent.intentId)).toEqual(['EB', 'XB', 'EC']);
  });
});
