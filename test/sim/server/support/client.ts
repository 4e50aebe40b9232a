/** Raw loopback clients for the simulator tests: node:http (GET bodies, dropped sockets) and ws. */
import { request } from 'node:http';
import WebSocket from 'ws';
import { totpAt } from '../../../../src/sim/server/auth.js';
import { type SimServer, type SimServerOptions, startSimServer } from '../../../../src/sim/server/server.js';
import { FakeMarket, type FakeMarketOptions } from './fake-market.js';

export type Sim = { sim: SimServer; market: FakeMarket };

export async function startFake(opts: Partial<SimServerOptions> & { fake?: FakeMarketOptions } = {}): Promise<Sim> {
  const market = new FakeMarket(opts.fake);
  const sim = await startSimServer({ speed: 0, rateLimits: false, ...opts, market });
  return { sim, market };
}

export type HttpResult = { status: number; headers: Record<string, string | string[] | undefined>; text: string; json: any };

export function headersFor(sim: SimServer, jwt?: string): Record<string, string> {
  return {
    'Content-Type': 'application/json',
    Accept: 'application/json',
    'X-UserType': 'USER',
    'X-SourceID': 'WEB',
    'X-ClientLocalIP': '127.0.0.1',
    'X-ClientPublicIP': 'null',
    'X-MACAddress': 'aa:bb:cc:dd:ee:ff',
    'X-PrivateKey': sim.apiKey,
    ...(jwt === undefined ? {} : { Authorization: `Bearer ${jwt}` }),
  };
}

export function http(
  sim: SimServer,
  method: 'GET' | 'POST',
  path: string,
  o: { body?: unknown; jwt?: string; headers?: Record<string, string>; timeoutMs?: number } = {},
): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const payload = o.body === undefined ? undefined : typeof o.body === 'string' ? o.body : JSON.stringify(o.body);
    const req = request(
      `${sim.url}${path}`,
      { method, agent: false, headers: { ...(o.headers ?? headersFor(sim, o.jwt)), ...(payload === undefined ? {} : { 'Content-Length': Buffer.byteLength(payload) }) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: unknown;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
        });
        res.on('error', reject);
      },
    );
    if (o.timeoutMs !== undefined) req.setTimeout(o.timeoutMs, () => req.destroy(new Error('client timeout')));
    req.on('error', reject);
    if (payload !== undefined) req.write(payload);
    req.end();
  });
}

export type Tokens = { jwtToken: string; refreshToken: string; feedToken: string };

export async function login(sim: SimServer, account = sim.accounts[0]!): Promise<Tokens> {
  const r = await http(sim, 'POST', '/rest/auth/angelbroking/user/v1/loginByPassword', {
    body: { clientcode: account.clientcode, password: account.pin, totp: totpAt(account.totpSecret, Date.now()) },
  });
  if (r.json?.status !== true) throw new Error(`login failed: ${r.text}`);
  return r.json.data as Tokens;
}

export async function adminPost(sim: SimServer, path: string, body: unknown): Promise<HttpResult> {
  return http(sim, 'POST', path, { body, headers: { 'Content-Type': 'application/json' } });
}

export type StreamClient = { ws: WebSocket; binary: Buffer[]; texts: string[]; next(pred?: (m: Buffer | string) => boolean): Promise<Buffer | string>; close(): void };

function wrap(ws: WebSocket): StreamClient {
  const binary: Buffer[] = [];
  const texts: string[] = [];
  const all: (Buffer | string)[] = [];
  let waiters: { pred: (m: Buffer | string) => boolean; res: (m: Buffer | string) => void; from: number }[] = [];
  ws.on('message', (data: Buffer, isBinary) => {
    const m = isBinary ? Buffer.from(data) : data.toString('utf8');
    if (typeof m === 'string') texts.push(m);
    else binary.push(m);
    all.push(m);
    waiters = waiters.filter((w) => {
      if (!w.pred(m)) return true;
      w.res(m);
      return false;
    });
  });
  let seen = 0;
  return {
    ws,
    binary,
    texts,
    next(pred = () => true) {
      for (; seen < all.length; ) {
        const m = all[seen++]!;
        if (pred(m)) return Promise.resolve(m);
      }
      return new Promise((res) => {
        waiters.push({
          pred: (m) => {
            seen = all.length;
            return pred(m);
          },
          res,
          from: all.length,
        });
      });
    },
    close: () => ws.terminate(),
  };
}

/** Opens a socket; resolves with the client, or rejects with the HTTP status and x-error-message of a refusal. */
export function connect(url: string, headers: Record<string, string> = {}): Promise<StreamClient> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers, perMessageDeflate: false });
    const client = wrap(ws);
    ws.once('open', () => resolve(client));
    ws.once('unexpected-response', (_req, res) => {
      reject(Object.assign(new Error(`HTTP ${res.statusCode}`), { status: res.statusCode, message: String(res.headers['x-error-message'] ?? '') }));
      res.resume();
      ws.terminate();
    });
    ws.once('error', (e) => reject(e));
  });
}

export function streamHeaders(sim: SimServer, t: Tokens, clientcode = sim.accounts[0]!.clientcode): Record<string, string> {
  return { Authorization: t.jwtToken, 'x-api-key': sim.apiKey, 'x-client-code': clientcode, 'x-feed-token': t.feedToken };
}

export function subscribe(c: StreamClient, mode: number, exchangeType: number, tokens: string[], action = 1, correlationID = 'abc123'): void {
  c.ws.send(JSON.stringify({ correlationID, action, params: { mode, tokenList: [{ exchangeType, tokens }] } }));
}

/** Waits until the server has processed everything sent so far on this socket (ping → pong). */
export async function barrier(c: StreamClient): Promise<void> {
  c.ws.send('ping');
  await c.next((m) => m === 'pong');
}
