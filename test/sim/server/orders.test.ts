import { afterEach, describe, expect, it } from 'vitest';
import { CE, PE } from './support/fake-market.js';
import { type Sim, type StreamClient, connect, http, login, startFake } from './support/client.js';

const S = '/rest/secure/angelbroking/order/v1';
let s: Sim | undefined;
let clients: StreamClient[] = [];
afterEach(async () => {
  for (const c of clients) c.close();
  clients = [];
  await s?.sim.close();
  s = undefined;
});

/** CE: 100 until tick 10, 94 until tick 20, then 90. */
const path = (token: string, k: number): number | undefined => (token === CE ? (k < 10 ? 100 : k < 20 ? 94 : 90) : undefined);

const order = (o: Record<string, unknown> = {}) => ({
  variety: 'NORMAL',
  tradingsymbol: 'NIFTY04JAN2421700CE',
  symboltoken: CE,
  transactiontype: 'BUY',
  exchange: 'NFO',
  ordertype: 'LIMIT',
  producttype: 'INTRADAY',
  duration: 'DAY',
  price: '95.00',
  quantity: '50',
  ...o,
});

async function setup(extra: Parameters<typeof startFake>[0] = {}) {
  s = await startFake({ fake: { price: path }, ...extra });
  const t = await login(s.sim);
  const os = await connect(s.sim.orderUrl, { Authorization: `Bearer ${t.jwtToken}` });
  clients.push(os);
  const msgs: any[] = [];
  os.ws.on('message', (d) => {
    if (String(d) !== 'pong') msgs.push(JSON.parse(String(d)));
  });
  await os.next();
  const place = async (o: Record<string, unknown> = {}) => (await http(s!.sim, 'POST', `${S}/placeOrder`, { jwt: t.jwtToken, body: order(o) })).json;
  const get = async (p: string) => (await http(s!.sim, 'GET', `${S}/${p}`, { jwt: t.jwtToken })).json;
  const post = async (p: string, body: unknown) => (await http(s!.sim, 'POST', `${S}/${p}`, { jwt: t.jwtToken, body })).json;
  const settle = async () => {
    // The order stream is another socket: a round trip on it flushes what was sent before.
    os.ws.send('ping');
    await os.next((m) => m === 'pong');
  };
  return { t, os, msgs, place, get, post, settle };
}

describe('order-status stream', () => {
  it('sends AB00 with an empty orderData first', async () => {
    s = await startFake();
    const t = await login(s.sim);
    const os = await connect(s.sim.orderUrl, { Authorization: `Bearer ${t.jwtToken}` });
    clients.push(os);
    const first = JSON.parse(String(await os.next()));
    expect(first).toMatchObject({ 'user-id': 'SIM1001', 'status-code': '200', 'order-status': 'AB00', 'error-message': '' });
    for (const v of Object.values(first.orderData)) expect(v === '' || v === 0).toBe(true);
    expect(first.orderData).toHaveProperty('orderid', '');
    expect(first.orderData).not.toHaveProperty('uniqueorderid');
  });

  it('refuses a bad token with 401 and a 4th connection with 429', async () => {
    s = await startFake();
    const t = await login(s.sim);
    await expect(connect(s.sim.orderUrl, { Authorization: 'Bearer nope' })).rejects.toMatchObject({ status: 401 });
    for (let i = 0; i < 3; i++) clients.push(await connect(s.sim.orderUrl, { Authorization: t.jwtToken }));
    await expect(connect(s.sim.orderUrl, { Authorization: `Bearer ${t.jwtToken}` })).rejects.toMatchObject({ status: 429 });
  });
});

describe('matching', () => {
  it('a resting LIMIT buy fills at its price when the market crosses it; ordertag round trip; stream open → complete', async () => {
    const x = await setup();
    const placed = await x.place({ ordertag: 'rustro-abc-1' });
    expect(placed).toMatchObject({ status: true, message: 'SUCCESS', errorcode: '' });
    expect(Object.keys(placed.data).sort()).toEqual(['orderid', 'script', 'uniqueorderid']);
    expect(placed.data.script).toBe('NIFTY04JAN2421700CE');
    expect(placed.data.orderid).toMatch(/^240102\d{9}$/);
    await s!.sim.advanceBy(5_000);
    let book = await x.get('getOrderBook');
    expect(book.data[0]).toMatchObject({ status: 'open', orderstatus: 'open', ordertag: 'rustro-abc-1', price: '95.00', quantity: '50', filledshares: '0', unfilledshares: '50', lotsize: '50', strikeprice: '21700', optiontype: 'CE', expirydate: '04JAN2024', instrumenttype: 'OPTIDX' });
    await s!.sim.advanceBy(6_000); // tick 10: 94
    book = await x.get('getOrderBook');
    expect(book.data[0]).toMatchObject({ status: 'complete', averageprice: '95.00', filledshares: '50', unfilledshares: '0' });
    const details = (await x.get(`details/${placed.data.uniqueorderid}`)).data;
    expect(details).toMatchObject({ status: 'complete', price: 95, averageprice: 95, quantity: 50, filledshares: 50, ordertag: 'rustro-abc-1', uniqueorderid: placed.data.uniqueorderid });
    expect(details.updatetime).toBe('02-Jan-2024 09:15:10');
    const trades = (await x.get('getTradeBook')).data;
    expect(trades[0]).toMatchObject({ fillprice: '95.00', fillsize: '50', orderid: placed.data.orderid, transactiontype: 'BUY', filltime: '09:15:10', marketlot: '50' });
    const pos = (await x.get('getPosition')).data;
    expect(pos[0]).toMatchObject({ symboltoken: CE, netqty: '50', buyqty: '50', buyavgprice: '95.00', producttype: 'INTRADAY' });
    for (const v of Object.values(pos[0])) expect(typeof v).toBe('string');

    await x.settle();
    const ours = x.msgs.filter((m) => m.orderData.orderid === placed.data.orderid);
    expect(ours.map((m) => [m['order-status'], m.orderData.status])).toEqual([['AB01', 'open'], ['AB05', 'complete']]);
    const od = ours[1].orderData;
    expect(od).toMatchObject({ ordertag: 'rustro-abc-1', price: 95, averageprice: 95, quantity: '50', filledshares: '50', unfilledshares: '0' });
    expect(od).not.toHaveProperty('uniqueorderid');
  });

  it('a MARKET order fills at the next tick, with configurable slippage', async () => {
    const x = await setup({ slippageTicks: 2 });
    await s!.sim.advanceBy(12_500); // between tick 12 and 13; LTP 94
    const placed = await x.place({ ordertype: 'MARKET', price: '0', transactiontype: 'SELL' });
    expect((await x.get(`details/${placed.data.uniqueorderid}`)).data.status).toBe('open');
    await s!.sim.advanceBy(500);
    const d = (await x.get(`details/${placed.data.uniqueorderid}`)).data;
    expect(d).toMatchObject({ status: 'complete', averageprice: 93.9, filltime: '09:15:13' });
  });

  it('a marketable LIMIT buy fills at the better LTP on the next tick', async () => {
    const x = await setup();
    const placed = await x.place({ price: '120.00' });
    await s!.sim.advanceBy(1_000);
    expect((await x.get(`details/${placed.data.uniqueorderid}`)).data).toMatchObject({ status: 'complete', averageprice: 100 });
  });

  it('modify → AB04 modified then AB01 open; cancel → AB02 cancelled with cancelsize', async () => {
    const x = await setup();
    const placed = await x.place({ price: '80.00' });
    const id = placed.data.orderid;
    const m = await x.post('modifyOrder', { ...order({ price: '85.50', quantity: '100' }), orderid: id });
    expect(m).toMatchObject({ status: true, data: { orderid: id, uniqueorderid: placed.data.uniqueorderid } });
    const c = await x.post('cancelOrder', { variety: 'NORMAL', orderid: id });
    expect(c).toMatchObject({ status: true, data: { orderid: id } });
    const again = await x.post('cancelOrder', { variety: 'NORMAL', orderid: id });
    expect(again).toMatchObject({ status: false, errorcode: 'AB1004' });
    expect((await x.post('cancelOrder', { variety: 'NORMAL', orderid: '1' })).errorcode).toBe('AB1013');
    await x.settle();
    expect(x.msgs.filter((m) => m['order-status'] !== 'AB00').map((m) => [m['order-status'], m.orderData.status, m.orderData.price])).toEqual([
      ['AB01', 'open', 80],
      ['AB04', 'modified', 85.5],
      ['AB01', 'open', 85.5],
      ['AB02', 'cancelled', 85.5],
    ]);
    expect(x.msgs.at(-1).orderData).toMatchObject({ cancelsize: '100', quantity: '100' });
  });

  it('a stop-loss sell waits in trigger pending (AB10), then triggers and fills', async () => {
    const x = await setup();
    const placed = await x.place({ variety: 'STOPLOSS', ordertype: 'STOPLOSS_MARKET', transactiontype: 'SELL', price: '0', triggerprice: '92.00' });
    await s!.sim.advanceBy(15_000);
    expect((await x.get(`details/${placed.data.uniqueorderid}`)).data.status).toBe('trigger pending');
    await s!.sim.advanceBy(6_000);
    expect((await x.get(`details/${placed.data.uniqueorderid}`)).data).toMatchObject({ status: 'complete', averageprice: 90 });
    await x.settle();
    expect(x.msgs.filter((m) => m['order-status'] !== 'AB00').map((m) => m['order-status'])).toEqual(['AB10', 'AB01', 'AB05']);
  });

  it('open orders are cancelled at the close', async () => {
    const x = await setup({ start: '15:29' });
    const placed = await x.place({ price: '50.00' });
    await s!.sim.advanceTo(s!.market.closeMs);
    expect((await x.get(`details/${placed.data.uniqueorderid}`)).data).toMatchObject({ status: 'cancelled', text: expect.stringContaining('close') });
  });
});

describe('validation', () => {
  it('refuses malformed requests synchronously with SmartAPI codes', async () => {
    const x = await setup();
    expect(await x.place({ variety: 'WEIRD' })).toEqual({ status: false, message: 'Invalid Order Variety', errorcode: 'AB1008', data: null });
    expect((await x.place({ producttype: 'X' })).errorcode).toBe('AB1012');
    expect((await x.place({ symboltoken: '424242' })).errorcode).toBe('AB4006');
    expect((await x.place({ symboltoken: '' })).errorcode).toBe('AB4018');
    expect((await x.place({ tradingsymbol: 'NIFTY04JAN2421700PE' })).errorcode).toBe('AB1009');
    expect((await x.place({ ordertag: 'x'.repeat(20) })).errorcode).toBe('AB4008');
    expect((await x.place({ ordertag: 'x'.repeat(19) })).status).toBe(true);
    expect((await x.place({ quantity: 'ten' })).errorcode).toBe('AB1007');
    expect((await x.place({ ordertype: 'STOPLOSS_LIMIT', triggerprice: '96' })).errorcode).toBe('AB1008');
  });

  it('books and rejects exchange/RMS failures: lot multiple, tick size, freeze qty, price band — text + AB03', async () => {
    const x = await setup({ initialCash: 100_000 });
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ quantity: '60' }, /multiple of lot size 50/],
      [{ price: '95.03' }, /multiple of tick size 0.05/],
      [{ quantity: '1850' }, /freeze quantity 1800/],
      [{ price: '1000.00' }, /outside the day's price band/],
      [{ quantity: '1750', price: '99.00' }, /RMS:Margin Exceeds/],
    ];
    for (const [o, re] of cases) {
      const r = await x.place({ ...o, symboltoken: PE, tradingsymbol: 'NIFTY04JAN2421700PE' });
      expect(r.status).toBe(true);
      const d = (await x.get(`details/${r.data.uniqueorderid}`)).data;
      expect([o, d.status]).toEqual([o, 'rejected']);
      expect(d.text).toMatch(re);
    }
    await x.settle();
    const rej = x.msgs.filter((m) => m['order-status'] !== 'AB00');
    expect(rej).toHaveLength(cases.length);
    for (const m of rej) {
      expect(m['order-status']).toBe('AB03');
      expect(m.orderData.status).toBe('rejected');
      expect(m['error-message']).toBe(m.orderData.text);
    }
  });
});
