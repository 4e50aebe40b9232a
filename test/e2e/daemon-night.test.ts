/**
 * Nights and days without a session: the broker ends every session at
 * midnight IST, and only the morning routine of the next trading day logs in
 * again. Whatever comes by in between — a request of work that outlived its
 * day (a gap backfill retrying on real time while a replay's market clock ran
 * on), a socket that drops and would reconnect, an order socket refused its
 * dead token, the order-book polling that stands in for it — must neither log
 * in nor renew nor call the broker. (The soak once saw generateTokens refused
 * on Saturday 27 Jan, a login that evening and candle requests on Sunday.)
 *
 * The simulator replays Thursday 2024-01-25 and then Monday 29th (Friday 26th
 * is Republic Day); network time is a test clock shared with it, moved only
 * by the test, so nothing here waits on real time but loopback I/O.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { BrokerLink } from '../../src/app/broker-link.js';
import type { Daemon } from '../../src/app/daemon.js';
import { SmartApiError } from '../../src/broker/smartapi/errors.js';
import { SimClock, istDate, istToMillis } from '../../src/core/clock.js';
import type { RustroEvent } from '../../src/core/events.js';
import type { SimServer } from '../../src/sim/server/server.js';
import { waitFor as until } from '../support/wait.js';
import { closeOvernights, startOvernight } from './support/overnight.js';

const THURSDAY = '2024-01-25';
const MONDAY = '2024-01-29';
const OFF_DAYS = ['2024-01-26', '2024-01-27', '2024-01-28'];
const NIFTY = { exchange: 'NSE' as const, token: '99926000' };

afterEach(closeOvernights);

/** A daemon connected at Thursday's close; `io` is network time (TOTP, heartbeats, backoff, rate-limit windows). */
async function thursdayDaemon(): Promise<{ sim: SimServer; daemon: Daemon; link: BrokerLink; io: SimClock; events: RustroEvent[] }> {
  // Network time near the weekend: the feed refuses ticks stamped more than a day ahead of it.
  const io = new SimClock(istToMillis('2024-01-27', '06:00'));
  const { sim, daemon, events } = await startOvernight({ first: THURSDAY, next: MONDAY, io });
  const link = daemon.broker as BrokerLink;
  // The restart backfill and the history bootstrap go through the candles rate limit, on network time.
  let ready = false;
  void daemon.marketReady.then(() => (ready = true));
  for (let s = 0; !ready; s++) {
    if (s > 600) throw new Error('the market pipeline did not come online');
    await pump(io, 1);
  }
  await until(() => sim.state().connections.market === 1 && sim.state().connections.order === 1, 'both sockets up');
  return { sim, daemon, link, io, events };
}

/** Moves network time on by `seconds`, a second at a time, letting loopback I/O run after each. */
async function pump(io: SimClock, seconds: number): Promise<void> {
  for (let i = 0; i < seconds; i++) {
    io.advanceBy(1000);
    for (let j = 0; j < 3; j++) await new Promise((r) => setImmediate(r));
    await new Promise((r) => setTimeout(r, 1));
  }
}

const sentTo = (link: BrokerLink) => (endpoint: 'login' | 'generateTokens' | 'getCandleData' | 'getOrderBook'): number => link.broker.rest.sent.get(endpoint) ?? 0;

describe('no broker traffic between the session’s midnight and the next trading morning', () => {
  it('a request that outlived its day, both sockets dropping and their reconnects: no login, no renewal, no request until Monday’s morning routine', async () => {
    const { sim, link, io, events } = await thursdayDaemon();
    const sent = sentTo(link);
    const before = { login: sent('login'), generateTokens: sent('generateTokens'), candles: sent('getCandleData'), orderBook: sent('getOrderBook') };
    expect(before).toMatchObject({ login: 1, generateTokens: 0 });
    expect(link.nextMorningAt).toBe(istToMillis(MONDAY, '08:45'));

    // Thursday's last ticks read before the night (a manual advance does not wait for the client).
    await sim.advanceTo(istToMillis(THURSDAY, '15:31'));
    await until(() => link.feed.counters.frames === sim.framesSent(), 'the feed to read the close');
    // Saturday 06:26, market time: Thursday's session died at midnight, Friday was a holiday.
    await sim.advanceTo(istToMillis('2024-01-27', '06:26'));
    expect(sim.state()).toMatchObject({ night: true, day: THURSDAY });

    // A backfill's candle request still retrying from Thursday arrives now …
    const late = link.broker.candles({ ...NIFTY, interval: '1m', from: istToMillis(THURSDAY, '15:00'), to: istToMillis(THURSDAY, '15:28') }).catch((e: unknown) => e);
    // … and both sockets drop (a network blip at night; the broker closing yesterday's sockets).
    sim.setFaults({ dropSockets: 'all' });
    await until(() => events.some((e) => e.type === 'FeedDisconnected'), 'the feed to see the drop');
    await pump(io, 120); // two minutes of reconnect backoff, order-book polling and heartbeats on network time
    // Sunday too.
    await sim.advanceTo(istToMillis('2024-01-28', '09:05'));
    await pump(io, 60);

    const e = await late;
    expect({ login: sent('login'), generateTokens: sent('generateTokens'), candles: sent('getCandleData'), orderBook: sent('getOrderBook') }).toEqual(before);
    const offDay = events.filter((ev) => OFF_DAYS.includes(istDate(ev.ts))).map((ev) => ev.type);
    // What happened at the weekend: the drop itself, and the late request refused here. Nothing the daemon did of its own.
    expect([...new Set(offDay)].sort()).toEqual(['BrokerRequestFailed', 'FeedDisconnected']);
    expect(e).toBeInstanceOf(SmartApiError);
    expect(e).toMatchObject({ kind: 'no_session', sent: 'no' });
    expect(sim.state().connections).toEqual({ market: 0, order: 0 });

    // Monday's morning routine logs in (the only login since Thursday), reloads the master and reconnects both sockets.
    await sim.advanceTo(istToMillis(MONDAY, '08:45:30'));
    await pump(io, 3);
    await until(() => sim.state().connections.market === 1 && sim.state().connections.order === 1, 'both sockets back');
    const logins = events.filter((ev) => ev.type === 'BrokerLoggedIn');
    expect(logins.map((ev) => istDate(ev.ts))).toEqual([THURSDAY, MONDAY]);
    expect(logins[1]!.data).toEqual({ expiresAt: istToMillis('2024-01-30', '00:00') });
    expect(sent('login')).toBe(2);
    expect(sent('generateTokens')).toBe(0);
    expect(events.filter((ev) => ev.type === 'BrokerSessionRefreshed')).toEqual([]);
    expect(link.nextMorningAt).toBe(istToMillis('2024-01-30', '08:45'));
    // Monday's master, not Thursday's again (the cache is per market day; network time has not reached Monday).
    const options = link.broker.instrumentIndex!.all.filter((i) => i.kind === 'option');
    expect(options.length).toBeGreaterThan(0);
    expect(options.filter((i) => i.expiry! < MONDAY)).toEqual([]);
  });

  it('a contract no longer in the day’s master gets no candle request (its refusal would only be retried)', async () => {
    const { link, io } = await thursdayDaemon();
    const sent = sentTo(link);
    const index = link.broker.instrumentIndex!;
    const listed = index.all.find((i) => i.kind === 'option')!;
    const candles = sent('getCandleData');
    const expired = { exchange: 'NFO' as const, token: '12401040212502' }; // a 04 Jan 2024 NIFTY option: gone by the 25th
    expect(index.get(expired)).toBeUndefined();
    const refused = link.broker.candles({ ...expired, interval: '1m', from: istToMillis(THURSDAY, '09:15'), to: istToMillis(THURSDAY, '09:20') }).catch((err: unknown) => err);
    await pump(io, 2); // a slot in the candles rate limit, were it to be sent
    expect(sent('getCandleData')).toBe(candles);
    expect(await refused).toMatchObject({ kind: 'invalid_request', code: 'NOT_LISTED', sent: 'no' });
    // A listed one is asked for (once its slot in the candles rate limit comes round on network time).
    const answered = link.broker.candles({ exchange: listed.exchange, token: listed.token, interval: '1m', from: istToMillis(THURSDAY, '09:15'), to: istToMillis(THURSDAY, '09:20') });
    // While it waits for its slot, the link is busy: a lock-step replay holds market time for the whole call, rate-limit
    // waits and retry backoff included, not only while the simulator has the request.
    expect(link.busy).toBe(true);
    await pump(io, 2);
    expect(await answered).toHaveLength(6);
    expect(link.busy).toBe(false);
    expect(sent('getCandleData')).toBe(candles + 1);
  });
});
