/**
 * A daemon wired to an in-process `rustro sim` over real loopback sockets:
 * what `npm start` runs, and what end-to-end tests drive. The daemon's events
 * follow the simulator's market time; its network pacing stays on real time.
 * With `days` > 1 the simulator replays consecutive trading days and the one
 * daemon lives through the nights (the soak).
 */
import { join } from 'node:path';
import { RealClock } from '../core/clock.js';
import type { Config } from '../core/config.js';
import type { RustroEvent } from '../core/events.js';
import type { Logger } from '../core/log.js';
import { type MarketOptions, consecutiveSessions, createMarket } from '../sim/market/market.js';
import { demoAccountSecrets } from '../sim/server/auth.js';
import type { FaultSpec } from '../sim/server/faults.js';
import { type SimServer, startSimServer } from '../sim/server/server.js';
import { Daemon } from './daemon.js';

export type SimSessionOptions = {
  /** The base config; its broker URLs and data dir are replaced. */
  config: Config;
  dataDir: string;
  /** The (first) day replayed. */
  day: string;
  /** Consecutive trading days from `day` on (weekends and holidays skipped), without a restart. Default 1. */
  days?: number;
  seed: number;
  log: Logger;
  onEvent?: (event: RustroEvent) => void;
  /** Market options beyond day and seed (a crafted shock, a fixed VIX …). */
  market?: Omit<MarketOptions, 'day' | 'seed'>;
  /** Simulator faults active from the start. */
  faults?: FaultSpec;
};

export type SimSession = { sim: SimServer; daemon: Daemon };

/** Starts the simulator paused at the open and a daemon connected to it; the caller sets the speed. */
export async function startSimSession(o: SimSessionOptions): Promise<SimSession> {
  const days = (o.days ?? 1) > 1 ? consecutiveSessions({ from: o.day, count: o.days! }) : [o.day];
  const market = createMarket({ ...o.market, day: days[0]!, seed: o.seed });
  // Each next day's market is built when the night before it begins, so one day's chain is held at a time.
  let next = 1;
  const nextMarket = (): ReturnType<typeof createMarket> | undefined => (next < days.length ? createMarket({ ...o.market, day: days[next++]!, seed: o.seed }) : undefined);
  const sim = await startSimServer({
    market, port: 0, speed: 0, seed: o.seed,
    ...(days.length > 1 ? { nextMarket } : {}),
    ...(o.faults === undefined ? {} : { faults: o.faults }),
  });
  const config = configForSim(o.config, sim, o.dataDir);
  try {
    const daemon = await Daemon.start({
      config,
      clock: sim.clock,
      ioClock: new RealClock(),
      log: o.log,
      secrets: demoAccountSecrets(),
      ...(o.onEvent === undefined ? {} : { onEvent: o.onEvent }),
    });
    // At full speed the replay moves in lock-step with the daemon: the next market step waits until
    // the daemon has read every frame sent and finished its work in flight (orders, fsyncs, picks,
    // the morning's login, master and reconnects) and, with consecutive days, until the simulator has
    // read every subscription its feed holds (after the morning's reconnect, before the open).
    // So its clock is never ahead of the ticks it acts on, and a session replays the same way every
    // time: the same seed gives the same ledger (as a backtest would).
    const link = daemon.broker;
    const behind = (): boolean => sim.framesSent() - (link?.feed.counters.frames ?? 0) > 0;
    if (days.length === 1) sim.holdWhile(() => daemon.busy || behind());
    else {
      const unsynced = (): boolean => {
        if (link === undefined || link.feed.openConnections === 0) return false;
        const l = sim.marketLink();
        return l.connections !== link.feed.openConnections || l.requested !== link.feed.subscriptionCount;
      };
      sim.holdWhile(() => daemon.busy || (link?.busy ?? false) || behind() || unsynced());
    }
    return { sim, daemon };
  } catch (err) {
    await sim.close();
    throw err;
  }
}

/** The watchlist a simulator can serve: it replays NSE indices only, so there is no SENSEX to stream. */
export function simWatchlist(watchlist: Config['watchlist']): Config['watchlist'] {
  return watchlist.map((w) => (w.exchange === 'BSE' ? { ...w, active: false } : w));
}

/** The config pointed at a simulator: its URLs, a data dir, and only the indices it replays. */
export function configForSim(base: Config, sim: Pick<SimServer, 'url' | 'masterUrl' | 'streamUrl' | 'orderUrl'>, dataDir: string): Config {
  return {
    ...base,
    app: { ...base.app, data_dir: dataDir },
    broker: {
      ...base.broker,
      api_base_url: sim.url,
      instrument_master_url: sim.masterUrl,
      feed_url: sim.streamUrl,
      order_updates_url: sim.orderUrl,
    },
    watchlist: simWatchlist(base.watchlist),
  };
}

export const demoDataDir = (base: Config): string => join(base.app.data_dir, 'demo');
