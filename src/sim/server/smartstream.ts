/**
 * SmartStream, the market-data WebSocket (smartapi-protocol.md §11).
 *
 * Auth on the upgrade request, by headers (`Authorization` raw or `Bearer`,
 * `x-api-key`, `x-client-code`, `x-feed-token`) or by query parameters
 * (`clientCode`, `feedToken`, `apiKey`). Client code and feed token are
 * required; the jwt and the API key are checked when sent (SDK-java sends
 * neither). Failure → HTTP 401 with `x-error-message`. A 4th connection of a
 * client code is refused with HTTP 429 (`x-error-message: Connection limit
 * exceeded`). Subscribing sends a snapshot tick of each new (token, mode) at
 * once when the market has a quote for it. Depth-20 (mode 4) is not
 * simulated: E1001.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { SimInstrument, SimMarket, SimQuote } from '../market/types.js';
import { type Auth, bareToken } from './auth.js';
import { type FrameMode, encodeTick, exchangeTypeOf, garbageFrame } from './frames.js';
import { seededRng } from './util.js';

export const MAX_CONNECTIONS = 3;
export const MAX_SUBSCRIPTIONS = 1000;
const EXCHANGE_TYPES = new Set([1, 2, 3, 4, 5, 7, 13]);

type Conn = {
  ws: WebSocket;
  clientcode: string;
  /** token → bit mask of modes (bit 1 = LTP, 2 = Quote, 3 = SnapQuote). */
  subs: Map<string, number>;
  count: number;
  /** Every (exchange type, token, mode) the client asked for and still holds, tokens the master lacks included: what its own table holds. */
  requested: Set<string>;
  garbage: number;
};

export type MarketStreamDeps = {
  auth: Auth;
  apiKey: string;
  market: SimMarket;
  instruments: ReadonlyMap<string, SimInstrument>;
  seed: number;
  /** During a silent stall nothing is sent back: pings go unanswered, subscriptions get no snapshot or error reply. */
  silent: () => boolean;
  onInterestChange: () => void;
};

/** Writes a bare HTTP refusal on an upgrade socket. */
export function refuseUpgrade(socket: Duplex, status: number, reason: string, message: string): void {
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nx-error-message: ${message}\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(message)}\r\nConnection: close\r\n\r\n${message}`, () => socket.destroy());
}

export class MarketStream {
  private readonly wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: 1 << 20 });
  private readonly conns = new Set<Conn>();
  private readonly byToken = new Map<string, Set<Conn>>();
  private readonly seq = new Map<string, number>();
  private readonly exType = new Map<string, number>();
  private readonly garbageRng: () => number;
  private market: SimMarket;
  ticksSent = 0;
  /** Every binary frame sent: ticks, subscription snapshots and garbage (a client counts what it reads the same way). */
  framesSent = 0;

  constructor(private readonly d: MarketStreamDeps) {
    this.market = d.market;
    for (const [t, i] of d.instruments) this.exType.set(t, exchangeTypeOf(i.segment));
    this.garbageRng = seededRng(d.seed ^ 0x6a4ba9e);
  }

  /**
   * A new trading day: its market prices the snapshots, its master (the
   * shared `instruments`, already refilled) decides which tokens can tick.
   * Subscriptions stay: a contract listed both days ticks on.
   */
  newDay(market: SimMarket): void {
    this.market = market;
    this.exType.clear();
    for (const [t, i] of this.d.instruments) this.exType.set(t, exchangeTypeOf(i.segment));
  }

  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, url: URL): void {
    const h = req.headers;
    const one = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? v[0] : v);
    const useHeaders = h['x-client-code'] !== undefined || h['x-feed-token'] !== undefined;
    const clientcode = useHeaders ? one(h['x-client-code']) : url.searchParams.get('clientCode') ?? undefined;
    const feedToken = useHeaders ? one(h['x-feed-token']) : url.searchParams.get('feedToken') ?? undefined;
    const apiKey = useHeaders ? one(h['x-api-key']) : url.searchParams.get('apiKey') ?? undefined;
    const jwt = useHeaders ? bareToken(one(h.authorization)) : undefined;

    const refuse = (why: string): void => refuseUpgrade(socket, 401, 'Unauthorized', `Invalid Header - ${why}`);
    if (jwt !== undefined) {
      const c = this.d.auth.checkJwt(jwt);
      if (c.state !== 'ok' || (clientcode !== undefined && c.session.clientcode !== clientcode)) return refuse('Invalid Auth token');
    }
    if (clientcode === undefined || this.d.auth.account(clientcode) === undefined) return refuse('Invalid Client Code');
    if (apiKey !== undefined && apiKey !== this.d.apiKey) return refuse('Invalid API Key');
    const f = feedToken === undefined ? undefined : this.d.auth.checkFeedToken(feedToken);
    if (f === undefined || f.state !== 'ok' || f.session.clientcode !== clientcode) return refuse('Invalid Feed Token');
    let open = 0;
    for (const c of this.conns) if (c.clientcode === clientcode) open++;
    if (open >= MAX_CONNECTIONS) return refuseUpgrade(socket, 429, 'Too Many Requests', 'Connection limit exceeded');

    this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws, clientcode));
  }

  private accept(ws: WebSocket, clientcode: string): void {
    const conn: Conn = { ws, clientcode, subs: new Map(), count: 0, garbage: 0, requested: new Set() };
    this.conns.add(conn);
    ws.on('message', (data, isBinary) => this.onMessage(conn, data as Buffer, isBinary));
    ws.on('close', () => this.remove(conn));
    ws.on('error', () => this.remove(conn));
  }

  private remove(conn: Conn): void {
    if (!this.conns.delete(conn)) return;
    for (const token of conn.subs.keys()) {
      const set = this.byToken.get(token);
      set?.delete(conn);
      if (set?.size === 0) this.byToken.delete(token);
    }
    conn.subs.clear();
    conn.requested.clear();
    this.d.onInterestChange();
  }

  private onMessage(conn: Conn, data: Buffer, isBinary: boolean): void {
    const text = isBinary ? undefined : data.toString('utf8');
    // A silent stall is a half-open link: requests still land, but nothing at all comes back
    // (no pong, no snapshot, no error reply) — a snapshot would look like life to the client.
    const silent = this.d.silent();
    if (text === 'ping') {
      if (!silent) conn.ws.send('pong');
      return;
    }
    let correlationID = '';
    const error = (code: 'E1001' | 'E1002'): void => {
      if (silent) return;
      const errorMessage = code === 'E1001' ? 'Invalid Request Payload.' : 'Invalid Request. Subscription Limit Exceeded';
      conn.ws.send(JSON.stringify({ correlationID, errorCode: code, errorMessage }));
    };
    let req: unknown;
    try {
      req = JSON.parse(text ?? '');
    } catch {
      return error('E1001');
    }
    if (typeof req !== 'object' || req === null) return error('E1001');
    const r = req as { correlationID?: unknown; action?: unknown; params?: { mode?: unknown; tokenList?: unknown } };
    if (typeof r.correlationID === 'string') correlationID = r.correlationID;
    const mode = r.params?.mode;
    const list = r.params?.tokenList;
    if ((r.action !== 0 && r.action !== 1) || (mode !== 1 && mode !== 2 && mode !== 3) || !Array.isArray(list)) return error('E1001');
    const pairs: string[] = [];
    const asked: string[] = [];
    for (const entry of list as unknown[]) {
      const e = entry as { exchangeType?: unknown; tokens?: unknown };
      if (typeof e !== 'object' || e === null || typeof e.exchangeType !== 'number' || !EXCHANGE_TYPES.has(e.exchangeType) || !Array.isArray(e.tokens)) return error('E1001');
      for (const t of e.tokens as unknown[]) {
        if (typeof t !== 'string' || t === '') return error('E1001');
        asked.push(`${e.exchangeType}|${t}|${mode}`);
        // A token of another exchange type, or not in the master, never ticks: ignored.
        if (this.exType.get(t) === e.exchangeType) pairs.push(t);
      }
    }
    const bit = 1 << mode;
    if (r.action === 0) {
      for (const k of asked) conn.requested.delete(k);
      for (const t of pairs) {
        const m = conn.subs.get(t);
        if (m === undefined || (m & bit) === 0) continue;
        conn.count--;
        if (m === bit) {
          conn.subs.delete(t);
          const set = this.byToken.get(t);
          set?.delete(conn);
          if (set?.size === 0) this.byToken.delete(t);
        } else conn.subs.set(t, m & ~bit);
      }
      this.d.onInterestChange();
      return;
    }
    const fresh = [...new Set(pairs)].filter((t) => ((conn.subs.get(t) ?? 0) & bit) === 0);
    if (conn.count + fresh.length > MAX_SUBSCRIPTIONS) return error('E1002');
    for (const k of asked) conn.requested.add(k);
    for (const t of fresh) {
      conn.subs.set(t, (conn.subs.get(t) ?? 0) | bit);
      conn.count++;
      let set = this.byToken.get(t);
      if (set === undefined) this.byToken.set(t, (set = new Set()));
      set.add(conn);
    }
    this.d.onInterestChange();
    if (silent) return;
    for (const t of fresh) {
      const q = this.market.quote(t);
      if (q === undefined) continue;
      conn.ws.send(encodeTick(mode, this.exType.get(t)!, q, this.seq.get(t) ?? 0));
      this.framesSent++;
    }
  }

  /** Tokens some connection is subscribed to. */
  tokens(): IterableIterator<string> {
    return this.byToken.keys();
  }

  onTick(q: SimQuote): void {
    const set = this.byToken.get(q.token);
    if (set === undefined) return;
    const seq = (this.seq.get(q.token) ?? 0) + 1;
    this.seq.set(q.token, seq);
    const ex = this.exType.get(q.token) ?? 0;
    const frames: (Buffer | undefined)[] = [undefined, undefined, undefined, undefined];
    for (const c of set) {
      const mask = c.subs.get(q.token)!;
      if (c.garbage > 0) {
        c.garbage--;
        c.ws.send(garbageFrame(this.garbageRng, q));
        this.framesSent++;
      }
      for (let m = 1; m <= 3; m++) {
        if ((mask & (1 << m)) === 0) continue;
        const f = (frames[m] ??= encodeTick(m as FrameMode, ex, q, seq));
        c.ws.send(f);
        this.framesSent++;
      }
    }
    this.ticksSent++;
  }

  /** True when some client has more than `hwm` bytes waiting: the driver holds back. */
  backlogged(hwm: number): boolean {
    for (const c of this.conns) if (c.ws.bufferedAmount > hwm) return true;
    return false;
  }

  addGarbage(n: number): void {
    for (const c of this.conns) c.garbage += n;
  }

  get connections(): number {
    return this.conns.size;
  }

  get subscriptions(): number {
    let n = 0;
    for (const c of this.conns) n += c.count;
    return n;
  }

  /** (token, mode) pairs asked for on open connections, those the master lacks included: equal to a client's own count once every request it sent has been read. */
  get requested(): number {
    let n = 0;
    for (const c of this.conns) n += c.requested.size;
    return n;
  }

  /** Fault / shutdown: drop every connection without a close handshake. */
  dropAll(): void {
    for (const c of [...this.conns]) c.ws.terminate();
  }

  close(): void {
    this.dropAll();
    this.wss.close();
  }
}
