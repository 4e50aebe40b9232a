/**
 * Reconnect, heartbeat, dead link, mute, 401 and the reconnect cap. Socket
 * I/O is real (loopback, a few ms); every timeout is driven by the SimClock.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ltpFrame } from './support/frames.js';
import { harness, type Harness } from './support/feed-harness.js';
import { waitFor } from './support/server.js';

const NIFTY = { exchange: 'NSE' as const, token: '99926000' };
const OPT = { exchange: 'NFO' as const, token: '43650' };

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 20));

describe('SmartStreamFeed resilience', () => {
  it('server drops the socket: FeedDisconnected, backoff + jitter, reconnect with fresh auth, same subscription replayed', async () => {
    h = await harness({ reconnectJitterRatio: 0.2 }, { random: () => 0.5 });
    h.feed.subscribe([NIFTY, OPT], 'quote');
    h.feed.subscribe([NIFTY], 'snap');
    await h.feed.start();
    const first = h.server.conns[0]!;
    await waitFor(() => first.texts.length >= 2, 'first subscribe');
    first.ws.terminate();
    await h.until('FeedReconnectScheduled');
    expect(h.of('FeedDisconnected')[0]).toMatchObject({ connection: 0, reason: expect.stringMatching(/^closed by server/) });
    expect(h.of('FeedReconnectScheduled')).toEqual([{ connection: 0, attempt: 1, delayMs: 1100 }]); // 1000 + 0.2·0.5·1000

    h.clock.advanceBy(1099);
    await settle();
    expect(h.server.conns).toHaveLength(1);
    h.clock.advanceBy(1);
    await h.until('FeedConnected', 2);
    const second = h.server.conns[1]!;
    expect(second.headers['x-feed-token']).toBe('feed-2');
    await waitFor(() => second.texts.length >= 2, 'resubscribe');
    expect(h.server.requests(second).map((r) => r.params)).toEqual(h.server.requests(first).map((r) => r.params));
    expect(h.feed.counters.reconnects).toBe(1);

    // a successful open resets the backoff
    second.ws.terminate();
    await h.until('FeedReconnectScheduled', 2);
    expect(h.of('FeedReconnectScheduled')[1]).toEqual({ connection: 0, attempt: 1, delayMs: 1100 });
  });

  it('backoff grows per failed attempt and is capped at the last step', async () => {
    h = await harness({ reconnectBackoffMs: [1000, 2000, 4000], maxReconnectsPerMinute: 100 });
    await h.feed.start();
    h.server.refuse = { count: 100, status: 503 };
    h.server.conns[0]!.ws.terminate();
    for (let i = 1; i <= 5; i++) {
      await h.until('FeedReconnectScheduled', i);
      h.clock.advanceBy(h.of('FeedReconnectScheduled')[i - 1]!.delayMs);
    }
    await h.until('FeedReconnectScheduled', 6);
    expect(h.of('FeedReconnectScheduled').map((e) => e.delayMs)).toEqual([1000, 2000, 4000, 4000, 4000, 4000]);
    expect(h.of('FeedDisconnected')[1]).toEqual({ connection: 0, reason: 'handshake rejected: HTTP 503', code: 503 });
  });

  it('sends a text ping every pingIntervalMs; pongs keep the link alive', async () => {
    h = await harness({ pingIntervalMs: 10_000, deadAfterMs: 20_000 });
    await h.feed.start();
    const conn = h.server.conns[0]!;
    for (let i = 1; i <= 6; i++) {
      h.clock.advanceBy(9_999);
      await settle();
      expect(h.server.pings(conn)).toBe(i - 1);
      h.clock.advanceBy(1);
      await waitFor(() => h!.server.pings(conn) === i, `ping ${i}`);
      await waitFor(() => h!.feed.counters.pongs === i, `pong ${i}`);
    }
    expect(h.of('FeedDisconnected')).toEqual([]);
  });

  it('dead link: no message for deadAfterMs → FeedDisconnected and reconnect', async () => {
    h = await harness({ pingIntervalMs: 10_000, deadAfterMs: 20_000, watchdogIntervalMs: 1000 });
    h.feed.subscribe([NIFTY], 'ltp');
    await h.feed.start();
    h.server.autoPong = false;
    h.clock.advanceBy(20_000);
    expect(h.of('FeedDisconnected')).toEqual([]);
    h.clock.advanceBy(1000);
    expect(h.of('FeedDisconnected')).toEqual([{ connection: 0, reason: 'dead link: no message for 21000 ms' }]);
    expect(h.of('FeedReconnectScheduled')).toEqual([{ connection: 0, attempt: 1, delayMs: 1000 }]);
    await waitFor(() => h!.server.open.length === 0, 'old socket closed');
    h.clock.advanceBy(1000);
    await h.until('FeedConnected', 2);
    await waitFor(() => h!.server.conns[1]!.texts.length >= 1, 'resubscribe');
    expect(h.server.requests(h.server.conns[1]!)[0]!.params.tokenList).toEqual([{ exchangeType: 1, tokens: ['99926000'] }]);
  });

  it('mute during the session: resubscribe first (unsubscribe + subscribe), then reconnect', async () => {
    h = await harness({ muteAfterMs: 5000, deadAfterMs: 600_000, pingIntervalMs: 600_000 });
    h.feed.subscribe([NIFTY, OPT], 'ltp');
    await h.feed.start();
    const conn = h.server.conns[0]!;
    await waitFor(() => conn.texts.length >= 1, 'subscribe');
    // An option tick is not a sentinel: the index is what must tick.
    conn.ws.send(ltpFrame('43650', 100n, 2));
    await h.until('Tick');
    h.clock.advanceBy(4000);
    conn.ws.send(ltpFrame('99926000'));
    await h.until('Tick', 2);
    h.clock.advanceBy(4000); // 4 s after the index tick: fine
    expect(h.of('FeedMuted')).toEqual([]);
    h.clock.advanceBy(1000);
    expect(h.of('FeedMuted')).toEqual([{ connection: 0, silentMs: 5000, action: 'resubscribe' }]);
    await waitFor(() => conn.texts.length >= 3, 'resubscribe requests');
    expect(h.server.requests(conn).slice(1).map((r) => r.action)).toEqual([0, 1]);
    h.clock.advanceBy(5000);
    expect(h.of('FeedMuted')[1]).toEqual({ connection: 0, silentMs: 10_000, action: 'reconnect' });
    expect(h.of('FeedDisconnected')).toEqual([{ connection: 0, reason: 'muted: no tick for 10000 ms after a resubscribe' }]);
    h.clock.advanceBy(1000);
    await h.until('FeedConnected', 2);
  });

  it('a snapshot replayed after the resubscribe (no newer exchange time) does not end the mute', async () => {
    h = await harness({ muteAfterMs: 5000, deadAfterMs: 600_000, pingIntervalMs: 600_000 });
    h.feed.subscribe([NIFTY], 'ltp');
    await h.feed.start();
    const conn = h.server.conns[0]!;
    conn.ws.send(ltpFrame());
    await h.until('Tick');
    h.clock.advanceBy(5000);
    expect(h.of('FeedMuted')).toEqual([{ connection: 0, silentMs: 5000, action: 'resubscribe' }]);
    conn.ws.send(ltpFrame()); // the server's snapshot of the last quote: same exchange timestamp
    await h.until('Tick', 2);
    h.clock.advanceBy(5000);
    expect(h.of('FeedMuted')[1]).toEqual({ connection: 0, silentMs: 10_000, action: 'reconnect' });
  });

  it('a tick after the resubscribe ends the mute; outside the session there is no mute', async () => {
    let session = true;
    h = await harness({ muteAfterMs: 5000, deadAfterMs: 600_000, pingIntervalMs: 600_000 }, { isSessionOpen: () => session });
    h.feed.subscribe([NIFTY], 'ltp');
    await h.feed.start();
    const conn = h.server.conns[0]!;
    h.clock.advanceBy(5000);
    expect(h.of('FeedMuted')).toHaveLength(1);
    conn.ws.send(ltpFrame());
    await h.until('Tick');
    h.clock.advanceBy(4000);
    expect(h.of('FeedMuted')).toHaveLength(1);
    session = false;
    h.clock.advanceBy(60_000);
    expect(h.of('FeedMuted')).toHaveLength(1);
    session = true;
    h.clock.advanceBy(4000); // silence counts from the session's (re)opening
    expect(h.of('FeedMuted')).toHaveLength(1);
    h.clock.advanceBy(1000);
    expect(h.of('FeedMuted')).toHaveLength(2);
  });

  it('401 on the upgrade: onAuthRejected (new login) is called, then a reconnect with the new tokens', async () => {
    const order: string[] = [];
    h = await harness({}, {
      onAuthRejected: async () => {
        order.push('onAuthRejected');
        await new Promise((r) => setTimeout(r, 5));
      },
    });
    h.bus.on('FeedReconnectScheduled', () => order.push('FeedReconnectScheduled'));
    h.bus.on('FeedDisconnected', () => order.push('FeedDisconnected'));
    h.server.refuse = { count: 1, status: 401, message: 'Invalid Header - Invalid Feed Token' };
    h.feed.subscribe([NIFTY], 'ltp');
    await h.feed.start();
    await h.until('FeedReconnectScheduled');
    expect(order).toEqual(['FeedDisconnected', 'onAuthRejected', 'FeedReconnectScheduled']);
    expect(h.of('FeedDisconnected')).toEqual([
      { connection: 0, reason: 'handshake rejected: HTTP 401 (Invalid Header - Invalid Feed Token)', code: 401 },
    ]);
    h.clock.advanceBy(1000);
    await h.until('FeedConnected');
    expect(h.authCalls).toBe(2);
    expect(h.server.conns[0]!.headers['x-feed-token']).toBe('feed-2');
  });

  it('reconnect cap: at most maxReconnectsPerMinute, the next one waits for the window (delay says so)', async () => {
    h = await harness({ reconnectBackoffMs: [1000], maxReconnectsPerMinute: 5 });
    await h.feed.start();
    h.server.dropOnOpen = true;
    h.server.conns[0]!.ws.terminate();
    for (let i = 1; i <= 5; i++) {
      await h.until('FeedReconnectScheduled', i);
      h.clock.advanceBy(1000);
    }
    await h.until('FeedReconnectScheduled', 6);
    // attempts at +1 s … +5 s; the 6th may not start before +61 s: 56 s from now (+5 s)
    expect(h.of('FeedReconnectScheduled').map((e) => e.delayMs)).toEqual([1000, 1000, 1000, 1000, 1000, 56_000]);
    const upgrades = h.server.upgrades;
    h.clock.advanceBy(55_999);
    await settle();
    expect(h.server.upgrades).toBe(upgrades);
    h.clock.advanceBy(1);
    await waitFor(() => h!.server.upgrades === upgrades + 1, 'the 6th reconnect');
  });

  it('auth() failing is a failed attempt, retried with backoff', async () => {
    let fail = true;
    h = await harness({}, {
      auth: async () => {
        if (fail) throw new Error('login down');
        return { jwt: 'j', apiKey: 'k', clientCode: 'c', feedToken: 'f' };
      },
    });
    await h.feed.start();
    expect(h.of('FeedDisconnected')).toEqual([{ connection: 0, reason: 'auth failed: login down' }]);
    fail = false;
    h.clock.advanceBy(1000);
    await h.until('FeedConnected');
  });
});

describe('after the session has ended (the broker’s midnight, until the morning login)', () => {
  it('a dropped link stays down: no reconnect, no auth, no re-login; start() after the next login reconnects it', async () => {
    let ended = false;
    let relogins = 0;
    h = await harness({}, { sessionEnded: () => ended, onAuthRejected: async () => void relogins++ });
    h.feed.subscribe([NIFTY], 'ltp');
    await h.feed.start();
    ended = true;
    h.server.conns[0]!.ws.terminate();
    await h.until('FeedDisconnected');
    h.clock.advanceBy(10 * 60_000); // a night of backoff slots on the I/O clock
    await settle();
    expect(h.of('FeedReconnectScheduled')).toEqual([]);
    expect([h.server.upgrades, h.authCalls, relogins]).toEqual([1, 1, 0]);
    expect(h.feed.openConnections).toBe(0);

    // The morning routine: login (the session is back), then stop + start.
    ended = false;
    await h.feed.stop();
    await h.feed.start();
    await h.until('FeedConnected', 2);
    expect(h.authCalls).toBe(2);
  });

  it('a reconnect planned before midnight that comes due after it does not go out; a 401 after it is not renewed', async () => {
    let ended = false;
    let relogins = 0;
    h = await harness({}, { sessionEnded: () => ended, onAuthRejected: async () => void relogins++ });
    await h.feed.start();
    h.server.conns[0]!.ws.terminate();
    await h.until('FeedReconnectScheduled');
    ended = true;
    h.clock.advanceBy(60_000);
    await settle();
    expect([h.server.upgrades, h.authCalls, h.of('FeedReconnectScheduled').length]).toEqual([1, 1, 1]);

    // With a session again, a 401 renews as before; once it has ended, the refused link just waits.
    ended = false;
    h.server.refuse = { count: 1, status: 401 };
    await h.feed.stop();
    const starting = h.feed.start();
    ended = true; // the handshake is answered after the session's end
    await starting;
    await settle();
    expect(h.of('FeedDisconnected').at(-1)).toMatchObject({ code: 401 });
    expect(relogins).toBe(0);
    expect(h.of('FeedReconnectScheduled')).toHaveLength(1);
  });
});

describe('mute sentinels and implausible times', () => {
  const SENSEX = { exchange: 'BSE' as const, token: '99919000' };
  const T = 1_737_356_263_000;

  it('life is a newer exchange time PER sentinel token: one index stamped ahead does not hide the other ticking', async () => {
    h = await harness({ muteAfterMs: 5000, deadAfterMs: 600_000, pingIntervalMs: 600_000 });
    h.feed.subscribe([NIFTY, SENSEX], 'ltp');
    await h.feed.start();
    const conn = h.server.conns[0]!;
    conn.ws.send(ltpFrame(SENSEX.token, 7_000_000n, 3, BigInt(T + 600_000))); // SENSEX's clock runs 10 min ahead, then it goes quiet
    await h.until('Tick');
    for (let i = 1; i <= 6; i++) {
      h.clock.advanceBy(2000);
      conn.ws.send(ltpFrame(NIFTY.token, 2_171_235n, 1, BigInt(T + i * 2000))); // NIFTY ticks on, with earlier stamps than SENSEX's
      await h.until('Tick', 1 + i);
    }
    h.clock.advanceBy(2000);
    expect(h.of('FeedMuted')).toEqual([]);
  });

  it('a tick stamped more than maxFutureExchTsMs after the feed clock is refused (FeedFrameRejected); old market times pass', async () => {
    h = await harness({ maxFutureExchTsMs: 60_000 });
    h.feed.subscribe([NIFTY], 'ltp');
    await h.feed.start();
    const conn = h.server.conns[0]!;
    const now = h.clock.now();
    conn.ws.send(ltpFrame(NIFTY.token, 100n, 1, BigInt(now + 3_600_000)));
    await h.until('FeedFrameRejected');
    expect(h.of('FeedFrameRejected')[0]!.reason).toMatch(/^implausible exchange timestamp/);
    conn.ws.send(ltpFrame(NIFTY.token, 100n, 1, BigInt(now - 400 * 86_400_000))); // a replay of last year's market: fine
    await h.until('Tick');
    expect(h.of('Tick')).toHaveLength(1);
  });
});
