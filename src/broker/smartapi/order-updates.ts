/**
 * Order updates (§12): the order-status WebSocket, with order-book polling as
 * the fallback whenever the socket is down. Both paths map rows the same way
 * and publish the same `OrderUpdated` events (tagged `source: stream|poll`);
 * an order's identical consecutive states are published once, whichever path
 * saw them. States never go backwards: a poll answered after a stream message
 * (or a stream message overtaken by a poll) can carry an older row, so per
 * order nothing is published after a final state (filled, cancelled,
 * rejected), never a lower filled quantity, and never an older broker time at
 * the same filled quantity. (Fill progress and finality outrank `updatedAt`,
 * which falls back to the local clock when the broker gives no time.)
 *
 * Socket protocol: `Authorization: Bearer <jwt>` (plus the SDKs' x-api-key,
 * x-client-code, x-feed-token headers), an initial `AB00` message, JSON text
 * frames, text `ping` every 10 s answered by `pong`. A handshake refused with
 * 401/403 renews the session before reconnecting; reconnects back off
 * exponentially with jitter. The state comes from `orderData.status`, not the
 * `order-status` code (§15).
 *
 * After the session has ended (midnight IST, `sessionEnded`) a socket that
 * closes is neither reconnected nor replaced by polling: both would only meet
 * the dead token, and renewing it is the morning routine's job, which starts
 * the stream again after its login.
 */
import WebSocket from 'ws';
import { type Order, orderUpdatedOf } from '../broker.js';
import type { EventBus } from '../../core/bus.js';
import type { Clock, TimerHandle } from '../../core/clock.js';
import type { Logger } from '../../core/log.js';
import type { Secret } from '../../core/secrets.js';
import { toOrder } from './order-mapping.js';
import { describeIssues, orderStatusMessage } from './schemas.js';

export const DEFAULT_ORDER_UPDATES_URL = 'wss://tns.angelone.in/smart-order-update';

export type OrderUpdatesConfig = {
  url: string;
  /** Text `ping` period (§12: 10 s). */
  pingMs: number;
  /** No message for this long → the link is dead: reconnect (SDKs: 20 s). */
  staleMs: number;
  /** Order-book polling period while the socket is down (order book budget: 1/s). */
  pollMs: number;
  reconnectMinMs: number;
  reconnectMaxMs: number;
  /** Also send x-api-key, x-client-code, x-feed-token as the Python/JS SDKs do (the docs name only Authorization). */
  sdkHeaders: boolean;
  handshakeTimeoutMs: number;
};

export const DEFAULT_ORDER_UPDATES: OrderUpdatesConfig = {
  url: DEFAULT_ORDER_UPDATES_URL,
  pingMs: 10_000,
  staleMs: 20_000,
  pollMs: 1_000,
  reconnectMinMs: 1_000,
  reconnectMaxMs: 30_000,
  sdkHeaders: true,
  handshakeTimeoutMs: 10_000,
};

export type OrderUpdateCredentials = {
  jwt(): Secret | undefined;
  feedToken(): Secret | undefined;
  apiKey: Secret;
  clientCode: Secret;
  /** Called after a 401/403 handshake: get a fresh token before reconnecting. */
  renew(reason: string): Promise<void>;
  /** True once the session has ended and no login has made a new one: the stream waits for the next start(). */
  sessionEnded?(): boolean;
};

type Source = 'stream' | 'poll';

const FINAL: ReadonlySet<Order['state']> = new Set(['filled', 'cancelled', 'rejected']);

/** Header values must be visible ASCII (no CR/LF/controls): a token that is not would corrupt or split the upgrade request. */
const HEADER_SAFE = /^[\x21-\x7e]+$/;

type Published = { key: string; state: Order['state']; filledQty: number; updatedAt: number };

export class OrderUpdates {
  private readonly config: OrderUpdatesConfig;
  private ws: WebSocket | undefined;
  private running = false;
  private isConnected = false;
  private attempt = 0;
  private lastMessageAt = 0;
  private heartbeat: TimerHandle | undefined;
  private reconnectTimer: TimerHandle | undefined;
  private pollTimer: TimerHandle | undefined;
  private polling = false;
  private readonly last = new Map<string, Published>();
  /** Counters for tests and diagnostics. `stale`: rows older than what was already published (dropped). */
  readonly stats = { connects: 0, messages: 0, polls: 0, published: 0, duplicates: 0, stale: 0, rejectedFrames: 0, connectErrors: 0 };

  constructor(
    private readonly creds: OrderUpdateCredentials,
    private readonly poll: () => Promise<Order[]>,
    private readonly bus: EventBus,
    private readonly clock: Clock,
    private readonly log?: Logger,
    config: Partial<OrderUpdatesConfig> = {},
  ) {
    this.config = { ...DEFAULT_ORDER_UPDATES, ...config };
  }

  get connected(): boolean {
    return this.isConnected;
  }

  /** Connects the socket (polling until it is up). */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.startPolling();
    this.connect();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.stopPolling();
    this.clearTimer('heartbeat');
    this.clearTimer('reconnectTimer');
    const ws = this.ws;
    this.ws = undefined;
    this.isConnected = false;
    if (ws !== undefined && ws.readyState !== WebSocket.CLOSED) {
      await new Promise<void>((resolve) => {
        ws.once('close', () => resolve());
        ws.terminate();
      });
    }
  }

  /** One order-book poll now, publishing changed states (also used to catch up after a reconnect). */
  async pollOnce(): Promise<void> {
    if (this.polling || this.parked()) return;
    this.polling = true;
    try {
      const orders = await this.poll();
      this.stats.polls++;
      for (const o of orders) this.publish(o, 'poll');
    } catch (err) {
      this.log?.debug({ error: err instanceof Error ? err.message : String(err) }, 'order-book poll failed');
    } finally {
      this.polling = false;
    }
  }

  /** Never throws: a failure to even start a connection (bad URL, bad header value…) schedules a reconnect like a failed handshake. */
  private connect(): void {
    if (!this.running || this.parked()) return;
    try {
      this.open();
    } catch (err) {
      this.stats.connectErrors++;
      this.ws = undefined;
      this.log?.warn({ error: err instanceof Error ? err.message : String(err) }, 'order-status socket could not be opened');
      this.scheduleReconnect(`connect failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  private open(): void {
    const jwt = this.creds.jwt();
    if (jwt === undefined) {
      this.scheduleReconnect('no session yet');
      return;
    }
    const headers: Record<string, string> = {};
    const put = (name: string, value: string): void => {
      // The message names the header, never the value (a secret).
      if (!HEADER_SAFE.test(value)) throw new Error(`${name} holds characters not allowed in an HTTP header (${value.length} characters)`);
      headers[name] = value;
    };
    const token = jwt.reveal().replace(/^Bearer\s+/i, '');
    put('Authorization', token); // checked bare, then prefixed (the space is fine)
    headers.Authorization = `Bearer ${token}`;
    if (this.config.sdkHeaders) {
      put('x-api-key', this.creds.apiKey.reveal());
      put('x-client-code', this.creds.clientCode.reveal());
      const feed = this.creds.feedToken();
      if (feed !== undefined) put('x-feed-token', feed.reveal());
    }
    const ws = new WebSocket(this.config.url, { headers, handshakeTimeout: this.config.handshakeTimeoutMs, perMessageDeflate: false });
    this.ws = ws;
    let refused: number | undefined;

    ws.on('unexpected-response', (_req, res) => {
      refused = res.statusCode;
      res.resume();
      ws.terminate();
    });
    ws.on('open', () => {
      if (this.ws !== ws) return;
      this.isConnected = true;
      this.attempt = 0;
      this.stats.connects++;
      this.lastMessageAt = this.clock.now();
      this.log?.info({ url: this.config.url }, 'order-status socket connected');
      this.stopPolling();
      this.heartbeat = this.clock.setInterval(this.config.pingMs, () => this.beat(ws));
      void this.pollOnce(); // catch up on what happened while the socket was down
    });
    ws.on('message', (data, isBinary) => {
      if (this.ws !== ws) return;
      this.lastMessageAt = this.clock.now();
      if (isBinary) return;
      this.onText(data.toString());
    });
    ws.on('error', (err) => {
      this.log?.debug({ error: err.message }, 'order-status socket error');
    });
    ws.on('close', (code) => {
      if (this.ws !== ws) return;
      this.ws = undefined;
      const was = this.isConnected;
      this.isConnected = false;
      this.clearTimer('heartbeat');
      if (!this.running || this.parked()) return;
      this.startPolling();
      if (refused === 401 || refused === 403) {
        this.log?.warn({ status: refused }, 'order-status socket refused the token; renewing the session');
        this.creds.renew(`order-status socket answered HTTP ${refused}`).then(
          () => this.scheduleReconnect(`handshake ${refused}`),
          () => this.scheduleReconnect(`handshake ${refused}, renewal failed`),
        );
        return;
      }
      this.scheduleReconnect(refused !== undefined ? `handshake ${refused}` : was ? `closed (${code})` : 'connect failed');
    });
  }

  private beat(ws: WebSocket): void {
    if (this.clock.now() - this.lastMessageAt > this.config.staleMs) {
      this.log?.warn({ silentMs: this.clock.now() - this.lastMessageAt }, 'order-status socket silent; reconnecting');
      ws.terminate();
      return;
    }
    if (ws.readyState === WebSocket.OPEN) ws.send('ping');
  }

  private onText(text: string): void {
    if (text === 'pong') return;
    this.stats.messages++;
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      this.stats.rejectedFrames++;
      return;
    }
    const m = orderStatusMessage.safeParse(json);
    if (!m.success) {
      this.stats.rejectedFrames++;
      this.log?.warn({ issues: describeIssues(m.error) }, 'order-status message refused');
      return;
    }
    if (m.data.orderData === undefined) {
      this.stats.rejectedFrames++;
      return;
    }
    const order = toOrder(m.data.orderData, this.clock.now());
    if (order === undefined) return; // AB00 hello (empty order), or an exchange Rustro does not trade
    this.publish(order, 'stream');
  }

  private publish(o: Order, source: Source): void {
    const key = `${o.state}|${o.rawStatus}|${o.filledQty}|${o.avgFillPrice}`;
    const prev = this.last.get(o.orderId);
    if (prev !== undefined) {
      if (prev.key === key) {
        this.stats.duplicates++;
        return;
      }
      const older =
        FINAL.has(prev.state) || // nothing after a final state
        o.filledQty < prev.filledQty || // fills never shrink
        (o.filledQty === prev.filledQty && !FINAL.has(o.state) && o.updatedAt < prev.updatedAt); // same progress, older row
      if (older) {
        this.stats.stale++;
        this.log?.debug({ orderId: o.orderId, source, state: o.state, filledQty: o.filledQty, after: prev.state, afterFilledQty: prev.filledQty }, 'older order state dropped');
        return;
      }
    }
    this.last.set(o.orderId, { key, state: o.state, filledQty: o.filledQty, updatedAt: Math.max(o.updatedAt, prev?.updatedAt ?? -Infinity) });
    this.stats.published++;
    this.bus.emit('OrderUpdated', orderUpdatedOf(o, source));
  }

  private scheduleReconnect(reason: string): void {
    if (!this.running || this.reconnectTimer !== undefined || this.parked()) return;
    this.attempt++;
    const base = Math.min(this.config.reconnectMaxMs, this.config.reconnectMinMs * 2 ** (this.attempt - 1));
    const delay = Math.round(base / 2 + Math.random() * (base / 2)); // "equal jitter"
    this.log?.info({ reason, attempt: this.attempt, delayMs: delay }, 'order-status socket reconnect scheduled');
    this.reconnectTimer = this.clock.setTimer(this.clock.now() + delay, () => {
      this.reconnectTimer = undefined;
      this.connect();
    });
  }

  /**
   * No session until the next login: stop polling and stay down (the caller
   * then does nothing more). `start()` after the morning's login resumes.
   */
  private parked(): boolean {
    if (this.creds.sessionEnded?.() !== true) return false;
    if (this.pollTimer !== undefined || this.reconnectTimer !== undefined) {
      this.log?.info('the session has ended: the order-status stream waits for the next login');
    }
    this.stopPolling();
    this.clearTimer('reconnectTimer');
    return true;
  }

  private startPolling(): void {
    if (this.pollTimer !== undefined || !this.running) return;
    this.pollTimer = this.clock.setInterval(this.config.pollMs, () => void this.pollOnce());
  }

  private stopPolling(): void {
    this.clearTimer('pollTimer');
  }

  private clearTimer(which: 'heartbeat' | 'reconnectTimer' | 'pollTimer'): void {
    const h = this[which];
    if (h !== undefined) this.clock.cancel(h);
    this[which] = undefined;
  }
}
