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
 *
 * The morning routine is on `clock`. It is an event of the exchange's
 * calendar — before the open of each trading day, as the session dies at the
 * market's midnight — not network pacing: live the two clocks are one object,
 * so nothing changes there, while a replay (the demo, a multi-day soak in
 * accelerated time) sees its nights and mornings when the market does, not
 * hours of wall time later. Weekends and holidays have no morning: the next
 * one is the next trading day's `broker.daily_login_ist`. A failed morning is
 * network work and is retried on `ioClock`, every minute.
 *
 * After the session's midnight, the morning routine (and `connect` at start) is
 * the only thing that logs in; within the day a refused token is renewed
 * (refresh, else login).
 * The session's end is on `clock` too (the adapter's `marketClock`): from the
 * broker's midnight until the next morning, nothing renews it — not a REST
 * call's AG8001, not a socket's 401/403 — no request leaves with the dead
 * token, and a socket that drops waits for the morning's reconnect (see
 * `SmartApiAuth`). Without this, work that outlived its day (a replay's
 * backfill retrying on real time while the market clock ran through the
 * night) logged in on a holiday.
 */
import { join } from 'node:path';
import type { EventBus } from '../core/bus.js';
import { type Clock, type TimerHandle, istDate, istToMillis } from '../core/clock.js';
import type { Config } from '../core/config.js';
import type { Logger } from '../core/log.js';
import type { Secrets } from '../core/secrets.js';
import type { InstrumentRef } from '../broker/broker.js';
import { SmartApiBroker } from '../broker/smartapi/adapter.js';
import { SmartApiError } from '../broker/smartapi/errors.js';
import { SmartStreamFeed } from '../broker/smartapi/feed.js';
import type { LimitGroup, WindowCaps } from '../broker/smartapi/limits.js';
import { FrameRecorder } from '../broker/smartapi/recorder.js';
import { activeWatchlist } from './market-link.js';
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
  /** The next morning, on the market clock. */
  private relogin: TimerHandle | undefined;
  /** A failed morning's retry, on the I/O clock. */
  private retry: TimerHandle | undefined;
  private morning: Promise<void> | undefined;
  private renewing = false;
  private nextMorning: number | undefined;
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
      // The session ends at the market's midnight, not the wall clock's (they differ in the demo and in replays).
      marketClock: clock,
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
          // A 401 renews the session (refresh, else login) only within its day; after its midnight
          // the renewal is refused and the feed waits for the morning (sessionEnded).
          onAuthRejected: () => creds.renew('market-data socket refused the token'),
          sessionEnded: creds.sessionEnded,
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
          // The feed connects with the session it finds and never makes one: connect() and the morning
          // routine log in before they start it.
          auth: async () => {
            const jwt = creds.jwt();
            const feedToken = creds.feedToken();
            if (jwt === undefined || feedToken === undefined) throw new SmartApiError('no_session', { endpoint: 'smart-stream', detail: 'no session to connect with' });
            return { jwt: jwt.reveal(), feedToken: feedToken.reveal(), apiKey: creds.apiKey.reveal(), clientCode: creds.clientCode.reveal() };
          },
        }),
    });
    this.feed = this.broker.ticks as SmartStreamFeed;
  }

  /** The active watchlist as feed references. */
  watchlist(): InstrumentRef[] {
    return activeWatchlist(this.deps.config);
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
    // Contracts the new master no longer lists have expired: their subscriptions go before the feed reconnects.
    const index = this.broker.instrumentIndex;
    if (index !== undefined) this.feed.prune((r) => !index.expired(r));
    this.deps.bus.emit('InstrumentsLoaded', { count: instruments.length, options: instruments.filter((i) => i.kind === 'option').length });
  }

  /**
   * The morning routine is running (login, instrument master, reconnects), or
   * a broker request is in progress, retries and their backoff included: an
   * in-process replay waits for both. The backoff runs on real time; a replay
   * that ran on through it would answer a morning's request at some later
   * market hour — after the broker's midnight, on a holiday.
   */
  get busy(): boolean {
    return this.renewing || this.broker.rest.pending > 0;
  }

  /** When the next morning routine runs (market time), or undefined when none is scheduled. */
  get nextMorningAt(): number | undefined {
    return this.nextMorning;
  }

  async disconnect(): Promise<void> {
    this.stopped = true;
    if (this.relogin !== undefined) this.deps.clock.cancel(this.relogin);
    if (this.retry !== undefined) this.deps.ioClock.cancel(this.retry);
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
   * that goes mute at the open. Scheduled on the market clock for the next
   * trading day (see the header); a failure is retried every minute.
   */
  private scheduleRelogin(): void {
    if (this.stopped) return;
    const at = morningAfter(this.deps.clock.now(), this.deps.config.broker.daily_login_ist, this.deps.calendar);
    this.nextMorning = at;
    if (at === undefined) {
      this.deps.log.error('no trading day in the next 15 days of the exchange calendar: no morning login is scheduled');
      return;
    }
    this.relogin = this.deps.clock.setTimer(at, () => this.runMorning());
  }

  private runMorning(): void {
    this.relogin = undefined;
    this.retry = undefined;
    if (this.stopped) return;
    this.renewing = true;
    this.morning = this.renewDay().then(
      () => {
        this.renewing = false;
        this.scheduleRelogin();
      },
      (err: unknown) => {
        this.renewing = false;
        if (this.stopped) return;
        this.deps.log.error({ err }, 'the morning login failed; retrying in 60 s');
        this.retry = this.deps.ioClock.setTimer(this.deps.ioClock.now() + 60_000, () => this.runMorning());
      },
    );
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

/**
 * The next morning login strictly after `nowMs`: `loginAt` (IST HH:MM) on the
 * first day from today on with a trading session by `calendar`, within 15
 * days; undefined if there is none.
 */
export function morningAfter(nowMs: number, loginAt: string, calendar: Pick<TradingCalendar, 'sessionWindows'>): number | undefined {
  let date = istDate(nowMs);
  for (let d = 0; d < 16; d++, date = istDate(istToMillis(date) + 36 * 3_600_000)) {
    if (calendar.sessionWindows(date).length === 0) continue;
    const at = istToMillis(date, loginAt);
    if (at > nowMs) return at;
  }
  return undefined;
}
