/**
 * The SmartAPI-compatible simulator: one HTTP server on 127.0.0.1 serving the
 * REST API, the instrument master, the two WebSocket paths (`/smart-stream`,
 * `/smart-order-update`, routed on upgrade) and a loopback admin API:
 *
 *   GET  /__sim/state   → SimState
 *   POST /__sim/clock   {speed?: number|"max", advanceMs?: number, advanceTo?: epochMs|"HH:MM"|"HH:MM:SS"} → SimState (after the advance)
 *   POST /__sim/faults  FaultSpec (faults.ts) → FaultState
 *
 * Nothing here imports src/broker/: the wire shapes are written from
 * smartapi-protocol.md on their own, so a shared mistake cannot pass both ways.
 */
import { type IncomingMessage, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import { type Clock, RealClock, formatIst, istToMillis } from '../../core/clock.js';
import type { SimInstrument, SimMarket } from '../market/types.js';
import { Auth, DEMO_ACCOUNT, DEMO_API_KEY, type SimAccount, bareToken } from './auth.js';
import { ClockDriver, type Speed } from './clock-driver.js';
import { type FaultSpec, type FaultState, Faults } from './faults.js';
import { MASTER_PATH, buildMaster } from './instrument-master.js';
import { OrderStream } from './order-stream.js';
import { type SimOrder, OrderBook } from './orders.js';
import { RATE_LIMIT_TEXT, RateLimiter } from './rate-limit.js';
import { marketRoutes } from './rest-market.js';
import { orderRoutes } from './rest-orders.js';
import { sessionRoutes } from './rest-session.js';
import { type RestReply, type Route, type SimCore, fail, gatewayFail, raw, text } from './rest.js';
import { MarketStream, refuseUpgrade } from './smartstream.js';
import { seededRng, str } from './util.js';

export type SimServerOptions = {
  /** The (first) day replayed. */
  market: SimMarket;
  /**
   * Consecutive days: the market of the trading day after each close, or
   * undefined to end the replay there (see clock-driver.ts). Each takes over
   * at the IST midnight that starts its day: instrument master, quotes,
   * candles, order checks. Default: one day.
   */
  nextMarket?: () => SimMarket | undefined;
  /** TCP port on 127.0.0.1; 0 (default) picks a free one. */
  port?: number;
  /** Sim-time speed: X× real time, `'max'` as fast as the client reads, 0 paused. Default 1. */
  speed?: Speed;
  /** Where sim time starts: epoch ms or IST `HH:MM` on the market's day. Default the open. Clamped to the session. */
  start?: number | string;
  /** Seeds ids, fault dice and garbage frames. Default 1. */
  seed?: number;
  /** Accounts that can log in. Default [DEMO_ACCOUNT]. */
  accounts?: readonly SimAccount[];
  /** The X-PrivateKey every request must carry. Default DEMO_API_KEY. */
  apiKey?: string;
  /** Session lifetime in sim ms (capped at midnight IST). Default: until midnight IST. */
  tokenLifetimeMs?: number;
  /** Enforce §9 rate limits (wall time). Default true. */
  rateLimits?: boolean;
  /** MARKET / SL-M fills: LTP ± this many ticks. Default 0. */
  slippageTicks?: number;
  /** Fill at most the tick's last-traded quantity (rounded to lots, at least one lot) per tick. Default false. */
  partialFills?: boolean;
  /** Funds of each account, rupees. Default 10,00,000. */
  initialCash?: number;
  /** Serve the brief's extra `freeze_qty` key in the master (the real file has only nine keys). Default true. */
  masterFreezeQty?: boolean;
  /** Bytes queued on a market socket above which the driver waits. Default 1 MiB. */
  highWaterBytes?: number;
  /** Faults active from the start. */
  faults?: FaultSpec;
  /** Wall clock (rate limits, TOTP, ack delays, stalls). Default RealClock. */
  wallClock?: Clock;
  /**
   * Sees every order request (place, modify, cancel) once it is authenticated
   * and decides its fate: `pass` answers it; `drop` never reads it (the
   * exchange never got it) and never answers; `hang` books it and never
   * answers. The kill-anywhere harness kills its daemon on `drop` and `hang`:
   * a death between the intent's fsync and the request, and between the
   * request and its acknowledgement.
   */
  orderGate?: (request: OrderRequestKind, body: Readonly<Record<string, unknown>>) => 'pass' | 'drop' | 'hang';
};

export type OrderRequestKind = 'placeOrder' | 'modifyOrder' | 'cancelOrder';
const ORDER_REQUESTS: ReadonlySet<string> = new Set<OrderRequestKind>(['placeOrder', 'modifyOrder', 'cancelOrder']);

export type SimState = {
  simTime: number;
  simTimeIst: string;
  day: string;
  openMs: number;
  closeMs: number;
  speed: Speed;
  /** The last replayed day has closed (with consecutive days: the last of them). */
  sessionOver: boolean;
  /** Between a close and the next day's open (consecutive days). */
  night: boolean;
  stalled: boolean;
  connections: { market: number; order: number };
  subscriptions: number;
  ticksSent: number;
  framesSent: number;
  /** Messages sent on order-status sockets (the greeting included; pongs not). */
  orderMessagesSent: number;
  orders: number;
  faults: FaultState;
};

export type SimServer = {
  port: number;
  /** `http://127.0.0.1:PORT` — the REST base. */
  url: string;
  /** `ws://127.0.0.1:PORT/smart-stream` */
  streamUrl: string;
  /** `ws://127.0.0.1:PORT/smart-order-update` */
  orderUrl: string;
  /** `http://127.0.0.1:PORT/OpenAPI_File/files/OpenAPIScripMaster.json` */
  masterUrl: string;
  apiKey: string;
  accounts: readonly SimAccount[];
  state(): SimState;
  setSpeed(speed: Speed): void;
  /**
   * At `max` speed, also hold market time while `busy()` is true: a client in
   * the same process (the demo's daemon) says it is still working on what it
   * has seen, so the replay never outruns it.
   */
  holdWhile(busy: () => boolean): void;
  /** Every order the simulated exchange booked, in booking order. */
  orders(): readonly SimOrder[];
  /** Market-data frames sent so far (cheap: for a hold condition checked every step). */
  framesSent(): number;
  /** Order-status messages sent so far (as cheap). */
  orderMessagesSent(): number;
  /**
   * Market-data sockets open, and the (token, mode) pairs asked for on them —
   * tokens the master lacks included, so a client's own count equals it once
   * every request it sent has been read (as cheap).
   */
  marketLink(): { connections: number; requested: number };
  /** Advances sim time to `ms` (or by `advanceMs`), respecting backpressure. */
  advanceTo(ms: number): Promise<void>;
  advanceBy(ms: number): Promise<void>;
  setFaults(spec: FaultSpec): FaultState;
  now(): number;
  /** Sim time itself: an in-process client (the demo's daemon) can keep its events on the market's time. */
  readonly clock: Clock;
  close(): Promise<void>;
};

const LOOPBACK = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);

const clockBody = z.object({
  speed: z.union([z.number().min(0), z.literal('max')]).optional(),
  advanceMs: z.number().min(0).optional(),
  advanceTo: z.union([z.number(), z.string().regex(/^\d{2}:\d{2}(:\d{2})?$/)]).optional(),
});

export async function startSimServer(opts: SimServerOptions): Promise<SimServer> {
  // The day being replayed; with consecutive days it is replaced at each day's midnight (onNewDay).
  let market = opts.market;
  const wall = opts.wallClock ?? new RealClock();
  const seed = opts.seed ?? 1;
  const apiKey = opts.apiKey ?? DEMO_API_KEY;
  const accounts = opts.accounts ?? [DEMO_ACCOUNT];
  const hwm = opts.highWaterBytes ?? 1 << 20;
  const instruments = new Map<string, SimInstrument>(market.instruments().map((i) => [i.token, i]));
  let master = buildMaster(market.instruments(), opts.masterFreezeQty ?? true);
  const startMs = opts.start === undefined ? market.openMs : typeof opts.start === 'number' ? opts.start : istToMillis(market.day, opts.start);

  const faults = new Faults(seed, () => wall.now());
  let driverRef: ClockDriver | undefined;
  const simNow = (): number => driverRef?.now() ?? startMs;
  const auth = new Auth(accounts, { simNow, wallNow: () => wall.now(), tokenLifetimeMs: opts.tokenLifetimeMs });
  const limiter = new RateLimiter(() => wall.now());

  let interestDirty = true;
  let interest = new Set<string>();
  const stream = new MarketStream({
    auth,
    apiKey,
    market,
    instruments,
    seed,
    silent: () => faults.state.stallSilent && faults.stalled(),
    onInterestChange: () => (interestDirty = true),
  });
  const orderStream = new OrderStream(auth);
  const orders = new OrderBook({
    instruments: market.instruments(),
    quote: (t) => market.quote(t),
    now: simNow,
    rng: seededRng(seed ^ 0x0de7),
    session: { openMs: market.openMs, closeMs: market.closeMs },
    onUpdate: (u) => {
      interestDirty = true;
      orderStream.publish(u);
    },
    slippageTicks: opts.slippageTicks,
    partialFills: opts.partialFills,
    initialCash: opts.initialCash,
  });
  let restInFlight = 0;
  const holds: (() => boolean)[] = [];
  const driver = new ClockDriver({
    market,
    startMs,
    speed: opts.speed ?? 1,
    wallNow: () => wall.now(),
    tokens: () => {
      if (interestDirty) {
        interest = new Set([...stream.tokens(), ...orders.liveTokens(), ...orders.positionTokens()]);
        interestDirty = false;
      }
      return interest;
    },
    onTick: (q) => {
      stream.onTick(q);
      orders.onTick(q);
    },
    backlogged: () => stream.backlogged(hwm),
    requestsInFlight: () => restInFlight > 0 || holds.some((h) => h()),
    stalled: () => faults.stalled(),
    onSessionEnd: () => orders.closeSession(),
    ...(opts.nextMarket === undefined ? {} : { nextMarket: opts.nextMarket }),
    onNewDay: (next) => {
      // The new day's master (new expiries), quotes and candles; the books start the day empty.
      market = next;
      core.market = next;
      instruments.clear();
      for (const i of next.instruments()) instruments.set(i.token, i);
      master = buildMaster(next.instruments(), opts.masterFreezeQty ?? true);
      stream.newDay(next);
      orders.newDay(next.instruments(), { openMs: next.openMs, closeMs: next.closeMs });
      interestDirty = true;
    },
  });
  driverRef = driver;
  const core: SimCore = { market, instruments, auth, orders, driver };

  const actions = {
    dropSockets: (which: 'market' | 'order' | 'all') => {
      if (which !== 'order') stream.dropAll();
      if (which !== 'market') orderStream.dropAll();
    },
    invalidateTokens: () => auth.invalidateAll(),
    addGarbage: (n: number) => stream.addGarbage(n),
  };
  if (opts.faults !== undefined) faults.apply(opts.faults, actions);

  const routes = [...sessionRoutes, ...orderRoutes, ...marketRoutes];
  const exact = new Map<string, Route>(routes.filter((r) => r.prefix !== true).map((r) => [`${r.method} ${r.path}`, r]));
  const prefixed = routes.filter((r) => r.prefix === true);

  const state = (): SimState => ({
    simTime: driver.now(),
    simTimeIst: formatIst(driver.now()),
    day: market.day,
    openMs: market.openMs,
    closeMs: market.closeMs,
    speed: driver.speed,
    sessionOver: driver.sessionOver,
    night: driver.night,
    stalled: faults.stalled(),
    connections: { market: stream.connections, order: orderStream.connections },
    subscriptions: stream.subscriptions,
    ticksSent: stream.ticksSent,
    framesSent: stream.framesSent,
    orderMessagesSent: orderStream.messagesSent,
    orders: orders.orderCount,
    faults: faults.state,
  });

  const send = (res: ServerResponse, r: RestReply): void => {
    if (res.destroyed || res.writableEnded) return;
    res.writeHead(r.status, { 'Content-Type': r.contentType, 'Content-Length': Buffer.byteLength(r.body) });
    res.end(r.body);
  };

  async function admin(req: IncomingMessage, res: ServerResponse, path: string, body: unknown): Promise<void> {
    if (!LOOPBACK.has(req.socket.remoteAddress ?? '')) return send(res, text(403, 'admin endpoints are loopback-only'));
    try {
      if (req.method === 'GET' && path === '/__sim/state') return send(res, raw(200, state()));
      if (req.method === 'POST' && path === '/__sim/faults') return send(res, raw(200, faults.apply(body, actions)));
      if (req.method === 'POST' && path === '/__sim/clock') {
        const c = clockBody.safeParse(body);
        if (!c.success) return send(res, raw(400, { error: c.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') }));
        if (c.data.speed !== undefined) driver.setSpeed(c.data.speed);
        if (c.data.advanceMs !== undefined) await driver.advanceTo(driver.now() + c.data.advanceMs);
        if (c.data.advanceTo !== undefined) {
          const t = c.data.advanceTo;
          await driver.advanceTo(typeof t === 'number' ? t : istToMillis(market.day, t));
        }
        return send(res, raw(200, state()));
      }
      return send(res, raw(404, { error: `no admin endpoint ${req.method} ${path}` }));
    } catch (err) {
      return send(res, raw(400, { error: (err as Error).message }));
    }
  }

  function rest(req: IncomingMessage, res: ServerResponse, path: string, rawBody: string): void {
    const method = req.method === 'POST' ? 'POST' : 'GET';
    let route = exact.get(`${method} ${path}`);
    let tail = '';
    if (route === undefined) {
      route = prefixed.find((r) => r.method === method && path.startsWith(r.path + '/'));
      if (route !== undefined) tail = path.slice(route.path.length + 1);
    }
    if (route === undefined) return send(res, raw(404, { status: false, message: `No route ${req.method} ${path}`, errorcode: '', data: null }));

    let body: Record<string, unknown> = {};
    if (method === 'POST' && rawBody.trim() !== '') {
      try {
        const parsed: unknown = JSON.parse(rawBody);
        if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return send(res, fail('AB1004', 'Request body must be a JSON object'));
        body = parsed as Record<string, unknown>;
      } catch {
        return send(res, fail('AB1004', 'Request body is not valid JSON'));
      }
    }
    const h = req.headers;
    const header = (name: string): string | undefined => {
      const v = h[name];
      return Array.isArray(v) ? v[0] : v;
    };
    if (header('x-privatekey') !== apiKey) return send(res, gatewayFail('AG8004', 'Invalid API Key'));
    const userType = header('x-usertype');
    if (userType !== undefined && userType !== 'USER') return send(res, fail('AB1005', 'User Type Must Be USER'));

    let client = str(body.clientcode) || (req.socket.remoteAddress ?? '');
    let session;
    if (route.auth) {
      const jwt = bareToken(header('authorization'));
      const c = jwt === undefined ? undefined : auth.checkJwt(jwt);
      if (c === undefined || c.state !== 'ok') return send(res, gatewayFail('AG8001', 'Invalid Token'));
      session = c.session;
      client = session.clientcode;
    }
    if (opts.rateLimits !== false && !limiter.allow(client, route.bucket)) return send(res, text(403, RATE_LIMIT_TEXT));

    const orderRequest = route.path.slice(route.path.lastIndexOf('/') + 1);
    const fate = opts.orderGate !== undefined && ORDER_REQUESTS.has(orderRequest) ? opts.orderGate(orderRequest as OrderRequestKind, body) : 'pass';
    if (fate === 'drop') return;
    if (route.path.endsWith('/placeOrder')) {
      const rej = faults.takeOrderRejection();
      if (rej !== undefined) return send(res, fail(rej.code, rej.message));
    }
    const reply = route.handle({ core, body, session: session!, tail });
    if (fate === 'hang') return;
    if (reply.booked === true && faults.takeDropOrderResponse()) {
      req.socket.destroy();
      return;
    }
    const delay = route.order === true ? faults.state.ackDelayMs : 0;
    if (delay > 0) wall.setTimer(wall.now() + delay, () => send(res, reply));
    else send(res, reply);
  }

  const server = createServer((req, res) => {
    restInFlight++;
    res.on('close', () => restInFlight--);
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > 1 << 20) {
        send(res, text(413, 'request body too large'));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      let path = url.pathname;
      if (path.length > 1 && path.endsWith('/')) path = path.slice(0, -1);
      const rawBody = Buffer.concat(chunks).toString('utf8');
      if (path.startsWith('/__sim/')) {
        let body: unknown = {};
        try {
          body = rawBody.trim() === '' ? {} : JSON.parse(rawBody);
        } catch {
          return send(res, raw(400, { error: 'body is not valid JSON' }));
        }
        void admin(req, res, path, body);
        return;
      }
      const verdict = faults.httpVerdict(path);
      if (verdict === 'timeout') return; // never answered; the client's timeout fires
      if (verdict === '429') return send(res, text(429, 'Too Many Requests'));
      if (verdict === '500') return send(res, raw(500, { status: false, message: 'Internal Error, Please Try After Sometime', errorcode: 'AB2001', data: null }));
      if (path === MASTER_PATH && req.method === 'GET') {
        res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': master.length });
        res.end(master);
        return;
      }
      rest(req, res, path, rawBody);
    });
  });
  server.on('upgrade', (req, socket, head) => {
    socket.on('error', () => socket.destroy());
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (url.pathname === '/smart-stream') stream.handleUpgrade(req, socket, head, url);
    else if (url.pathname === '/smart-order-update') orderStream.handleUpgrade(req, socket, head);
    else refuseUpgrade(socket, 404, 'Not Found', `No WebSocket at ${url.pathname}`);
  });
  server.keepAliveTimeout = 30_000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  driver.start();

  return {
    port,
    url: `http://127.0.0.1:${port}`,
    streamUrl: `ws://127.0.0.1:${port}/smart-stream`,
    orderUrl: `ws://127.0.0.1:${port}/smart-order-update`,
    masterUrl: `http://127.0.0.1:${port}${MASTER_PATH}`,
    apiKey,
    accounts,
    state,
    setSpeed: (s) => driver.setSpeed(s),
    holdWhile: (busy) => void holds.push(busy),
    orders: () => orders.all(),
    framesSent: () => stream.framesSent,
    orderMessagesSent: () => orderStream.messagesSent,
    marketLink: () => ({ connections: stream.connections, requested: stream.requested }),
    advanceTo: (ms) => driver.advanceTo(ms),
    advanceBy: (ms) => driver.advanceTo(driver.now() + ms),
    setFaults: (spec) => faults.apply(spec, actions),
    now: () => driver.now(),
    clock: driver.clock,
    close: async () => {
      driver.stop();
      stream.close();
      orderStream.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
