import { afterEach, describe, expect, it } from 'vitest';
import { nextLoginAt, sessionExpiry, totpCode } from '../../../src/broker/smartapi/auth.js';
import { SmartApiError } from '../../../src/broker/smartapi/errors.js';
import { RateLimiter, resolveLimits } from '../../../src/broker/smartapi/limits.js';
import { SmartApiRest, defaultRestConfig } from '../../../src/broker/smartapi/rest.js';
import { RealClock, SimClock, istToMillis, type Clock } from '../../../src/core/clock.js';
import { Secret } from '../../../src/core/secrets.js';
import { z } from 'zod';
import { FakeSmartApi, harness, TEST_CREDS, type Harness } from './support/fake-smartapi.js';

let h: Harness;
afterEach(async () => {
  await h?.close();
});

describe('TOTP', () => {
  it('matches the RFC 6238 SHA-1 vector (6 digits)', () => {
    // RFC 6238 appendix B secret "12345678901234567890" in base32; T = 59 s → 94287082 → 287082.
    expect(totpCode('GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ', 59_000)).toBe('287082');
    expect(totpCode('GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ', 1_111_111_109_000)).toBe('081804');
  });

  it('accepts secrets shorter than otplib 13’s 16-byte guardrail, with padding, spaces and lower case', () => {
    const code = totpCode('JBSWY3DPEHPK3PXP', 1_700_000_000_000); // 10 bytes
    expect(code).toMatch(/^\d{6}$/);
    expect(totpCode('jbsw y3dp ehpk 3pxp', 1_700_000_000_000)).toBe(code);
    expect(totpCode('JBSWY3DPEHPK3PXP======', 1_700_000_000_000)).toBe(code);
    expect(totpCode('JBSWY3DPEHPK3PXP', 1_700_000_030_000)).not.toBe(code); // next 30 s step
  });
});

describe('session day boundary', () => {
  it('a session ends at the next midnight IST', () => {
    expect(sessionExpiry(istToMillis('2024-01-02', '08:45'))).toBe(istToMillis('2024-01-03', '00:00'));
    expect(sessionExpiry(istToMillis('2024-01-02', '23:59'))).toBe(istToMillis('2024-01-03', '00:00'));
    expect(sessionExpiry(istToMillis('2024-01-03', '00:00'))).toBe(istToMillis('2024-01-04', '00:00'));
  });

  it('the next pre-open login is today’s 08:45 IST before it, else tomorrow’s', () => {
    expect(nextLoginAt(istToMillis('2024-01-02', '07:00'))).toBe(istToMillis('2024-01-02', '08:45'));
    expect(nextLoginAt(istToMillis('2024-01-02', '08:45'))).toBe(istToMillis('2024-01-03', '08:45'));
    expect(nextLoginAt(istToMillis('2024-01-02', '15:30'), '08:30')).toBe(istToMillis('2024-01-03', '08:30'));
    expect(() => nextLoginAt(0, '8:45am')).toThrow(/HH:mm/);
  });
});

describe('login', () => {
  it('logs in with client code, PIN and a fresh TOTP; reports expiresAt (midnight IST), never the tokens', async () => {
    h = await harness();
    const before = Date.now();
    const s = await h.broker.login();
    expect(s.clientCode).toBe(TEST_CREDS.clientCode);
    expect(s.loggedInAt).toBeGreaterThanOrEqual(before);
    expect(s.expiresAt).toBe(sessionExpiry(s.loggedInAt));
    expect(h.broker.expiresAt).toBe(s.expiresAt);
    const ev = h.events.find((e) => e.type === 'BrokerLoggedIn');
    expect(ev?.data).toEqual({ expiresAt: s.expiresAt });
    expect(h.broker.auth.feedToken?.reveal()).toBe(h.fake.issued.feed);
  });

  it('a wrong TOTP → typed error AB1050 (credentials), login not hammered', async () => {
    h = await harness({}, TEST_CREDS, { ...TEST_CREDS, totpSecret: 'GEZDGNBVGY3TQOJQ' });
    const err = await h.broker.login().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SmartApiError);
    expect(err).toMatchObject({ kind: 'envelope', code: 'AB1050', brokerMessage: 'Invalid totp', endpoint: 'login', category: 'credentials' });
    expect(h.fake.count('loginByPassword')).toBe(1);
    expect(h.broker.expiresAt).toBeUndefined();
  });

  it('a wrong PIN → typed error AB1007', async () => {
    h = await harness({}, TEST_CREDS, { ...TEST_CREDS, pin: '9999' });
    await expect(h.broker.login()).rejects.toMatchObject({ kind: 'envelope', code: 'AB1007', category: 'credentials' });
  });

  it('refresh() renews tokens and reports BrokerSessionRefreshed', async () => {
    h = await harness();
    await h.broker.login();
    const oldJwt = h.fake.issued.jwt;
    const s = await h.broker.refresh();
    expect(h.fake.issued.jwt).not.toBe(oldJwt);
    expect(h.fake.lastBodies.get('generateTokens')).toEqual({ refreshToken: expect.stringMatching(/^refresh-1-/) });
    expect(h.fake.lastHeaders.get('generateTokens')!.authorization).toBe(`Bearer ${oldJwt}`);
    expect(h.events.find((e) => e.type === 'BrokerSessionRefreshed')?.data).toEqual({ expiresAt: s.expiresAt, reason: 'requested' });
    expect(await h.broker.funds()).toMatchObject({ net: 100000.5 });
  });

  it('nextLoginAt uses the configured pre-open time', async () => {
    h = await harness({ auth: { preOpenLogin: '08:30' } });
    const t = h.broker.nextLoginAt();
    expect(t).toBeGreaterThan(Date.now());
    expect(new Date(t + 19_800_000).toISOString().slice(11, 16)).toBe('08:30');
  });
});

describe('logins are single-flight', () => {
  it('concurrent login(), refresh() and renew() (feed 401, morning re-login, REST renewal) share ONE login', async () => {
    h = await harness();
    const [a, b] = await Promise.all([
      h.broker.login(),
      h.broker.login(),
      h.broker.auth.renew(0, 'market-data socket answered 401'),
      h.broker.refresh(),
    ]);
    expect(h.fake.count('loginByPassword')).toBe(1);
    expect(h.fake.count('generateTokens')).toBe(0);
    expect(h.events.filter((e) => e.type === 'BrokerLoggedIn')).toHaveLength(1);
    expect(a).toBe(b);
  });

  it('renew(generation) does nothing when a newer session exists, and joins a login in flight', async () => {
    h = await harness();
    await h.broker.login();
    const stale = h.broker.auth.current()!.generation;
    await h.broker.login();
    await h.broker.auth.renew(stale, 'late 401');
    expect(h.fake.count('loginByPassword')).toBe(2);
    expect(h.fake.count('generateTokens')).toBe(0);
    const p = h.broker.login();
    await h.broker.auth.renew(h.broker.auth.current()!.generation, 'order socket 401 while logging in');
    await p;
    expect(h.fake.count('loginByPassword')).toBe(3);
    expect(h.fake.count('generateTokens')).toBe(0);
  });

  it('a login retried across a 30 s TOTP step sends a fresh code (the body is built per attempt)', async () => {
    let fake: FakeSmartApi | undefined;
    const real = new RealClock();
    // The clock steps 30 s once the first attempt has reached the broker.
    const offset = (): number => ((fake?.count('loginByPassword') ?? 0) >= 1 ? 30_000 : 0);
    const clock: Clock = {
      now: () => real.now() + offset(),
      setTimer: (at, fn) => real.setTimer(at - offset(), fn),
      setInterval: (ms, fn) => real.setInterval(ms, fn),
      cancel: (t) => real.cancel(t),
    } as Clock;
    h = await harness({ clock });
    fake = h.fake;
    h.fake.failNext('loginByPassword', { kind: 'text', status: 403, text: 'Access denied because of exceeding access rate' });
    await h.broker.login();
    expect(h.fake.loginTotps).toHaveLength(2);
    expect(h.fake.loginTotps[1]).not.toBe(h.fake.loginTotps[0]);
    expect(h.fake.loginTotps[1]).toBe(totpCode(TEST_CREDS.totpSecret, clock.now()));
  });
});

describe('REST: the session generation is the one actually sent', () => {
  it('a request queued behind a renewal reports the newer generation it was sent with (so it is renewed again, not skipped)', async () => {
    const fake = await FakeSmartApi.start(TEST_CREDS);
    const clock = new RealClock();
    const limiter = new RateLimiter(resolveLimits({ groups: { profile: { perSecond: 1 } }, windowMs: { second: 150 }, marginMs: 0 }), clock);
    const rest = new SmartApiRest(defaultRestConfig({ baseUrl: fake.baseUrl, retry: { retries: 0, minTimeoutMs: 1, maxTimeoutMs: 1, factor: 1, randomize: false } }), new Secret(TEST_CREDS.apiKey), limiter, clock);
    let generation = 1;
    const renewed: number[] = [];
    rest.attachSession({
      current: () => ({ jwt: new Secret('not-a-valid-jwt'), generation }),
      renew: async (stale) => {
        renewed.push(stale);
      },
    });
    try {
      await limiter.schedule('profile', async () => undefined); // the window's only slot is taken: the next call queues
      const call = rest.call('getProfile', z.unknown()).catch((e: unknown) => e);
      await new Promise((r) => setTimeout(r, 30));
      generation = 2; // a renewal completed while the request waited in the queue
      const err = await call;
      expect(err).toMatchObject({ kind: 'auth', code: 'AG8001' });
      expect(renewed).toEqual([2]);
    } finally {
      await limiter.stop();
      await fake.close();
    }
  });
});

describe('the session day ends at the market clock’s midnight', () => {
  // Network time is the real clock (the fake checks the TOTP against it); market time is a replay's Thursday,
  // the last trading day before Republic Day (Friday) and a weekend.
  const THURSDAY_CLOSE = istToMillis('2024-01-25', '15:29');
  const SATURDAY = istToMillis('2024-01-27', '06:26');

  it('expiresAt is the market day’s midnight, not the wall clock’s', async () => {
    const market = new SimClock(THURSDAY_CLOSE);
    h = await harness({ marketClock: market });
    const s = await h.broker.login();
    expect(s.expiresAt).toBe(istToMillis('2024-01-26', '00:00'));
    expect(h.broker.nextLoginAt()).toBe(istToMillis('2024-01-26', '08:45'));
    expect(h.broker.auth.ended).toBe(false);
  });

  it('after it nothing renews the session or sends its dead token — REST call, renew(), refresh(); login() starts the next', async () => {
    const market = new SimClock(THURSDAY_CLOSE);
    h = await harness({ marketClock: market });
    await h.broker.login();
    await h.broker.funds();
    const rms = h.fake.count('getRMS');
    market.advanceTo(SATURDAY);
    h.fake.expireJwt(); // as the broker does at midnight

    expect(h.broker.auth.ended).toBe(true);
    expect(h.broker.auth.current()).toBeUndefined();
    expect(h.broker.auth.jwt).toBeUndefined();
    // A read that outlived its day (a backfill retrying on real time in a replay): refused here, not renewed at the broker.
    const e = await h.broker.funds().catch((err: unknown) => err);
    expect(e).toBeInstanceOf(SmartApiError);
    expect(e).toMatchObject({ kind: 'no_session', sent: 'no' });
    await expect(h.broker.auth.renew(h.broker.auth.current()?.generation ?? 0, 'order-status socket answered HTTP 403')).rejects.toMatchObject({ kind: 'no_session' });
    await expect(h.broker.refresh()).rejects.toMatchObject({ kind: 'no_session' });
    expect([h.fake.count('getRMS'), h.fake.count('generateTokens'), h.fake.count('loginByPassword')]).toEqual([rms, 0, 1]);
    expect(h.events.filter((ev) => ev.type === 'BrokerLoggedIn' || ev.type === 'BrokerSessionRefreshed')).toHaveLength(1);

    // The morning routine's login (Monday) makes the next session; calls work again.
    market.advanceTo(istToMillis('2024-01-29', '08:45'));
    const next = await h.broker.login();
    expect(next.expiresAt).toBe(istToMillis('2024-01-30', '00:00'));
    expect(h.broker.auth.ended).toBe(false);
    expect((await h.broker.funds()).availableCash).toBe(90000.25);
    expect(h.fake.count('generateTokens')).toBe(0);
  });

  it('logging out after it forgets the tokens without sending the dead one', async () => {
    const market = new SimClock(THURSDAY_CLOSE);
    h = await harness({ marketClock: market });
    await h.broker.login();
    market.advanceTo(SATURDAY);
    await h.broker.logout();
    expect(h.fake.count('logout')).toBe(0);
    expect(h.broker.auth.session).toBeUndefined();
    expect(h.events.map((ev) => ev.type)).toContain('BrokerLoggedOut');
  });
});
