/**
 * `SmartApiBroker`: the broker port over Angel One SmartAPI, composed of the
 * REST client, the session, the rate limiter, orders, market data, the
 * instrument master and the order-update stream. The tick stream is built
 * elsewhere (the feed) and passed in, either ready-made or as a factory that
 * receives the live feed credentials.
 */
import type {
  Broker,
  BrokerSession,
  Candle,
  CandleRequest,
  Funds,
  Instrument,
  InstrumentRef,
  Order,
  OrderAck,
  OrderModification,
  OrderRequest,
  Position,
  Quote,
  QuoteMode,
  TickStream,
  Trade,
} from '../broker.js';
import type { EventBus } from '../../core/bus.js';
import { type Clock, istDate } from '../../core/clock.js';
import type { Logger } from '../../core/log.js';
import type { Secret, Secrets } from '../../core/secrets.js';
import { SmartApiAuth, type AuthConfig } from './auth.js';
import { SmartApiError } from './errors.js';
import { InstrumentIndex } from './instrument-index.js';
import { loadInstruments, type MasterConfig, type MasterStats } from './instruments.js';
import { RateLimiter, resolveLimits, type LimitGroup, type RateLimits, type WindowCaps } from './limits.js';
import { SmartApiMarketData } from './market-data.js';
import { OrderUpdates, type OrderUpdatesConfig } from './order-updates.js';
import { SmartApiOrders, type OrdersConfig, type PlaceResult } from './orders.js';
import { SmartApiRest, defaultRestConfig, type RestConfig } from './rest.js';

/** What the market-data feed needs to connect; values are read at connect time (they change on refresh). */
export type FeedCredentials = {
  apiKey: Secret;
  clientCode: Secret;
  jwt(): Secret | undefined;
  feedToken(): Secret | undefined;
  /** The session ended at midnight IST (market time) and no login has made a new one (`SmartApiAuth.ended`). */
  sessionEnded(): boolean;
  /** A socket refused the token: renew the session the socket had (refused after its midnight: see `SmartApiAuth`). */
  renew(reason: string): Promise<void>;
};

export type SmartApiBrokerOptions = {
  secrets: Secrets;
  /** Network time: TOTP, rate-limit windows, backoff, socket heartbeats. */
  clock: Clock;
  /** Market time: when a session ends (midnight IST of the exchange's day). Default `clock`; they differ only in a replay. */
  marketClock?: Clock;
  bus: EventBus;
  log?: Logger;
  /** `<data_dir>`; the instrument cache lives in `<data_dir>/instruments/`. */
  dataDir: string;
  ticks: TickStream | ((creds: FeedCredentials) => TickStream);
  rest?: Partial<RestConfig>;
  limits?: { groups?: Partial<Record<LimitGroup, WindowCaps>>; windowMs?: Partial<RateLimits['windowMs']>; marginMs?: number };
  auth?: Partial<AuthConfig>;
  orders?: Partial<OrdersConfig>;
  master?: Partial<MasterConfig>;
  orderUpdates?: Partial<OrderUpdatesConfig>;
};

export class SmartApiBroker implements Broker {
  readonly ticks: TickStream;
  readonly rest: SmartApiRest;
  readonly auth: SmartApiAuth;
  readonly limiter: RateLimiter;
  readonly orderUpdates: OrderUpdates;
  private readonly orders: SmartApiOrders;
  private readonly market: SmartApiMarketData;
  private index: InstrumentIndex | undefined;
  private masterStats: MasterStats | undefined;

  /** The market's clock (a replay's), for the day of the master and the session (default: `clock`). */
  private readonly marketClock: Clock;

  constructor(private readonly opts: SmartApiBrokerOptions) {
    const { secrets, clock, bus, log } = opts;
    this.marketClock = opts.marketClock ?? clock;
    this.limiter = new RateLimiter(resolveLimits(opts.limits), clock);
    this.rest = new SmartApiRest(defaultRestConfig(opts.rest), secrets.apiKey, this.limiter, clock, log, bus);
    this.auth = new SmartApiAuth(this.rest, secrets, clock, bus, log, opts.auth, this.marketClock);
    this.orders = new SmartApiOrders(this.rest, clock, log, opts.orders);
    this.orders.tokenOf = (symbol, exchange) => this.index?.bySymbolOn(exchange, symbol)?.token;
    this.orders.instrumentOf = (exchange, token) => this.index?.get({ exchange: exchange as InstrumentRef['exchange'], token });
    this.market = new SmartApiMarketData(this.rest, log);
    const feedCreds: FeedCredentials = {
      apiKey: secrets.apiKey,
      clientCode: secrets.clientCode,
      jwt: () => this.auth.jwt,
      feedToken: () => this.auth.feedToken,
      sessionEnded: () => this.auth.ended,
      renew: (reason) => this.auth.renew(this.auth.current()?.generation ?? 0, reason),
    };
    this.ticks = typeof opts.ticks === 'function' ? opts.ticks(feedCreds) : opts.ticks;
    this.orderUpdates = new OrderUpdates(
      feedCreds,
      () => this.orders.orderBook(),
      bus,
      clock,
      log,
      opts.orderUpdates,
    );
  }

  login(): Promise<BrokerSession> {
    return this.auth.login();
  }

  refresh(): Promise<BrokerSession> {
    return this.auth.refresh('requested');
  }

  /** Stops the order-update stream, logs out at the broker and stops the limiters. */
  async logout(): Promise<void> {
    await this.orderUpdates.stop();
    await this.auth.logout('shutdown');
  }

  /** Everything off: stream, session, limiter queues. */
  async close(): Promise<void> {
    await this.logout();
    await this.limiter.stop();
  }

  /**
   * The next pre-open login time (IST, configurable) after now, holidays not skipped. Not what the
   * daemon schedules by: its morning routine uses app/broker-link's `morningAfter`, which skips them.
   */
  nextLoginAt(): number {
    return this.auth.nextLoginAt();
  }

  get expiresAt(): number | undefined {
    return this.auth.expiresAt;
  }

  funds(): Promise<Funds> {
    return this.market.funds();
  }

  /**
   * Places an order, sending it at most once. A lost answer is resolved by
   * looking the tag up for `orders.lookupWindowMs` (`resolution: 'found_by_tag'`);
   * never found → `SmartApiError` kind `unknown_outcome` (never re-sent here).
   */
  placeOrder(req: OrderRequest): Promise<PlaceResult> {
    return this.orders.place(req);
  }

  modifyOrder(orderId: string, change: OrderModification): Promise<OrderAck> {
    return this.orders.modify(orderId, change);
  }

  cancelOrder(orderId: string): Promise<void> {
    return this.orders.cancel(orderId);
  }

  orderBook(): Promise<Order[]> {
    return this.orders.orderBook();
  }

  tradeBook(): Promise<Trade[]> {
    return this.orders.tradeBook();
  }

  orderStatus(orderId: string): Promise<Order | undefined> {
    return this.orders.orderStatus(orderId);
  }

  findOrderByTag(tag: string): Promise<Order | undefined> {
    return this.orders.findByTag(tag);
  }

  positions(): Promise<Position[]> {
    return this.market.positions();
  }

  quotes(refs: InstrumentRef[], mode: QuoteMode): Promise<Quote[]> {
    return this.market.quotes(refs, mode);
  }

  /**
   * Historical candles. A derivatives token missing from today's master is an
   * expired contract (Rustro only ever picks contracts from a master): it is
   * refused here, at once and for good, instead of being sent — the broker
   * refuses it too (the simulator with AB1004, a code that also means "load"
   * and is retried with backoff), so each morning's gap backfill of
   * yesterday's options used to spend seconds of real time on refusals while a
   * replay's market clock ran on, past the broker's midnight.
   */
  candles(req: CandleRequest): Promise<Candle[]> {
    if (this.index?.expired(req) === true) {
      return Promise.reject(new SmartApiError('invalid_request', {
        endpoint: 'getCandleData',
        code: 'NOT_LISTED',
        detail: `${req.exchange} token ${req.token} is not in today's instrument master (an expired contract)`,
      }));
    }
    return this.market.candles(req);
  }

  /** Today's instruments (cached per IST day of the market clock); builds the index as a side effect. */
  async instruments(): Promise<Instrument[]> {
    const loaded = await loadInstruments({
      dataDir: this.opts.dataDir,
      clock: this.opts.clock,
      // The market's day: a replay's mornings each get their own master (the wall clock's date is one for them all).
      day: istDate(this.marketClock.now()),
      ...(this.opts.master !== undefined ? { master: this.opts.master } : {}),
      ...(this.opts.log !== undefined ? { log: this.opts.log } : {}),
    });
    this.index = new InstrumentIndex(loaded.instruments);
    this.masterStats = loaded.stats;
    return loaded.instruments;
  }

  /** The index over the last `instruments()` load, if any. */
  get instrumentIndex(): InstrumentIndex | undefined {
    return this.index;
  }

  /** Row counts of the last download (undefined when the day's cache was used). */
  get instrumentStats(): MasterStats | undefined {
    return this.masterStats;
  }
}
