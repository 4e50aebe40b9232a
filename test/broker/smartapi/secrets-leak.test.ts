/**
 * No secret leaks: a whole session — login, a refused-token refresh, a refresh
 * refused so that it re-logs-in, failures of every shape, a lost placement, the
 * order socket, a failed login with a wrong TOTP, logout — with every log line
 * (pino at trace, to a capture stream), every bus event and every error
 * (message, stack, JSON, util.inspect) searched for the password (PIN), the
 * TOTP secret and codes, the API key, the client code and every jwt, refresh
 * and feed token the server issued.
 */
import { inspect } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { totpCode } from '../../../src/broker/smartapi/auth.js';
import { harness, type Harness } from './support/fake-smartapi.js';

const hs: Harness[] = [];
afterEach(async () => {
  for (const h of hs.splice(0)) await h.close();
});

describe('secrets never reach a log line, an error or an event', () => {
  it('a session that logs in, refreshes, fails in every way and logs out', async () => {
    // Distinctive values so a hit cannot be a coincidence.
    const creds = { apiKey: 'APIKEY-zq81XwvPe', clientCode: 'CLIENTzq81', pin: '86420864', totpSecret: 'KRUGS4ZANFZSAYJA' };
    const h = await harness({ orderUpdates: { pollMs: 20 } }, creds);
    hs.push(h);
    const errors: unknown[] = [];
    const attempt = async (p: Promise<unknown>) => {
      try {
        await p;
      } catch (err) {
        errors.push(err);
      }
    };
    const ok = { tag: 'leak-1', instrument: { token: '45829', symbol: 'NIFTY04APR2423000CE', exchange: 'NFO' as const }, side: 'BUY' as const, orderType: 'LIMIT' as const, qty: 50, price: 100, product: 'INTRADAY' as const };

    await h.broker.login();
    h.broker.orderUpdates.start();
    // Token refused mid-session → refresh → retry.
    h.fake.failNext('getRMS', { kind: 'json', body: { success: false, message: 'Invalid Token', errorCode: 'AG8001', data: '' } });
    await h.broker.funds();
    // Refresh refused → full re-login.
    h.fake.expireJwt();
    h.fake.failNext('generateTokens', { kind: 'json', body: { status: false, message: 'Invalid Refresh Token', errorcode: 'AB8050', data: null } });
    await h.broker.orderBook();
    // The order socket with an expired token → 401 → renewal.
    await h.broker.orderUpdates.stop();
    h.fake.expireJwt();
    h.broker.orderUpdates.start();
    await h.broker.placeOrder(ok);
    // Failures of every shape, including a broker message that echoes a token and the client code.
    h.fake.failNext('getRMS', { kind: 'json', body: { status: false, message: `bad session ${h.fake.issued.jwt} for ${creds.clientCode}`, errorcode: 'AB1009', data: null } });
    await attempt(h.broker.funds());
    h.fake.failNext('getRMS', { kind: 'text', status: 404, text: `<pre>key ${creds.apiKey} pin ${creds.pin}</pre>` });
    await attempt(h.broker.funds());
    h.fake.failNext('getRMS', ...Array.from({ length: 4 }, () => ({ kind: 'text' as const, status: 403, text: 'Access denied because of exceeding access rate' })));
    await attempt(h.broker.funds());
    h.fake.failNext('getRMS', ...Array.from({ length: 4 }, () => ({ kind: 'destroy' as const })));
    await attempt(h.broker.funds());
    h.fake.failNext('getRMS', { kind: 'text', status: 500, text: `<pre>${creds.apiKey}</pre>` }, { kind: 'text', status: 500, text: 'x' }, { kind: 'text', status: 500, text: 'x' }, { kind: 'text', status: 500, text: 'x' });
    await attempt(h.broker.funds());
    h.fake.failNext('getRMS', { kind: 'json', body: { status: true, message: '', errorcode: '', data: { net: h.fake.issued.feed } } });
    await attempt(h.broker.funds());
    h.fake.failNext('placeOrder', { kind: 'destroy' }, { kind: 'destroy' });
    await attempt(h.broker.placeOrder({ ...ok, tag: 'leak-2' }));
    await attempt(h.broker.placeOrder({ ...ok, tag: 'bad tag with spaces' }));
    await h.broker.logout();
    await attempt(h.broker.funds());

    // A failed login (wrong TOTP) on a second broker sharing nothing but the server's creds.
    const wrong = await harness({}, creds, { ...creds, totpSecret: 'GEZDGNBVGY3TQOJQ' });
    hs.push(wrong);
    await attempt(wrong.broker.login());

    expect(errors.length).toBeGreaterThanOrEqual(8);
    const secrets = [creds.apiKey, creds.clientCode, creds.pin, creds.totpSecret, ...h.fake.allTokens, ...wrong.fake.allTokens];
    // TOTP codes around now (6 digits could collide with numbers by chance, so only as quoted values).
    const now = Date.now();
    const codes = [-30_000, 0, 30_000].map((d) => totpCode(creds.totpSecret, now + d));

    const haystack = [
      ...h.logs,
      ...wrong.logs,
      ...[...h.events, ...wrong.events].map((e) => JSON.stringify(e)),
      ...errors.flatMap((e) => [String(e), (e as Error).stack ?? '', JSON.stringify(e), inspect(e, { depth: 10, showHidden: true })]),
    ].join('\n');

    expect(h.logs.length).toBeGreaterThan(10);
    expect(h.events.some((e) => e.type === 'BrokerSessionRefreshed')).toBe(true);
    expect(h.events.filter((e) => e.type === 'BrokerLoggedIn').length).toBeGreaterThanOrEqual(2);
    expect(h.fake.allTokens.length).toBeGreaterThanOrEqual(9);
    for (const s of secrets) expect(haystack.includes(s), `leaked: ${s.slice(0, 6)}…`).toBe(false);
    for (const c of codes) expect(haystack).not.toContain(`"${c}"`);
    // The scrubbed broker message still tells what happened.
    expect(haystack).toContain('bad session *** for ***');
    expect(haystack).toContain('key *** pin ***');
  });
});
