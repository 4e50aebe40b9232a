/**
 * The SmartAPI adapter wired to the simulator over real loopback sockets.
 *
 * Time: ONE `SimClock` ("test clock") is the adapter's Clock (bus stamps,
 * TOTP, feed and order-socket timers, limiter hand-backs) AND the simulator's
 * `wallClock` (TOTP check, stall and ack-delay faults). Nothing moves it but
 * the test, so heartbeats, dead-link and mute detection, reconnect backoff
 * and delayed acknowledgements happen exactly when a test says. Sim (market)
 * time is separate: paused, moved with `sim.advanceBy` / `advanceTo`.
 *
 * Consequences, deliberate: the adapter's client-side rate limits are
 * widened (their hand-back timers would otherwise wait for the test clock;
 * the limiter has its own unit tests) and the simulator's §9 limits are off.
 * HTTP timeouts and p-retry backoff run on real time, kept to milliseconds.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FeedMode, InstrumentRef } from '../../../src/broker/broker.js';
import { SmartApiBroker, type FeedCredentials as BrokerFeedCredentials, type SmartApiBrokerOptions } from '../../../src/broker/smartapi/adapter.js';
import { SmartStreamFeed, wsConnector, type Connector, type FeedOptions } from '../../../src/broker/smartapi/feed.js';
import type { LimitGroup, WindowCaps } from '../../../src/broker/smartapi/limits.js';
import { DEFAULT_LIMITS } from '../../../src/broker/smartapi/limits.js';
import { EventBus } from '../../../src/core/bus.js';
import { SimClock, istToMillis } from '../../../src/core/clock.js';
import type { EventOf, EventType, RustroEvent } from '../../../src/core/events.js';
import type { Secrets } from '../../../src/core/secrets.js';
import { createMarket, type ReplayMarket } from '../../../src/sim/market/market.js';
import { demoAccountSecrets } from '../../../src/sim/server/auth.js';
import { type SimServer, type SimServerOptions, startSimServer } from '../../../src/sim/server/server.js';
import { waitFor } from '../../support/wait.js';
export { waitFor };

/** A bundled 2024 session: Tuesday; NIFTY weeklies expire Thursday 04-Jan, BANKNIFTY Wednesday 03-Jan. */
export const DAY = '2024-01-02';
export const NIFTY: InstrumentRef = { exchange: 'NSE', token: '99926000' };
export const BANKNIFTY: InstrumentRef = { exchange: 'NSE', token: '99926009' };

export type SimEnv = { sim: SimServer; market: ReplayMarket; clock: SimClock; dir: string; close(): Promise<void> };

/** A simulator on a free port, paused at `start` (IST HH:MM on DAY), its wall clock the shared test clock. */
export async function startEnv(opts: Partial<SimServerOptions> & { start?: string } = {}): Promise<SimEnv> {
  const market = createMarket({ day: DAY, seed: 7 });
  // The test clock starts on the replayed day so the adapter's day (instrument cache, session expiry) is the sim's.
  const clock = new SimClock(istToMillis(DAY, '09:00'));
  const sim = await startSimServer({ market, port: 0, speed: 0, start: '10:00', rateLimits: false, seed: 11, wallClock: clock, ...opts });
  const dir = mkdtempSync(join(tmpdir(), 'rustro-e2e-'));
  return {
    sim,
    market,
    clock,
    dir,
    async close() {
      await sim.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function demoSecrets(apiKey: string, over: Partial<Record<keyof Secrets, string>> = {}): Secrets {
  return demoAccountSecrets({ apiKey, ...over });
}

/** What the wrapped connector saw: sockets opened, and pings out / pongs in on the latest one. */
export type WireStats = { sockets: number; current: { pings: number; pongs: number } };

export type Rig = {
  broker: SmartApiBroker;
  feed: SmartStreamFeed;
  bus: EventBus;
  events: RustroEvent[];
  wire: WireStats;
  of<T extends EventType>(type: T): EventOf<T>['data'][];
  /** Events of `type` after index `from` of `events`. */
  since<T extends EventType>(from: number, type: T): EventOf<T>['data'][];
  close(): Promise<void>;
};

const WIDE: WindowCaps = { perSecond: 100_000 };

export const FAST_FEED: Partial<FeedOptions> = {
  pingIntervalMs: 1000,
  deadAfterMs: 5000,
  muteAfterMs: 3000,
  watchdogIntervalMs: 250,
  reconnectBackoffMs: [200, 400],
  reconnectJitterRatio: 0,
  maxReconnectsPerMinute: 30,
};

/**
 * A SmartApiBroker against `env.sim`, its tick stream a SmartStreamFeed on the
 * test clock, re-login on a 401 handshake through the broker's own session.
 */
export function makeRig(env: SimEnv, over: { secrets?: Secrets; feed?: Partial<FeedOptions>; broker?: Partial<SmartApiBrokerOptions>; timeoutMs?: number } = {}): Rig {
  const { sim, clock } = env;
  const bus = new EventBus(clock);
  const events: RustroEvent[] = [];
  bus.onAny((e) => events.push(e), 'recorder');
  const wire: WireStats = { sockets: 0, current: { pings: 0, pongs: 0 } };
  const connect: Connector = (url, headers, h, timeout) => {
    wire.sockets++;
    const st = (wire.current = { pings: 0, pongs: 0 });
    const s = wsConnector(url, headers, { ...h, text: (d) => { if (d === 'pong') st.pongs++; h.text(d); } }, timeout);
    return { send: (t) => { if (t === 'ping') st.pings++; s.send(t); }, terminate: () => s.terminate() };
  };
  let broker: SmartApiBroker | undefined;
  let feed: SmartStreamFeed | undefined;
  const groups = Object.fromEntries(Object.keys(DEFAULT_LIMITS.groups).map((g) => [g, WIDE])) as Record<LimitGroup, WindowCaps>;
  broker = new SmartApiBroker({
    secrets: over.secrets ?? demoSecrets(sim.apiKey),
    clock,
    bus,
    dataDir: env.dir,
    rest: { baseUrl: sim.url, timeoutMs: over.timeoutMs ?? 3000, retry: { retries: 6, minTimeoutMs: 2, maxTimeoutMs: 10, factor: 2, randomize: false } },
    limits: { groups },
    master: { url: sim.masterUrl, timeoutMs: 10_000 },
    orders: { lookupDelayMs: 0, lookupWindowMs: 0 },
    orderUpdates: { url: sim.orderUrl, reconnectMinMs: 200, reconnectMaxMs: 400 },
    ticks: (creds: BrokerFeedCredentials) =>
      (feed = new SmartStreamFeed({
        url: sim.streamUrl,
        bus,
        clock,
        options: { ...FAST_FEED, ...over.feed },
        isSessionOpen: () => true,
        random: () => 0,
        connect,
        auth: async () => {
          const jwt = creds.jwt();
          const feedToken = creds.feedToken();
          if (jwt === undefined || feedToken === undefined) throw new Error('not logged in');
          return { jwt: jwt.reveal(), feedToken: feedToken.reveal(), apiKey: creds.apiKey.reveal(), clientCode: creds.clientCode.reveal() };
        },
        onAuthRejected: async () => {
          const b = broker!;
          await b.auth.renew(b.auth.current()?.generation ?? 0, 'market-data socket refused the token');
        },
      })),
    ...over.broker,
  });
  const b = broker;
  return {
    broker: b,
    feed: feed!,
    bus,
    events,
    wire,
    of: <T extends EventType>(type: T) => events.filter((e) => e.type === type).map((e) => e.data as EventOf<T>['data']),
    since: <T extends EventType>(from: number, type: T) => events.slice(from).filter((e) => e.type === type).map((e) => e.data as EventOf<T>['data']),
    async close() {
      await feed?.stop();
      await b.close();
    },
  };
}


/** Lets pending socket I/O run (a couple of event-loop turns). */
export async function settle(): Promise<void> {
  for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r));
  await new Promise((r) => setTimeout(r, 1));
}

/**
 * Moves the test clock by `ms` in `stepMs` steps, letting socket I/O run after
 * each; when `pongs` is set, the pings a step sent must be answered before the
 * next step (so a dead link is never one we made by outrunning the loopback).
 */
export async function runClock(env: SimEnv, rig: Rig, ms: number, o: { stepMs?: number; pongs?: boolean } = {}): Promise<void> {
  const step = o.stepMs ?? 250;
  const end = env.clock.now() + ms;
  while (env.clock.now() < end) {
    const w = rig.wire.current;
    const [pings, pongs] = [w.pings, w.pongs];
    env.clock.advanceTo(Math.min(end, env.clock.now() + step));
    await settle();
    // Pings sent in this step are answered before time moves on (earlier unanswered ones are not waited for).
    if (o.pongs === true && w.pings > pings) {
      await waitFor(() => w.pongs >= pongs + (w.pings - pings) || rig.wire.current !== w || rig.feed.openConnections === 0, 'pong');
    }
  }
}

/** Subscribes, starts the feed and waits until the simulator holds every (token, mode) pair. */
export async function startFeed(env: SimEnv, rig: Rig, subs: [InstrumentRef[], FeedMode][]): Promise<void> {
  for (const [refs, mode] of subs) rig.broker.ticks.subscribe(refs, mode);
  await rig.broker.ticks.start();
  await waitForSubscriptions(env, rig);
}

/** Waits until the simulator holds as many (token, mode) pairs as the feed. */
export async function waitForSubscriptions(env: SimEnv, rig: Rig): Promise<void> {
  await waitFor(() => rig.feed.openConnections > 0 && env.sim.state().subscriptions === rig.feed.subscriptionCount, 'the subscriptions to reach the simulator');
}
