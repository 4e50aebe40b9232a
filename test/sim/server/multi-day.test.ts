/**
 * Consecutive days: after a close the simulator's time runs through the
 * night (weekends and holidays as calendar time with nothing trading) to the
 * next trading day's open; that day's market — instrument master, quotes,
 * candles, order checks — takes over at the midnight that starts it, and the
 * sessions of the day before die at that same midnight.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { istToMillis } from '../../../src/core/clock.js';
import { consecutiveSessions, createMarket } from '../../../src/sim/market/market.js';
import { DEMO_ACCOUNT, DEMO_API_KEY, totpAt } from '../../../src/sim/server/auth.js';
import { OrderBook } from '../../../src/sim/server/orders.js';
import { type SimServer, startSimServer } from '../../../src/sim/server/server.js';

let sim: SimServer | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

function days(list: string[]): { first: ReturnType<typeof createMarket>; next: () => ReturnType<typeof createMarket> | undefined; built: string[] } {
  const built: string[] = [];
  let i = 1;
  return {
    first: createMarket({ day: list[0]!, seed: 2 }),
    built,
    next: () => {
      if (i >= list.length) return undefined;
      built.push(list[i]!);
      return createMarket({ day: list[i++]!, seed: 2 });
    },
  };
}

async function post(path: string, body: unknown, jwt?: string): Promise<{ status?: boolean; data?: unknown; [k: string]: unknown }> {
  const res = await fetch(`${sim!.url}${path}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'X-PrivateKey': DEMO_API_KEY, 'X-UserType': 'USER', ...(jwt === undefined ? {} : { Authorization: `Bearer ${jwt}` }) },
    body: JSON.stringify(body),
  });
  return (await res.json()) as never;
}

async function login(): Promise<string> {
  const r = await post('/rest/auth/angelbroking/user/v1/loginByPassword', { clientcode: DEMO_ACCOUNT.clientcode, password: DEMO_ACCOUNT.pin, totp: totpAt(DEMO_ACCOUNT.totpSecret, Date.now()) });
  return (r.data as { jwtToken: string }).jwtToken;
}

async function masterExpiries(): Promise<Set<string>> {
  const rows = (await (await fetch(sim!.masterUrl)).json()) as { name: string; expiry: string }[];
  return new Set(rows.filter((r) => r.name === 'NIFTY' && r.expiry !== '').map((r) => r.expiry));
}

const profile = async (jwt: string) => (await fetch(`${sim!.url}/rest/secure/angelbroking/user/v1/getProfile`, {
  headers: { 'X-PrivateKey': DEMO_API_KEY, 'X-UserType': 'USER', Authorization: `Bearer ${jwt}` },
}).then((r) => r.json())) as { success?: boolean; status?: boolean; errorCode?: string };

describe('consecutive trading days', () => {
  it('consecutiveSessions follows the exchange calendar: weekends and holidays out, the Saturday special session in, a missing source day an error', () => {
    expect(consecutiveSessions({ from: '2024-01-18', count: 5 })).toEqual(['2024-01-18', '2024-01-19', '2024-01-20', '2024-01-23', '2024-01-24']);
    expect(consecutiveSessions({ from: '2024-01-24', to: '2024-01-30' })).toEqual(['2024-01-24', '2024-01-25', '2024-01-29', '2024-01-30']);
    expect(() => consecutiveSessions({ from: '2024-01-30', count: 4 })).toThrow(/2024-02-01 is a trading day the bundled data lacks/);
    expect(() => consecutiveSessions({ from: '2024-02-26', count: 10 })).toThrow(/only 4 bundled trading days/);
    expect(() => consecutiveSessions({ from: '2024-01-22', count: 2 })).toThrow(/not a bundled session/);
  });

  it('runs through the night to the next day: the old day closes, the new master takes over at midnight, tokens die then, ticks resume at the open', async () => {
    const d = days(['2024-01-25', '2024-01-29']); // Thursday, then Republic Day (Friday) and the weekend, then Monday
    sim = await startSimServer({ market: d.first, nextMarket: d.next, port: 0, speed: 0, start: '15:29', rateLimits: false });
    const jwt = await login();
    const before = await masterExpiries();
    await sim.advanceTo(istToMillis('2024-01-25', '15:30'));
    expect(sim.state()).toMatchObject({ day: '2024-01-25', night: true, sessionOver: false });
    expect(d.built).toEqual(['2024-01-29']);
    // Still Thursday's session until its midnight.
    expect((await profile(jwt)).status).toBe(true);
    // Thursday's midnight: its sessions die; over the holiday and the weekend the master is still Thursday's.
    await sim.advanceTo(istToMillis('2024-01-26', '00:00'));
    expect((await profile(jwt)).errorCode).toBe('AG8001');
    expect(sim.state()).toMatchObject({ day: '2024-01-25', night: true });
    expect(await masterExpiries()).toEqual(before);
    // Monday's midnight: Monday's market takes over.
    await sim.advanceTo(istToMillis('2024-01-29', '00:00'));
    expect(sim.state()).toMatchObject({ day: '2024-01-29', night: true, openMs: istToMillis('2024-01-29', '09:15') });
    const after = await masterExpiries();
    expect(after).not.toEqual(before);
    expect(before.has('25JAN2024')).toBe(true);
    expect(after.has('25JAN2024')).toBe(false); // Thursday's weekly expired
    expect(after.has('01FEB2024')).toBe(true);
    // A new login works.
    const jwt2 = await login();
    expect((await profile(jwt2)).status).toBe(true);
    await sim.advanceTo(istToMillis('2024-01-29', '09:16'));
    expect(sim.state()).toMatchObject({ day: '2024-01-29', night: false, simTimeIst: '2024-01-29T09:16:00.000+05:30' });
    await sim.advanceTo(istToMillis('2024-01-30', '12:00'));
    expect(sim.state()).toMatchObject({ day: '2024-01-29', sessionOver: true, simTime: istToMillis('2024-01-29', '15:30') });
  });

  it('at max speed the night moves from timer to timer of the clock, and waits for a hold (an in-process client’s morning work) at its own time', async () => {
    const d = days(['2024-01-19', '2024-01-20', '2024-01-23']);
    sim = await startSimServer({ market: d.first, nextMarket: d.next, port: 0, speed: 0, start: '15:25', rateLimits: false });
    const fired: string[] = [];
    let busyUntil = 0;
    const mornings = ['2024-01-20', '2024-01-22', '2024-01-23'].map((day) => istToMillis(day, '08:45'));
    for (const at of mornings) {
      sim.clock.setTimer(at, () => {
        fired.push(sim!.state().simTimeIst);
        busyUntil = performance.now() + 30; // 30 ms of "work" in real time: the market must not move meanwhile
      });
    }
    sim.holdWhile(() => {
      const busy = performance.now() < busyUntil;
      if (busy) expect(mornings).toContain(sim!.now());
      return busy;
    });
    sim.setSpeed('max');
    while (!sim.state().sessionOver) await new Promise((r) => setTimeout(r, 5));
    expect(fired).toEqual(['2024-01-20T08:45:00.000+05:30', '2024-01-22T08:45:00.000+05:30', '2024-01-23T08:45:00.000+05:30']);
    expect(sim.state()).toMatchObject({ day: '2024-01-23', simTimeIst: '2024-01-23T15:30:00.000+05:30' });
  });

  it('the order book starts each day empty for the client, with the day’s contracts and hours; every order stays in all()', () => {
    const thu = createMarket({ day: '2024-01-25', seed: 2 });
    const mon = createMarket({ day: '2024-01-29', seed: 2 });
    let now = istToMillis('2024-01-25', '10:00');
    const book = new OrderBook({ instruments: thu.instruments(), quote: () => undefined, now: () => now, rng: () => 0.5, session: { openMs: thu.openMs, closeMs: thu.closeMs }, onUpdate: () => {} });
    const opt = (m: typeof thu, expiry: string) => m.instruments().find((i) => i.type === 'OPTIDX' && i.name === 'NIFTY' && i.expiry === expiry)!;
    const body = (i: ReturnType<typeof opt>) => ({ variety: 'NORMAL', tradingsymbol: i.symbol, symboltoken: i.token, transactiontype: 'BUY', exchange: 'NFO', ordertype: 'LIMIT', producttype: 'INTRADAY', duration: 'DAY', price: '1.00', quantity: String(i.lotSize) });
    expect(book.place('SIM1001', body(opt(thu, '2024-01-25'))).ok).toBe(true);
    book.closeSession();
    book.newDay(mon.instruments(), { openMs: mon.openMs, closeMs: mon.closeMs });
    expect(book.ordersOf('SIM1001')).toEqual([]);
    expect(book.all()).toHaveLength(1);
    // Thursday's expired weekly is not in Monday's master; Monday's contracts trade in Monday's hours only.
    expect(book.place('SIM1001', body(opt(thu, '2024-01-25')))).toMatchObject({ ok: false, code: 'AB4006' });
    now = istToMillis('2024-01-29', '09:00');
    const early = book.place('SIM1001', body(opt(mon, '2024-02-01')));
    expect(early.ok && early.order.status).toBe('rejected');
    now = istToMillis('2024-01-29', '10:00');
    const ok = book.place('SIM1001', body(opt(mon, '2024-02-01')));
    expect(ok.ok && ok.order.status).toBe('open');
    expect(book.ordersOf('SIM1001')).toHaveLength(2);
  });

  it('a one-day replay is unchanged: it ends at its close', async () => {
    sim = await startSimServer({ market: createMarket({ day: '2024-01-02', seed: 2 }), port: 0, speed: 0, start: '15:29', rateLimits: false });
    await sim.advanceTo(istToMillis('2024-01-03', '10:00'));
    expect(sim.state()).toMatchObject({ day: '2024-01-02', sessionOver: true, simTime: istToMillis('2024-01-02', '15:30') });
  });
});
