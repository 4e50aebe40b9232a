/**
 * What the daemon needs from its connection to a market: a broker behind the
 * port (orders, quotes, candles, the day's instruments), a tick stream it can
 * subscribe options on, and a life (connect, disconnect). `BrokerLink` is the
 * live one (SmartAPI over the network); `backtest/replay-link.ts` replays the
 * simulator's market in-process, without sockets, for `rustro backtest`.
 */
import type { Broker, FeedMode, InstrumentRef } from '../broker/broker.js';
import type { InstrumentIndex } from '../broker/smartapi/instrument-index.js';
import type { Config } from '../core/config.js';

/** The feed's counters the health endpoint, the watchdog and the lock-step read. */
export type FeedReadings = { readonly frames: number; readonly ticks: number; readonly rejected: number; readonly reconnects: number };

export interface MarketLink {
  readonly broker: Broker & { readonly instrumentIndex: InstrumentIndex | undefined };
  readonly feed: {
    subscribe(refs: InstrumentRef[], mode: FeedMode): void;
    unsubscribe(refs: InstrumentRef[], mode: FeedMode): void;
    readonly counters: FeedReadings;
    readonly openConnections: number;
    readonly subscriptionCount: number;
  };
  /** Link work in flight (the morning routine, broker requests): an in-process replay waits for it. */
  readonly busy: boolean;
  /** The active watchlist as feed references. */
  watchlist(): InstrumentRef[];
  /** Logs in, loads the day's instruments, subscribes the watchlist, starts the streams. Throws if refused. */
  connect(): Promise<void>;
  disconnect(): Promise<void>;
}

/** The config's active watchlist as feed references: what a link streams and the pipeline restores. */
export function activeWatchlist(config: Config): InstrumentRef[] {
  return config.watchlist.filter((w) => w.active).map((w) => ({ exchange: w.exchange, token: w.token }));
}
