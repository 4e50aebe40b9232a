import { afterEach, describe, expect, it } from 'vitest';
import { nextLoginAt, sessionExpiry, totpCode } from '../../../src/broker/smartapi/auth.js';
import { SmartApiError } from '../../../src/broker/smartapi/errors.js';
import { istToMillis } from '../../../src/core/clock.js';
import { harness, TEST_CREDS, type Harness } from './support/fake-smartapi.js';

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
