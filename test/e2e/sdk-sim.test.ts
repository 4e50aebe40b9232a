/**
 * The official Angel One JS SDK (smartapi-javascript 1.0.27) against the
 * simulator, unmodified, pointed at loopback at runtime:
 *  - REST: the `root` constructor parameter (the SDK's axios baseURL);
 *  - WebSockets: `config/constant.js` exports a mutable `CONSTANTS` object whose
 *    `websocketURL` / `wsclientupdatesURL` each client reads when constructed.
 * Three modules are replaced in `require.cache` before the SDK loads, none of
 * them the SDK's own logic: `public-ip` (the constructor looks the public IP up
 * on the internet, unawaited — offline that is an unhandled rejection), `address`
 * (probes interfaces, may spawn ifconfig) and the SDK's winston error log (a file
 * transport that writes ./error.log, request headers and all).
 */
import { createRequire, Module } from 'node:module';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SimClock, istToMillis } from '../../src/core/clock.js';
import { createMarket } from '../../src/sim/market/market.js';
import { DEMO_ACCOUNT, totpAt } from '../../src/sim/server/auth.js';
import { type SimServer, startSimServer } from '../../src/sim/server/server.js';
import { waitFor as until } from '../support/wait.js';

const require = createRequire(import.meta.url);
const sdkDir = dirname(require.resolve('smartapi-javascript/package.json'));
const sdkLib = join(sdkDir, 'lib');

function stub(path: string, exports: unknown): void {
  const m = new Module(path);
  m.filename = path;
  m.loaded = true;
  m.exports = exports;
  require.cache[path] = m;
}
stub(require.resolve('public-ip', { paths: [sdkLib] }), { v4: async () => '127.0.0.1', v6: async () => '::1' });
stub(require.resolve('address', { paths: [sdkLib] }), (cb: (err: null, a: { ip: string; mac: string }) => void) => cb(null, { ip: '127.0.0.1', mac: 'aa:bb:cc:dd:ee:ff' }));
const sdkErrors: unknown[] = [];
stub(join(sdkLib, 'winston_log.js'), { errorLogger: { error: (e: unknown) => sdkErrors.push(e) } });

/* eslint-disable @typescript-eslint/no-explicit-any */
const { SmartAPI, WebSocketV2, WSOrderUpdates } = require('smartapi-javascript') as any;
const { CONSTANTS } = require('smartapi-javascript/config/constant.js') as { CONSTANTS: { websocketURL: string; wsclientupdatesURL: string; Interval: number } };

const DAY = '2024-01-02';
const NIFTY = '99926000';
let sim: SimServer;
let market: ReturnType<typeof createMarket>;
let api: any;
let feedToken: string;
let jwt: string;
/** The simulator's wall clock (TOTP, §9 rate limits): moved by the test, so a second login is not a real-time wait. */
const wall = new SimClock(istToMillis(DAY, '11:00'));

beforeAll(async () => {
  market = createMarket({ day: DAY, seed: 3 });
  sim = await startSimServer({ market, port: 0, speed: 0, start: '11:00', seed: 5, wallClock: wall });
  CONSTANTS.websocketURL = sim.streamUrl;
  CONSTANTS.wsclientupdatesURL = sim.orderUrl;
  api = new SmartAPI({ api_key: sim.apiKey, root: sim.url, timeout: 5000 });
});
afterAll(async () => {
  await sim?.close();
});

const r2 = (x: number): number => Math.round(x * 100) / 100;

describe('official JS SDK → simulator', () => {
  it('generateSession with TOTP, getProfile, getRMS', async () => {
    const s = await api.generateSession(DEMO_ACCOUNT.clientcode, DEMO_ACCOUNT.pin, totpAt(DEMO_ACCOUNT.totpSecret, wall.now()));
    expect(s).toMatchObject({ status: true, message: 'SUCCESS' });
    expect(Object.keys(s.data).sort()).toEqual(['feedToken', 'jwtToken', 'refreshToken']);
    ({ jwtToken: jwt, feedToken } = s.data);
    expect(api.access_token).toBe(jwt);
    const p = await api.getProfile();
    expect(p.data).toMatchObject({ clientcode: DEMO_ACCOUNT.clientcode, name: DEMO_ACCOUNT.name, exchanges: expect.arrayContaining(['NFO']) });
    const f = await api.getRMS();
    expect(f.data).toMatchObject({ availablecash: '1000000.00', net: '1000000.00' });
  });

  it('a wrong TOTP answers AB1050 in the envelope', async () => {
    const other = new SmartAPI({ api_key: sim.apiKey, root: sim.url });
    // Within the same second the §9 login limit answers first: HTTP 403, which the SDK turns into {status: 403}.
    expect(await other.generateSession(DEMO_ACCOUNT.clientcode, DEMO_ACCOUNT.pin, '000000')).toMatchObject({ status: 403 });
    wall.advanceBy(1_100);
    const r = await other.generateSession(DEMO_ACCOUNT.clientcode, DEMO_ACCOUNT.pin, '000000');
    expect(r).toMatchObject({ status: false, errorcode: 'AB1050' });
    expect(other.access_token).toBeNull();
  });

  it('getCandleData: 1-minute and 1-hour candles of the previous session', async () => {
    const c1 = await api.getCandleData({ exchange: 'NSE', symboltoken: NIFTY, interval: 'ONE_MINUTE', fromdate: '2024-01-01 09:15', todate: '2024-01-01 09:19' });
    const bars = market.minuteBars(NIFTY, istToMillis('2024-01-01', '09:15'), istToMillis('2024-01-01', '09:20'));
    expect(c1.data).toEqual(bars.map((b) => [new Date(b.ts + 19_800_000).toISOString().slice(0, 19) + '+05:30', r2(b.open), r2(b.high), r2(b.low), r2(b.close), 0]));
    const c60 = await api.getCandleData({ exchange: 'NSE', symboltoken: NIFTY, interval: 'ONE_HOUR', fromdate: '2024-01-01 09:15', todate: '2024-01-01 15:30' });
    expect(c60.data.map((r: unknown[]) => String(r[0]).slice(11, 16))).toEqual(['09:15', '10:15', '11:15', '12:15', '13:15', '14:15', '15:15']);
  });

  it('marketData (quote) in FULL mode', async () => {
    const q = await api.marketData({ mode: 'FULL', exchangeTokens: { NSE: [NIFTY] } });
    const m = market.quote(NIFTY)!;
    expect(q.data.unfetched).toEqual([]);
    expect(q.data.fetched[0]).toMatchObject({ exchange: 'NSE', symbolToken: NIFTY, tradingSymbol: 'Nifty 50', ltp: r2(m.ltp), open: r2(m.open), close: r2(m.prevClose) });
    expect(q.data.fetched[0].depth.buy).toHaveLength(5);
  });

  it('places an order with a tag, finds it in the order book, cancels it; the order socket reports both', async () => {
    const updates: any[] = [];
    const ou = new WSOrderUpdates({ clientcode: DEMO_ACCOUNT.clientcode, jwttoken: jwt, apikey: sim.apiKey, feedtype: feedToken });
    ou.on('tick', (m: unknown) => { if (typeof m === 'string' && m !== 'pong') updates.push(JSON.parse(m)); });
    await ou.connect();
    try {
      const spot = market.quote(NIFTY)!.ltp;
      const opt = market.instruments().filter((i) => i.name === 'NIFTY' && i.expiry === '2024-01-04' && i.optionType === 'CE')
        .reduce((a, b) => (Math.abs(b.strike! - spot) < Math.abs(a.strike! - spot) ? b : a));
      const placed = await api.placeOrder({
        variety: 'NORMAL', tradingsymbol: opt.symbol, symboltoken: opt.token, transactiontype: 'BUY', exchange: 'NFO', ordertype: 'LIMIT',
        producttype: 'INTRADAY', duration: 'DAY', price: '1.00', quantity: '50', ordertag: 'sdk-e2e-1',
      });
      expect(placed).toMatchObject({ status: true, data: { script: opt.symbol } });
      const orderid = placed.data.orderid as string;
      const book = await api.getOrderBook();
      const row = book.data.find((o: any) => o.ordertag === 'sdk-e2e-1');
      expect(row).toMatchObject({ orderid, status: 'open', tradingsymbol: opt.symbol, price: '1.00', quantity: '50' });
      const cancelled = await api.cancelOrder({ variety: 'NORMAL', orderid });
      expect(cancelled).toMatchObject({ status: true, data: { orderid } });
      await until(() => updates.some((u) => u.orderData.orderid === orderid && u.orderData.status === 'cancelled'), 'the cancel on the order socket');
      expect(updates[0]['order-status']).toBe('AB00');
      expect(updates.filter((u) => u.orderData.orderid === orderid).map((u) => u['order-status'])).toEqual(['AB01', 'AB02']);
      const details = await api.indOrderDetails(placed.data.uniqueorderid);
      expect(details.data).toMatchObject({ orderid, status: 'cancelled', ordertag: 'sdk-e2e-1' });
    } finally {
      ou.close();
    }
  });

  it('WebSocketV2: subscribes and receives decoded ticks in LTP and SnapQuote modes', async () => {
    const ticks: any[] = [];
    const ws = new WebSocketV2({ clientcode: DEMO_ACCOUNT.clientcode, jwttoken: jwt, apikey: sim.apiKey, feedtype: feedToken });
    ws.on('tick', (t: unknown) => { if (typeof t === 'object' && t !== null) ticks.push(t); });
    await ws.connect();
    try {
      const opt = market.instruments().find((i) => i.name === 'NIFTY' && i.expiry === '2024-01-11' && i.optionType === 'PE')!;
      ws.fetchData({ correlationID: 'sdk1', action: 1, mode: 1, exchangeType: 1, tokens: [NIFTY] });
      ws.fetchData({ correlationID: 'sdk2', action: 1, mode: 3, exchangeType: 2, tokens: [opt.token] });
      await until(() => sim.state().subscriptions === 2, 'the subscriptions');
      await sim.advanceBy(3_000);
      const n = market.quote(NIFTY)!;
      const o = market.quote(opt.token)!;
      // The SDK's token is JSON-quoted (a known SDK quirk) and every value is a string.
      const tok = (t: any) => JSON.parse(t.token) as string;
      await until(() => ticks.some((t) => tok(t) === NIFTY && t.exchange_timestamp === String(n.ts)) && ticks.some((t) => tok(t) === opt.token && t.exchange_timestamp === String(o.ts)), 'the latest ticks');
      expect(ticks.filter((t) => tok(t) === NIFTY).length).toBeGreaterThan(5);
      const lt = ticks.find((t) => tok(t) === NIFTY && t.exchange_timestamp === String(n.ts));
      expect(lt).toMatchObject({ subscription_mode: '1', exchange_type: '1', last_traded_price: String(Math.round(n.ltp * 100)) });
      const sq = ticks.find((t) => tok(t) === opt.token && t.exchange_timestamp === String(o.ts));
      expect(sq).toMatchObject({
        subscription_mode: '3', exchange_type: '2', last_traded_price: String(Math.round(o.ltp * 100)),
        open_interest: String(o.oi), upper_circuit: String(Math.round(o.upperCircuit * 100)), last_traded_timestamp: String(Math.floor(o.lastTradeTs / 1000)),
      });
      expect(sq.best_5_buy_data.map((l: any) => [l.flag, l.price])).toEqual(o.bids.map((l) => ['1', String(Math.round(l.price * 100))]));
      expect(sq.best_5_sell_data.map((l: any) => [l.flag, l.price])).toEqual(o.asks.map((l) => ['0', String(Math.round(l.price * 100))]));
    } finally {
      ws.close();
    }
  });

  it('the SDK logged only the two refused logins', () => {
    expect(sdkErrors.map((e: any) => e.response?.status ?? e.response?.data?.errorcode)).toEqual([403, 200]);
  });
});

