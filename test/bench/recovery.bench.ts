/**
 * Recovery at start (issue 8 goal: ≤ 1 s for a full day's ledger): today's
 * ledger read back through the daemon's folds (order book, positions, risk,
 * the strategy's facts) with `replayToday`, then one reconciliation round
 * against a broker whose books agree. The day is synthetic but full-sized:
 * every 1-minute bar of three indices and two options (1,875), a scalper
 * evaluation per minute for two indices (750), and 200 round trips with a
 * ladder step, fills and 20 trailing-stop moves each (6,400 events) — far
 * more trading than a real day.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { replayToday } from '../../src/app/restore.js';
import { BusJournal } from '../../src/app/journal.js';
import { InstrumentIndex } from '../../src/broker/smartapi/instrument-index.js';
import { EventBus } from '../../src/core/bus.js';
import { SimClock, istToMillis } from '../../src/core/clock.js';
import { defaultConfig } from '../../src/core/config.js';
import type { RustroEvent } from '../../src/core/events.js';
import { Ledger } from '../../src/core/ledger.js';
import { DEFAULT_CALENDAR_DIR, TradingCalendar } from '../../src/market/calendar.js';
import { BarStore } from '../../src/market/bar-store.js';
import { StrategyRunner } from '../../src/strategy/strategy-runner.js';
import { TradingDesk } from '../../src/trading/trading-desk.js';
import type { Bench } from './harness.js';

const DAY = '2024-02-15';

function day(): RustroEvent[] {
  const out: RustroEvent[] = [];
  const open = istToMillis(DAY, '09:15');
  const tokens = ['99926000', '99926009', '99926017', '43000', '43001'];
  for (let m = 0; m < 375; m++) {
    const ts = open + m * 60_000;
    for (const token of tokens) {
      out.push({ type: 'BarClosed', ts: ts + 60_000, data: { token, exchange: token.startsWith('99') ? 'NSE' : 'NFO', tf: '1m', ts, end: ts + 60_000, open: 100, high: 101, low: 99, close: 100.5, ticks: 240, backfilled: false, closedBy: 'tick' } });
    }
    for (const underlying of ['NIFTY', 'BANKNIFTY']) {
      out.push({ type: 'StrategyEvaluated', ts: ts + 60_000, data: { strategy: 'supertrend-scalper', underlying, tf: '1m', barTs: ts, outcome: 'avoid', checks: [{ name: 'supertrends_agree', value: '1/-1', limit: 'same', passed: false }, { name: 'adx_1m', value: 22.5, limit: '>= 18', passed: true }], failed: ['supertrends_agree'] } });
    }
  }
  for (let k = 0; k < 200; k++) {
    const ts = open + 20 * 60_000 + k * 90_000;
    const id = `E${k}`;
    const x = `X${k}`;
    const base = { signalId: `s${k}`, strategy: 'supertrend-scalper', underlying: 'NIFTY', exchange: 'NFO' as const, symbol: 'NIFTY15FEB2421900CE', token: '43000', orderType: 'LIMIT' as const, qty: 100, positionId: `P${k}` };
    out.push({ type: 'OrderIntentRecorded', ts, data: { ...base, intentId: id, tag: id, side: 'BUY', price: 100, purpose: 'entry', attempt: 0 } });
    out.push({ type: 'OrderPlaced', ts, data: { intentId: id, orderId: `B${id}`, foundByTag: false } });
    out.push({ type: 'OrderRepriced', ts: ts + 5000, data: { intentId: id, orderId: `B${id}`, attempt: 1, orderType: 'LIMIT', price: 100.5 } });
    out.push({ type: 'OrderStateChanged', ts: ts + 6000, data: { intentId: id, orderId: `B${id}`, from: 'new', to: 'filled', filledQty: 100 } });
    out.push({ type: 'OrderFilled', ts: ts + 6000, data: { intentId: id, brokerOrderId: `B${id}`, fillId: `F${id}`, qty: 100, price: 100.4, filledAt: ts + 6000 } });
    for (let s = 0; s < 20; s++) out.push({ type: 'PositionStopMoved', ts: ts + 7000 + s * 1000, data: { positionId: `P${k}`, stop: 95 + s * 0.05, high: 100 + s * 0.05, reason: 'trailing' } });
    out.push({ type: 'ExitTriggered', ts: ts + 60_000, data: { positionId: `P${k}`, reason: 'trailing_stop', ltp: 99, detail: 'bench' } });
    out.push({ type: 'OrderIntentRecorded', ts: ts + 60_000, data: { ...base, intentId: x, tag: x, side: 'SELL', price: 98.9, purpose: 'exit', attempt: 0 } });
    out.push({ type: 'OrderPlaced', ts: ts + 60_000, data: { intentId: x, orderId: `B${x}`, foundByTag: false } });
    out.push({ type: 'OrderStateChanged', ts: ts + 61_000, data: { intentId: x, orderId: `B${x}`, from: 'new', to: 'filled', filledQty: 100 } });
    out.push({ type: 'OrderFilled', ts: ts + 61_000, data: { intentId: x, brokerOrderId: `B${x}`, fillId: `F${x}`, qty: 100, price: 99, filledAt: ts + 61_000 } });
    out.push({ type: 'PositionClosed', ts: ts + 61_000, data: { positionId: `P${k}`, strategy: 'supertrend-scalper', underlying: 'NIFTY', symbol: base.symbol, qty: 100, entryAvg: 100.4, exitAvg: 99, grossPnl: -140, charges: 60, netPnl: -200, reason: 'trailing_stop' } });
  }
  return out.sort((a, b) => a.ts - b.ts);
}

const bench: Bench = {
  title: 'Recovery at start (replay today\'s ledger through the books, then reconcile)',
  async run(report) {
    const dir = mkdtempSync(join(tmpdir(), 'rustro-recovery-bench-'));
    try {
      const ledger = await Ledger.open(join(dir, 'ledger'), { groupCommitMs: 5, groupCommitEvents: 5000 });
      const events = day();
      for (const e of events) void ledger.append(e);
      await ledger.close();
      const calendar = TradingCalendar.load(DEFAULT_CALENDAR_DIR);
      const base = defaultConfig();
      const config = { ...base, app: { ...base.app, data_dir: dir }, trading: { ...base.trading, enable_paper_trading: false }, strategy: { ...base.strategy, active: 'supertrend-scalper' as const } };
      const samples: number[] = [];
      let replayed = 0;
      for (let round = 0; round < 7; round++) {
        const clock = new SimClock(istToMillis(DAY, '15:00'));
        const bus = new EventBus(clock);
        const store = new BarStore({ capacity: 500 });
        const t0 = process.hrtime.bigint();
        const reopened = await Ledger.open(join(dir, 'ledger'), { groupCommitMs: 5, groupCommitEvents: 5000 });
        const desk = new TradingDesk({
          bus, clock, calendar, config, journal: new BusJournal(bus), instruments: () => new InstrumentIndex([]), subscribe: () => {}, unsubscribe: () => {}, vix: { exchange: 'NSE', token: '99926017' },
          broker: { placeOrder: async () => ({ orderId: 'x' }), modifyOrder: async (id) => ({ orderId: id }), cancelOrder: async () => {}, quotes: async () => [], orderBook: async () => [], positions: async () => [] },
        });
        const runner = new StrategyRunner({ bus, clock, calendar, config, bars: (ref, tf) => store.ring(ref, tf), underlyings: [], vix: { exchange: 'NSE', token: '99926017' }, instruments: () => undefined });
        replayed = await replayToday(join(dir, 'ledger'), clock.now(), reopened.lastSeq, [(e) => desk.apply(e), (e) => runner.apply(e)]);
        await desk.reconciler.run('start');
        const ms = Number(process.hrtime.bigint() - t0) / 1e6;
        await reopened.close();
        if (round >= 2) samples.push(ms);
      }
      samples.sort((a, b) => a - b);
      report('recovery.full_day_ms', samples[samples.length >> 1]!, 'ms', `median of 5: open + replay ${replayed.toLocaleString('en-US')} events through the books + one reconciliation (goal ≤ 1000 ms)`);
      report('recovery.full_day_max_ms', samples[samples.length - 1]!, 'ms');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};

export default bench;
