/**
 * A small loopback SmartAPI for the adapter's tests, written from the
 * protocol notes (§2–§12): the REST routes Rustro uses with the §2.2 envelope,
 * the gateway AG8001 shape, 403 plain-text rate limits, login with TOTP,
 * tokens, an order book, the instrument master download and the order-status
 * WebSocket. Tests script one-shot answers per endpoint (`failNext`) and read
 * what arrived (`arrivals`). The full simulator (src/sim) replaces it in
 * integration tests.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { createGuardrails, verifySync } from 'otplib';
import { WebSocketServer, type WebSocket } from 'ws';
import { Writable } from 'node:stream';
import { SmartApiBroker, type SmartApiBrokerOptions } from '../../../../src/broker/smartapi/adapter.js';
import type { TickStream } from '../../../../src/broker/broker.js';
import { EventBus } from '../../../../src/core/bus.js';
import { RealClock } from '../../../../src/core/clock.js';
import type { RustroEvent } from '../../../../src/core/events.js';
import { createLogger } from '../../../../src/core/log.js';
import { Secret, type Secrets } from '../../../../src/core/secrets.js';

export type FakeCreds = { apiKey: string; clientCode: string; pin: string; totpSecret: string };

/** One scripted answer, used once. */
export type Scripted =
  | { kind: 'json'; status?: number; body: unknown }
  | { kind: 'text'; status: number; text: string }
  /** Close the connection without answering, before doing anything. */
  | { kind: 'destroy' }
  /** Do the work (e.g. accept the order), then close the connection without answering. */
  | { kind: 'destroy-after' };

export type FakeOrder = {
  variety: string;
  ordertype: string;
  producttype: string;
  duration: string;
  price: number;
  triggerprice: number;
  quantity: number;
  tradingsymbol: string;
  transactiontype: string;
  exchange: string;
  symboltoken: string;
  ordertag: string;
  averageprice: number;
  filledshares: number;
  unfilledshares: number;
  orderid: string;
  uniqueorderid: string;
  text: string;
  status: string;
  updatetime: string;
};

export type Arrival = { endpoint: string; at: number };

const GUARDRAILS = createGuardrails({ MIN_SECRET_BYTES: 1 });
const ok = (data: unknown) => ({ status: true, message: 'SUCCESS', errorcode: '', data });
const fail = (errorcode: string, message: string) => ({ status: false, message, errorcode, data: null });
const gateway = (errorCode: string, message: string) => ({ success: false, message, errorCode, data: '' });

export class FakeSmartApi {
  readonly arrivals: Arrival[] = [];
  readonly orders: FakeOrder[] = [];
  readonly trades: Record<string, string>[] = [];
  positions: Record<string, string>[] = [];
  /** Bodies of login requests are not kept (they hold the PIN); counts are. */
  readonly counts = new Map<string, number>();
  /** Headers of the last request per endpoint (lower-case names). */
  readonly lastHeaders = new Map<string, Record<string, string | string[] | undefined>>();
  readonly lastBodies = new Map<string, unknown>();
  /** Per-endpoint sliding-window caps enforced with HTTP 403 (optional). */
  readonly serverLimits = new Map<string, { cap: number; windowMs: number }>();
  master: string | (() => AsyncIterable<string>) = '[]';
  /** The TOTP codes login requests carried (one-time codes, kept to check each attempt's freshness). */
  readonly loginTotps: string[] = [];
  wsPings = 0;
  wsConnects = 0;
  readonly wsRefusals: number[] = [];
  private readonly scripts = new Map<string, Scripted[]>();
  private jwt = '';
  private refresh = '';
  private feed = '';
  private tokenSeq = 0;
  private orderSeq = 0;
  private server: Server;
  private readonly wss = new WebSocketServer({ noServer: true });
  private readonly sockets = new Set<Socket>();
  private readonly wsClients = new Set<WebSocket>();
  port = 0;

  private constructor(readonly creds: FakeCreds) {
    this.server = this.makeServer();
  }

  static async start(creds: FakeCreds): Promise<FakeSmartApi> {
    const f = new FakeSmartApi(creds);
    await f.listen(0);
    return f;
  }

  get baseUrl(): string {
    return `http://127.0.0.1:${this.port}`;
  }
  get wsUrl(): string {
    return `ws://127.0.0.1:${this.port}/smart-order-update`;
  }
  get masterUrl(): string {
    return `http://127.0.0.1:${this.port}/OpenAPI_File/files/OpenAPIScripMaster.json`;
  }
  /** Tokens currently issued (for leak checks). */
  get issued(): { jwt: string; refresh: string; feed: string } {
    return { jwt: this.jwt, refresh: this.refresh, feed: this.feed };
  }
  readonly allTokens: string[] = [];

  count(endpoint: string): number {
    return this.counts.get(endpoint) ?? 0;
  }

  failNext(endpoint: string, ...answers: Scripted[]): void {
    const q = this.scripts.get(endpoint) ?? [];
    q.push(...answers);
    this.scripts.set(endpoint, q);
  }

  /** The current JWT stops working (as at an expiry); the refresh token still works. */
  expireJwt(): void {
    this.jwt = `expired-${this.jwt}`;
  }

  /** Closes the listening socket and every connection: the next request is refused. */
  async stopListening(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    for (const c of this.wsClients) c.terminate();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  /** Listens again on the same port. */
  async listenAgain(): Promise<void> {
    this.server = this.makeServer();
    await this.listen(this.port);
  }

  async close(): Promise<void> {
    for (const c of this.wsClients) c.terminate();
    this.wss.close();
    for (const s of this.sockets) s.destroy();
    if (this.server.listening) await new Promise<void>((r) => this.server.close(() => r()));
  }

  /** Sends an order-status message to every socket client (prices as numbers, quantities as strings — §12). */
  pushOrderUpdate(o: FakeOrder, code = 'AB01'): void {
    const msg = JSON.stringify({
      'user-id': this.creds.clientCode,
      'status-code': '200',
      'order-status': code,
      'error-message': '',
      orderData: { ...o, quantity: String(o.quantity), filledshares: String(o.filledshares), unfilledshares: String(o.unfilledshares), orderstatus: o.status },
    });
    for (const c of this.wsClients) c.send(msg);
  }

  /** Fills an order completely at `price` and records the trade. */
  fill(orderId: string, price: number): FakeOrder {
    const o = this.orders.find((x) => x.orderid === orderId);
    if (o === undefined) throw new Error(`no order ${orderId}`);
    Object.assign(o, { status: 'complete', averageprice: price, filledshares: o.quantity, unfilledshares: 0 });
    this.trades.push({
      exchange: o.exchange, producttype: o.producttype, tradingsymbol: o.tradingsymbol, instrumenttype: 'OPTIDX', transactiontype: o.transactiontype,
      fillprice: price.toFixed(2), fillsize: String(o.quantity), orderid: o.orderid, fillid: `F${o.orderid}`, filltime: '09:20:05',
    });
    return o;
  }

  private listen(port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, '127.0.0.1', () => {
        this.port = (this.server.address() as AddressInfo).port;
        resolve();
      });
    });
  }

  private makeServer(): Server {
    const server = createServer((req, res) => void this.handle(req, res));
    server.keepAliveTimeout = 5000;
    server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    server.on('upgrade', (req, socket, head) => this.upgrade(req, socket as Socket, head));
    return server;
  }

  private upgrade(req: IncomingMessage, socket: Socket, head: Buffer): void {
    const auth = String(req.headers.authorization ?? '').replace(/^Bearer\s+/i, '');
    if (!req.url?.startsWith('/smart-order-update') || auth === '' || auth !== this.jwt) {
      this.wsRefusals.push(401);
      socket.end('HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      this.wsConnects++;
      this.wsClients.add(ws);
      ws.on('close', () => this.wsClients.delete(ws));
      ws.on('message', (data) => {
        if (data.toString() === 'ping') {
          this.wsPings++;
          ws.send('pong');
        }
      });
      const empty = Object.fromEntries(Object.keys(blankOrder()).map((k) => [k, typeof (blankOrder() as Record<string, unknown>)[k] === 'number' ? 0 : '']));
      ws.send(JSON.stringify({ 'user-id': this.creds.clientCode, 'status-code': '200', 'order-status': 'AB00', 'error-message': '', orderData: empty }));
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x');
    const parts = url.pathname.split('/').filter(Boolean);
    const isDetails = parts.at(-2) === 'details';
    const endpoint = url.pathname.endsWith('OpenAPIScripMaster.json') ? 'master' : isDetails ? 'details' : (parts.at(-1) ?? '');
    this.arrivals.push({ endpoint, at: performance.now() });
    this.counts.set(endpoint, (this.counts.get(endpoint) ?? 0) + 1);
    this.lastHeaders.set(endpoint, { ...req.headers });
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    let body: Record<string, unknown> = {};
    try {
      body = raw === '' ? {} : (JSON.parse(raw) as Record<string, unknown>);
    } catch {
      body = {};
    }
    if (endpoint !== 'loginByPassword') this.lastBodies.set(endpoint, body);

    const send = (status: number, payload: unknown): void => {
      res.writeHead(status, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(payload));
    };

    const limit = this.serverLimits.get(endpoint);
    if (limit !== undefined) {
      const now = performance.now();
      const recent = this.arrivals.filter((a) => a.endpoint === endpoint && a.at > now - limit.windowMs).length;
      if (recent > limit.cap) {
        res.writeHead(403, { 'Content-Type': 'text/plain' });
        res.end('Access denied because of exceeding access rate');
        return;
      }
    }

    if (endpoint === 'loginByPassword') this.loginTotps.push(String(body.totp ?? ''));
    const scripted = this.scripts.get(endpoint)?.shift();
    if (scripted?.kind === 'destroy') {
      req.socket.destroy();
      return;
    }
    if (scripted?.kind === 'json') return send(scripted.status ?? 200, scripted.body);
    if (scripted?.kind === 'text') {
      res.writeHead(scripted.status, { 'Content-Type': 'text/plain' });
      res.end(scripted.text);
      return;
    }
    const destroyAfter = scripted?.kind === 'destroy-after';
    const answer = (status: number, payload: unknown): void => {
      if (destroyAfter) req.socket.destroy();
      else send(status, payload);
    };

    if (endpoint === 'master') return this.serveMaster(res);

    if (req.headers['x-privatekey'] !== this.creds.apiKey) return answer(200, gateway('AG8004', 'Invalid API Key'));
    for (const h of ['x-usertype', 'x-sourceid', 'x-clientlocalip', 'x-clientpublicip', 'x-macaddress']) {
      if (req.headers[h] === undefined) return answer(200, fail('AB1004', `missing header ${h}`));
    }

    if (endpoint === 'loginByPassword') return answer(200, this.login(body));
    if (endpoint === 'generateTokens') {
      if (body.refreshToken !== this.refresh || this.refresh === '') return answer(200, fail('AB8050', 'Invalid Refresh Token'));
      return answer(200, ok(this.issue()));
    }

    const auth = String(req.headers.authorization ?? '');
    if (auth === '') return answer(200, gateway('AG8003', 'Token missing'));
    if (auth !== `Bearer ${this.jwt}` || this.jwt === '') return answer(200, gateway('AG8001', 'Invalid Token'));

    switch (endpoint) {
      case 'logout':
        this.jwt = this.refresh = this.feed = '';
        return answer(200, ok(''));
      case 'getProfile':
        return answer(200, ok({ clientcode: this.creds.clientCode, name: 'TEST USER', exchanges: ['NSE', 'NFO'], products: ['MIS'] }));
      case 'getRMS':
        return answer(200, ok({ net: '100000.50', availablecash: '90000.25', utiliseddebits: '10000.25', m2munrealized: '0' }));
      case 'placeOrder':
        return answer(200, this.place(body));
      case 'modifyOrder': {
        const o = this.orders.find((x) => x.orderid === body.orderid);
        if (o === undefined) return answer(200, fail('AB1013', 'Order not found'));
        o.price = Number(body.price);
        o.quantity = Number(body.quantity);
        o.unfilledshares = o.quantity - o.filledshares;
        o.ordertype = String(body.ordertype);
        return answer(200, ok({ orderid: o.orderid, uniqueorderid: o.uniqueorderid }));
      }
      case 'cancelOrder': {
        const o = this.orders.find((x) => x.orderid === body.orderid);
        if (o === undefined) return answer(200, fail('AB1013', 'Order not found'));
        o.status = 'cancelled';
        this.pushOrderUpdate(o, 'AB02');
        return answer(200, ok({ orderid: o.orderid, uniqueorderid: o.uniqueorderid }));
      }
      case 'getOrderBook':
        // The book carries numbers as strings (§2.2); null when empty.
        return answer(200, ok(this.orders.length === 0 ? null : this.orders.map(stringly)));
      case 'getTradeBook':
        return answer(200, ok(this.trades.length === 0 ? null : this.trades));
      case 'details': {
        const o = this.orders.find((x) => x.uniqueorderid === parts.at(-1));
        return answer(200, o === undefined ? fail('AB1013', 'Order not found') : ok({ ...o, orderstatus: o.status }));
      }
      case 'getPosition':
        return answer(200, ok(this.positions.length === 0 ? null : this.positions));
      case 'quote': {
        const mode = String(body.mode);
        const fetched: unknown[] = [];
        const unfetched: unknown[] = [];
        for (const [exchange, tokens] of Object.entries((body.exchangeTokens ?? {}) as Record<string, string[]>)) {
          for (const t of tokens) {
            if (t === '' || t === 'bad') {
              unfetched.push({ exchange, symbolToken: t, message: 'Symbol token cannot be empty', errorCode: 'AB4018' });
              continue;
            }
            const q: Record<string, unknown> = { exchange, tradingSymbol: `SYM${t}`, symbolToken: t, ltp: 100.5 };
            if (mode !== 'LTP') Object.assign(q, { open: 99, high: 101, low: 98.5, close: 97 });
            if (mode === 'FULL') {
              const lvl = (p: number) => Array.from({ length: 5 }, (_, i) => ({ price: p + i * 0.05, quantity: 75 * (i + 1), orders: i + 1 }));
              Object.assign(q, { tradeVolume: 12345, opnInterest: 6789, upperCircuit: 120, lowerCircuit: 80, depth: { buy: lvl(100.4), sell: lvl(100.6) } });
            }
            fetched.push(q);
          }
        }
        return answer(200, ok({ fetched, unfetched }));
      }
      case 'getCandleData': {
        const from = String(body.fromdate);
        const day = from.slice(0, 10);
        return answer(200, ok([
          [`${day}T09:15:00+05:30`, 19571.2, 19573.35, 19534.4, 19552.05, 0],
          [`${day}T09:16:00+05:30`, '19552.05', '19560', '19550', '19555.5', '0'],
        ]));
      }
      default:
        return answer(404, fail('AB1004', `no route ${url.pathname}`));
    }
  }

  private login(body: Record<string, unknown>): unknown {
    if (body.clientcode !== this.creds.clientCode || body.password !== this.creds.pin) return fail('AB1007', 'Invalid credentials');
    const totp = String(body.totp ?? '');
    let valid = false;
    try {
      valid = /^\d{6}$/.test(totp) && verifySync({ secret: this.creds.totpSecret, token: totp, epochTolerance: 30, guardrails: GUARDRAILS }).valid;
    } catch {
      valid = false;
    }
    if (!valid) return fail('AB1050', 'Invalid totp');
    return ok({ ...this.issue(), state: body.state ?? '' });
  }

  private issue(): { jwtToken: string; refreshToken: string; feedToken: string } {
    this.tokenSeq++;
    this.jwt = `eyJhbGciOiJIUzUxMiJ9.jwt-${this.tokenSeq}-${randomUUID()}`;
    this.refresh = `refresh-${this.tokenSeq}-${randomUUID()}`;
    this.feed = `feed-${this.tokenSeq}-${randomUUID().slice(0, 8)}`;
    this.allTokens.push(this.jwt, this.refresh, this.feed);
    return { jwtToken: this.jwt, refreshToken: this.refresh, feedToken: this.feed };
  }

  private place(body: Record<string, unknown>): unknown {
    for (const f of ['variety', 'tradingsymbol', 'symboltoken', 'transactiontype', 'exchange', 'ordertype', 'producttype', 'duration', 'quantity']) {
      if (body[f] === undefined || body[f] === '') return fail('AB1004', `missing ${f}`);
    }
    const tag = String(body.ordertag ?? '');
    if (tag.length >= 20) return fail('AB4008', 'ordertag length should be less than 20 characters');
    this.orderSeq++;
    const qty = Number(body.quantity);
    const o: FakeOrder = {
      ...blankOrder(),
      variety: String(body.variety),
      ordertype: String(body.ordertype),
      producttype: String(body.producttype),
      duration: String(body.duration),
      price: Number(body.price ?? 0),
      quantity: qty,
      tradingsymbol: String(body.tradingsymbol),
      transactiontype: String(body.transactiontype),
      exchange: String(body.exchange),
      symboltoken: String(body.symboltoken),
      ordertag: tag,
      unfilledshares: qty,
      orderid: `2509${String(this.orderSeq).padStart(11, '0')}`,
      uniqueorderid: randomUUID(),
      status: 'open',
      updatetime: '02-Jan-2024 09:20:00',
    };
    this.orders.push(o);
    this.pushOrderUpdate(o, 'AB01');
    return ok({ script: o.tradingsymbol, orderid: o.orderid, uniqueorderid: o.uniqueorderid });
  }

  private async serveMaster(res: ServerResponse): Promise<void> {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    if (typeof this.master === 'string') {
      res.end(this.master);
      return;
    }
    for await (const chunk of this.master()) {
      if (!res.write(chunk)) await new Promise((r) => res.once('drain', r));
    }
    res.end();
  }
}

export function blankOrder(): FakeOrder {
  return {
    variety: '', ordertype: '', producttype: '', duration: '', price: 0, triggerprice: 0, quantity: 0, tradingsymbol: '',
    transactiontype: '', exchange: '', symboltoken: '', ordertag: '', averageprice: 0, filledshares: 0, unfilledshares: 0,
    orderid: '', uniqueorderid: '', text: '', status: '', updatetime: '',
  };
}

/** The order-book rendering: numbers as decimal strings. */
function stringly(o: FakeOrder): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(o)) out[k] = typeof v === 'number' ? (['price', 'triggerprice', 'averageprice'].includes(k) ? v.toFixed(2) : String(v)) : v;
  out.orderstatus = o.status;
  return out;
}

// ── harness: a SmartApiBroker wired to a fake, with captured logs and events ──

/** A 10-byte TOTP secret: below otplib 13's default 16-byte guardrail, like many real ones. */
export const TEST_CREDS: FakeCreds = { apiKey: 'apikey-7Hq2Lm9X', clientCode: 'R123456', pin: '4321', totpSecret: 'JBSWY3DPEHPK3PXP' };

export function secretsOf(c: FakeCreds): Secrets {
  return { apiKey: new Secret(c.apiKey), clientCode: new Secret(c.clientCode), pin: new Secret(c.pin), totpSecret: new Secret(c.totpSecret) };
}

export const noTicks: TickStream = { subscribe() {}, unsubscribe() {}, async start() {}, async stop() {} };

export type Harness = {
  fake: FakeSmartApi;
  broker: SmartApiBroker;
  bus: EventBus;
  events: RustroEvent[];
  logs: string[];
  close(): Promise<void>;
};

/** `creds` are what the fake accepts; `brokerCreds` what the broker sends (default: the same). */
export async function harness(over: Partial<SmartApiBrokerOptions> = {}, creds: FakeCreds = TEST_CREDS, brokerCreds: FakeCreds = creds): Promise<Harness> {
  const fake = await FakeSmartApi.start(creds);
  const clock = new RealClock();
  const bus = new EventBus(clock);
  const events: RustroEvent[] = [];
  bus.onAny((e) => events.push(e));
  const logs: string[] = [];
  const destination = new Writable({
    write(chunk, _enc, cb) {
      logs.push(String(chunk));
      cb();
    },
  });
  const log = createLogger({ level: 'trace', format: 'json', destination: destination as unknown as NodeJS.WritableStream & { write(s: string): boolean }, isTty: false });
  const broker = new SmartApiBroker({
    secrets: secretsOf(brokerCreds),
    clock,
    bus,
    log,
    dataDir: '/nonexistent',
    ticks: noTicks,
    ...over,
    rest: { baseUrl: fake.baseUrl, timeoutMs: 2000, retry: { retries: 3, minTimeoutMs: 5, maxTimeoutMs: 20, factor: 2, randomize: true }, ...over.rest },
    orders: { lookupDelayMs: 5, lookupWindowMs: 300, ...over.orders },
    limits: { marginMs: 0, windowMs: { second: 20, minute: 200, hour: 2000 }, ...over.limits },
    master: { url: fake.masterUrl, ...over.master },
    orderUpdates: { url: fake.wsUrl, pollMs: 30, pingMs: 50, staleMs: 1000, reconnectMinMs: 10, reconnectMaxMs: 50, ...over.orderUpdates },
  });
  return {
    fake,
    broker,
    bus,
    events,
    logs,
    async close() {
      await broker.orderUpdates.stop();
      await broker.limiter.stop();
      await fake.close();
    },
  };
}
