/**
 * Builds the SmartAPI broker and its market-data feed from the config and
 * owns the connection's life: log in, load the day's instruments, subscribe
 * the active watchlist, stream; log in again every trading morning (the
 * session dies at midnight IST — a socket left on yesterday's token goes mute);
 * on stop, close the feed and log out.
 *
 * Two clocks: `clock` stamps events (market time; the simulator's own time in
 * the demo) and decides whether the session is open; `ioClock` paces network
 * work — heartbeats, dead-link timers, backoff, rate-limit windows — which
 * must run on real time whatever the market's time does.
 */
import { join } from 'node:path';
import type { EventBus } from '../core/bus.js';
import { type Clock, type TimerHandle, istDate } from '../core/clock.js';
import type { Config } from '../core/config.js';
import type { Logger } from '../core/log.js';
import type { Secrets } from '../core/secrets.js';
import type { InstrumentRef } from '../broker/broker.js';
import { SmartApiBroker } from '../broker/smartapi/adapter.js';
import { SmartStreamFeed } from '../broker/smartapi/feed.js';
import type { LimitGroup, WindowCaps } from '../broker/smartapi/limits.js';
import { FrameRecorder } from '../broker/smartapi/recorder.js';
import type { TradingCalendar } from '../market/calendar.js';

export type BrokerLinkDeps = {
  config: Config;
  secrets: Secrets;
  bus: EventBus;
  clock: Clock;
  ioClock: Clock;
  log: Logger;
  calendar: TradingCalendar;
};

const LIMIT_GROUPS: Record<keyof Config['rate_limits'], LimitGroup> = {
  orders: 'orders',
  candles: 'candles',
  order_book: 'orderBook',
  trade_book: 'tradeBook',
  positions: 'positions',
  quote: 'quote',
};

function windowCaps([perSecond, perMinute, perHour]: readonly [number, number, number]): WindowCaps {
  const caps: WindowCaps = {};
  if (perSecond > 0) caps.perSecond = perSecond;
  if (perMinute > 0) caps.perMinute = perMinute;
  if (perHour > 0) caps.perHour = perHour;
  return caps;
}

export class BrokerLink {
  readonly broker: SmartApiBroker;
  readonly feed: SmartStreamFeed;
  private readonly recorder: FrameRecorder | undefined;
  private relogin: TimerHandle | undefined;
  private morning: Promise<void> | undefined;
  private stopped = false;

  constructor(private readonly deps: BrokerLinkDeps) {
    const { config, secrets, bus, clock, ioClock, log, calendar } = deps;
    const b = config.broker;
    const f = config.feed;
    this.recorder = f.record_frames ? new FrameRecorder(join(config.app.data_dir, 'ticks')) : undefined;
    const groups: Partial<Record<LimitGroup, WindowCaps>> = {};
    for (const [key, group] of Object.entries(LIMIT_GROUPS) as [keyof Config['rate_limits'], LimitGroup][]) {
      groups[group] = windowCaps(config.rate_limits[key]);
    }
    this.broker = new SmartApiBroker({
      secrets,
      clock: ioClock,
      bus,
      log,
      dataDir: config.app.data_dir,
      rest: { baseUrl: b.api_base_url, timeoutMs: b.http_timeout_ms },
      master: { url: b.instrument_master_url },
      orderUpdates: { url: b.order_updates_url },
      auth: { preOpenLogin: b.daily_login_ist },
      orders: { lookupDelayMs: b.order_lookup_interval_sec * 1000, lookupWindowMs: b.order_lookup_window_sec * 1000 },
      limits: { groups },
      ticks: (creds) =>
        new SmartStreamFeed({
          url: b.feed_url,
          bus,
          clock: ioClock,
          // Market time decides the session, not the wall clock (they differ in the demo and in replays).
          isSessionOpen: () => calendar.isSessionOpen(clock.now()),
          onAuthRejected: async () => {
            await this.broker.login();
          },
          ...(this.recorder === undefined ? {} : { recorder: this.recorder }),
          options: {
            pingIntervalMs: f.ws_ping_interval_sec * 1000,
            deadAfterMs: (f.ws_ping_interval_sec + f.ws_pong_timeout_sec) * 1000,
            muteAfterMs: f.feed_mute_sec * 1000,
            reconnectBackoffMs: f.ws_reconnect_backoff_sec.map((s) => s * 1000),
            maxReconnectsPerMinute: f.ws_max_reconnects_per_minute,
            maxFutureExchTsMs: f.max_future_tick_sec * 1000,
            authorizationScheme: b.feed_authorization,
          },
          auth: async () => {
            const jwt = creds.jwt();
            const feedToken = creds.feedToken();
            if (jwt === undefined || feedToken === undefined) await this.broker.login();
            return {
              jwt: (creds.jwt() ?? jwt)!.reveal(),
              feedToken: (creds.feedToken() ?? feedToken)!.reveal(),
              apiKey: creds.apiKey.reveal(),
              clientCode: creds.clientCode.reveal(),
            };
          },
        }),
    });
    this.feed = this.broker.ticks as SmartStreamFeed;
  }

  /** The active watchlist as feed references. */
  watchlist(): InstrumentRef[] {
    return this.deps.config.watchlist.filter((w) => w.active).map((w) => ({ exchange: w.exchange, token: w.token }));
  }

  /** Logs in, loads the instrument master, subscribes the watchlist and starts both streams. Throws if the broker refuses. */
  async connect(): Promise<void> {
    const today = istDate(this.deps.clock.now());
    if (!this.deps.calendar.covers(today)) {
      this.deps.log.warn(`the exchange calendar in config/calendar has no holidays for ${today.slice(0, 4)}: every weekday counts as a trading day until it is updated`);
    }
    await this.broker.login();
    await this.loadInstruments();
    this.feed.subscribe(this.watchlist(), this.deps.config.feed.mode);
    await this.feed.start();
    await this.broker.orderUpdates.start();
    this.scheduleRelogin();
  }

  private async loadInstruments(): Promise<void> {
    const instruments = await this.broker.instruments();
    this.deps.bus.emit('InstrumentsLoaded', { count: instruments.length, options: instruments.filter((i) => i.kind === 'option').length });
  }

  async disconnect(): Promise<void> {
    this.stopped = true;
    if (this.relogin !== undefined) this.deps.ioClock.cancel(this.relogin);
    // A morning routine in flight finishes (or fails) first, so it cannot leave a session or a socket behind.
    await this.morning?.catch(() => {});
    await this.feed.stop();
    try {
      await this.broker.close();
    } finally {
      await this.recorder?.close();
    }
  }

  /**
   * The morning routine, before the open: a fresh session, the day's
   * instrument master (new expiries), and both sockets reconnected on the new
   * tokens — a socket left on yesterday's token is the known way to a feed
   * that goes mute at the open. A failure is retried every minute.
   */
  private scheduleRelogin(at = this.broker.nextLoginAt()): void {
    if (this.stopped) return;
    this.relogin = this.deps.ioClock.setTimer(at, () => {
      this.morning = this.renewDay().then(
        () => this.scheduleRelogin(),
        (err: unknown) => {
          this.deps.log.error({ err }, 'the morning login failed; retrying in 60 s');
          this.scheduleRelogin(this.deps.ioClock.now() + 60_000);
        },
      );
    });
  }

  private async renewDay(): Promise<void> {
    await this.broker.login();
    if (this.stopped) return;
    await this.loadInstruments();
    await this.feed.stop();
    await this.broker.orderUpdates.stop();
    if (this.stopped) return;
    await this.feed.start();
    await this.broker.orderUpdates.start();
  }
}
