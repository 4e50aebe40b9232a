import { afterEach, describe, expect, it } from 'vitest';
import { parseFaultFlags } from '../../../src/sim/server/faults.js';
import { CE } from './support/fake-market.js';
import { decode } from './support/decoder.js';
import { type Sim, type StreamClient, adminPost, barrier, connect, http, login, startFake, streamHeaders, subscribe } from './support/client.js';

let s: Sim | undefined;
let clients: StreamClient[] = [];
afterEach(async () => {
  for (const c of clients) c.close();
  clients = [];
  await s?.sim.close();
  s = undefined;
});

const S = '/rest/secure/angelbroking';
const order = (tag: string) => ({ variety: 'NORMAL', tradingsymbol: 'NIFTY04JAN2421700CE', symboltoken: CE, transactiontype: 'BUY', exchange: 'NFO', ordertype: 'LIMIT', producttype: 'INTRADAY', duration: 'DAY', price: '50.00', quantity: '50', ordertag: tag });
const fault = (body: unknown) => adminPost(s!.sim, '/__sim/faults', body);

async function stream() {
  s = await startFake();
  const t = await login(s.sim);
  const c = await connect(s.sim.streamUrl, streamHeaders(s.sim, t));
  clients.push(c);
  return { t, c };
}

describe('faults', () => {
  it('dropSockets closes the market and order sockets abruptly', async () => {
    const { t, c } = await stream();
    const o = await connect(s!.sim.orderUrl, { Authorization: `Bearer ${t.jwtToken}` });
    clients.push(o);
    const closed = (x: StreamClient) => new Promise<number>((r) => x.ws.once('close', (code) => r(code)));
    const both = Promise.all([closed(c), closed(o)]);
    await fault({ dropSockets: 'all' });
    expect(await both).toEqual([1006, 1006]);
  });

  it('stallFeedSec freezes sim time and ticks; stallSilent also swallows pong', async () => {
    const { c } = await stream();
    subscribe(c, 1, 2, [CE]);
    await barrier(c);
    // Margins wide enough for a loaded CI machine: a 1.5 s stall, checked 100 ms in, then waited out.
    await fault({ stallFeedSec: 1.5, stallSilent: true });
    await adminPost(s!.sim, '/__sim/clock', { speed: 'max' });
    const t0 = s!.sim.state().simTime;
    c.ws.send('ping');
    await new Promise((r) => setTimeout(r, 100));
    expect(s!.sim.state()).toMatchObject({ simTime: t0, stalled: true });
    expect(c.texts).toEqual(['pong']); // only the barrier's
    for (let i = 0; i < 100 && s!.sim.state().stalled; i++) await new Promise((r) => setTimeout(r, 50));
    await barrier(c);
    expect(s!.sim.state().simTime).toBeGreaterThan(t0);
  });

  it('a silent stall sends nothing back at all: no snapshot or error for a subscribe, which still takes effect', async () => {
    const { c } = await stream();
    await fault({ stallFeedSec: 0.3, stallSilent: true });
    subscribe(c, 1, 2, [CE]);
    c.ws.send('not json');
    await new Promise((r) => setTimeout(r, 100));
    expect(c.binary).toEqual([]);
    expect(c.texts).toEqual([]);
    expect(s!.sim.state().subscriptions).toBe(1);
    await new Promise((r) => setTimeout(r, 250));
    await s!.sim.advanceBy(2_000);
    await barrier(c);
    expect(c.binary.length).toBeGreaterThan(0);
  });

  it('garbageFrames sends undecodable binary frames, then ticks resume', async () => {
    const { c } = await stream();
    subscribe(c, 1, 2, [CE]);
    await barrier(c);
    await fault({ garbageFrames: 3 });
    c.binary.length = 0;
    await s!.sim.advanceBy(5_000);
    await barrier(c);
    const bad = c.binary.filter((b) => {
      try {
        decode(b);
        return false;
      } catch {
        return true;
      }
    });
    expect(bad).toHaveLength(3);
    expect(c.binary).toHaveLength(8);
  });

  it('http faults answer 500, 429 or never, then clear', async () => {
    s = await startFake();
    const t = await login(s.sim);
    const get = (timeoutMs?: number) => http(s!.sim, 'GET', `${S}/user/v1/getProfile`, { jwt: t.jwtToken, ...(timeoutMs === undefined ? {} : { timeoutMs }) });
    await fault({ http: { rate500: 1 } });
    const r500 = await get();
    expect([r500.status, r500.json.errorcode]).toEqual([500, 'AB2001']);
    await fault({ http: { rate429: 1 } });
    expect((await get()).status).toBe(429);
    await fault({ http: { rateTimeout: 1 } });
    await expect(get(150)).rejects.toThrow('client timeout');
    await fault({ http: null });
    expect((await get()).json.status).toBe(true);
  });

  it('invalidateTokens turns every jwt into AG8001', async () => {
    s = await startFake();
    const t = await login(s.sim);
    await fault({ invalidateTokens: true });
    expect((await http(s.sim, 'GET', `${S}/user/v1/getProfile`, { jwt: t.jwtToken })).json.errorCode).toBe('AG8001');
  });

  it('rejectNextOrders refuses N placements with the code', async () => {
    s = await startFake();
    const t = await login(s.sim);
    await fault({ rejectNextOrders: { count: 2, code: 'AB2001' } });
    const place = async () => (await http(s!.sim, 'POST', `${S}/order/v1/placeOrder`, { jwt: t.jwtToken, body: order('x') })).json;
    expect(await place()).toMatchObject({ status: false, errorcode: 'AB2001' });
    expect((await place()).errorcode).toBe('AB2001');
    expect((await place()).status).toBe(true);
  });

  it('ackDelayMs holds the answer back but books the order at once', async () => {
    s = await startFake();
    const t = await login(s.sim);
    await fault({ ackDelayMs: 150 });
    const t0 = performance.now();
    const pending = http(s.sim, 'POST', `${S}/order/v1/placeOrder`, { jwt: t.jwtToken, body: order('slow') });
    await new Promise((r) => setTimeout(r, 50));
    expect(s.sim.state().orders).toBe(1);
    expect((await pending).json.status).toBe(true);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(140);
  });

  it('dropOrderResponses books the order then drops the connection', async () => {
    s = await startFake();
    const t = await login(s.sim);
    await fault({ dropOrderResponses: 1 });
    await expect(http(s.sim, 'POST', `${S}/order/v1/placeOrder`, { jwt: t.jwtToken, body: order('lost-1') })).rejects.toThrow();
    const book = (await http(s.sim, 'GET', `${S}/order/v1/getOrderBook`, { jwt: t.jwtToken })).json;
    expect(book.data.map((o: { ordertag: string; status: string }) => [o.ordertag, o.status])).toEqual([['lost-1', 'open']]);
  });

  it('rejects malformed fault JSON with 400; CLI flags parse to the same spec', async () => {
    s = await startFake();
    const r = await fault({ http: { rate500: 2 } });
    expect(r.status).toBe(400);
    expect(parseFaultFlags(['http500=0.1', 'ack-delay=200', 'reject-next=3:AB1004', 'drop-ws=market', 'stall-silent=5', 'garbage=2', 'drop-order-response=1', 'invalidate-tokens'])).toEqual({
      http: { rate500: 0.1 },
      ackDelayMs: 200,
      rejectNextOrders: { count: 3, code: 'AB1004' },
      dropSockets: 'market',
      stallFeedSec: 5,
      stallSilent: true,
      garbageFrames: 2,
      dropOrderResponses: 1,
      invalidateTokens: true,
    });
    expect(() => parseFaultFlags(['nope=1'])).toThrow(/unknown --fault/);
  });
});
