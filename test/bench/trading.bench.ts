/**
 * The money path's latency: the two SPEC goals and the fsync kept apart.
 *
 * - `trading.tick_to_stop_check_p50` / `_p99` (µs; goal p99 ≤ 50 µs), in
 *   process. A real `EventBus` with a real `TradingDesk` started on it (as
 *   money-path.ts does), three positions opened through the desk's own entry
 *   path (SignalRaised → OptionPicked → sized, checked intent → placement →
 *   an `OrderUpdated` fill report), then ~200k `Tick`s of their options. Each
 *   sample is one `bus.emit('Tick')` until it returns — the bus is
 *   synchronous, so that is every subscriber done: the desk's book fold
 *   (`apply`), its tick handler (last price, `PositionBook.mark`, the exit
 *   rules, `RiskBook.checkLoss`) and the delivery of what it decided — about
 *   one tick in 15 moves a trailing stop (`PositionStopMoved`, folded back
 *   into the books; the count is in the note). Prices are built so no stop is ever hit (an exit would
 *   end the position). Excludes: the feed's decode, and the daemon's other
 *   Tick subscribers (ledger filter, log narrator, bar aggregator, paper
 *   fills) — only the desk is subscribed. The journal resolves at once.
 * - `trading.signal_to_wire_p50` / `_p99` (ms; goal p99 ≤ 2 ms), against the
 *   simulator over loopback (one process, one event loop, as in the demo).
 *   From `bus.emit('OptionPicked')` (its `SignalRaised` was delivered
 *   before) to the simulator's HTTP server receiving the `placeOrder`
 *   request (node's `http.server.request.start` diagnostics channel: the
 *   request line and headers are parsed, the handler is about to run). The
 *   path: the desk's sizing and nine checks, the intent published, the order
 *   manager, the real `SmartApiBroker` (tag and value checks, p-retry, the
 *   orders rate limiter's three windows, axios, a keep-alive socket). Excludes
 *   the fsync: the journal is `BusJournal` (durable() resolves once the event
 *   is published). Rate limits: the simulator's §9 limiter is off and the
 *   adapter's `orders` caps are raised to 1,000,000 per s/min/h (the three
 *   windows still chained, as in production) — the default 9/s would
 *   throttle a bench that places and cancels back to back. Each sample's
 *   order is cancelled at the simulator (and the cancel reported to the
 *   desk) before the next, outside the timing, and a fresh desk takes over
 *   every 10 entries (a day's worth), so the desk never refuses on
 *   concurrency or funds and its books stay a day's size. Entries are 3 ms
 *   apart (live they are seconds apart). Breakdowns: `_to_intent` (the
 *   desk, µs) and `_to_http_send` (until the adapter calls `http.request`,
 *   node's `http.client.request.start`, ms).
 * - `trading.signal_to_wire_nolimit_p50` / `_p99` (ms): a reference — the
 *   same path with the adapter's `orders` group given no windows at all, so
 *   no limiter windows in it (config cannot say that: `rate_limits.orders` needs
 *   one capped window). The difference to `signal_to_wire` is the limiter.
 * - `trading.intent_fsync_p50` / `_p99` (ms): a real `Ledger` in a temp dir
 *   (the config's group-commit settings) appending durable
 *   `OrderIntentRecorded` events one at a time: append → resolved, i.e. the
 *   write and the fdatasync the journal waits for before an order leaves.
 *   Add it to `signal_to_wire` for the live figure.
 * - `trading.rss` is added by run.ts at the end of this section.
 */
import { subscribe as dcSubscribe, unsubscribe as dcUnsubscribe } from 'node:diagnostics_channel';
import type { ClientRequest, IncomingMessage } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BusJournal } from '../../src/app/journal.js';
import type { Broker, Instrument, InstrumentRef, TickStream } from '../../src/broker/broker.js';
import { SmartApiBroker } from '../../src/broker/smartapi/adapter.js';
import { InstrumentIndex } from '../../src/broker/smartapi/instrument-index.js';
import type { WindowCaps } from '../../src/broker/smartapi/limits.js';
import { EventBus } from '../../src/core/bus.js';
import { RealClock, SimClock, istToMillis } from '../../src/core/clock.js';
import { type Config, defaultConfig } from '../../src/core/config.js';
import type { Payload, RustroEvent } from '../../src/core/events.js';
import { Ledger } from '../../src/core/ledger.js';
import { DEFAULT_CALENDAR_DIR, TradingCalendar } from '../../src/market/calendar.js';
import { createMarket } from '../../src/sim/market/market.js';
import type { SimMarket } from '../../src/sim/market/types.js';
import { demoAccountSecrets } from '../../src/sim/server/auth.js';
import { type SimServer, startSimServer } from '../../src/sim/server/server.js';
import type { Journal } from '../../src/trading/order-manager.js';
import { TradingDesk } from '../../src/trading/trading-desk.js';
import { type Bench, type Report, percentile } from './harness.js';

/** A bundled session (Tuesday); NIFTY weeklies expire Thursday 04-Jan. */
const DAY = '2024-01-02';
const VIX: InstrumentRef = { exchange: 'NSE', token: '99926017' };
const TICKS = 200_000;
const TICK_WARMUP = 20_000;
const ORDERS = 300;
const ORDER_WARMUP = 30;
/** Entries per desk: a day's worth (the desk's scans cover every order and position of its day). */
const DESK_DAY = 10;
const FSYNCS = 400;
const FSYNC_WARMUP = 20;

const nowNs = (): bigint => process.hrtime.bigint();
const sorted = (xs: number[]): Float64Array => Float64Array.from(xs).sort();
const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

async function until(cond: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`trading bench: timed out waiting for ${what}`);
    await turn();
  }
}

/** A desk wired as money-path.ts wires it (the feed subscription is the caller's). */
function startDesk(o: {
  bus: EventBus;
  calendar: TradingCalendar;
  clock: SimClock;
  config: Config;
  journal: Journal;
  broker: TradingDeskBroker;
  instruments: () => InstrumentIndex | undefined;
  subscribe?: (refs: InstrumentRef[]) => void;
}): TradingDesk {
  const desk = new TradingDesk({
    bus: o.bus, clock: o.clock, calendar: o.calendar, config: o.config, journal: o.journal,
    broker: o.broker, instruments: o.instruments, subscribe: o.subscribe ?? (() => {}), unsubscribe: () => {}, vix: VIX,
  });
  desk.start();
  return desk;
}
type TradingDeskBroker = Pick<Broker, 'placeOrder' | 'modifyOrder' | 'cancelOrder' | 'quotes' | 'orderBook' | 'positions'>;

/** One entry signal and its contract, as the strategy runner and the option picker publish them. */
function entry(i: number, strategy: string, inst: Instrument, ltp: number, spot: number): { signal: Payload<'SignalRaised'>; pick: Payload<'OptionPicked'> } {
  const signalId = `S${i}`;
  return {
    signal: {
      signalId, strategy, underlying: inst.name, action: 'entry', side: inst.optionType!, tf: strategy === 'adx-mtf' ? '1h' : '1m',
      // A distinct signal bar per entry: the idempotency key (and so the tag) differs.
      barTs: istToMillis(DAY, '09:15') + i * 60_000, spot, strikeOffset: 0, reason: 'bench',
    },
    pick: {
      signalId, underlying: inst.name, exchange: inst.exchange, token: inst.token, symbol: inst.symbol, expiry: inst.expiry!,
      strike: inst.strike!, optionType: inst.optionType!, lotSize: inst.lotSize, spot, atm: inst.strike!, rolled: false, ltp, checks: [],
    },
  };
}

// ── 1. tick → mark → stop check ──────────────────────────────────────────────

async function tickToStopCheck(report: Report): Promise<void> {
  const config = defaultConfig();
  const clock = new SimClock(istToMillis(DAY, '10:30'));
  const bus = new EventBus(clock);
  const options: Instrument[] = [21_700, 21_750, 21_800].map((strike, k) => ({
    token: String(43_000 + k), symbol: `NIFTY04JAN24${strike}CE`, name: 'NIFTY', exchange: 'NFO', kind: 'option',
    expiry: '2024-01-04', strike, optionType: 'CE', lotSize: 50, tickSize: 0.05, freezeQty: 1800,
  }));
  const index = new InstrumentIndex(options);
  let nextOrder = 1;
  const broker: TradingDeskBroker = {
    placeOrder: async () => ({ orderId: `B${nextOrder++}` }),
    modifyOrder: async (orderId) => ({ orderId }),
    cancelOrder: async () => {},
    quotes: async () => [],
    orderBook: async () => [],
    positions: async () => [],
  };
  const desk = startDesk({ bus, clock, calendar: TradingCalendar.load(DEFAULT_CALENDAR_DIR), config, journal: new BusJournal(bus), broker, instruments: () => index });
  let stopMoves = 0;
  let exits = 0;
  bus.on('PositionStopMoved', () => void stopMoves++, 'bench: stop moves');
  bus.on('ExitTriggered', () => void exits++, 'bench: exits');

  // Open three positions through the desk's entry path: two adx-mtf (fixed stop + trailing
  // after +2 %), one supertrend-scalper (trailing from entry + profit lock).
  const premium = [120, 95, 75];
  const strategies = ['adx-mtf', 'adx-mtf', 'supertrend-scalper'];
  for (let k = 0; k < options.length; k++) {
    const { signal, pick } = entry(k, strategies[k]!, options[k]!, premium[k]!, 21_720);
    bus.emit('SignalRaised', signal);
    bus.emit('OptionPicked', pick);
    await until(() => desk.book.all().some((o) => o.intent.signalId === signal.signalId && o.orderId !== undefined) && !desk.busy, `entry ${k} placed`);
    const order = desk.book.all().find((o) => o.intent.signalId === signal.signalId)!;
    bus.emit('OrderUpdated', {
      orderId: order.orderId!, tag: order.intent.tag, state: 'filled', rawStatus: 'complete', filledQty: order.intent.qty, avgFillPrice: order.price, source: 'stream',
    });
  }
  const open = desk.positions.open();
  if (open.length !== 3 || open.some((p) => p.boughtQty === 0)) throw new Error(`trading bench: expected 3 filled positions, got ${open.length}`);

  // Prices: each option's level rises 0.3 % every ~40 of its ticks; in between the price
  // wanders up to 0.8 % below the level, so new highs (each moving the trailing stop by a
  // tick or more) come every ~15 ticks, and no stop is ever reached (1.5 % / 5 % trails
  // below the high, 20 % fixed).
  let seed = 12_345;
  const rnd = (): number => ((seed = (Math.imul(seed, 1_664_525) + 1_013_904_223) >>> 0) / 2 ** 32);
  const level = open.map((p) => p.boughtValue / p.boughtQty);
  const onGrid = (x: number): number => Math.round(x * 20) / 20;
  const ns: number[] = [];
  for (let i = 0; i < TICK_WARMUP + TICKS; i++) {
    const k = i % 3;
    if (rnd() < 1 / 40) level[k]! *= 1.003;
    const ltp = onGrid(level[k]! * (1 - 0.008 * rnd()));
    clock.advanceBy(10);
    const now = clock.now();
    const tick: Payload<'Tick'> = {
      token: options[k]!.token, exchange: 'NFO', mode: 'quote', exchTs: now, ltp, lastQty: 50, avgPrice: ltp, volume: 1_000_000 + i,
      totBuyQty: 90_000, totSellQty: 80_000, open: premium[k]!, high: level[k]!, low: premium[k]! * 0.9, close: premium[k]!,
    };
    const t0 = nowNs();
    bus.emit('Tick', tick);
    const dt = Number(nowNs() - t0);
    if (i >= TICK_WARMUP) ns.push(dt);
  }
  if (exits > 0) throw new Error(`trading bench: ${exits} exits fired; the price path must never reach a stop`);
  const s = sorted(ns);
  const trails = `${stopMoves.toLocaleString('en-US')} stop moves`;
  report('trading.tick_to_stop_check_p50', percentile(s, 50) / 1000, 'µs', `bus.emit(Tick) → returned, TradingDesk only, 3 open positions, ${TICKS.toLocaleString('en-US')} ticks, ${trails}`);
  report('trading.tick_to_stop_check_p99', percentile(s, 99) / 1000, 'µs', `goal ≤ 50 µs; p99.9 ${(percentile(s, 99.9) / 1000).toFixed(1)} µs, max ${(s[s.length - 1]! / 1000).toFixed(0)} µs`);
  await desk.stop();
}

// ── 2. signal → order request on the wire ────────────────────────────────────

type WireSamples = { wire: number[]; send: number[]; intent: number[] };

/**
 * `n` entries (after `warmup` more) through a desk and a SmartApiBroker with the
 * given `orders` limiter windows. A fresh desk every DESK_DAY entries keeps its
 * books a day's size (its scans are over every order and position of the day).
 */
async function wireRun(sim: SimServer, market: SimMarket, calendar: TradingCalendar, orders: WindowCaps, n: number, warmup: number): Promise<WireSamples> {
  const config = defaultConfig();
  const dir = mkdtempSync(join(tmpdir(), 'rustro-trading-bench-'));
  // Market time for the bus and the desk (paused: quotes stay fresh, ladder timers never fire);
  // real time for the adapter's network pacing — the demo's two clocks.
  const clock = new SimClock(sim.now());
  const bus = new EventBus(clock);
  const noFeed: TickStream = { subscribe: () => {}, unsubscribe: () => {}, start: async () => {}, stop: async () => {} };
  const broker = new SmartApiBroker({
    secrets: demoAccountSecrets({ apiKey: sim.apiKey }), clock: new RealClock(), bus, dataDir: dir,
    rest: { baseUrl: sim.url, timeoutMs: 3000 },
    master: { url: sim.masterUrl },
    limits: { groups: { orders } },
    ticks: noFeed,
  });
  let tArrived: bigint | undefined;
  let tSent: bigint | undefined;
  let tIntent: bigint | undefined;
  const onServer = (m: unknown): void => {
    if ((m as { request: IncomingMessage }).request.url?.endsWith('/placeOrder') === true) tArrived ??= nowNs();
  };
  const onClient = (m: unknown): void => {
    if ((m as { request: ClientRequest }).request.path.endsWith('/placeOrder')) tSent ??= nowNs();
  };
  dcSubscribe('http.server.request.start', onServer);
  dcSubscribe('http.client.request.start', onClient);
  let desk: TradingDesk | undefined;
  try {
    await broker.login();
    await broker.instruments();
    const index = broker.instrumentIndex!;
    const spot = market.quote('99926000')!.ltp;
    const inst = index.option('NIFTY', index.nearestExpiry('NIFTY', DAY)!, Math.round(spot / 50) * 50, 'CE')!;
    const ltp = market.quote(inst.token)!.ltp;
    let refused = '';
    bus.on('OrderIntentRecorded', () => void (tIntent ??= nowNs()), 'bench: intent');
    bus.on('OrderRefused', (e) => void (refused = `${e.data.check}: ${e.data.detail}`), 'bench: refusals');
    bus.on('EntrySkipped', (e) => void (refused = `${e.data.reason}: ${e.data.detail}`), 'bench: skips');

    const out: WireSamples = { wire: [], send: [], intent: [] };
    const booked0 = sim.state().orders;
    for (let i = 0; i < warmup + n; i++) {
      if (i % DESK_DAY === 0) {
        await desk?.stop();
        desk = startDesk({ bus, clock, calendar, config, journal: new BusJournal(bus), broker, instruments: () => index, subscribe: (refs) => noFeed.subscribe(refs, config.feed.mode) });
      }
      const { signal, pick } = entry(i, 'adx-mtf', inst, ltp, spot);
      bus.emit('SignalRaised', signal);
      // The previous sample's tail (the limiter's bookkeeping after its cancel) ends first: live, entries are seconds apart.
      await new Promise((r) => setTimeout(r, 3));
      tArrived = tSent = tIntent = undefined;
      const t0 = nowNs();
      bus.emit('OptionPicked', pick);
      await until(() => tArrived !== undefined || refused !== '', 'the placeOrder request at the simulator');
      if (refused !== '') throw new Error(`trading bench: the desk did not place entry ${i}: ${refused}`);
      if (i >= warmup) {
        out.wire.push(Number(tArrived! - t0) / 1e6);
        out.send.push(Number(tSent! - t0) / 1e6);
        out.intent.push(Number(tIntent! - t0) / 1e3);
      }
      // Outside the timing: the placement's answer recorded, then the order cancelled at the
      // simulator and the cancel reported to the desk (as the order-update stream would).
      const d = desk!;
      await until(() => !d.busy, 'the placement to be recorded');
      const order = d.book.all().at(-1)!;
      if (order.orderId === undefined) throw new Error(`trading bench: entry ${i} was not placed (${order.state} ${order.placeFailed?.message ?? ''})`);
      await broker.cancelOrder(order.orderId);
      bus.emit('OrderUpdated', { orderId: order.orderId, tag: order.intent.tag, state: 'cancelled', rawStatus: 'cancelled', filledQty: 0, avgFillPrice: 0, source: 'stream' });
      await until(() => !d.busy, 'the cancel to be recorded');
    }
    const booked = sim.state().orders - booked0;
    if (booked !== warmup + n) throw new Error(`trading bench: the simulator booked ${booked} orders, expected ${warmup + n}`);
    return out;
  } finally {
    dcUnsubscribe('http.server.request.start', onServer);
    dcUnsubscribe('http.client.request.start', onClient);
    await desk?.stop();
    await broker.close().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  }
}

async function signalToWire(report: Report): Promise<void> {
  const market = createMarket({ day: DAY, seed: 7 });
  const sim = await startSimServer({ market, port: 0, speed: 0, start: '10:30', seed: 11, rateLimits: false });
  const calendar = TradingCalendar.load(DEFAULT_CALENDAR_DIR);
  try {
    // The production shape: three chained windows (per s, min, h), caps raised so nothing waits for room.
    const big = 1_000_000;
    const a = await wireRun(sim, market, calendar, { perSecond: big, perMinute: big, perHour: big }, ORDERS, ORDER_WARMUP);
    const w = sorted(a.wire);
    const s = sorted(a.send);
    const d = sorted(a.intent);
    report('trading.signal_to_wire_p50', percentile(w, 50), 'ms', `emit(OptionPicked) → sim receives placeOrder; loopback, ${ORDERS} entries, fsync excluded, order caps raised to 1e6/s/min/h`);
    report('trading.signal_to_wire_p99', percentile(w, 99), 'ms', `goal ≤ 2 ms; max ${w[w.length - 1]!.toFixed(2)} ms`);
    report('trading.signal_to_intent_p50', percentile(d, 50), 'µs', 'breakdown: the desk — sizing, nine checks, intent published');
    report('trading.signal_to_intent_p99', percentile(d, 99), 'µs');
    report('trading.signal_to_http_send_p50', percentile(s, 50), 'ms', 'breakdown: to the adapter\'s http.request (incl. the orders limiter)');
    report('trading.signal_to_http_send_p99', percentile(s, 99), 'ms');
    // Reference: the same path with no client-side limiter on orders (not a config setting:
    // rate_limits.orders needs one capped window) — what the rest of the path costs.
    const b = await wireRun(sim, market, calendar, {}, ORDERS, ORDER_WARMUP);
    const u = sorted(b.wire);
    const split = `desk ${percentile(sorted(b.intent), 50).toFixed(0)} µs, to http.request ${percentile(sorted(b.send), 50).toFixed(2)} ms`;
    report('trading.signal_to_wire_nolimit_p50', percentile(u, 50), 'ms', `reference: the orders group without limiter windows (p50s: ${split})`);
    report('trading.signal_to_wire_nolimit_p99', percentile(u, 99), 'ms', `max ${u[u.length - 1]!.toFixed(2)} ms`);
  } finally {
    await sim.close();
  }
}

// ── 3. the intent's fsync ───────────────────────────────────────────────────

async function intentFsync(report: Report): Promise<void> {
  const config = defaultConfig();
  const dir = mkdtempSync(join(tmpdir(), 'rustro-trading-fsync-'));
  try {
    const ledger = await Ledger.open(dir, { groupCommitMs: config.ledger.group_commit_ms, groupCommitEvents: config.ledger.group_commit_events });
    const ms: number[] = [];
    for (let i = 0; i < FSYNC_WARMUP + FSYNCS; i++) {
      const e: RustroEvent = {
        type: 'OrderIntentRecorded', ts: Date.now(),
        data: {
          intentId: `R${String(i).padStart(18, '0')}`, tag: `R${String(i).padStart(18, '0')}`, signalId: `S${i}`, strategy: 'adx-mtf', underlying: 'NIFTY',
          exchange: 'NFO', symbol: 'NIFTY04JAN2421700CE', token: '43000', side: 'BUY', orderType: 'LIMIT', qty: 250, price: 120.35,
          purpose: 'entry', attempt: 0, positionId: `P${String(i).padStart(18, '0')}`,
        },
      };
      const t0 = nowNs();
      await ledger.append(e);
      if (i >= FSYNC_WARMUP) ms.push(Number(nowNs() - t0) / 1e6);
    }
    await ledger.close();
    const s = sorted(ms);
    report('trading.intent_fsync_p50', percentile(s, 50), 'ms', `durable OrderIntentRecorded append → resolved (write + fdatasync), ${FSYNCS} sequential, ${tmpdir()}`);
    report('trading.intent_fsync_p99', percentile(s, 99), 'ms', `max ${s[s.length - 1]!.toFixed(2)} ms`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const bench: Bench = {
  title: 'Trading: tick → stop check (in process); signal → order on the wire (simulator); intent fsync',
  async run(report) {
    await tickToStopCheck(report);
    await signalToWire(report);
    await intentFsync(report);
  },
};

export default bench;
