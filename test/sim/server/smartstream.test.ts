import { afterEach, describe, expect, it } from 'vitest';
import { BANKNIFTY, CE, NIFTY, PE } from './support/fake-market.js';
import { decode } from './support/decoder.js';
import { type Sim, type StreamClient, adminPost, barrier, connect, http, login, startFake, streamHeaders, subscribe } from './support/client.js';

let sims: Sim[] = [];
let clients: StreamClient[] = [];
afterEach(async () => {
  for (const c of clients) c.close();
  clients = [];
  for (const s of sims) await s.sim.close();
  sims = [];
});

async function open(o: Parameters<typeof startFake>[0] = {}) {
  const s = await startFake(o);
  sims.push(s);
  const t = await login(s.sim);
  return { s, t };
}

const track = (c: StreamClient): StreamClient => (clients.push(c), c);

describe('handshake', () => {
  it('accepts header auth (raw or Bearer jwt) and query auth', async () => {
    const { s, t } = await open();
    track(await connect(s.sim.streamUrl, streamHeaders(s.sim, t)));
    track(await connect(s.sim.streamUrl, { ...streamHeaders(s.sim, t), Authorization: `Bearer ${t.jwtToken}` }));
    track(await connect(`${s.sim.streamUrl}?clientCode=SIM1001&feedToken=${encodeURIComponent(t.feedToken)}&apiKey=${s.sim.apiKey}`));
    expect(s.sim.state().connections.market).toBe(3);
  });

  it('refuses bad credentials with HTTP 401 and x-error-message', async () => {
    const { s, t } = await open();
    const h = streamHeaders(s.sim, t);
    const cases: [Record<string, string>, string][] = [
      [{ ...h, 'x-feed-token': 'nope' }, 'Invalid Header - Invalid Feed Token'],
      [{ ...h, 'x-client-code': 'X999' }, 'Invalid Header - Invalid Auth token'],
      [{ ...h, Authorization: 'nope' }, 'Invalid Header - Invalid Auth token'],
      [{ ...h, 'x-api-key': 'nope' }, 'Invalid Header - Invalid API Key'],
      [{}, 'Invalid Header - Invalid Client Code'],
    ];
    for (const [headers, msg] of cases) await expect(connect(s.sim.streamUrl, headers)).rejects.toMatchObject({ status: 401, message: msg });
    await expect(connect(`${s.sim.streamUrl}?clientCode=SIM1001&feedToken=bad`)).rejects.toMatchObject({ status: 401, message: 'Invalid Header - Invalid Feed Token' });
  });

  it('allows 3 connections per client code; the 4th gets HTTP 429', async () => {
    const { s, t } = await open();
    for (let i = 0; i < 3; i++) track(await connect(s.sim.streamUrl, streamHeaders(s.sim, t)));
    await expect(connect(s.sim.streamUrl, streamHeaders(s.sim, t))).rejects.toMatchObject({ status: 429, message: 'Connection limit exceeded' });
    clients.pop()!.close();
    await new Promise((r) => setTimeout(r, 20));
    track(await connect(s.sim.streamUrl, streamHeaders(s.sim, t)));
  });
});

describe('requests and frames', () => {
  it('ping → pong; bad JSON → E1001; bad params → E1001 with the correlationID', async () => {
    const { s, t } = await open();
    const c = track(await connect(s.sim.streamUrl, streamHeaders(s.sim, t)));
    c.ws.send('ping');
    expect(await c.next()).toBe('pong');
    c.ws.send('{not json');
    expect(JSON.parse(String(await c.next()))).toEqual({ correlationID: '', errorCode: 'E1001', errorMessage: 'Invalid Request Payload.' });
    c.ws.send(JSON.stringify({ correlationID: 'abc', action: 1, params: { mode: 9, tokenList: [] } }));
    expect(JSON.parse(String(await c.next()))).toMatchObject({ correlationID: 'abc', errorCode: 'E1001' });
  });

  it('LTP mode: a 51-byte snapshot, then one packet per tick', async () => {
    const { s, t } = await open();
    const c = track(await connect(s.sim.streamUrl, streamHeaders(s.sim, t)));
    subscribe(c, 1, 2, [CE]);
    const snap = decode((await c.next()) as Buffer);
    expect(snap).toEqual({ mode: 1, exchangeType: 2, token: CE, seq: 0, exchTs: s.market.openMs, ltp: Math.round(s.market.ltpAt(CE, 0) * 100) });
    await s.sim.advanceBy(2_000);
    await barrier(c);
    expect(c.binary.map((b) => b.length)).toEqual([51, 51, 51]);
    const d = decode(c.binary[2]!);
    expect(d).toEqual({ mode: 1, exchangeType: 2, token: CE, seq: 2, exchTs: s.market.openMs + 2000, ltp: Math.round(s.market.ltpAt(CE, 2) * 100) });
  });

  it('Quote mode: 123 bytes with quantities, paise prices and doubles', async () => {
    const { s, t } = await open();
    const c = track(await connect(s.sim.streamUrl, streamHeaders(s.sim, t)));
    subscribe(c, 2, 2, [CE]);
    await c.next();
    await s.sim.advanceBy(1_000);
    const b = (await c.next()) as Buffer;
    expect(b.length).toBe(123);
    const q = s.market.quoteAt(CE, 1);
    expect(decode(b)).toMatchObject({
      mode: 2, seq: 1, lastQty: q.lastQty, avgPrice: Math.round(q.avgPrice * 100), volume: q.volume, totBuyQty: 605175, totSellQty: 512000,
      open: Math.round(q.open * 100), high: Math.round(q.high * 100), low: Math.round(q.low * 100), close: Math.round(q.prevClose * 100),
    });
  });

  it('SnapQuote: 379 bytes; last-trade time in seconds; buys first (flag 1, best first) then sells (flag 0)', async () => {
    const { s, t } = await open();
    const c = track(await connect(s.sim.streamUrl, streamHeaders(s.sim, t)));
    subscribe(c, 3, 2, [CE]);
    subscribe(c, 3, 1, [NIFTY]);
    await barrier(c);
    c.binary.length = 0;
    await s.sim.advanceBy(1_000);
    await barrier(c);
    expect(c.binary.map((b) => b.length)).toEqual([379, 379]);
    const idx = decode(c.binary[0]!);
    expect(idx).toMatchObject({ token: NIFTY, exchangeType: 1, mode: 3, high52: 2_200_000, low52: 1_700_000 });
    expect(idx.best5!.every((l) => l.flag === 0 && l.qty === 0 && l.price === 0)).toBe(true);
    const d = decode(c.binary[1]!);
    const q = s.market.quoteAt(CE, 1);
    expect(d).toMatchObject({ token: CE, exchTs: q.ts, lastTradeTs: Math.floor(q.lastTradeTs / 1000), oi: q.oi, oiChange: 0, upperCircuit: Math.round(q.upperCircuit * 100), lowerCircuit: 5 });
    const buys = d.best5!.slice(0, 5);
    const sells = d.best5!.slice(5);
    expect(buys.every((l) => l.flag === 1)).toBe(true);
    expect(sells.every((l) => l.flag === 0)).toBe(true);
    expect(buys.map((l) => l.price)).toEqual(q.bids.map((l) => Math.round(l.price * 100)));
    expect(sells.map((l) => l.price)).toEqual(q.asks.map((l) => Math.round(l.price * 100)));
    expect(buys[0]!.price).toBeGreaterThan(buys[4]!.price);
    expect(sells[0]!.price).toBeLessThan(sells[4]!.price);
    expect(buys[1]).toEqual({ flag: 1, qty: 100, price: Math.round(q.bids[1]!.price * 100), orders: 2 });
  });

  it('one packet per subscribed mode; duplicates ignored; unsubscribe stops the flow', async () => {
    const { s, t } = await open();
    const c = track(await connect(s.sim.streamUrl, streamHeaders(s.sim, t)));
    subscribe(c, 1, 2, [CE]);
    subscribe(c, 3, 2, [CE]);
    subscribe(c, 1, 2, [CE, CE]);
    subscribe(c, 1, 1, [CE]); // wrong exchange type: ignored
    await barrier(c);
    expect(s.sim.state().subscriptions).toBe(2);
    c.binary.length = 0;
    await s.sim.advanceBy(1_000);
    await barrier(c);
    expect(c.binary.map((b) => b.length).sort()).toEqual([379, 51]);
    subscribe(c, 1, 2, [CE], 0);
    subscribe(c, 3, 2, [CE], 0);
    await barrier(c);
    c.binary.length = 0;
    await s.sim.advanceBy(3_000);
    await barrier(c);
    expect(c.binary).toHaveLength(0);
  });

  it('caps a connection at 1000 subscriptions with E1002, keeping what it had', async () => {
    const { s, t } = await open({ fake: { extraOptions: 1000 } });
    const c = track(await connect(s.sim.streamUrl, streamHeaders(s.sim, t)));
    const tokens = Array.from({ length: 1000 }, (_, i) => String(50000 + i));
    subscribe(c, 1, 2, tokens.slice(0, 999));
    await barrier(c);
    subscribe(c, 1, 2, [CE, PE], 1, 'over');
    expect(JSON.parse(String(await c.next((m) => typeof m === 'string' && m !== 'pong')))).toEqual({ correlationID: 'over', errorCode: 'E1002', errorMessage: 'Invalid Request. Subscription Limit Exceeded' });
    expect(s.sim.state().subscriptions).toBe(999);
    subscribe(c, 1, 2, [CE]);
    await barrier(c);
    expect(s.sim.state().subscriptions).toBe(1000);
  });
});

describe('determinism', () => {
  async function record(): Promise<Buffer> {
    const { s, t } = await open({ start: '15:20', seed: 7, fake: { periodMs: 250 } });
    const c = track(await connect(s.sim.streamUrl, streamHeaders(s.sim, t)));
    subscribe(c, 3, 1, [NIFTY, BANKNIFTY]);
    subscribe(c, 2, 2, [CE]);
    subscribe(c, 1, 2, [PE, CE]);
    await barrier(c);
    await adminPost(s.sim, '/__sim/faults', { garbageFrames: 4 });
    await adminPost(s.sim, '/__sim/clock', { speed: 'max' });
    while (!s.sim.state().sessionOver) await new Promise((r) => setTimeout(r, 5));
    await barrier(c);
    expect(s.sim.state().ticksSent).toBe(4 * 10 * 60 * 4);
    return Buffer.concat(c.binary.flatMap((b) => [Buffer.from([b.length >> 8, b.length & 255]), b]));
  }

  it('the same seed and data give byte-identical frames at max speed', async () => {
    const a = await record();
    const b = await record();
    expect(a.length).toBeGreaterThan(9600 * 51);
    expect(a.equals(b)).toBe(true);
  });
});

describe('admin', () => {
  it('GET /__sim/state reports sim time, speed and connections', async () => {
    const { s } = await open({ start: '11:00' });
    const st = (await http(s.sim, 'GET', '/__sim/state', { headers: {} })).json;
    expect(st).toMatchObject({ day: '2024-01-02', speed: 0, simTimeIst: '2024-01-02T11:00:00.000+05:30', sessionOver: false, connections: { market: 0, order: 0 } });
  });
});
