/**
 * SmartStream (SmartAPI WebSocket 2.0) market-data client: the `TickStream`
 * of the SmartAPI adapter. docs/smartapi-protocol.md §11, §13, §15.
 *
 * Shape: the `ws` I/O lives in `wsConnector` at the bottom (one function,
 * swappable); everything else is state driven by socket callbacks and by
 * timers on the injected Clock, so heartbeat, dead-link, mute and backoff are
 * tested with a SimClock. Every socket callback is guarded: nothing throws out
 * of it. Every state change is an event on the bus.
 *
 * Per connection ("link"):
 *  - connect: `auth()` for fresh tokens → upgrade with the §11.1 headers →
 *    on open: FeedConnected, replay the link's whole subscription set in
 *    batches, start ping + watchdog.
 *  - text `ping` every pingIntervalMs; `pong` and every other message count
 *    as life. No message for deadAfterMs → FeedDisconnected + reconnect.
 *  - during the session (isSessionOpen), no tick with a newer exchange
 *    timestamp (per token) for muteAfterMs from the link's sentinel tokens (indices by
 *    default; any token if it has none; a replayed snapshot is not life) →
 *    FeedMuted{resubscribe} and a resubscribe; still no tick muteAfterMs later
 *    → FeedMuted{reconnect} and a reconnect.
 *  - HTTP 401 on the upgrade → onAuthRejected() (a new login), then reconnect.
 *  - reconnect: backoff[attempt] + jitter, at most maxReconnectsPerMinute per
 *    link in any 60 s window (a later slot is waited for; the delay in
 *    FeedReconnectScheduled says how long).
 *  - no session (`sessionEnded`: the broker's session ended at midnight and no
 *    login has made a new one): a link that goes down stays down — no
 *    reconnect, no re-login — until start() after the morning's login.
 * Subscriptions beyond maxTokensPerConnection go to a 2nd and 3rd link
 * (documented limits: 3 connections × 1000 (token, mode) pairs per client code).
 */
import WebSocket from 'ws';
import { z } from 'zod';
import type { Exchange, FeedMode, InstrumentRef, TickStream } from '../broker.js';
import type { EventBus } from '../../core/bus.js';
import type { Clock, TimerHandle } from '../../core/clock.js';
import { decodeTick, hexPrefix, isRejection } from './codec.js';
import { SubscriptionTable, buildRequests, type SubEntry } from './feed-subscriptions.js';
import type { FrameSink } from './recorder.js';

/** The revealed values one upgrade request carries (fetched fresh before every connect). */
export type FeedHandshakeTokens = { jwt: string; apiKey: string; clientCode: string; feedToken: string };

export type FeedOptions = {
  /** Text `ping` period. SDKs: 10 s. */
  pingIntervalMs: number;
  /** No message of any kind for this long → the link is dead. SDK-js: 20 s. */
  deadAfterMs: number;
  /** feed_mute_sec: no tick from the link's sentinel tokens for this long during the session → resubscribe, then reconnect. */
  muteAfterMs: number;
  /** Reconnect delays by attempt; the last one repeats (capped). */
  reconnectBackoffMs: number[];
  /** Jitter added to each delay: uniform in [0, jitterRatio × delay]. */
  reconnectJitterRatio: number;
  /** Reconnect attempts per link in any 60 s window. */
  maxReconnectsPerMinute: number;
  /** (token, mode) pairs per connection (documented limit 1000). */
  maxTokensPerConnection: number;
  /** Connections per client code (documented limit 3). */
  maxConnections: number;
  /** Tokens per subscribe/unsubscribe request. The server's own per-request limit is undocumented. */
  subscribeBatchSize: number;
  /** How often the dead-link / mute watchdog looks (SDKs: 5 s). */
  watchdogIntervalMs: number;
  /** `raw`: `Authorization: <jwt>` (docs, SDK-js); `bearer`: `Authorization: Bearer <jwt>` (SDK-py). */
  authorizationScheme: 'raw' | 'bearer';
  /**
   * How a muted link is resubscribed. Duplicate subscriptions are documented as
   * ignored by the server, so the default unsubscribes first.
   */
  muteResubscribe: 'unsubscribe-subscribe' | 'subscribe';
  /** Upgrade (handshake) timeout, enforced by `ws` on the wall clock. */
  handshakeTimeoutMs: number;
  /**
   * A tick stamped later than the feed clock's now + this is refused
   * (FeedFrameRejected). An upper bound only: replays and the demo carry
   * market times far in the past of the wall clock.
   */
  maxFutureExchTsMs: number;
  /** Rejected frames reported one by one per minute; beyond, one summary event a minute. */
  maxRejectEventsPerMinute: number;
};

export const DEFAULT_FEED_OPTIONS: Readonly<FeedOptions> = Object.freeze({
  pingIntervalMs: 10_000,
  deadAfterMs: 20_000,
  muteAfterMs: 30_000,
  reconnectBackoffMs: [1000, 2000, 4000, 8000, 16000],
  reconnectJitterRatio: 0.2,
  maxReconnectsPerMinute: 5,
  maxTokensPerConnection: 1000,
  maxConnections: 3,
  subscribeBatchSize: 500,
  watchdogIntervalMs: 1000,
  authorizationScheme: 'raw',
  muteResubscribe: 'unsubscribe-subscribe',
  handshakeTimeoutMs: 10_000,
  maxFutureExchTsMs: 86_400_000,
  maxRejectEventsPerMinute: 20,
});

/** What the edge reports about one socket. `closed` is called exactly once, last. */
export type SocketHandlers = {
  opened(): void;
  text(data: string): void;
  binary(data: Uint8Array): void;
  closed(info: { code?: number; reason: string; httpStatus?: number; errorMessage?: string }): void;
};
export type FeedSocket = { send(text: string): void; terminate(): void };
export type Connector = (url: string, headers: Record<string, string>, handlers: SocketHandlers, handshakeTimeoutMs: number) => FeedSocket;

export type SmartStreamFeedConfig = {
  url: string;
  /** Called before every connect, so a fresh login can supply new tokens. */
  auth: () => Promise<FeedHandshakeTokens>;
  bus: EventBus;
  clock: Clock;
  options?: Partial<FeedOptions>;
  /** True while the market session is open (mute detection only runs then). */
  isSessionOpen: (ms: number) => boolean;
  /** Called after an HTTP 401 upgrade answer, before reconnecting: renew the session. */
  onAuthRejected?: () => Promise<void>;
  /**
   * True while there is no session to connect with (after the broker's
   * midnight, until the morning routine's login, which restarts the feed):
   * reconnecting would only meet the dead token, and renewing it at night is
   * not the feed's call. Default: never.
   */
  sessionEnded?: () => boolean;
  /** Tokens whose silence means "muted". Default: cash-segment refs (NSE/BSE: the indices). */
  isMuteSentinel?: (ref: InstrumentRef) => boolean;
  /** Raw-frame recording (data/ticks/). */
  recorder?: FrameSink;
  /** Socket factory; default `wsConnector`. */
  connect?: Connector;
  /** Uniform [0, 1) for jitter; default Math.random. */
  random?: () => number;
};

export type FeedCounters = {
  frames: number;
  ticks: number;
  rejected: number;
  reconnects: number;
  pongs: number;
  errorReplies: number;
  /** Frames the recorder refused by throwing (the tick is still delivered). */
  recordErrors: number;
  /** Exceptions caught in socket handlers (should stay 0). */
  internalErrors: number;
};

const errorReply = z.object({
  correlationID: z.string().optional(),
  errorCode: z.union([z.string(), z.number()]).transform(String),
  errorMessage: z.union([z.string(), z.number()]).transform(String).optional(),
});

type LinkState = 'idle' | 'connecting' | 'open' | 'waiting' | 'stopped';

class Link {
  state: LinkState = 'idle';
  /** Bumped on every connect and every drop: callbacks from an older socket are ignored. */
  gen = 0;
  socket: FeedSocket | undefined;
  attempt = 0;
  /** Planned reconnect times (clock ms) within the last minute. */
  reconnectTimes: number[] = [];
  lastMessageAt = 0;
  /** Last tick from a sentinel (or the open / session start / last resubscribe). */
  muteSince = 0;
  /** Newest exchange timestamp per sentinel (exchange → token → ms) on this link, kept across reconnects: feeds' clocks differ per token. */
  readonly lastExchTs = new Map<Exchange, Map<string, number>>();
  muteStage: 0 | 1 = 0;
  muteStageAt = 0;
  ping: TimerHandle | undefined;
  watchdog: TimerHandle | undefined;
  reconnect: TimerHandle | undefined;
  /** Sentinel refs on this link: exchange → token → number of modes. */
  readonly sentinels = new Map<Exchange, Map<string, number>>();
  sentinelCount = 0;
  /** Resolves when the first connect attempt after start() settles. */
  settle: (() => void) | undefined;
  constructor(readonly index: number) {}
}

export class SmartStreamFeed implements TickStream {
  private readonly opts: FeedOptions;
  private readonly table: SubscriptionTable;
  private readonly links: Link[] = [];
  private readonly connector: Connector;
  private readonly random: () => number;
  private readonly isSentinel: (ref: InstrumentRef) => boolean;
  private started = false;
  private stopping = false;
  private corr = 0;
  private readonly c: FeedCounters = { frames: 0, ticks: 0, rejected: 0, reconnects: 0, pongs: 0, errorReplies: 0, recordErrors: 0, internalErrors: 0 };
  private rejectWindowStart = -Infinity;
  private rejectEvents = 0;
  private rejectSuppressed = 0;

  constructor(private readonly cfg: SmartStreamFeedConfig) {
    this.opts = { ...DEFAULT_FEED_OPTIONS, ...cfg.options };
    const o = this.opts;
    if (o.reconnectBackoffMs.length === 0) throw new RangeError('feed: reconnectBackoffMs must not be empty');
    if (!(o.maxConnections >= 1 && o.maxTokensPerConnection >= 1 && o.maxReconnectsPerMinute >= 1)) {
      throw new RangeError('feed: maxConnections, maxTokensPerConnection and maxReconnectsPerMinute must be >= 1');
    }
    this.table = new SubscriptionTable(o.maxTokensPerConnection, o.maxConnections);
    this.connector = cfg.connect ?? wsConnector;
    this.random = cfg.random ?? Math.random;
    this.isSentinel = cfg.isMuteSentinel ?? ((r) => r.exchange === 'NSE' || r.exchange === 'BSE');
  }

  /** Counters for status and benchmarks (a copy). */
  get counters(): Readonly<FeedCounters> {
    return { ...this.c };
  }

  /** Connections currently open. */
  get openConnections(): number {
    return this.links.filter((l) => l.state === 'open').length;
  }

  /** (token, mode) pairs held (replayed after every reconnect). */
  get subscriptionCount(): number {
    return this.table.size;
  }

  // ── TickStream ───────────────────────────────────────────────────────────

  /** Remembers the pairs and subscribes them on live links. Throws a RangeError if they exceed the connection limits. */
  subscribe(refs: InstrumentRef[], mode: FeedMode): void {
    const added = this.table.add(refs, mode);
    if (refs.length > 0) this.cfg.bus.emit('FeedSubscribed', { refs });
    for (const [conn, entries] of added) {
      const link = this.link(conn);
      for (const e of entries) this.trackSentinel(link, e, +1);
      if (link.state === 'open') this.sendRequests(link, 1, entries);
      else if (this.started && !this.stopping && link.state === 'idle') void this.connect(link);
    }
  }

  unsubscribe(refs: InstrumentRef[], mode: FeedMode): void {
    const removed = this.table.remove(refs, mode);
    if (refs.length > 0) this.cfg.bus.emit('FeedUnsubscribed', { refs });
    for (const [conn, entries] of removed) {
      const link = this.link(conn);
      for (const e of entries) this.trackSentinel(link, e, -1);
      if (link.state === 'open') this.sendRequests(link, 0, entries);
    }
  }

  /**
   * Unsubscribes every pair whose instrument `keep` says no to; returns how
   * many went. For the morning's master: a contract it no longer lists has
   * expired (one still held at its expiry, or on the watchlist; the desk lets
   * go of the options it no longer needs), and would otherwise be replayed on
   * each reconnect, towards the connection limits.
   */
  prune(keep: (ref: InstrumentRef) => boolean): number {
    let n = 0;
    for (let conn = 0; conn < this.table.connectionCount; conn++) {
      for (const mode of ['ltp', 'quote', 'snap'] as const) {
        const gone = this.table.entries(conn).filter((e) => e.mode === mode && !keep(e));
        if (gone.length === 0) continue;
        this.unsubscribe(gone, mode);
        n += gone.length;
      }
    }
    return n;
  }

  /** Opens link 0 (and any more the subscriptions need); resolves when each first attempt has opened or failed (reconnects go on in the background). */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    this.stopping = false;
    const n = Math.max(1, this.table.connectionCount);
    const waits: Promise<void>[] = [];
    for (let i = 0; i < n; i++) {
      const link = this.link(i);
      waits.push(new Promise<void>((resolve) => { link.settle = resolve; }));
      void this.connect(link);
    }
    await Promise.all(waits);
  }

  /** Closes every link and cancels every timer; no reconnect after this. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.started = false;
    for (const link of this.links) {
      const wasOpen = link.state === 'open';
      this.clearTimers(link);
      link.gen++;
      link.state = 'stopped';
      const s = link.socket;
      link.socket = undefined;
      this.safe(() => s?.terminate());
      if (wasOpen) this.cfg.bus.emit('FeedDisconnected', { connection: link.index, reason: 'stopped' });
      this.settleFirst(link);
    }
    for (const link of this.links) link.state = 'idle';
  }

  /**
   * A garbage storm must not flood the log and the ledger: each minute the
   * first `maxRejectEventsPerMinute` rejected frames are events, the rest are
   * counted and reported as one summary event when the minute is over.
   */
  private rollRejectWindow(connection: number, now: number): void {
    if (this.rejectSuppressed > 0) {
      this.cfg.bus.emit('FeedFrameRejected', {
        connection,
        reason: `${this.rejectSuppressed} more frames rejected in the minute before (not reported one by one; all are in counters.rejected)`,
        length: 0,
        headHex: '',
      });
    }
    this.rejectWindowStart = now;
    this.rejectEvents = 0;
    this.rejectSuppressed = 0;
  }

  /**
   * Handles one raw binary frame as if received on `connection`: record,
   * decode, Tick or FeedFrameRejected. The socket path uses it; so can
   * replay and benchmarks.
   */
  ingest(connection: number, frame: Uint8Array): void {
    const now = this.cfg.clock.now();
    const link = this.links[connection];
    if (link !== undefined) link.lastMessageAt = now;
    this.c.frames++;
    if (this.cfg.recorder !== undefined) {
      try {
        this.cfg.recorder.record(frame, now);
      } catch {
        this.c.recordErrors++;
      }
    }
    const r = decodeTick(frame, now + this.opts.maxFutureExchTsMs);
    if (now - this.rejectWindowStart >= 60_000) this.rollRejectWindow(connection, now);
    if (isRejection(r)) {
      this.c.rejected++;
      if (this.rejectEvents < this.opts.maxRejectEventsPerMinute) {
        this.rejectEvents++;
        this.cfg.bus.emit('FeedFrameRejected', { connection, reason: r.rejected, length: frame.length, headHex: hexPrefix(frame) });
      } else this.rejectSuppressed++;
      return;
    }
    this.c.ticks++;
    // Life means exchange time moving on: a snapshot the server replays after a (re)subscribe
    // carries the last exchange timestamp already seen and must not end a mute (§15: snapshots
    // after subscribing are optional, so a muted server may still send them).
    if (link !== undefined && (link.sentinelCount === 0 || link.sentinels.get(r.exchange)?.has(r.token) === true)) {
      let perToken = link.lastExchTs.get(r.exchange);
      if (perToken === undefined) link.lastExchTs.set(r.exchange, (perToken = new Map()));
      const last = perToken.get(r.token);
      if (last === undefined || r.exchTs > last) {
        perToken.set(r.token, r.exchTs);
        link.muteSince = now;
        link.muteStage = 0;
      }
    }
    this.cfg.bus.emit('Tick', r);
  }

  // ── connection lifecycle ─────────────────────────────────────────────────

  private link(i: number): Link {
    while (this.links.length <= i) this.links.push(new Link(this.links.length));
    return this.links[i]!;
  }

  private async connect(link: Link): Promise<void> {
    if (this.stopping || this.park(link)) return;
    const gen = ++link.gen;
    link.state = 'connecting';
    link.reconnect = undefined;
    let creds: FeedHandshakeTokens;
    try {
      creds = await this.cfg.auth();
    } catch (err) {
      if (gen === link.gen && !this.stopping) this.down(link, `auth failed: ${message(err)}`);
      return;
    }
    if (gen !== link.gen || this.stopping) return;
    const jwt = this.opts.authorizationScheme === 'bearer' ? `Bearer ${creds.jwt}` : creds.jwt;
    const headers = { Authorization: jwt, 'x-api-key': creds.apiKey, 'x-client-code': creds.clientCode, 'x-feed-token': creds.feedToken };
    const live = (fn: () => void) => (): void => {
      if (gen === link.gen) this.safe(fn);
    };
    try {
      link.socket = this.connector(this.cfg.url, headers, {
        opened: live(() => this.opened(link)),
        text: (data) => live(() => this.text(link, data))(),
        binary: (data) => {
          if (gen !== link.gen) return;
          try {
            this.ingest(link.index, data);
          } catch {
            this.c.internalErrors++;
          }
        },
        closed: (info) =>
          live(() => {
            link.socket = undefined;
            if (info.httpStatus !== undefined) {
              const reason = `handshake rejected: HTTP ${info.httpStatus}${info.errorMessage ? ` (${info.errorMessage})` : ''}`;
              this.down(link, reason, info.httpStatus, info.httpStatus === 401);
            } else if (link.state === 'open') {
              this.down(link, `closed by server${info.reason ? `: ${info.reason}` : ''}`, info.code);
            } else {
              this.down(link, `connect failed: ${info.reason || 'socket closed'}`, info.code);
            }
          })(),
      }, this.opts.handshakeTimeoutMs);
    } catch (err) {
      if (gen === link.gen) this.down(link, `connect failed: ${message(err)}`);
    }
  }

  private opened(link: Link): void {
    const now = this.cfg.clock.now();
    link.state = 'open';
    link.attempt = 0;
    link.lastMessageAt = now;
    link.muteSince = now;
    link.muteStage = 0;
    this.cfg.bus.emit('FeedConnected', { connection: link.index, subscriptions: this.table.count(link.index) });
    this.sendRequests(link, 1, this.table.entries(link.index));
    const clock = this.cfg.clock;
    link.ping = clock.setInterval(this.opts.pingIntervalMs, () => this.safe(() => this.send(link, 'ping')));
    link.watchdog = clock.setInterval(this.opts.watchdogIntervalMs, () => this.safe(() => this.watch(link)));
    this.settleFirst(link);
  }

  private text(link: Link, data: string): void {
    link.lastMessageAt = this.cfg.clock.now();
    if (data === 'pong') {
      this.c.pongs++;
      return;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(data);
    } catch {
      parsed = undefined;
    }
    const r = errorReply.safeParse(parsed);
    this.c.errorReplies++;
    if (r.success) {
      this.cfg.bus.emit('FeedErrorReceived', { connection: link.index, code: r.data.errorCode, message: r.data.errorMessage ?? '' });
    } else {
      this.cfg.bus.emit('FeedErrorReceived', { connection: link.index, code: 'UNRECOGNISED', message: `unrecognised text message: ${data.slice(0, 200)}` });
    }
  }

  private watch(link: Link): void {
    if (link.state !== 'open') return;
    const now = this.cfg.clock.now();
    const quiet = now - link.lastMessageAt;
    if (quiet > this.opts.deadAfterMs) {
      this.drop(link, `dead link: no message for ${quiet} ms`);
      return;
    }
    if (this.table.count(link.index) === 0 || !this.cfg.isSessionOpen(now)) {
      link.muteSince = now;
      link.muteStage = 0;
      return;
    }
    const silentMs = now - link.muteSince;
    if (link.muteStage === 0 && silentMs >= this.opts.muteAfterMs) {
      this.cfg.bus.emit('FeedMuted', { connection: link.index, silentMs, action: 'resubscribe' });
      link.muteStage = 1;
      link.muteStageAt = now;
      const all = this.table.entries(link.index);
      if (this.opts.muteResubscribe === 'unsubscribe-subscribe') this.sendRequests(link, 0, all);
      this.sendRequests(link, 1, all);
    } else if (link.muteStage === 1 && now - link.muteStageAt >= this.opts.muteAfterMs) {
      this.cfg.bus.emit('FeedMuted', { connection: link.index, silentMs, action: 'reconnect' });
      this.drop(link, `muted: no tick for ${silentMs} ms after a resubscribe`);
    }
  }

  /** Closes the link from our side and schedules a reconnect. */
  private drop(link: Link, reason: string): void {
    const s = link.socket;
    link.socket = undefined;
    link.gen++; // the socket's own close callback is now stale
    this.safe(() => s?.terminate());
    this.down(link, reason);
  }

  /** The link is down (closed, failed, dropped): event, then reconnect (after a re-login on 401). */
  private down(link: Link, reason: string, code?: number, authRejected = false): void {
    this.clearTimers(link);
    link.state = 'waiting';
    this.cfg.bus.emit('FeedDisconnected', code === undefined ? { connection: link.index, reason } : { connection: link.index, reason, code });
    this.settleFirst(link);
    if (this.stopping || this.park(link)) return;
    if (authRejected && this.cfg.onAuthRejected !== undefined) {
      const gen = link.gen;
      void this.cfg.onAuthRejected().then(
        () => { if (gen === link.gen) this.scheduleReconnect(link); },
        () => { if (gen === link.gen) this.scheduleReconnect(link); },
      );
      return;
    }
    this.scheduleReconnect(link);
  }

  private scheduleReconnect(link: Link): void {
    if (this.stopping || this.park(link)) return;
    const o = this.opts;
    const now = this.cfg.clock.now();
    link.attempt++;
    const base = o.reconnectBackoffMs[Math.min(link.attempt, o.reconnectBackoffMs.length) - 1]!;
    let delay = base + Math.floor(base * o.reconnectJitterRatio * this.random());
    const times = link.reconnectTimes.filter((t) => t > now - 60_000);
    if (times.length >= o.maxReconnectsPerMinute) {
      delay = Math.max(delay, times[times.length - o.maxReconnectsPerMinute]! + 60_000 - now);
    }
    times.push(now + delay);
    link.reconnectTimes = times;
    this.c.reconnects++;
    this.cfg.bus.emit('FeedReconnectScheduled', { connection: link.index, attempt: link.attempt, delayMs: delay });
    link.reconnect = this.cfg.clock.setTimer(now + delay, () => {
      link.reconnect = undefined;
      void this.connect(link);
    });
  }

  /** No session: the link rests (idle, no timers) until start() or a subscribe brings it back with one. */
  private park(link: Link): boolean {
    if (this.cfg.sessionEnded?.() !== true) return false;
    this.clearTimers(link);
    link.state = 'idle';
    this.settleFirst(link);
    return true;
  }

  // ── helpers ──────────────────────────────────────────────────────────────

  private sendRequests(link: Link, action: 0 | 1, entries: readonly SubEntry[]): void {
    if (entries.length === 0) return;
    for (const text of buildRequests(action, entries, this.opts.subscribeBatchSize, () => this.nextCorrelationId())) this.send(link, text);
  }

  private send(link: Link, text: string): void {
    if (link.state !== 'open' || link.socket === undefined) return;
    link.socket.send(text);
  }

  /** ≤ 10 alphanumerics (§11.2). */
  private nextCorrelationId(): string {
    this.corr = (this.corr + 1) % 1e9;
    return `rs${this.corr.toString(36)}`;
  }

  private trackSentinel(link: Link, e: SubEntry, delta: 1 | -1): void {
    if (!this.isSentinel(e)) return;
    const m = link.sentinels.get(e.exchange) ?? new Map<string, number>();
    link.sentinels.set(e.exchange, m);
    const n = (m.get(e.token) ?? 0) + delta;
    if (n > 0) m.set(e.token, n);
    else m.delete(e.token);
    link.sentinelCount += delta;
  }

  private clearTimers(link: Link): void {
    const clock = this.cfg.clock;
    for (const t of [link.ping, link.watchdog, link.reconnect]) if (t !== undefined) clock.cancel(t);
    link.ping = link.watchdog = link.reconnect = undefined;
  }

  private settleFirst(link: Link): void {
    const s = link.settle;
    link.settle = undefined;
    s?.();
  }

  private safe(fn: () => void): void {
    try {
      fn();
    } catch {
      this.c.internalErrors++;
    }
  }
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** The `ws` edge: one WebSocket per call, reported through `handlers` (closed exactly once). */
export const wsConnector: Connector = (url, headers, h, handshakeTimeoutMs) => {
  const ws = new WebSocket(url, { headers, handshakeTimeout: handshakeTimeoutMs, perMessageDeflate: false });
  let httpStatus: number | undefined;
  let errorMessage: string | undefined;
  let lastError = '';
  let closed = false;
  ws.on('unexpected-response', (_req, res) => {
    httpStatus = res.statusCode;
    const m = res.headers['x-error-message'];
    errorMessage = Array.isArray(m) ? m.join('; ') : m;
    res.resume();
    ws.terminate();
  });
  ws.on('open', () => h.opened());
  ws.on('message', (data, isBinary) => {
    const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
    if (isBinary) h.binary(buf);
    else h.text(buf.toString());
  });
  ws.on('error', (err) => {
    lastError = err.message;
  });
  ws.on('close', (code, reason) => {
    if (closed) return;
    closed = true;
    const text = reason.toString() || lastError;
    h.closed(httpStatus !== undefined
      ? { httpStatus, reason: text, ...(errorMessage === undefined ? {} : { errorMessage }) }
      : { code, reason: text });
  });
  return {
    send: (text) => {
      if (ws.readyState === WebSocket.OPEN) ws.send(text);
    },
    terminate: () => ws.terminate(),
  };
};
