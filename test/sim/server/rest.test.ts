import { afterEach, describe, expect, it } from 'vitest';
import { totpAt } from '../../../src/sim/server/auth.js';
import { CE, NIFTY } from './support/fake-market.js';
import { type Sim, headersFor, http, login, startFake } from './support/client.js';

const LOGIN = '/rest/auth/angelbroking/user/v1/loginByPassword';
const S = '/rest/secure/angelbroking';

let s: Sim | undefined;
afterEach(async () => {
  await s?.sim.close();
  s = undefined;
});

describe('login', () => {
  it('accepts the right TOTP and returns three opaque tokens; echoes state', async () => {
    s = await startFake();
    const a = s.sim.accounts[0]!;
    const r = await http(s.sim, 'POST', LOGIN, { body: { clientcode: a.clientcode, password: a.pin, totp: totpAt(a.totpSecret, Date.now()), state: 'xyz' } });
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ status: true, message: 'SUCCESS', errorcode: '' });
    expect(Object.keys(r.json.data).sort()).toEqual(['feedToken', 'jwtToken', 'refreshToken', 'state']);
    expect(r.json.data.state).toBe('xyz');
    for (const k of ['jwtToken', 'refreshToken', 'feedToken']) expect(typeof r.json.data[k]).toBe('string');
  });

  it('accepts the TOTP of the previous and next 30 s step, not two steps away', async () => {
    s = await startFake();
    const a = s.sim.accounts[0]!;
    const body = (ms: number) => ({ clientcode: a.clientcode, password: a.pin, totp: totpAt(a.totpSecret, ms) });
    const step = Math.floor(Date.now() / 30_000) * 30_000 + 15_000;
    expect((await http(s.sim, 'POST', LOGIN, { body: body(step - 30_000) })).json.status).toBe(true);
    expect((await http(s.sim, 'POST', LOGIN, { body: body(step + 30_000) })).json.status).toBe(true);
    expect((await http(s.sim, 'POST', LOGIN, { body: body(step - 95_000) })).json.errorcode).toBe('AB1050');
  });

  it('wrong TOTP → AB1050, wrong PIN → AB1007, wrong API key → AG8004 gateway shape', async () => {
    s = await startFake();
    const a = s.sim.accounts[0]!;
    const good = totpAt(a.totpSecret, Date.now());
    const bad = String((Number(good) + 1) % 1_000_000).padStart(6, '0');
    const wrongTotp = await http(s.sim, 'POST', LOGIN, { body: { clientcode: a.clientcode, password: a.pin, totp: bad } });
    expect(wrongTotp.status).toBe(200);
    expect(wrongTotp.json).toEqual({ status: false, message: 'Invalid totp', errorcode: 'AB1050', data: null });
    const wrongPin = await http(s.sim, 'POST', LOGIN, { body: { clientcode: a.clientcode, password: '0000', totp: good } });
    expect(wrongPin.json).toMatchObject({ status: false, errorcode: 'AB1007' });
    const wrongKey = await http(s.sim, 'POST', LOGIN, { body: { clientcode: a.clientcode, password: a.pin, totp: good }, headers: { ...headersFor(s.sim), 'X-PrivateKey': 'nope' } });
    expect(wrongKey.json).toEqual({ success: false, message: 'Invalid API Key', errorCode: 'AG8004', data: '' });
  });

  it('missing, invalid and expired jwt → AG8001 with HTTP 200', async () => {
    s = await startFake({ tokenLifetimeMs: 60_000 });
    const t = await login(s.sim);
    const profile = `${S}/user/v1/getProfile`;
    expect((await http(s.sim, 'GET', profile, { jwt: t.jwtToken })).json.status).toBe(true);
    const shape = { success: false, message: 'Invalid Token', errorCode: 'AG8001', data: '' };
    const missing = await http(s.sim, 'GET', profile);
    expect(missing.status).toBe(200);
    expect(missing.json).toEqual(shape);
    expect((await http(s.sim, 'GET', profile, { jwt: 'garbage' })).json).toEqual(shape);
    await s.sim.advanceBy(61_000);
    const expired = await http(s.sim, 'GET', profile, { jwt: t.jwtToken });
    expect(expired.status).toBe(200);
    expect(expired.json).toEqual(shape);
  });

  it('header names are case-insensitive and the raw jwt (no Bearer) is accepted', async () => {
    s = await startFake();
    const t = await login(s.sim);
    const h = { 'content-type': 'application/json', 'x-privatekey': s.sim.apiKey, authorization: t.jwtToken };
    expect((await http(s.sim, 'GET', `${S}/user/v1/getProfile`, { headers: h })).json.status).toBe(true);
  });

  it('refresh gives new tokens; logout kills the session', async () => {
    s = await startFake();
    const t = await login(s.sim);
    const r = await http(s.sim, 'POST', '/rest/auth/angelbroking/jwt/v1/generateTokens', { jwt: t.jwtToken, body: { refreshToken: t.refreshToken } });
    expect(r.json.status).toBe(true);
    expect(r.json.data.jwtToken).not.toBe(t.jwtToken);
    const again = await http(s.sim, 'POST', '/rest/auth/angelbroking/jwt/v1/generateTokens', { jwt: r.json.data.jwtToken, body: { refreshToken: t.refreshToken } });
    expect(again.json.errorcode).toBe('AB8050');
    const out = await http(s.sim, 'POST', `${S}/user/v1/logout`, { jwt: r.json.data.jwtToken, body: { clientcode: 'SIM1001' } });
    expect(out.json).toMatchObject({ status: true, data: '' });
    expect((await http(s.sim, 'GET', `${S}/user/v1/getProfile`, { jwt: r.json.data.jwtToken })).json.errorCode).toBe('AG8001');
  });
});

describe('rate limits', () => {
  it('answers HTTP 403 plain text past the per-second budget, per client code', async () => {
    s = await startFake({ rateLimits: true });
    const t = await login(s.sim);
    const first = await http(s.sim, 'GET', `${S}/order/v1/getOrderBook`, { jwt: t.jwtToken });
    expect(first.status).toBe(200);
    const second = await http(s.sim, 'GET', `${S}/order/v1/getOrderBook`, { jwt: t.jwtToken });
    expect(second.status).toBe(403);
    expect(second.text).toBe('Access denied because of exceeding access rate');
    expect(second.json).toBeUndefined();
    // Another endpoint has its own budget.
    expect((await http(s.sim, 'GET', `${S}/user/v1/getRMS`, { jwt: t.jwtToken })).status).toBe(200);
  });

  it('place, modify and cancel share 9/s', async () => {
    s = await startFake({ rateLimits: true });
    const t = await login(s.sim);
    const codes: number[] = [];
    for (let i = 0; i < 10; i++) {
      const path = i % 2 === 0 ? 'placeOrder' : 'cancelOrder';
      codes.push((await http(s.sim, 'POST', `${S}/order/v1/${path}`, { jwt: t.jwtToken, body: { variety: 'NORMAL', orderid: 'x' } })).status);
    }
    expect(codes.slice(0, 9).every((c) => c === 200)).toBe(true);
    expect(codes[9]).toBe(403);
  });
});

describe('endpoint shapes', () => {
  it('getProfile and getRMS', async () => {
    s = await startFake();
    const t = await login(s.sim);
    const p = await http(s.sim, 'GET', `${S}/user/v1/getProfile`, { jwt: t.jwtToken, body: '{}' }); // a GET body is ignored
    expect(p.json.data).toMatchObject({ clientcode: 'SIM1001', brokerid: 'B2C' });
    expect(Array.isArray(p.json.data.exchanges)).toBe(true);
    const r = await http(s.sim, 'GET', `${S}/user/v1/getRMS`, { jwt: t.jwtToken, body: 'null' });
    const keys = ['net', 'availablecash', 'availableintradaypayin', 'availablelimitmargin', 'collateral', 'm2munrealized', 'm2mrealized', 'utiliseddebits', 'utilisedspan', 'utilisedoptionpremium', 'utilisedholdingsales', 'utilisedexposure', 'utilisedturnover', 'utilisedpayout'];
    expect(Object.keys(r.json.data).sort()).toEqual([...keys].sort());
    for (const k of keys) expect(r.json.data[k]).toMatch(/^-?\d+\.\d{2}$/);
    expect(r.json.data.availablecash).toBe('1000000.00');
  });

  it('empty order book, trade book and positions are data:null', async () => {
    s = await startFake();
    const t = await login(s.sim);
    for (const p of ['getOrderBook', 'getTradeBook', 'getPosition']) {
      expect((await http(s.sim, 'GET', `${S}/order/v1/${p}`, { jwt: t.jwtToken })).json).toEqual({ status: true, message: 'SUCCESS', errorcode: '', data: null });
    }
  });

  it('getLtpData and quote in LTP / OHLC / FULL with unfetched entries and the 50-token cap', async () => {
    s = await startFake();
    const t = await login(s.sim);
    await s.sim.advanceBy(5_000);
    const ltp = await http(s.sim, 'POST', `${S}/order/v1/getLtpData`, { jwt: t.jwtToken, body: { exchange: 'NFO', tradingsymbol: 'NIFTY04JAN2421700CE', symboltoken: CE } });
    expect(Object.keys(ltp.json.data).sort()).toEqual(['close', 'exchange', 'high', 'low', 'ltp', 'open', 'symboltoken', 'tradingsymbol']);
    expect(ltp.json.data.ltp).toBe(s.market.ltpAt(CE, 5));
    const q = (mode: string, exchangeTokens: unknown) => http(s!.sim, 'POST', `${S}/market/v1/quote/`, { jwt: t.jwtToken, body: { mode, exchangeTokens } });
    const l = await q('LTP', { NSE: [NIFTY], NFO: [CE, '999', ''] });
    expect(l.json.data.fetched).toHaveLength(2);
    expect(Object.keys(l.json.data.fetched[0]).sort()).toEqual(['exchange', 'ltp', 'symbolToken', 'tradingSymbol']);
    expect(l.json.data.unfetched).toEqual([
      { exchange: 'NFO', symbolToken: '999', message: 'Invalid symbol token', errorCode: 'AB4006' },
      { exchange: 'NFO', symbolToken: '', message: 'Symbol token cannot be empty', errorCode: 'AB4018' },
    ]);
    const o = await q('OHLC', { NFO: [CE] });
    expect(Object.keys(o.json.data.fetched[0]).sort()).toEqual(['close', 'exchange', 'high', 'low', 'ltp', 'open', 'symbolToken', 'tradingSymbol']);
    const f = await q('FULL', { NFO: [CE] });
    const item = f.json.data.fetched[0];
    for (const k of ['lastTradeQty', 'exchFeedTime', 'exchTradeTime', 'netChange', 'percentChange', 'avgPrice', 'tradeVolume', 'opnInterest', 'lowerCircuit', 'upperCircuit', 'totBuyQuan', 'totSellQuan', '52WeekLow', '52WeekHigh', 'depth']) {
      expect(item).toHaveProperty(k);
    }
    expect(item.exchFeedTime).toMatch(/^\d{2}-[A-Z][a-z]{2}-\d{4} \d{2}:\d{2}:\d{2}$/);
    expect(item.depth.buy).toHaveLength(5);
    expect(item.depth.sell[0]).toEqual({ price: expect.any(Number), quantity: expect.any(Number), orders: expect.any(Number) });
    const many = await q('LTP', { NFO: Array.from({ length: 51 }, () => CE) });
    expect(many.json).toMatchObject({ status: false, errorcode: 'AB1004' });
  });

  it('unknown paths are 404; GET admin state reports sim time', async () => {
    s = await startFake({ start: '10:00' });
    expect((await http(s.sim, 'GET', '/rest/secure/angelbroking/nope')).status).toBe(404);
    const st = await http(s.sim, 'GET', '/__sim/state', { headers: {} });
    expect(st.json.simTimeIst).toBe('2024-01-02T10:00:00.000+05:30');
    const adv = await http(s.sim, 'POST', '/__sim/clock', { body: { advanceMs: 90_000 }, headers: {} });
    expect(adv.json.simTimeIst).toBe('2024-01-02T10:01:30.000+05:30');
    const to = await http(s.sim, 'POST', '/__sim/clock', { body: { advanceTo: '15:45' }, headers: {} });
    expect(to.json).toMatchObject({ simTimeIst: '2024-01-02T15:30:00.000+05:30', sessionOver: true });
  });

  it('serves the instrument master in the broker row schema without auth', async () => {
    s = await startFake();
    const r = await http(s.sim, 'GET', '/OpenAPI_File/files/OpenAPIScripMaster.json', { headers: {} });
    const rows = r.json as Record<string, string>[];
    expect(rows.find((x) => x.token === NIFTY)).toEqual({ token: NIFTY, symbol: 'Nifty 50', name: 'NIFTY', expiry: '', strike: '0.000000', lotsize: '1', instrumenttype: 'AMXIDX', exch_seg: 'NSE', tick_size: '0.000000', freeze_qty: '0' });
    expect(rows.find((x) => x.token === CE)).toEqual({ token: CE, symbol: 'NIFTY04JAN2421700CE', name: 'NIFTY', expiry: '04JAN2024', strike: '2170000.000000', lotsize: '50', instrumenttype: 'OPTIDX', exch_seg: 'NFO', tick_size: '5.000000', freeze_qty: '1801' }); // the first frozen quantity, as Angel's file has it
    for (const row of rows) for (const v of Object.values(row)) expect(typeof v).toBe('string');
  });
});
