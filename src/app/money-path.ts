/**
 * Builds the money path for a daemon: the broker orders go to (the paper
 * broker in paper mode, the SmartAPI adapter live), the trading desk, the
 * feed subscription for the options it trades, and the operator's files in
 * the data directory (KILL: the kill switch; RECONCILE: a decision about a
 * reconciliation mismatch), looked at every second.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { type Broker, type InstrumentRef, orderUpdatedOf } from '../broker/broker.js';
import { PaperBroker } from '../broker/paper/paper-broker.js';
import type { EventBus } from '../core/bus.js';
import type { Clock, TimerHandle } from '../core/clock.js';
import type { Config } from '../core/config.js';
import type { TradingCalendar } from '../market/calendar.js';
import type { Journal } from '../trading/order-manager.js';
import { TradingDesk } from '../trading/trading-desk.js';
import type { MarketLink } from './market-link.js';

export const KILL_FILE = 'KILL';

export type MoneyPath = { desk: TradingDesk; paper: PaperBroker | undefined; stop(flatten: boolean, timeoutMs: number): Promise<void> };

export function startMoneyPath(o: {
  bus: EventBus;
  clock: Clock;
  ioClock: Clock;
  calendar: TradingCalendar;
  config: Config;
  journal: Journal;
  link: MarketLink;
  vix: InstrumentRef;
  /** Distinguishes paper order ids across restarts of one day (the ledger's last seq at start). */
  runId: string;
  /** Poll the KILL and RECONCILE files (false in a backtest: no operator, and a simulated second is microseconds). */
  operatorFiles: boolean;
}): MoneyPath {
  const { bus, clock, config, link } = o;
  const index = () => link.broker.instrumentIndex;
  let paper: PaperBroker | undefined;
  let orders: Broker = link.broker;
  if (config.trading.enable_paper_trading) {
    paper = new PaperBroker({
      data: link.broker, clock, settings: config.paper, capital: config.trading.capital, idPrefix: `PAPER${o.runId}`,
      instrumentOf: (exchange, token) => index()?.get({ exchange: exchange as InstrumentRef['exchange'], token }),
      // The paper exchange reports like the live order-status stream, so the ledger looks the same.
      onOrderUpdate: (u) => bus.emit('OrderUpdated', orderUpdatedOf(u, 'stream')),
    });
    const p = paper;
    bus.on('Tick', (e) => p.onTick(e.data), 'paper fills');
    orders = paper;
  }
  const desk = new TradingDesk({
    bus, clock, calendar: o.calendar, config, journal: o.journal, broker: orders, instruments: index, vix: o.vix,
    subscribe: (refs) => link.feed.subscribe(refs, config.feed.mode),
    unsubscribe: (refs) => link.feed.unsubscribe(refs, config.feed.mode),
  });
  desk.start();
  // The kill switch's file: checked every second on the I/O clock (it is an operator's hand, not market time).
  const killFile = join(config.app.data_dir, KILL_FILE);
  const poll: TimerHandle | undefined = !o.operatorFiles ? undefined : o.ioClock.setInterval(1000, () => {
    if (existsSync(killFile)) desk.kill('file', `${killFile} exists`);
    desk.reconciler.checkDecision();
  });
  return {
    desk,
    paper,
    async stop(flatten, timeoutMs) {
      if (poll !== undefined) o.ioClock.cancel(poll);
      desk.beginStop(flatten);
      // Waits on the I/O clock: the broker's answers to the exits come in real time, whatever the market clock does.
      const deadline = o.ioClock.now() + timeoutMs;
      while (flatten && !desk.flat && o.ioClock.now() < deadline) {
        await new Promise<void>((r) => o.ioClock.setTimer(o.ioClock.now() + 50, r));
      }
      await desk.stop();
    },
  };
}
