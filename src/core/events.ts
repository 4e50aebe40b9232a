/**
 * The event catalogue: Rustro's vocabulary. Every fact the daemon acts on or
 * records is one of these, a discriminated union on `type`. Each entry has a
 * zod schema for its payload (checked where events enter from disk), a version
 * `v` written into the ledger so old ledgers stay readable after a schema
 * changes, and a durability class: `durable` events (order intents, fills,
 * halts) are fsync'd before the ledger's append resolves; the rest are
 * group-committed.
 *
 * Names are past-tense facts. A new event is added here, and only here.
 */
import { z } from 'zod';
import type { ByteSink } from './json-bytes.js';
import { type JsonWriter, compileJsonWriter } from './zod-json.js';

const nonEmpty = z.string().min(1);
const finite = z.number().finite();
const epochMs = z.number().int().nonnegative();

/**
 * `ledgered: false` marks the firehose (ticks): too many to write one line
 * each; raw feed recording (data/ticks/) keeps them for replay instead. And
 * the feed's subscription bookkeeping, which no book reads.
 */
type Entry<S extends z.ZodType> = { readonly v: number; readonly durable: boolean; readonly ledgered: boolean; readonly schema: S };
const entry = <S extends z.ZodType>(v: number, durable: boolean, schema: S, ledgered = true): Entry<S> => ({ v, durable, ledgered, schema });

/** The exchange segments Rustro trades or watches: NSE cash/indices, NSE F&O, BSE cash/indices, BSE F&O. */
export const EXCHANGES = ['NSE', 'NFO', 'BSE', 'BFO'] as const;
export const exchangeSchema = z.enum(EXCHANGES);
const exchange = exchangeSchema;
const instrumentRefs = z.array(z.object({ exchange, token: nonEmpty }));
const depthLevel = z.object({ price: finite, qty: finite, orders: finite });
const optionalFinite = finite.optional();
/** The bar timeframes, finest first: the one list (market/timeframes.ts and the config schema use it). */
export const TIMEFRAME_NAMES = ['1m', '3m', '5m', '15m', '1h', '1d'] as const;
const timeframe = z.enum(TIMEFRAME_NAMES);
const optionType = z.enum(['CE', 'PE']);
/** One rule a decision applied: what it measured, the limit, and whether it passed — so the ledger answers "why (not)?". */
const check = z.object({
  name: nonEmpty,
  value: z.union([finite, z.string(), z.boolean(), z.null()]),
  limit: z.string(),
  passed: z.boolean(),
});
export type Check = z.infer<typeof check>;
/** A contract whose quantity the broker's and the ledger's books disagree on. */
const mismatch = z.object({
  kind: z.enum(['unknown_position', 'quantity_mismatch']),
  exchange,
  token: nonEmpty,
  symbol: z.string(),
  ledgerQty: z.number().int(),
  brokerQty: z.number().int(),
  brokerAvg: finite,
});

export const catalogue = {
  // ── daemon lifecycle ─────────────────────────────────────────────────────
  DaemonStarted: entry(1, false, z.object({
    mode: z.enum(['live', 'paper']),
    pid: z.number().int().positive(),
    version: nonEmpty,
    dataDir: nonEmpty,
  })),
  DaemonStopping: entry(1, false, z.object({ reason: nonEmpty })),
  DaemonStopped: entry(1, true, z.object({ reason: nonEmpty, uptimeMs: epochMs })),
  LockTakenOver: entry(1, false, z.object({ lockFile: nonEmpty, stalePid: z.number().int() })),

  // ── infrastructure ───────────────────────────────────────────────────────
  /** A bus subscriber threw; the bus isolated it and went on. */
  HandlerFailed: entry(1, false, z.object({
    eventType: nonEmpty,
    handler: z.string(),
    error: z.string(),
  })),
  /** The ledger found a torn or corrupt tail on open and moved it aside. */
  LedgerRepaired: entry(1, true, z.object({
    file: nonEmpty,
    keptBytes: z.number().int().nonnegative(),
    movedBytes: z.number().int().positive(),
    corruptFile: nonEmpty,
    reason: nonEmpty,
  })),

  // ── broker session and market-data feed ──────────────────────────────────
  /** One market-data update (broker port `Tick`), prices in rupees. Not written to the ledger. */
  Tick: entry(1, false, z.object({
    token: nonEmpty,
    exchange,
    mode: z.enum(['ltp', 'quote', 'snap']),
    exchTs: epochMs,
    ltp: finite,
    lastQty: optionalFinite,
    avgPrice: optionalFinite,
    volume: optionalFinite,
    totBuyQty: optionalFinite,
    totSellQty: optionalFinite,
    open: optionalFinite,
    high: optionalFinite,
    low: optionalFinite,
    close: optionalFinite,
    lastTradeTs: optionalFinite,
    oi: optionalFinite,
    bids: z.array(depthLevel).optional(),
    asks: z.array(depthLevel).optional(),
    upperCircuit: optionalFinite,
    lowerCircuit: optionalFinite,
    high52: optionalFinite,
    low52: optionalFinite,
  }), false),
  /** Logged in to the broker; the session lasts until `expiresAt` (midnight IST). No credential or token is recorded. */
  BrokerLoggedIn: entry(1, false, z.object({ expiresAt: epochMs })),
  BrokerSessionRefreshed: entry(1, false, z.object({ expiresAt: epochMs, reason: nonEmpty })),
  /** The day's instrument master is loaded and indexed. */
  InstrumentsLoaded: entry(1, false, z.object({ count: z.number().int().nonnegative(), options: z.number().int().nonnegative() })),
  BrokerLoggedOut: entry(1, false, z.object({ reason: nonEmpty })),
  /** A broker request failed after its retries, or with an error that is not retried. */
  BrokerRequestFailed: entry(1, false, z.object({
    endpoint: nonEmpty,
    code: z.string(),
    message: z.string(),
    attempts: z.number().int().positive(),
  })),
  /**
   * The tick stream took on these instruments, or let them go (a subscription by the desk, the
   * morning's prune of expired contracts): the aggregator counts their ticks, or closes their bars on
   * market time. Not written to the ledger: the feed's own bookkeeping, which no book reads.
   */
  FeedSubscribed: entry(1, false, z.object({ refs: instrumentRefs }), false),
  FeedUnsubscribed: entry(1, false, z.object({ refs: instrumentRefs }), false),
  FeedConnected: entry(1, false, z.object({ connection: z.number().int().nonnegative(), subscriptions: z.number().int().nonnegative() })),
  FeedDisconnected: entry(1, false, z.object({
    connection: z.number().int().nonnegative(),
    reason: nonEmpty,
    code: z.number().int().optional(),
  })),
  FeedReconnectScheduled: entry(1, false, z.object({
    connection: z.number().int().nonnegative(),
    attempt: z.number().int().positive(),
    delayMs: z.number().int().nonnegative(),
  })),
  /** Connected but silent during the session: the feed resubscribes first, then reconnects. */
  FeedMuted: entry(1, false, z.object({
    connection: z.number().int().nonnegative(),
    silentMs: z.number().int().nonnegative(),
    action: z.enum(['resubscribe', 'reconnect']),
  })),
  /** A frame the codec refused (short, long, unknown mode, garbage); counted and dropped, never thrown. */
  FeedFrameRejected: entry(1, false, z.object({
    connection: z.number().int().nonnegative(),
    reason: nonEmpty,
    length: z.number().int().nonnegative(),
    headHex: z.string(),
  })),
  /** An error reply from the feed server (E1001, E1002 …). */
  FeedErrorReceived: entry(1, false, z.object({
    connection: z.number().int().nonnegative(),
    code: z.string(),
    message: z.string(),
  })),
  /** An order's state as the broker reports it, from the order-status stream or order-book polling. */
  OrderUpdated: entry(1, true, z.object({
    orderId: nonEmpty,
    tag: z.string().optional(),
    state: z.enum(['pending', 'open', 'partially_filled', 'filled', 'cancelled', 'rejected']),
    rawStatus: z.string(),
    filledQty: z.number().nonnegative(),
    avgFillPrice: z.number().nonnegative(),
    reason: z.string().optional(),
    source: z.enum(['stream', 'poll']),
  })),

  // ── market data: bars, staleness, history ────────────────────────────────
  /**
   * A bar closed (market/aggregator). `ts` is the bar's start, `end` its
   * exclusive end (epoch ms); `volume` absent where there is none (indices);
   * `backfilled` when some of it came from historical 1-minute candles.
   */
  BarClosed: entry(1, false, z.object({
    token: nonEmpty,
    exchange,
    tf: timeframe,
    ts: epochMs,
    end: epochMs,
    open: finite,
    high: finite,
    low: finite,
    close: finite,
    volume: finite.nonnegative().optional(),
    ticks: z.number().int().nonnegative(),
    backfilled: z.boolean(),
    closedBy: z.enum(['tick', 'clock', 'final', 'backfill']),
  })),
  /** No tick from the feed for `feed_stale_sec` during the session: entries pause. */
  FeedStale: entry(1, false, z.object({ silentMs: z.number().int().nonnegative(), lastTickAt: epochMs.optional() })),
  /** Ticks flow again after a FeedStale. */
  FeedResumed: entry(1, false, z.object({ staleMs: z.number().int().nonnegative() })),
  /** Ticks the aggregator dropped since the last report, by rule (a periodic count, not one event per tick). */
  TicksDropped: entry(1, false, z.object({
    late: z.number().int().nonnegative(),
    duplicate: z.number().int().nonnegative(),
    outsideSession: z.number().int().nonnegative(),
    sinceMs: epochMs,
  })),
  /** A stream (instrument × timeframe) holds as many closed bars as its consumers declared they need. */
  StreamWarm: entry(1, false, z.object({
    token: nonEmpty,
    exchange,
    tf: timeframe,
    bars: z.number().int().nonnegative(),
    need: z.number().int().nonnegative(),
  })),
  /** Fetching history for a stream failed; it warms up from live bars instead. */
  HistoryFetchFailed: entry(1, false, z.object({
    token: nonEmpty,
    exchange,
    tf: timeframe,
    error: z.string(),
  })),
  /** Missing minutes [from, to) of an instrument were filled from 1-minute candles (after a reconnect or a restart). */
  BarsBackfilled: entry(1, false, z.object({
    token: nonEmpty,
    exchange,
    from: epochMs,
    to: epochMs,
    minutes: z.number().int().nonnegative(),
    reason: z.enum(['reconnect', 'restart']),
  })),
  /** The day's closed bars were read back from data/bars/ at start. */
  BarsRestored: entry(1, false, z.object({
    files: z.number().int().nonnegative(),
    bars: z.number().int().nonnegative(),
    skippedLines: z.number().int().nonnegative(),
  })),

  // ── strategy: decisions with every reason ───────────────────────────────
  /** adx-mtf's direction for the day from completed daily bars (`none`: no trade today). */
  DailyBiasDecided: entry(1, false, z.object({
    strategy: nonEmpty,
    underlying: nonEmpty,
    date: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
    bias: z.enum(['CE', 'PE', 'none']),
    checks: z.array(check),
  })),
  /**
   * A strategy looked at a closed bar: every filter with its value and verdict.
   * `signal`: all passed; `avoid`: the trend filters disagree; `no_trade`:
   * another filter failed; `not_warm`: too few bars for the indicators.
   */
  StrategyEvaluated: entry(1, false, z.object({
    strategy: nonEmpty,
    underlying: nonEmpty,
    tf: timeframe,
    barTs: epochMs,
    outcome: z.enum(['signal', 'no_trade', 'avoid', 'not_warm']),
    side: optionType.optional(),
    checks: z.array(check),
    failed: z.array(z.string()),
  })),
  /**
   * A strategy wants to enter (buy `side` options) or to exit its positions on
   * an underlying. `signalId` is deterministic (strategy, underlying, bar,
   * side, action): the same bar re-evaluated after a restart gives the same id.
   */
  SignalRaised: entry(1, false, z.object({
    signalId: nonEmpty,
    strategy: nonEmpty,
    underlying: nonEmpty,
    action: z.enum(['entry', 'exit']),
    side: optionType,
    tf: timeframe,
    barTs: epochMs,
    spot: finite,
    strikeOffset: z.number().int().nonnegative(),
    reason: nonEmpty,
  })),
  /** The option contract chosen for an entry signal, with every check that chose it. */
  OptionPicked: entry(1, false, z.object({
    signalId: nonEmpty,
    underlying: nonEmpty,
    exchange,
    token: nonEmpty,
    symbol: nonEmpty,
    expiry: z.string(),
    strike: finite,
    optionType,
    lotSize: z.number().int().positive(),
    spot: finite,
    atm: finite,
    rolled: z.boolean(),
    /** The contract's last price from the quote the liquidity checks used, if there was one. */
    ltp: finite.positive().optional(),
    checks: z.array(check),
  })),
  /** No contract could be chosen for an entry signal; the signal is dropped. */
  OptionPickFailed: entry(1, false, z.object({
    signalId: nonEmpty,
    underlying: nonEmpty,
    reason: nonEmpty,
    detail: z.string(),
    checks: z.array(check),
  })),

  // ── the money path (write-ahead: durable) ────────────────────────────────
  /** An entry signal not acted on before any order: zero lots, no premium, a risk rule (a recorded skip, not an error). */
  EntrySkipped: entry(1, false, z.object({
    signalId: nonEmpty,
    underlying: nonEmpty,
    reason: nonEmpty,
    detail: z.string(),
    values: z.record(z.string(), z.union([finite, z.string(), z.boolean(), z.null()])),
  })),
  /** A pre-order check failed: the order was not sent. `check` is one of the nine (SPEC §4). */
  OrderRefused: entry(1, false, z.object({
    intentKey: nonEmpty,
    purpose: z.enum(['entry', 'exit']),
    check: z.enum(['session', 'entry_window', 'instrument', 'quantity', 'price', 'data_fresh', 'funds', 'risk', 'idempotency']),
    detail: z.string(),
    values: z.record(z.string(), z.union([finite, z.string(), z.boolean(), z.null()])),
  })),
  /**
   * Written and fsync'd before an order request leaves (ARCHITECTURE rule 2).
   * `tag` is the deterministic idempotency key sent as the broker's order tag;
   * `attempt` counts ladder steps (0 = the placement, then each modify).
   */
  OrderIntentRecorded: entry(1, true, z.object({
    intentId: nonEmpty,
    tag: nonEmpty,
    signalId: nonEmpty,
    strategy: nonEmpty,
    underlying: nonEmpty,
    exchange,
    symbol: nonEmpty,
    token: nonEmpty,
    side: z.enum(['BUY', 'SELL']),
    orderType: z.enum(['LIMIT', 'MARKET']),
    qty: z.number().int().positive(),
    price: finite.nonnegative(),
    purpose: z.enum(['entry', 'exit']),
    attempt: z.number().int().nonnegative(),
    positionId: nonEmpty,
  })),
  /** The broker took the order (its id), or the order was found by tag after an unknown outcome. */
  OrderPlaced: entry(1, true, z.object({ intentId: nonEmpty, orderId: nonEmpty, foundByTag: z.boolean() })),
  /** The placement failed: refused by the broker (`rejected`) or not found by tag within the lookup window (`unknown`). Never re-sent. */
  OrderPlaceFailed: entry(1, true, z.object({ intentId: nonEmpty, outcome: z.enum(['rejected', 'unknown']), code: z.string(), message: z.string() })),
  /** A ladder step: the working order's price moved (or it became MARKET) — recorded before the modify request leaves. */
  OrderRepriced: entry(1, true, z.object({
    intentId: nonEmpty,
    orderId: nonEmpty,
    attempt: z.number().int().positive(),
    orderType: z.enum(['LIMIT', 'MARKET']),
    price: finite.nonnegative(),
  })),
  /** A cancel was requested (ladder exhausted, end of day, shutdown). */
  OrderCancelRequested: entry(1, true, z.object({ intentId: nonEmpty, orderId: nonEmpty, reason: nonEmpty })),
  /** The order state machine moved (from the order-status stream, polling or the paper broker). */
  OrderStateChanged: entry(1, false, z.object({
    intentId: nonEmpty,
    orderId: nonEmpty,
    from: z.enum(['new', 'open', 'partially_filled', 'filled', 'cancelled', 'rejected']),
    to: z.enum(['open', 'partially_filled', 'filled', 'cancelled', 'rejected']),
    filledQty: z.number().int().nonnegative(),
    reason: z.string().optional(),
  })),
  /** An update that would move an order backwards or out of a final state: recorded, not applied. */
  OrderTransitionIgnored: entry(1, false, z.object({
    intentId: nonEmpty,
    orderId: nonEmpty,
    from: z.enum(['new', 'open', 'partially_filled', 'filled', 'cancelled', 'rejected']),
    to: z.enum(['pending', 'open', 'partially_filled', 'filled', 'cancelled', 'rejected']),
    reason: nonEmpty,
  })),
  /** Units newly filled on an order (one event per increase of the filled quantity). */
  OrderFilled: entry(1, true, z.object({
    intentId: nonEmpty,
    brokerOrderId: nonEmpty,
    fillId: nonEmpty,
    qty: z.number().int().positive(),
    price: finite.positive(),
    filledAt: epochMs,
  })),
  /** A position's stop moved (trailing) or a profit lock engaged. */
  PositionStopMoved: entry(1, false, z.object({ positionId: nonEmpty, stop: finite, high: finite, reason: nonEmpty })),
  /** An exit rule fired for a position; the exit order follows. */
  ExitTriggered: entry(1, true, z.object({
    positionId: nonEmpty,
    reason: z.enum(['stop_loss', 'trailing_stop', 'target', 'profit_lock', 'technical', 'end_of_day', 'risk', 'kill_switch', 'shutdown']),
    ltp: finite,
    detail: z.string(),
  })),
  /** A position is flat again: its realised P&L, gross and net of charges. */
  PositionClosed: entry(1, true, z.object({
    positionId: nonEmpty,
    strategy: nonEmpty,
    underlying: nonEmpty,
    symbol: nonEmpty,
    qty: z.number().int().positive(),
    entryAvg: finite,
    exitAvg: finite,
    grossPnl: finite,
    charges: finite.nonnegative(),
    netPnl: finite,
    reason: nonEmpty,
  })),
  RiskHalted: entry(1, true, z.object({
    reason: nonEmpty,
    scope: z.enum(['entries', 'all']),
    detail: z.record(z.string(), z.union([z.string(), finite, z.boolean()])),
  })),
  /**
   * The broker's order book and positions compared with the ledger (at start,
   * on a timer, or on request): what was found and what was done. Orders found
   * by tag and fills or cancels that happened while the daemon was down are
   * applied as their own events; a position the books cannot explain is a
   * mismatch — never a fill invented to make the books agree.
   */
  ReconciliationCompleted: entry(1, false, z.object({
    trigger: z.enum(['start', 'timer', 'request']),
    mode: z.enum(['live', 'paper']),
    action: z.enum(['none', 'applied', 'halted', 'skipped']),
    ordersChecked: z.number().int().nonnegative(),
    positionsChecked: z.number().int().nonnegative(),
    foundByTag: z.array(z.string()),
    notAtBroker: z.array(z.string()),
    eventsApplied: z.number().int().nonnegative(),
    mismatches: z.array(mismatch),
    detail: z.string(),
  })),
  /** The broker holds positions the ledger cannot explain: entries halt (reduce-only) until an operator decides. */
  ReconciliationMismatch: entry(1, true, z.object({
    mismatches: z.array(mismatch),
    handling: z.enum(['leave', 'manage']),
  })),
  /** An operator decided about a reconciliation mismatch (`rustro reconcile --adopt|--flatten`): entries may resume. */
  ReconciliationResolved: entry(1, true, z.object({ decision: z.enum(['adopt', 'flatten']), detail: z.string() })),
  /** A broker position the ledger did not know, taken into the books (`--adopt`, or `reconcile.unknown_position = "manage"`). */
  PositionAdopted: entry(1, true, z.object({
    positionId: nonEmpty,
    exchange,
    token: nonEmpty,
    symbol: nonEmpty,
    underlying: z.string(),
    qty: z.number().int().positive(),
    avgPrice: finite.positive(),
  })),
  /** Old ledger days and tick recordings compressed (and, only if configured, old compressed ones deleted). */
  RetentionApplied: entry(1, false, z.object({ compressed: z.array(z.string()), deleted: z.array(z.string()) })),
  /** At start, today's ledger was read back through the books: what the daemon knows again. */
  StateRestored: entry(1, false, z.object({
    events: z.number().int().nonnegative(),
    openPositions: z.number().int().nonnegative(),
    workingOrders: z.number().int().nonnegative(),
    realisedToday: finite,
    halted: z.boolean(),
  })),
  /**
   * After a restart's reconciliation: the decisions the daemon carries on with
   * — working orders whose ladder resumes (a step recorded but not at the
   * broker sent again), entries decided but never at the
   * broker (option picks redone, orders sent), exits decided but never at the
   * broker (triggered again).
   */
  RecoveryResumed: entry(1, false, z.object({
    ladders: z.number().int().nonnegative(),
    /** Ladder steps recorded whose modify never reached the broker, sent again. */
    steps: z.array(z.string()),
    picks: z.array(z.string()),
    entries: z.array(z.string()),
    exits: z.array(z.string()),
  })),
  /** Today's first INDIA VIX print: the VIX breaker measures the day's jump from it (also after a restart). */
  VixBaselineRecorded: entry(1, false, z.object({ level: finite.positive() })),
  /** The kill switch (SIGUSR1 or the KILL file): flatten everything, no more entries. */
  KillSwitchActivated: entry(1, true, z.object({ source: z.enum(['signal', 'file']), detail: z.string() })),
} as const;

export type EventType = keyof typeof catalogue;
export type Payload<T extends EventType> = z.infer<(typeof catalogue)[T]['schema']>;

/** An event as it travels on the bus: `ts` is clock time in epoch ms. */
export type EventOf<T extends EventType> = { readonly type: T; readonly ts: number; readonly data: Payload<T> };
export type RustroEvent = { [K in EventType]: EventOf<K> }[EventType];

export const eventTypes = Object.keys(catalogue) as EventType[];

export function isEventType(s: string): s is EventType {
  return Object.prototype.hasOwnProperty.call(catalogue, s);
}

/**
 * Validates a payload against its type's schema and refuses unknown keys.
 * Schemas are plain (stripping) objects, checked for extra keys here, because
 * zod's strict objects skip its compiled fast path and parse ~2.5× slower —
 * this runs on every ledger line written and replayed.
 */
export function parsePayload<T extends EventType>(type: T, data: unknown): { ok: true; data: Payload<T> } | { ok: false; error: string } {
  const parsed = catalogue[type].schema.safeParse(data);
  if (!parsed.success) {
    return { ok: false, error: parsed.error.issues.map((i) => `data${i.path.map((p) => '.' + String(p)).join('')}: ${i.message}`).join('; ') };
  }
  const dropped = droppedKey(data, parsed.data, 'data');
  if (dropped !== undefined) return { ok: false, error: `${dropped}: unknown key` };
  return { ok: true, data: parsed.data as Payload<T> };
}

/**
 * Each ledgered type's payload schema compiled to a checking JSON writer
 * (zod-json.ts), all at load (~5 ms): compiled on first use, the first order
 * intent of a process paid ~1 ms for its writer on the way to the wire.
 */
const writers = new Map<EventType, JsonWriter | undefined>(eventTypes.filter(isLedgered).map((t) => [t, compileJsonWriter(catalogue[t].schema)]));

/**
 * Writes the payload's JSON to `out` and says yes if `parsePayload` would
 * accept `data` as it is: the ledger's write path, answered without building
 * zod's parsed copy. The bytes are what `parsePayload` would give, as JSON.
 * No is not final (the writer is conservative), and leaves `out` to be
 * rewound: ask `parsePayload` for the verdict and the message.
 */
export function writePayload(type: EventType, data: unknown, out: ByteSink): boolean {
  const w = writers.get(type);
  return w !== undefined && w(data, out);
}

/**
 * The first key of `input`, at any depth, that parsing left out of `output`:
 * a key no schema has (objects strip them), or `__proto__`, which zod drops
 * from records (JSON keeps it; rebuilding the object on replay makes it the
 * prototype). Refused when written, so a line always replays as it was.
 */
function droppedKey(input: unknown, output: unknown, path: string): string | undefined {
  if (typeof input !== 'object' || input === null || typeof output !== 'object' || output === null) return undefined;
  for (const k of Object.keys(input)) {
    if (!Object.hasOwn(output, k)) return `${path}.${k}`;
    const deeper = droppedKey((input as Record<string, unknown>)[k], (output as Record<string, unknown>)[k], `${path}.${k}`);
    if (deeper !== undefined) return deeper;
  }
  return undefined;
}

export function isDurable(type: EventType): boolean {
  return catalogue[type].durable;
}

/** Whether the ledger writes this event type down (everything but the tick firehose). */
export function isLedgered(type: EventType): boolean {
  return catalogue[type].ledgered;
}

export function currentVersion(type: EventType): number {
  return catalogue[type].v;
}
