/**
 * A daemon connected to the simulator at 15:29 of one trading day, the
 * simulator going on to `next` after the night (the weekend or holiday
 * between them has no session): for the tests of nights and mornings. Market
 * time is the simulator's; network time (TOTP, heartbeats, backoff,
 * rate-limit windows) is `io`, a test clock shared with the simulator that
 * moves only when the test says, so nothing waits on real time but loopback
 * I/O. What it starts is closed by `closeOvernights` (the caller's afterEach),
 * also when a later step of the test throws.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Daemon } from '../../../src/app/daemon.js';
import type { SimClock } from '../../../src/core/clock.js';
import { defaultConfig } from '../../../src/core/config.js';
import type { RustroEvent } from '../../../src/core/events.js';
import { silentLogger } from '../../../src/core/log.js';
import { createMarket } from '../../../src/sim/market/market.js';
import { demoAccountSecrets } from '../../../src/sim/server/auth.js';
import { type SimServer, startSimServer } from '../../../src/sim/server/server.js';

export type Overnight = { sim: SimServer; daemon: Daemon; events: RustroEvent[] };

const live: (() => Promise<void> | void)[] = [];

/** Stops every daemon and simulator `startOvernight` made, newest first, and removes their data dirs. */
export async function closeOvernights(): Promise<void> {
  while (live.length > 0) await live.pop()!();
}

/** `first` and `next` are trading days (YYYY-MM-DD); the morning login is at 08:45. */
export async function startOvernight(o: { first: string; next: string; io: SimClock }): Promise<Overnight> {
  let next: string | undefined = o.next;
  const nextMarket = () => {
    const day = next;
    next = undefined;
    return day === undefined ? undefined : createMarket({ day, seed: 3 });
  };
  const sim = await startSimServer({ market: createMarket({ day: o.first, seed: 3 }), nextMarket, port: 0, speed: 0, start: '15:29', wallClock: o.io, rateLimits: false });
  live.push(() => sim.close());
  const dir = mkdtempSync(join(tmpdir(), 'rustro-overnight-'));
  live.push(() => rmSync(dir, { recursive: true, force: true }));
  const base = defaultConfig();
  const config = {
    ...base,
    app: { ...base.app, data_dir: dir },
    broker: { ...base.broker, api_base_url: sim.url, instrument_master_url: sim.masterUrl, feed_url: sim.streamUrl, order_updates_url: sim.orderUrl, daily_login_ist: '08:45' },
    watchlist: base.watchlist.filter((w) => w.exchange === 'NSE'),
  };
  const events: RustroEvent[] = [];
  const daemon = await Daemon.start({ config, clock: sim.clock, ioClock: o.io, log: silentLogger(), secrets: demoAccountSecrets(), onEvent: (e) => events.push(e) });
  live.push(async () => {
    await daemon.stop('test over');
  });
  return { sim, daemon, events };
}
