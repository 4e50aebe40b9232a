/**
 * The daemon's market link for a backtest: the simulator's market generator
 * in the same process, no sockets. It serves what `rustro sim` serves over
 * the network — the day's instrument master (through the adapter's own row
 * mapping), quotes, candles (the simulator's own aggregation) and ticks (each
 * encoded as the simulator's binary frame and decoded by the adapter's codec)
 * — so a backtest day sees exactly what a paper session against the simulator
 * sees. Orders never reach it: a backtest trades on paper.
 *
 * Time does not move here: the backtest's driver moves the market and the
 * clock (`replay-run.ts`), hands each step's quotes to `deliver`, and starts
 * each next day with `beginDay` — the morning routine `BrokerLink` runs live:
 * the new day's master, and every subscription answered again, as a
 * reconnected socket's are.
 */
import type {
  Broker, BrokerSession, Candle, CandleRequest, FeedMode, Funds, Instrument, InstrumentRef, Order, OrderAck, Position, Quote, QuoteMode, TickStream, Trade,
} from '../broker/broker.js';
import { decodeTick, isRejection } from '../broker/smartapi/codec.js';
import { InstrumentIndex } from '../broker/smartapi/instrument-index.js';
import { mapMasterRow } from '../broker/smartapi/instruments.js';
import type { EventBus } from '../core/bus.js';
import type { Clock } from '../core/clock.js';
import type { Config } from '../core/config.js';
import { type FeedReadings, type MarketLink, activeWatchlist } from '../app/market-link.js';
import type { SimInstrument, SimMarket, SimQuote } from '../sim/market/types.js';
import { candleBars } from '../sim/server/candles.js';
import { FRAME_SIZE, type FrameMode, encodeTick, exchangeTypeOf } from '../sim/server/frames.js';
import { masterRow, sameMasterRow } from '../sim/server/instrument-master.js';

const FRAME_MODE: Record<FeedMode, FrameMode> = { ltp: 1, quote: 2, snap: 3 };
const MINUTES: Record<CandleRequest['interval'], number> = { '1m': 1, '3m': 3, '5m': 5, '10m': 10, '15m': 15, '30m': 30, '1h': 60, '1d': 1440 };

/** The replayed feed: remembers what is subscribed and turns the market's quotes into the adapter's `Tick` events. */
class ReplayFeed implements TickStream {
  /** Subscribed tokens: their frame mode, and their exchange (for a morning's prune). */
  private readonly modes = new Map<string, { mode: FrameMode; exchange: InstrumentRef['exchange'] }>();
  /** The subscribed tokens as the market wants them; rebuilt only when a subscription changes (read every 250 ms step). */
  private tokenSet: ReadonlySet<string> | undefined;
  private readonly seq = new Map<string, number>();
  private readonly snapshots: SimQuote[] = [];
  private flushQueued = false;
  private readonly c = { frames: 0, ticks: 0, rejected: 0, reconnects: 0 };
  private readonly frames: Partial<Record<FrameMode, Buffer>> = {};

  constructor(private market: SimMarket, private readonly bus: EventBus, private readonly exType: Map<string, number>) {}

  /** A new day's market: what is subscribed stays, and each subscription is answered with its state there. */
  beginDay(market: SimMarket): void {
    this.market = market;
    this.tokenSet = undefined;
    for (const token of this.modes.keys()) this.answer(token);
  }

  subscribe(refs: InstrumentRef[], mode: FeedMode): void {
    if (refs.length > 0) this.bus.emit('FeedSubscribed', { refs });
    for (const r of refs) {
      if (this.modes.has(r.token)) continue;
      this.modes.set(r.token, { mode: FRAME_MODE[mode], exchange: r.exchange });
      this.tokenSet = undefined;
      this.answer(r.token);
    }
    // Answered as soon as the caller's synchronous work is done, before anything it awaits: left to the
    // driver's next turn, a snapshot landed before or after the ledger's write of the caller's order
    // intent (and so before or after its placement) as the disk happened to be quick or not.
    if (this.snapshots.length > 0 && !this.flushQueued) {
      this.flushQueued = true;
      queueMicrotask(() => {
        this.flushQueued = false;
        this.flushSnapshots();
      });
    }
  }

  /** As the simulator does: a (re)subscription is answered with the instrument's current state, before the next step. */
  private answer(token: string): void {
    const q = this.market.quote(token);
    if (q !== undefined) this.snapshots.push(q);
  }

  unsubscribe(refs: InstrumentRef[]): void {
    if (refs.length > 0) this.bus.emit('FeedUnsubscribed', { refs });
    for (const r of refs) this.modes.delete(r.token);
    this.tokenSet = undefined;
  }

  /** As SmartStreamFeed.prune: drops every subscription `keep` says no to. */
  prune(keep: (ref: InstrumentRef) => boolean): void {
    this.unsubscribe([...this.modes].map(([token, m]) => ({ exchange: m.exchange, token })).filter((r) => !keep(r)));
  }

  async start(): Promise<void> {}
  async stop(): Promise<void> {}

  /** Tokens the market must price. */
  tokens(): ReadonlySet<string> {
    return (this.tokenSet ??= new Set(this.modes.keys()));
  }

  get counters(): FeedReadings {
    return { ...this.c };
  }

  get openConnections(): number {
    return 1;
  }

  get subscriptionCount(): number {
    return this.modes.size;
  }

  /** Snapshots owed to new subscriptions: delivered before the next market step, as a socket would. */
  flushSnapshots(): boolean {
    if (this.snapshots.length === 0) return false;
    for (const q of this.snapshots.splice(0)) this.send(q, this.seq.get(q.token) ?? 0);
    return true;
  }

  /** One step's ticks, in order. */
  deliver(quotes: readonly SimQuote[]): void {
    for (const q of quotes) {
      if (!this.modes.has(q.token)) continue;
      const seq = (this.seq.get(q.token) ?? 0) + 1;
      this.seq.set(q.token, seq);
      this.send(q, seq);
    }
  }

  private send(q: SimQuote, seq: number): void {
    const mode = this.modes.get(q.token)?.mode;
    if (mode === undefined) return;
    this.c.frames++;
    // One frame buffer per mode, reused: the frame is decoded at once and nothing keeps it (a Buffer a tick was ~5% of a backtest's garbage).
    const r = decodeTick(encodeTick(mode, this.exType.get(q.token) ?? 0, q, seq, (this.frames[mode] ??= Buffer.alloc(FRAME_SIZE[mode]))));
    if (isRejection(r)) {
      this.c.rejected++;
      return;
    }
    this.c.ticks++;
    this.bus.emit('Tick', r);
  }
}

const refused = (what: string) => async (): Promise<never> => {
  throw new Error(`a backtest has no broker to ${what}: it trades on paper`);
};

/** The broker port over the market generator: market data only. */
class ReplayBroker implements Broker {
  instrumentIndex: InstrumentIndex | undefined;
  /** The day's instruments as the adapter maps them. */
  loaded: Instrument[] = [];

  constructor(public market: SimMarket, private readonly clock: Clock, readonly ticks: ReplayFeed) {}

  /**
   * Yesterday's master as the adapter mapped it, by token: a contract is listed for days on end, and
   * mapping each row again every morning was ~5% of a backtest. A contract whose row would differ in
   * any field is mapped afresh.
   */
  private mapped = new Map<string, { from: SimInstrument; inst: Instrument | undefined }>();

  load(): void {
    const mapped = new Map<string, { from: SimInstrument; inst: Instrument | undefined }>();
    this.loaded = [];
    for (const i of this.market.instruments()) {
      let m = this.mapped.get(i.token);
      if (m === undefined || !sameMasterRow(m.from, i)) {
        const r = mapMasterRow(masterRow(i));
        m = { from: i, inst: 'ok' in r ? r.ok : undefined };
      }
      mapped.set(i.token, m);
      if (m.inst !== undefined) this.loaded.push(m.inst);
    }
    this.mapped = mapped;
    this.instrumentIndex = new InstrumentIndex(this.loaded);
  }

  async login(): Promise<BrokerSession> {
    return { clientCode: 'BACKTEST', loggedInAt: this.clock.now(), expiresAt: this.market.closeMs };
  }

  refresh = this.login;
  async logout(): Promise<void> {}
  funds: () => Promise<Funds> = refused('report funds');
  placeOrder: () => Promise<OrderAck> = refused('place an order');
  modifyOrder: () => Promise<OrderAck> = refused('modify an order');
  cancelOrder: () => Promise<void> = refused('cancel an order');
  async orderBook(): Promise<Order[]> {
    return [];
  }
  async tradeBook(): Promise<Trade[]> {
    return [];
  }
  async orderStatus(): Promise<Order | undefined> {
    return undefined;
  }
  async findOrderByTag(): Promise<Order | undefined> {
    return undefined;
  }
  async positions(): Promise<Position[]> {
    return [];
  }

  async instruments(): Promise<Instrument[]> {
    return this.loaded;
  }

  async quotes(refs: InstrumentRef[], _mode: QuoteMode): Promise<Quote[]> {
    const out: Quote[] = [];
    for (const r of refs) {
      const q = this.market.quote(r.token);
      if (q === undefined) continue;
      out.push({
        token: r.token, exchange: r.exchange, ltp: q.ltp, open: q.open, high: q.high, low: q.low, close: q.prevClose, volume: q.volume, oi: q.oi,
        upperCircuit: q.upperCircuit, lowerCircuit: q.lowerCircuit, bids: q.bids.map((l) => ({ ...l })), asks: q.asks.map((l) => ({ ...l })),
      });
    }
    return out;
  }

  async candles(req: CandleRequest): Promise<Candle[]> {
    // To the minute, as getCandleData's "yyyy-MM-dd HH:mm" range is.
    const minute = (ms: number): number => Math.floor(ms / 60_000) * 60_000;
    return candleBars(this.market, { token: req.token, minutes: MINUTES[req.interval], from: minute(req.from), to: minute(req.to) }, this.clock.now());
  }
}

export class ReplayLink implements MarketLink {
  readonly broker: ReplayBroker;
  readonly feed: ReplayFeed;
  readonly busy = false;
  private readonly exType = new Map<string, number>();

  constructor(market: SimMarket, private readonly config: Config, private readonly bus: EventBus, clock: Clock) {
    this.learnExchanges(market);
    this.feed = new ReplayFeed(market, bus, this.exType);
    this.broker = new ReplayBroker(market, clock, this.feed);
  }

  /** The morning of the next day: its instrument master (new expiries), and the feed on its market. */
  beginDay(market: SimMarket): void {
    this.broker.market = market;
    this.broker.load();
    // As BrokerLink's morning: contracts the new master no longer lists have expired and are unsubscribed;
    // their exchange types go with the rest of yesterday's (a run of a year would keep every one it listed).
    const index = this.broker.instrumentIndex!;
    this.feed.prune((r) => !index.expired(r));
    const subscribed = this.feed.tokens();
    for (const token of this.exType.keys()) if (!subscribed.has(token)) this.exType.delete(token);
    this.learnExchanges(market);
    this.emitLoaded();
    this.feed.beginDay(market);
  }

  private learnExchanges(market: SimMarket): void {
    for (const i of market.instruments()) this.exType.set(i.token, exchangeTypeOf(i.segment));
  }

  private emitLoaded(): void {
    const list = this.broker.loaded;
    this.bus.emit('InstrumentsLoaded', { count: list.length, options: list.filter((i) => i.kind === 'option').length });
  }

  watchlist(): InstrumentRef[] {
    return activeWatchlist(this.config);
  }

  async connect(): Promise<void> {
    this.broker.load();
    this.emitLoaded();
    this.feed.subscribe(this.watchlist(), this.config.feed.mode);
  }

  async disconnect(): Promise<void> {}
}
