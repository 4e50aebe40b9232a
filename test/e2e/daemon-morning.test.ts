/**
 * The daily rollover: the broker session dies at midnight IST, so every
 * morning before the open the daemon logs in afresh, reloads the instrument
 * master and reconnects both sockets on the new tokens (a socket left on
 * yesterday's token is how other bots end up with a mute feed at the open).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { Daemon } from '../../src/app/daemon.js';
import { demoAccountSecrets } from '../../src/sim/server/auth.js';
import { SimClock, istToMillis } from '../../src/core/clock.js';
import { defaultConfig } from '../../src/core/config.js';
import type { RustroEvent } from '../../src/core/events.js';
import { createLogger } from '../../src/core/log.js';
import { createMarket } from '../../src/sim/market/market.js';
import { type SimServer, startSimServer } from '../../src/sim/server/server.js';
import { waitFor as until } from '../support/wait.js';

const DAY = '2024-01-02';
let sim: SimServer | undefined;
let daemon: Daemon | undefined;
let dir: string | undefined;
afterEach(async () => {
  await daemon?.stop('test over');
  await sim?.close();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

const settle = () => new Promise((r) => setTimeout(r, 5));

describe('morning re-login', () => {
  it('at daily_login_ist logs in again, reloads instruments and reconnects the feed with the watchlist resubscribed', async () => {
    // Network time (TOTP, heartbeats, the re-login timer) is a test clock shared with the simulator; it starts 10 s before 08:45.
    const io = new SimClock(istToMillis(DAY, '08:44:50'));
    sim = await startSimServer({ market: createMarket({ day: DAY, seed: 3 }), port: 0, speed: 0, start: '10:00', wallClock: io, rateLimits: false });
    dir = mkdtempSync(join(tmpdir(), 'rustro-morning-'));
    const base = defaultConfig();
    const config = {
      ...base,
      app: { ...base.app, data_dir: dir },
      broker: { ...base.broker, api_base_url: sim.url, instrument_master_url: sim.masterUrl, feed_url: sim.streamUrl, order_updates_url: sim.orderUrl, daily_login_ist: '08:45' },
      watchlist: base.watchlist.filter((w) => w.exchange === 'NSE'),
    };
    const events: RustroEvent[] = [];
    const log = createLogger({ level: 'fatal', format: 'json', destination: new Writable({ write: (_c, _e, cb) => cb() }) as never, isTty: false });
    daemon = await Daemon.start({ config, clock: sim.clock, ioClock: io, log, secrets: demoAccountSecrets(), onEvent: (e) => events.push(e) });
    const count = (type: string) => events.filter((e) => e.type === type).length;
    expect([count('BrokerLoggedIn'), count('InstrumentsLoaded'), count('FeedConnected')]).toEqual([1, 1, 1]);
    await until(() => sim!.state().subscriptions === 3, 'the first subscription');

    for (let t = 0; t < 11; t++) {
      io.advanceBy(1000);
      await settle();
    }
    await until(() => count('FeedConnected') === 2 && sim!.state().subscriptions === 3, 'the feed to reconnect and resubscribe');
    expect(count('BrokerLoggedIn')).toBe(2);
    expect(count('InstrumentsLoaded')).toBe(2);
    expect(events.filter((e) => e.type === 'FeedDisconnected').map((e) => (e.data as { reason: string }).reason)).toEqual(['stopped']);
    // Ticks flow on the new connection.
    const before = count('Tick');
    await sim.advanceBy(5_000);
    await until(() => count('Tick') > before, 'ticks after the reconnect');
  });
});
