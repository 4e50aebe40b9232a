import { afterEach, describe, expect, it } from 'vitest';
import { SmartApiError } from '../../../src/broker/smartapi/errors.js';
import { harness, type Harness } from './support/fake-smartapi.js';

let h: Harness;
afterEach(async () => {
  await h?.close();
});

async function loggedIn(over: Parameters<typeof harness>[0] = {}): Promise<Harness> {
  h = await harness(over);
  await h.broker.login();
  return h;
}

async function caught(p: Promise<unknown>): Promise<SmartApiError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(SmartApiError);
    return err as SmartApiError;
  }
  throw new Error('expected a SmartApiError');
}

describe('SmartAPI REST: headers', () => {
  it('sends every §2.1 header; Authorization only on secure calls', async () => {
    await loggedIn({ rest: { clientLocalIp: '10.1.2.3', clientPublicIp: '203.0.113.7', macAddress: 'aa:bb:cc:dd:ee:ff' } });
    await h.broker.funds();
    const login = h.fake.lastHeaders.get('loginByPassword')!;
    const rms = h.fake.lastHeaders.get('getRMS')!;
    for (const hd of [login, rms]) {
      expect(hd['content-type']).toBe('application/json');
      expect(hd.accept).toBe('application/json');
      expect(hd['x-usertype']).toBe('USER');
      expect(hd['x-sourceid']).toBe('WEB');
      expect(hd['x-clientlocalip']).toBe('10.1.2.3');
      expect(hd['x-clientpublicip']).toBe('203.0.113.7');
      expect(hd['x-macaddress']).toBe('aa:bb:cc:dd:ee:ff');
      expect(hd['x-privatekey']).toBe(h.fake.creds.apiKey);
    }
    expect(login.authorization).toBeUndefined();
    expect(rms.authorization).toBe(`Bearer ${h.fake.issued.jwt}`);
  });

  it('defaults the IP and MAC headers to something sane', async () => {
    await loggedIn();
    const hd = h.fake.lastHeaders.get('loginByPassword')!;
    expect(hd['x-clientlocalip']).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    expect(hd['x-macaddress']).toMatch(/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i);
  });
});

describe('SmartAPI REST: the three failure shapes become typed errors', () => {
  it('envelope status:false → kind envelope with code, message and endpoint', async () => {
    await loggedIn();
    h.fake.failNext('getRMS', { kind: 'json', body: { status: false, message: 'Client Is Block For Trading', errorcode: 'AB1006', data: null } });
    const e = await caught(h.broker.funds());
    expect(e).toMatchObject({ kind: 'envelope', code: 'AB1006', brokerMessage: 'Client Is Block For Trading', endpoint: 'getRMS', category: 'blocked' });
    expect(e.message).toContain('getRMS');
    expect(e.message).toContain('AB1006');
  });

  it('gateway success:false/errorCode (HTTP 200) → kind auth', async () => {
    await loggedIn();
    h.fake.failNext('getRMS', { kind: 'json', body: { success: false, message: 'Invalid API Key', errorCode: 'AG8004', data: '' } });
    const e = await caught(h.broker.funds());
    expect(e).toMatchObject({ kind: 'auth', code: 'AG8004', brokerMessage: 'Invalid API Key', endpoint: 'getRMS', category: 'config', httpStatus: 200 });
  });

  it('HTTP 403 plain text → kind rate_limit, backed off and retried', async () => {
    await loggedIn();
    const rateLimited = { kind: 'text' as const, status: 403, text: 'Access denied because of exceeding access rate' };
    h.fake.failNext('getRMS', rateLimited, rateLimited);
    const funds = await h.broker.funds();
    expect(funds.availableCash).toBe(90000.25);
    expect(h.fake.count('getRMS')).toBe(3);

    h.fake.failNext('getRMS', rateLimited, rateLimited, rateLimited, rateLimited);
    const e = await caught(h.broker.funds());
    expect(e).toMatchObject({ kind: 'rate_limit', httpStatus: 403, endpoint: 'getRMS', category: 'rate_limit', attempts: 4 });
    expect(e.brokerMessage).toBe('Access denied because of exceeding access rate');
    const failed = h.events.filter((x) => x.type === 'BrokerRequestFailed');
    expect(failed.at(-1)?.data).toMatchObject({ endpoint: 'getRMS', code: 'HTTP_403', attempts: 4 });
  });

  it('a rate-limited order placement is retried too (the gateway did not process it)', async () => {
    await loggedIn();
    h.fake.failNext('placeOrder', { kind: 'text', status: 403, text: 'Access denied because of exceeding access rate' });
    const r = await h.broker.placeOrder({ tag: 'rl-1', instrument: { token: '45829', symbol: 'NIFTY04APR2423000CE', exchange: 'NFO' }, side: 'BUY', orderType: 'LIMIT', qty: 50, price: 100, product: 'INTRADAY' });
    expect(r.resolution).toBe('response');
    expect(h.fake.orders).toHaveLength(1);
  });

  it('other non-2xx → kind http; 5xx reads are retried', async () => {
    await loggedIn();
    h.fake.failNext('getRMS', { kind: 'text', status: 502, text: '<html>Bad Gateway</html>' });
    expect((await h.broker.funds()).net).toBe(100000.5);
    expect(h.fake.count('getRMS')).toBe(2);
    h.fake.failNext('getRMS', { kind: 'text', status: 404, text: 'not here' });
    const e = await caught(h.broker.funds());
    expect(e).toMatchObject({ kind: 'http', httpStatus: 404, code: 'HTTP_404', attempts: 1 });
  });

  it('a 2xx body that fails its schema → kind invalid_response naming the field, not the value', async () => {
    await loggedIn();
    h.fake.failNext('getRMS', { kind: 'json', body: { status: true, message: 'SUCCESS', errorcode: '', data: { net: 'lots', availablecash: '1', utiliseddebits: '0' } } });
    const e = await caught(h.broker.funds());
    expect(e.kind).toBe('invalid_response');
    expect(e.message).toContain('net');
    expect(e.message).not.toContain('lots');
  });

  it('network failures of reads are retried with backoff', async () => {
    await loggedIn();
    h.fake.failNext('getRMS', { kind: 'destroy' }, { kind: 'destroy' });
    expect((await h.broker.funds()).utilised).toBe(10000.25);
    expect(h.fake.count('getRMS')).toBe(3);
    h.fake.failNext('getRMS', { kind: 'destroy' }, { kind: 'destroy' }, { kind: 'destroy' }, { kind: 'destroy' });
    const e = await caught(h.broker.funds());
    expect(e).toMatchObject({ kind: 'network', sent: 'unknown', attempts: 4 });
  });

  it('a timeout is kind timeout with sent=unknown', async () => {
    // A server that accepts the connection and never answers.
    const net = await import('node:net');
    const silent = net.createServer(() => {});
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
    const port = (silent.address() as { port: number }).port;
    h = await harness({ rest: { baseUrl: `http://127.0.0.1:${port}`, timeoutMs: 50, retry: { retries: 0, minTimeoutMs: 1, maxTimeoutMs: 1, factor: 1, randomize: false } } });
    const e = await caught(h.broker.login());
    expect(e).toMatchObject({ kind: 'timeout', sent: 'unknown', endpoint: 'login', code: 'ETIMEDOUT' });
    silent.close();
  });

  it('an authenticated call before login → kind no_session, nothing sent', async () => {
    h = await harness();
    const e = await caught(h.broker.funds());
    expect(e).toMatchObject({ kind: 'no_session', category: 'session' });
    expect(h.fake.count('getRMS')).toBe(0);
  });
});

describe('SmartAPI REST: session expiry', () => {
  it('AG8001 once mid-session → refresh → the original call succeeds, exactly one retry', async () => {
    await loggedIn();
    h.fake.failNext('getRMS', { kind: 'json', body: { success: false, message: 'Invalid Token', errorCode: 'AG8001', data: '' } });
    const funds = await h.broker.funds();
    expect(funds.availableCash).toBe(90000.25);
    expect(h.fake.count('getRMS')).toBe(2);
    expect(h.fake.count('generateTokens')).toBe(1);
    expect(h.fake.count('loginByPassword')).toBe(1);
    expect(h.events.map((e) => e.type)).toContain('BrokerSessionRefreshed');
    expect(h.fake.lastHeaders.get('getRMS')!.authorization).toBe(`Bearer ${h.fake.issued.jwt}`);
  });

  it.each(['AG8002', 'AB1010', 'AB1011'])('%s in the envelope shape also renews the session', async (code) => {
    await loggedIn();
    h.fake.failNext('getOrderBook', { kind: 'json', body: { status: false, message: 'expired', errorcode: code, data: null } });
    expect(await h.broker.orderBook()).toEqual([]);
    expect(h.fake.count('getOrderBook')).toBe(2);
    expect(h.fake.count('generateTokens')).toBe(1);
  });

  it('a refused refresh falls back to a full login', async () => {
    await loggedIn();
    h.fake.expireJwt();
    h.fake.failNext('generateTokens', { kind: 'json', body: { status: false, message: 'Refresh Token Expired', errorcode: 'AB8051', data: null } });
    expect((await h.broker.funds()).net).toBe(100000.5);
    expect(h.fake.count('loginByPassword')).toBe(2);
    expect(h.events.filter((e) => e.type === 'BrokerLoggedIn')).toHaveLength(2);
  });

  it('a second session error after the retry is thrown, not looped', async () => {
    await loggedIn();
    const bad = { kind: 'json' as const, body: { success: false, message: 'Invalid Token', errorCode: 'AG8001', data: '' } };
    h.fake.failNext('getRMS', bad, bad, bad);
    const e = await caught(h.broker.funds());
    expect(e).toMatchObject({ kind: 'auth', code: 'AG8001', category: 'session' });
    expect(h.fake.count('getRMS')).toBe(2);
    expect(h.fake.count('generateTokens')).toBe(1);
  });

  it('concurrent calls hitting an expired token share one refresh', async () => {
    await loggedIn();
    h.fake.expireJwt();
    const all = await Promise.all(Array.from({ length: 5 }, () => h.broker.funds()));
    expect(all).toHaveLength(5);
    expect(h.fake.count('generateTokens')).toBe(1);
  });
});

describe('SmartAPI REST: happy paths of every endpoint', () => {
  it('funds, positions, quotes (LTP/OHLC/FULL), candles', async () => {
    await loggedIn();
    expect(await h.broker.funds()).toEqual({ availableCash: 90000.25, net: 100000.5, utilised: 10000.25 });

    expect(await h.broker.positions()).toEqual([]);
    h.fake.positions = [
      { exchange: 'NFO', symboltoken: '45829', producttype: 'INTRADAY', tradingsymbol: 'NIFTY04APR2423000CE', buyqty: '100', sellqty: '50', netqty: '50', buyavgprice: '101.50', sellavgprice: '110.00' },
      { exchange: 'MCX', symboltoken: '1', producttype: 'INTRADAY', tradingsymbol: 'GOLD', buyqty: '1', sellqty: '0', netqty: '1', buyavgprice: '1', sellavgprice: '0' },
      { exchange: 'NFO', symboltoken: '45830', producttype: 'MARGIN', tradingsymbol: 'NIFTY04APR2423000PE', buyqty: '0', sellqty: '75', netqty: '-75', buyavgprice: '0', sellavgprice: '88.10' },
      { exchange: 'NSE', symboltoken: '2885', producttype: 'DELIVERY', tradingsymbol: 'RELIANCE-EQ', buyqty: '10', sellqty: '0', netqty: '10', buyavgprice: '2500', sellavgprice: '0' },
    ];
    expect(await h.broker.positions()).toEqual([
      { token: '45829', symbol: 'NIFTY04APR2423000CE', exchange: 'NFO', product: 'INTRADAY', netQty: 50, buyQty: 100, sellQty: 50, buyAvg: 101.5, sellAvg: 110 },
      // Positions opened outside Rustro are real exposure: kept, product OTHER with the broker's word.
      { token: '45830', symbol: 'NIFTY04APR2423000PE', exchange: 'NFO', product: 'OTHER', rawProduct: 'MARGIN', netQty: -75, buyQty: 0, sellQty: 75, buyAvg: 0, sellAvg: 88.1 },
      { token: '2885', symbol: 'RELIANCE-EQ', exchange: 'NSE', product: 'OTHER', rawProduct: 'DELIVERY', netQty: 10, buyQty: 10, sellQty: 0, buyAvg: 2500, sellAvg: 0 },
    ]);
    expect(h.logs.some((l) => l.includes('GOLD') && l.includes('exchange Rustro does not trade'))).toBe(true);

    const ltp = await h.broker.quotes([{ exchange: 'NSE', token: '99926000' }, { exchange: 'NFO', token: 'bad' }], 'ltp');
    expect(ltp).toEqual([{ token: '99926000', exchange: 'NSE', ltp: 100.5 }]);
    const [full] = await h.broker.quotes([{ exchange: 'NFO', token: '45829' }], 'full');
    expect(full).toMatchObject({ ltp: 100.5, open: 99, close: 97, volume: 12345, oi: 6789, upperCircuit: 120 });
    expect(full!.bids).toHaveLength(5);
    expect(full!.asks![0]).toEqual({ price: 100.6, qty: 75, orders: 1 });
    expect(h.fake.lastBodies.get('quote')).toEqual({ mode: 'FULL', exchangeTokens: { NFO: ['45829'] } });

    const refs = Array.from({ length: 120 }, (_, i) => ({ exchange: 'NFO' as const, token: String(40000 + i) }));
    const before = h.fake.count('quote');
    expect(await h.broker.quotes(refs, 'ohlc')).toHaveLength(120);
    expect(h.fake.count('quote') - before).toBe(3); // 50 tokens per request

    const from = Date.parse('2024-01-02T09:15:00+05:30');
    const candles = await h.broker.candles({ exchange: 'NSE', token: '99926000', interval: '1m', from, to: from + 3_600_000 });
    expect(candles).toEqual([
      { ts: from, open: 19571.2, high: 19573.35, low: 19534.4, close: 19552.05, volume: 0 },
      { ts: from + 60_000, open: 19552.05, high: 19560, low: 19550, close: 19555.5, volume: 0 },
    ]);
    expect(h.fake.lastBodies.get('getCandleData')).toEqual({ exchange: 'NSE', symboltoken: '99926000', interval: 'ONE_MINUTE', fromdate: '2024-01-02 09:15', todate: '2024-01-02 10:15' });
  });

  it('logout ends the session at the broker and locally', async () => {
    await loggedIn();
    await h.broker.logout();
    expect(h.fake.count('logout')).toBe(1);
    expect(h.fake.lastBodies.get('logout')).toEqual({ clientcode: h.fake.creds.clientCode });
    expect(h.events.map((e) => e.type)).toContain('BrokerLoggedOut');
    expect(h.broker.expiresAt).toBeUndefined();
    await expect(h.broker.funds()).rejects.toMatchObject({ kind: 'no_session' });
  });
});
